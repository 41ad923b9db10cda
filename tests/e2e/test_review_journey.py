"""A loan's review in the browser: the customer manager, reviewer and approver each sign in,
find the task, claim it and decide; the application page draws the path taken."""
from __future__ import annotations

import re


def shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def decide_in_browser(page, screenshots, name, customer, comment, shot_name=None):
    """Filter the inbox by the customer, claim the task, open it and approve with a comment."""
    page.goto("/inbox?tab=unclaimed")
    page.fill("input[name=customer]", customer)
    page.click("#apply-filters")
    row = page.locator("tr[data-task-id]", has_text=customer)
    assert row.count() == 1
    row.locator("button.claim").click()
    page.wait_for_url("**/inbox**")
    assert page.locator(".flash.ok").count() == 1
    page.click("#tab-mine")
    page.locator("tr[data-task-id]", has_text=customer).locator("a").first.click()
    page.wait_for_url("**/tasks/**")
    assert customer in page.locator("#applicant").inner_text()
    page.fill("textarea[name=comment]", comment)
    if shot_name:
        shot(page, screenshots, shot_name)
    page.click("#decide-approve")
    page.wait_for_url("**/inbox**")
    assert "已提交" in page.locator(".flash.ok").inner_text()


def test_three_people_review_an_application_and_its_page_shows_the_path_taken(sign_in, application_in_review,
                                                                                screenshots):
    application_id, customer = application_in_review()

    manager = sign_in("cm-BR001")
    manager.goto("/inbox?tab=unclaimed")
    shot(manager, screenshots, "inbox")
    decide_in_browser(manager, screenshots, "cm", customer, "实地调查属实，经营正常", shot_name="task-investigation")

    reviewer = sign_in("rev-BR001")
    decide_in_browser(reviewer, screenshots, "rev", customer, "审查通过", shot_name="task-review")

    approver = sign_in("appr-BR001")
    approver.goto("/inbox?tab=branch")
    assert approver.locator("#tab-branch .count").inner_text().strip().isdigit()
    decide_in_browser(approver, screenshots, "appr", customer, "同意放款")

    approver.goto(f"/applications/{application_id}")
    approver.wait_for_selector("#diagram-0[data-rendered=true]")
    approver.wait_for_selector("#diagram-0 svg")
    # The main diagram: intake, rating and review done; the signing call activity is where it waits.
    main = approver.locator("#diagram-0")
    for element in ("intake_stage", "rating_stage", "review_stage"):
        assert "lf-completed" in main.locator(f"g[data-element-id={element}]").get_attribute("class")
    assert "lf-current" in main.locator("g[data-element-id=signing_stage]").get_attribute("class")
    assert main.locator("g.djs-connection.lf-taken").count() >= 3
    # Inside the called review.bpmn: the three levels completed.
    review = approver.locator(".diagram-card", has_text="review.bpmn").locator(".diagram")
    for element in ("investigation", "first_review", "branch_approval"):
        assert "lf-completed" in review.locator(f"g[data-element-id={element}]").get_attribute("class")
    intake = approver.locator(".diagram-card", has_text="intake.bpmn").locator(".diagram")
    assert "lf-completed" in intake.locator("g[data-element-id=precheck_passed_gateway]").get_attribute("class")
    taken = intake.locator("g.djs-connection.lf-taken")
    assert taken.count() == 4  # start -> pre-check -> gateway -> risk check -> end; not the refusal path
    intake.screenshot(path=str(screenshots / "diagram-intake.png"))
    history = approver.locator("#history").inner_text()
    assert "同意放款" in history and "appr-BR001" in history
    shot(approver, screenshots, "application")


def test_two_reviewers_race_for_one_task_and_the_slower_one_sees_a_message(sign_in, application_in_review, api,
                                                                            screenshots):
    from tests.e2e.conftest import SECOND_REVIEWER
    from tests.web import journeys

    application_id, customer = application_in_review()
    client, token = api
    journeys.decide(client, token("cm-BR001"), application_id)
    task_id = journeys.open_task(client, token("rev-BR001"), application_id)["id"]

    first, second = sign_in("rev-BR001"), sign_in(SECOND_REVIEWER)
    for page in (first, second):
        page.goto(f"/tasks/{task_id}")
        page.fill("textarea[name=comment]", "审查意见")
    first.click("#decide-approve")
    first.wait_for_url("**/inbox**")
    second.click("#decide-reject")
    notice = second.locator("#task-notice")
    assert "已被他人" in notice.inner_text()
    assert "rev-BR001" in second.locator("#task-done").inner_text()
    assert second.locator(".status-code").count() == 0  # a message on the task page, not an error page
    shot(second, screenshots, "race-loser")


def test_a_reviewer_of_another_branch_gets_not_found_for_its_pages(sign_in, application_in_review, api, screenshots):
    from tests.web import journeys

    application_id, _ = application_in_review()
    client, token = api
    task_id = journeys.open_task(client, token("cm-BR001"), application_id)["id"]
    outsider = sign_in("rev-BR002")
    for address in (f"/applications/{application_id}", f"/tasks/{task_id}"):
        response = outsider.goto(address)
        assert response.status == 404
        assert outsider.locator(".status-code").inner_text() == "404"
    assert "不存在" in outsider.locator("h1").inner_text()
    shot(outsider, screenshots, "not-found")


def test_the_interface_is_chinese_by_default_and_english_after_the_switch(new_context, screenshots):
    page = new_context().new_page()
    page.goto("/")
    assert page.url.endswith("/login")
    assert page.locator("h1").inner_text() == "登录"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    shot(page, screenshots, "login-zh")
    page.click("#switch-language")
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("input[name=username]", "rev-BR001")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "wrong password" in page.locator(".flash.error").inner_text()
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url("**/inbox**")
    assert page.locator("h1").inner_text() == "Inbox"
    assert re.search(r"My tasks\s*\d+", page.locator("#tab-mine").inner_text())
    shot(page, screenshots, "inbox-en")
    page.click("#switch-language")
    assert page.locator("h1").inner_text() == "待办任务"


def test_a_dashboard_draws_its_charts_for_an_approver_and_is_forbidden_to_a_reviewer(sign_in, screenshots):
    approver = sign_in("appr-BR001")
    approver.goto("/dashboard")
    approver.wait_for_function("document.querySelectorAll('canvas').length === 2 && window.Chart !== undefined")
    assert approver.locator("#approval-rate").inner_text()
    shot(approver, screenshots, "dashboard")
    reviewer = sign_in("rev-BR001")
    assert reviewer.goto("/dashboard").status == 403
    shot(reviewer, screenshots, "forbidden")


def test_an_approver_reassigns_a_review_to_a_named_colleague_who_then_has_it(sign_in, application_in_review, api,
                                                                              screenshots):
    from tests.e2e.conftest import SECOND_REVIEWER
    from tests.web import journeys

    application_id, customer = application_in_review()
    client, token = api
    journeys.decide(client, token("cm-BR001"), application_id)
    task_id = journeys.open_task(client, token("rev-BR001"), application_id)["id"]

    approver = sign_in("appr-BR001")
    approver.goto(f"/tasks/{task_id}")
    assert approver.locator("#task-form").count() == 0  # an approver may look, not decide a review
    approver.select_option("#reassign-to", SECOND_REVIEWER)
    approver.click("#reassign-submit")
    assert f"已改派给 {SECOND_REVIEWER}" in approver.locator(".flash.ok").inner_text()
    shot(approver, screenshots, "reassigned")

    colleague = sign_in(SECOND_REVIEWER)
    colleague.goto("/inbox?tab=mine")
    assert colleague.locator("tr[data-task-id]", has_text=customer).count() == 1
    other = sign_in("rev-BR001")
    other.goto(f"/inbox?tab=unclaimed&customer={customer}")
    assert other.locator("tr[data-task-id]").count() == 0  # no longer anyone's to claim


def test_a_post_loan_check_task_renders_its_own_form_names_missing_fields_and_completes(sign_in, api, screenshots):
    import uuid

    from tests.web import journeys

    client, token = api
    integrator = token("api-demo")
    application = journeys.submit(client, integrator, journeys.example("application-auto.json")).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                         json=journeys.signature_for(application), headers=integrator).get_json()
    assert signed["status"] == "disbursed", signed
    started = client.post("/api/v1/processes/post_loan_check/instances",
                          headers={**token("risk-BR001"), "Idempotency-Key": str(uuid.uuid4())},
                          json={"branch": "BR001", "data": {"loan_id": signed["loan_id"], "check_reason": "灰名单命中"}})
    assert started.status_code == 201, started.get_json()
    instance_id = started.get_json()["id"]
    task_id = started.get_json()["open_tasks"][0]["id"]

    manager = sign_in("cm-BR001")
    manager.goto("/inbox?tab=unclaimed&process=post_loan_check")
    assert manager.locator(f"tr[data-task-id='{task_id}']").count() == 1
    manager.goto(f"/tasks/{task_id}")
    assert "贷后检查" in manager.locator("h1").inner_text()
    manager.click("#submit-task")  # nothing filled in: each required field is named
    errors = manager.locator(".field-error").all_inner_texts()
    assert any(e.startswith("检查日期") and "必填" in e for e in errors), errors
    assert any(e.startswith("风险意见") for e in errors), errors
    shot(manager, screenshots, "task-post-loan-check-errors")
    manager.fill("input[name=visited_on]", "2026-12-01")
    manager.fill("textarea[name=findings]", "养殖场经营正常，存栏稳定")
    manager.select_option("select[name=fund_use]", "as_agreed")
    manager.select_option("select[name=risk_opinion]", "normal")
    manager.click("#submit-task")
    manager.wait_for_url("**/inbox**")
    manager.goto(f"/instances/{instance_id}")
    manager.wait_for_selector("#diagram-0[data-rendered=true]")
    assert "lf-completed" in manager.locator("#diagram-0 g[data-element-id=visit_and_check]").get_attribute("class")
    shot(manager, screenshots, "instance-post-loan-check")


def test_an_incident_is_marked_on_the_diagram_and_an_approver_retries_it_from_the_page(sign_in, api, bureau,
                                                                                        screenshots):
    import requests

    from tests.e2e.conftest import valid_id_number
    from tests.web import journeys

    client, token = api
    body = journeys.example("application-auto.json")
    body["applicant"] = dict(body["applicant"], id_number=valid_id_number("37010219850304" + "217"))
    requests.post(f"{bureau.url}/control", json={"down": True}, timeout=5)
    try:
        application = journeys.submit(client, token("api-demo"), body).get_json()
    finally:
        requests.post(f"{bureau.url}/control", json={"down": False}, timeout=5)
    assert application["status"] == "incident", application

    reviewer = sign_in("rev-BR001")
    reviewer.goto(f"/applications/{application['id']}")
    assert reviewer.locator("#incident").count() == 1 and reviewer.locator("#retry").count() == 0
    incident = reviewer.locator("#incident").inner_text()
    assert "征信系统不可用" in incident and "risk.check_application" not in incident, incident

    approver = sign_in("appr-BR001")
    approver.goto(f"/applications/{application['id']}")
    intake = approver.locator(".diagram-card", has_text="intake.bpmn").locator(".diagram")
    approver.wait_for_function("[...document.querySelectorAll('.diagram')].every(d => d.dataset.rendered === 'true')")
    assert "lf-incident" in intake.locator("g[data-element-id=application_risk_check]").get_attribute("class")
    assert "lf-incident" in approver.locator("#diagram-0 g[data-element-id=intake_stage]").get_attribute("class") \
        or "lf-current" in approver.locator("#diagram-0 g[data-element-id=intake_stage]").get_attribute("class")
    shot(approver, screenshots, "incident")
    approver.click("#retry")
    assert approver.locator(".flash.ok").count() == 1
    assert approver.locator("#incident").count() == 0
    assert "待签约" in approver.locator("h1").inner_text()


def test_a_rate_change_request_is_decided_in_the_browser_in_chinese_and_its_instance_page_draws_the_path(
        sign_in, api, screenshots):
    import uuid

    from tests.web import journeys

    client, token = api
    integrator = token("api-demo")
    application = journeys.submit(client, integrator, journeys.example("application-auto.json")).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                         json=journeys.signature_for(application), headers=integrator).get_json()
    loan = client.get(f"/api/v1/loans/{signed['loan_id']}", headers=token("cm-BR001")).get_json()
    asked = client.post(f"/api/v1/loans/{signed['loan_id']}/change-requests",
                        headers={**token("cm-BR001"), "Idempotency-Key": str(uuid.uuid4())},
                        json={"type": "rate_change", "new_rate": "0.0295",
                              "effective_date": loan["schedule"][0]["due_date"], "reason": "加入信用村"})
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    task_id = request["open_tasks"][0]["id"]

    approver = sign_in("appr-BR001")
    approver.goto(f"/tasks/{task_id}")
    page_text = approver.locator("main").inner_text()
    for raw in ("rate_change", "new_rate", "change_route_reason", "the branch approver decides", "{"):
        assert raw not in page_text, raw
    shot(approver, screenshots, "task-change-request")
    approver.fill("textarea[name=comment]", "同意调整利率")
    approver.click("#decide-approve")
    approver.wait_for_url("**/inbox**")
    approver.goto(f"/instances/{request['id']}")
    approver.wait_for_selector("#diagram-0[data-rendered=true]")
    assert approver.locator("#diagram-0 g.djs-connection.lf-taken").count() >= 2
    assert "customer_manager" not in approver.locator("#diagram-0").inner_text()
    shot(approver, screenshots, "instance-change-request")


def test_the_inbox_list_refreshes_by_itself_when_a_colleague_claims_a_task(sign_in, application_in_review, api,
                                                                            screenshots):
    from tests.e2e.conftest import SECOND_MANAGER
    from tests.web import journeys

    application_id, customer = application_in_review()
    client, token = api
    manager = sign_in("cm-BR001")
    manager.goto(f"/inbox?tab=unclaimed&customer={customer}")
    assert manager.locator("tr[data-task-id]").count() == 1
    unclaimed = int(manager.locator("#tab-unclaimed .count").inner_text())  # the tab's count, all filters aside
    task_id = journeys.open_task(client, token(SECOND_MANAGER), application_id)["id"]
    claimed = client.post(f"/api/v1/tasks/{task_id}/claim", headers=token(SECOND_MANAGER))
    assert claimed.status_code == 200, claimed.get_json()
    # No reload: htmx polls the list every 10 s and the claimed task drops out, the count with it.
    manager.wait_for_selector(f"tr[data-task-id='{task_id}']", state="detached", timeout=15_000)
    assert int(manager.locator("#tab-unclaimed .count").inner_text()) == unclaimed - 1
    assert "共 0 个任务" in manager.locator(".pager").inner_text()
    shot(manager, screenshots, "inbox-refreshed")


def test_a_classification_review_is_done_in_the_browser_by_the_customer_manager_then_the_risk_officer(
        sign_in, live, screenshots):
    import datetime as dt

    from ledger import service as ledger
    from tests.ledger.helpers import open_and_disburse
    from workflows.catch_up import catch_up
    from workflows.clock import CHINA
    from workflows.worker import end_of_day

    services = live[2]
    # A loan of 2024 nobody paid: by 2024-05-20 it is over 90 days past due and the batch proposes 次级.
    with services.db.unit_of_work() as session:
        loan = open_and_disburse(session, "LN-E2E-CLASS", branch="BR001")
    end_of_day(services.db, dt.date(2024, 1, 31))
    catch_up(services.db, services.origination, at=dt.datetime(2024, 5, 20, 9, tzinfo=CHINA))

    manager = sign_in("cm-BR001")
    manager.goto("/inbox?tab=unclaimed&process=classification_review")
    rows = manager.locator("tr[data-task-id]")
    assert rows.count() == 1
    manager.goto(f"/tasks/{rows.first.get_attribute('data-task-id')}")
    assert "说明分类理由" in manager.locator("h1").inner_text()
    body = manager.locator("main").inner_text()
    assert "关注" in body and "次级" in body and "special_mention" not in body
    # The one decision is a button (提议, to the risk officer); the reason is required.
    manager.click("#decide-propose")
    errors = manager.locator(".field-error").all_inner_texts()
    assert any(e.startswith("认定理由") for e in errors), errors
    manager.fill("textarea[name=reason]", "逾期超过90天，养殖场停产")
    shot(manager, screenshots, "task-classification-reason")
    manager.click("#decide-propose")
    manager.wait_for_url("**/inbox**")

    risk = sign_in("risk-BR001")
    risk.goto("/inbox?tab=unclaimed&process=classification_review")
    risk.goto(f"/tasks/{risk.locator('tr[data-task-id]').first.get_attribute('data-task-id')}")
    assert "审批五级分类" in risk.locator("h1").inner_text()
    assert "逾期超过90天，养殖场停产" in risk.locator("main").inner_text()
    shot(risk, screenshots, "task-classification-decision")
    risk.click("#decide-approve")
    risk.wait_for_url("**/inbox**")
    with services.db.unit_of_work() as session:
        assert ledger.load_loan(session, loan.id).classification == "substandard"
