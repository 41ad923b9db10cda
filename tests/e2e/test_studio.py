"""The analysts' studio in the browser: an analyst lands in the studio, sees what BR002 inherits
and overrides, opens BR002's review in the bpmn-js Modeler, renames a task through the modeler,
saves the draft (our extensions survive the round trip through bpmn-js), validates, publishes,
and the branch resolves to the new version."""
from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from tests.e2e.test_review_journey import shot

EXTENSIONS = re.compile(r"<spiffworkflow:(\w+)")


def extension_counts(xml: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for tag in EXTENSIONS.findall(xml):
        counts[tag] = counts.get(tag, 0) + 1
    return counts


def validate_and_publish(page, comment: str) -> None:
    """The studio's last two steps, as the analyst takes them: validate (it must pass), publish."""
    page.click("#validate")
    page.wait_for_selector("#validation-passed")
    page.fill("#publish-comment", comment)
    page.click("#publish")
    page.wait_for_url("**/studio?scope=*")


def test_an_analyst_edits_br002s_review_in_the_modeler_validates_and_publishes(sign_in, live, screenshots):
    from workflows.deployments import resolve_files
    from workflows.models import StudioDraft

    services = live[2]
    with services.db.sessions() as session:
        original = resolve_files(session, "BR002")["review.bpmn"].content

    page = sign_in("analyst", lands="**/studio**")
    assert page.locator("#nav-studio").count() == 1
    page.select_option("#scope", "BR002")
    page.wait_for_url("**/studio?scope=BR002")
    review = page.locator("tr[data-file='review.bpmn']")
    assert review.get_attribute("data-origin") == "branch_override" and "本行覆盖" in review.inner_text()
    assert "总行默认" in page.locator("tr[data-file='loan_origination.bpmn']").inner_text()
    shot(page, screenshots, "studio")

    review.locator("a").first.click()
    page.wait_for_url("**/studio/BR002/files/review.bpmn")
    page.wait_for_selector("#modeler[data-rendered=yes]")
    assert page.locator("#modeler g.djs-shape").count() > 10
    renamed = page.evaluate("""() => {
        const modeler = window.studioModeler;
        const task = modeler.get('elementRegistry').filter(e => e.type === 'bpmn:UserTask')[0];
        modeler.get('modeling').updateLabel(task, '信贷审查（BR002 新版）');
        return task.id;
    }""")
    page.click("#save-draft")
    page.wait_for_selector("#save-status[data-saved=yes]")
    assert "草稿已于" in page.locator("#save-status").inner_text()
    shot(page, screenshots, "studio-modeler")

    with services.db.sessions() as session:
        draft = session.scalar(select(StudioDraft).where(StudioDraft.author == "analyst", StudioDraft.scope == "BR002"))
        saved = draft.content
    # bpmn-js wrote the diagram back with every one of our extension elements (forms, lanes'
    # properties, handlers, timers) and the new name on the task.
    assert extension_counts(saved) == extension_counts(original) and extension_counts(original)
    assert re.search(rf'id="{renamed}"[^>]*name="信贷审查（BR002 新版）"', saved)

    # The draft against the version in use: the renamed task, listed and marked on the diagram.
    page.goto("/studio/BR002/files/review.bpmn/diff?against=published")
    assert page.locator(f"#changes tr[data-element='{renamed}']").count() == 1
    page.wait_for_selector("#diff-diagram[data-rendered=yes]")
    assert "lf-changed" in page.locator(f"#diff-diagram g[data-element-id='{renamed}']").get_attribute("class")
    shot(page, screenshots, "studio-diff")
    page.click("text=返回流程工作室")
    page.wait_for_url("**/studio?scope=BR002")
    assert page.locator("#drafts tbody tr").count() == 1
    validate_and_publish(page, "审查任务改名")
    assert "已发布 BR002" in page.locator(".flash.ok").inner_text()
    assert "审查任务改名" in page.locator("tr[data-file='review.bpmn']").inner_text()
    shot(page, screenshots, "studio-published")
    with services.db.sessions() as session:
        assert "信贷审查（BR002 新版）" in resolve_files(session, "BR002")["review.bpmn"].content

    # Roll back: the version before this one comes back as drafts, validated and published as a
    # new version (which also leaves BR002 as it was for the rest of the session).
    before = page.locator("tr[data-version]").nth(1)
    before.locator("button.rollback").click()
    page.wait_for_url("**/studio?scope=BR002")
    assert re.findall(r'data-draft="([^"]+)"', page.content()) == ["review.bpmn"]
    validate_and_publish(page, "回滚：恢复原审查流程")
    shot(page, screenshots, "studio-rolled-back")
    with services.db.sessions() as session:
        assert resolve_files(session, "BR002")["review.bpmn"].content == original


def review_levels_of(client, headers, application_id: str) -> int:
    tasks = client.get(f"/api/v1/tasks?application_id={application_id}", headers=headers).get_json()["items"]
    assert tasks, "the application waits for a person"
    return tasks[0]["context"]["review_levels"]


def test_an_analyst_adds_a_review_level_for_br002_above_150000_in_the_dmn_table_and_new_applications_follow(
        sign_in, live, api, screenshots):
    from tests.e2e.conftest import valid_id_number
    from tests.web import journeys
    from workflows.deployments import resolve_files

    services = live[2]
    client, token = api
    with services.db.sessions() as session:
        hq_route = resolve_files(session, "HQ")["review_route.dmn"].content

    def apply_for(amount: str, branch: str = "BR002") -> str:
        body = journeys.example("application-review.json", branch=branch, amount=amount)
        body["applicant"] = dict(body["applicant"], name=f"李建华{uuid.uuid4().hex[:4]}",
                                 id_number=valid_id_number("37072419800101" + f"{uuid.uuid4().int % 1000:03d}"))
        response = journeys.submit(client, token("api-demo"), body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    manager = token("cm-BR002")
    first = apply_for("180000.00")
    before = review_levels_of(client, manager, first)
    assert before < 2   # 180,000 is below the 200,000 at which the branch approver joins

    page = sign_in("analyst", lands="**/studio**")
    page.goto("/studio?scope=BR002")
    route = page.locator("tr[data-file='review_route.dmn']")
    assert route.get_attribute("data-origin") == "hq_default"
    route.locator("text=为本行覆盖").click()
    page.wait_for_url("**/studio/BR002/files/review_route.dmn")
    page.wait_for_selector("#modeler[data-rendered=yes]")
    cell = page.locator("td[data-element-id=r3_amount]")
    assert cell.inner_text().strip() == "> 200000"
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("> 150000")
    page.click("h1")  # leave the cell, as an analyst would
    assert page.locator("td[data-element-id=r3_amount]").inner_text().strip() == "> 150000"
    shot(page, screenshots, "studio-dmn")
    page.click("#save-draft")
    page.wait_for_selector("#save-status[data-saved=yes]")

    page.goto("/studio?scope=BR002")
    # Simulate on BR002's recent applications first: the 180,000 one now needs the branch approver.
    page.fill("#simulate-sample", "50")
    page.click("#simulate")
    page.wait_for_selector("#simulation")
    changed = page.locator(f"#changed tr[data-application='{first}']")
    assert changed.count() == 1 and "审批层级：2" in changed.inner_text()
    shot(page, screenshots, "studio-simulation")
    validate_and_publish(page, "BR002：15 万元以上由支行审批人复核")
    assert page.locator("tr[data-file='review_route.dmn']").get_attribute("data-origin") == "branch_override"

    assert review_levels_of(client, manager, apply_for("180000.00")) == 2   # the new version routes it up
    assert review_levels_of(client, token("cm-BR001"), apply_for("180000.00", branch="BR001")) < 2   # BR001 did not change

    # Remove the override: BR002 is back on HQ's table (and stays so for the rest of the session).
    page.goto("/studio?scope=BR002")
    page.locator("tr[data-file='review_route.dmn'] button.withdraw").click()
    page.wait_for_url("**/studio?scope=BR002")
    validate_and_publish(page, "撤销覆盖：恢复总行审批路线")
    assert page.locator("tr[data-file='review_route.dmn']").get_attribute("data-origin") == "hq_default"
    with services.db.sessions() as session:
        assert resolve_files(session, "BR002")["review_route.dmn"].content == hq_route
    assert review_levels_of(client, manager, apply_for("180000.00")) == before



def test_an_analyst_shortens_br002s_review_reminder_in_the_properties_panel_and_rolls_it_back(
        sign_in, live, api, screenshots):
    from tests.e2e.conftest import valid_id_number
    from tests.web import journeys
    from workflows.deployments import resolve_files
    from workflows.models import ProcessInstance

    services = live[2]
    client, token = api
    with services.db.sessions() as session:
        original = resolve_files(session, "BR002")["review.bpmn"]

    page = sign_in("analyst", lands="**/studio**")
    page.goto("/studio/BR002/files/review.bpmn")
    page.wait_for_selector("#modeler[data-rendered=yes]")
    page.click("#modeler g[data-element-id=first_review_reminder]", force=True)
    page.wait_for_selector("#prop-timer-fields:not([hidden])")
    assert page.input_value("#prop-timer") == "working_days(1)"
    assert page.inner_text("#prop-timer-reading") == "1 个工作日"
    shot(page, screenshots, "studio-working-days")
    page.fill("#prop-timer", "PT12H")
    page.press("#prop-timer", "Tab")   # the change is written when the field is left
    assert page.inner_text("#prop-timer-reading") == "12 小时"
    page.fill("#prop-timer", "twelve hours")
    assert "不是 ISO 8601 值" in page.inner_text("#prop-timer-reading")   # read as you type
    page.fill("#prop-timer", "PT12H")
    page.press("#prop-timer", "Tab")
    shot(page, screenshots, "studio-properties")
    # A flow's condition is checked by the server's sandbox as it is typed (not saved unless left).
    flow = page.evaluate("""() => window.studioModeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:SequenceFlow' && e.businessObject.conditionExpression)[0].id""")
    page.evaluate(f"() => window.studioModeler.get('selection').select(window.studioModeler.get('elementRegistry').get('{flow}'))")
    page.wait_for_selector("#prop-condition-fields:not([hidden])")
    page.fill("#prop-condition", "${decision eq 'reject'}")
    page.wait_for_selector("#prop-condition-check[data-ok=no]")
    assert "decision == 'reject'" in page.inner_text("#prop-condition-check")
    page.fill("#prop-condition", 'decision == "reject"')
    page.wait_for_selector("#prop-condition-check[data-ok=yes]")
    page.click("#save-draft")
    page.wait_for_selector("#save-status[data-saved=yes]")

    page.goto("/studio?scope=BR002")
    validate_and_publish(page, "复核提醒提前到 12 小时")
    with services.db.sessions() as session:
        published = resolve_files(session, "BR002")["review.bpmn"]
    assert re.search(r'id="first_review_reminder".*?<bpmn:timeDuration[^>]*>\'PT12H\'</bpmn:timeDuration>',
                     published.content, re.S)
    assert published.content.count("'working_days(1)'") == original.content.count("'working_days(1)'") - 1  # only that

    # A new BR002 application runs the new file.
    body = journeys.example("application-review.json", branch="BR002")
    body["applicant"] = dict(body["applicant"], name=f"孙丽{uuid.uuid4().hex[:4]}",
                             id_number=valid_id_number("37072419850505" + f"{uuid.uuid4().int % 1000:03d}"))
    submitted = journeys.submit(client, token("api-demo"), body)
    assert submitted.status_code == 201, submitted.get_json()
    with services.db.sessions() as session:
        instance = session.scalar(select(ProcessInstance).where(
            ProcessInstance.application_id == submitted.get_json()["id"]))
        assert instance.pinned_files["review.bpmn"] == published.id

    page.locator("tr[data-version]").nth(1).locator("button.rollback").click()
    page.wait_for_url("**/studio?scope=BR002")
    validate_and_publish(page, "回滚：恢复一个工作日的提醒")
    with services.db.sessions() as session:
        assert resolve_files(session, "BR002")["review.bpmn"].content == original.content


def test_every_shipped_diagram_and_table_opens_in_the_modelers_and_saves_back_deployable(sign_in, live):
    """The round trip through bpmn-js and dmn-js: every BPMN and DMN file in bpmn/ (HQ's and
    BR002's) opens, and what the modeler writes back keeps each of our extension elements and
    passes the deployment's own checks as a set."""
    from workflows.deployments import deployment_problems, resolve_files

    services = live[2]
    page = sign_in("analyst", lands="**/studio**")
    for scope in ("HQ", "BR002"):
        with services.db.sessions() as session:
            files = {name: f for name, f in resolve_files(session, scope).items()
                     if name.endswith((".bpmn", ".dmn")) and f.scope == scope}
        saved = {}
        for name, stored in sorted(files.items()):
            page.goto(f"/studio/{scope}/files/{name}")
            page.wait_for_selector("#modeler[data-rendered=yes]")
            saved[name] = page.evaluate("() => window.studioModeler.saveXML({ format: true }).then(r => r.xml)")
            assert extension_counts(saved[name]) == extension_counts(stored.content), f"{scope} {name}"
            if name.endswith(".dmn"):
                assert saved[name].count("<rule ") == stored.content.count("<rule "), f"{scope} {name}"
        with services.db.sessions() as session:
            problems = deployment_problems(session, scope, saved, operations=services.operations, forms=services.forms)
        assert problems == [], [p.as_dict() for p in problems]
        assert len(saved) >= (15 if scope == "HQ" else 4)
