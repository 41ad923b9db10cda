"""The pages through Flask's test client: sign-in, CSRF, cookie flags, error pages, the
worklist's filters and the catalogue. The browser tests (tests/e2e) drive the same pages."""
from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir

from tests.web import journeys
from web.config import PROJECT_ROOT
from web.pages.i18n import load_catalogues


def csrf_of(client, path="/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username):
    response = client.post("/login", data={"username": username, "password": "demo", "csrf_token": csrf_of(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def test_the_root_sends_a_stranger_to_sign_in_and_a_signed_in_user_to_the_inbox(client):
    assert client.get("/").headers["Location"].endswith("/login")
    sign_in(client, "rev-BR001")
    assert client.get("/").headers["Location"].endswith("/inbox")


def test_the_session_cookie_is_http_only_same_site_lax_and_secure(client):
    cookie = sign_in(client, "rev-BR001").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_a_form_without_the_csrf_token_is_refused_with_a_page(client):
    response = client.post("/login", data={"username": "rev-BR001", "password": "demo"})
    assert response.status_code == 400
    assert "text/html" in response.content_type and "表单" in response.get_data(as_text=True)


def test_a_wrong_password_is_named_in_chinese(client):
    response = client.post("/login", data={"username": "rev-BR001", "password": "x", "csrf_token": csrf_of(client)})
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_an_unknown_page_is_an_html_404_and_the_api_keeps_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "text/html" in page.content_type
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"


def test_a_role_without_the_page_gets_the_403_page(client):
    sign_in(client, "rev-BR001")
    response = client.get("/dashboard")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)


def test_the_inbox_finds_an_application_by_its_applicants_id_number_and_names_a_bad_amount(client, token_for):
    body = journeys.example("application-review.json")
    response = journeys.submit(client, token_for("api-demo"), body)
    assert response.status_code == 201, response.get_json()
    sign_in(client, "cm-BR001")
    found = client.get(f"/inbox?customer={body['applicant']['id_number']}").get_data(as_text=True)
    assert body["applicant"]["name"] in found and "共 1 个任务" in found
    missed = client.get("/inbox?customer=110101199001011237").get_data(as_text=True)
    assert "共 0 个任务" in missed
    bad = client.get("/inbox?min_amount=lots").get_data(as_text=True)
    assert "金额下限：须为金额" in bad


def test_every_interface_text_has_a_chinese_translation():
    chinese = load_catalogues()["zh_CN"]
    found = extract_from_dir(
        str(PROJECT_ROOT / "web"), method_map=[("templates/**.html", "jinja2"), ("pages/**.py", "python")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}})
    messages = {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}
    assert len(messages) > 100  # the templates were read (a template Babel cannot parse drops out)
    missing = sorted(m for m in messages if chinese.gettext(m) == m)
    assert missing == []


def test_the_names_in_shipped_diagrams_scorecards_rules_and_products_have_chinese_translations():
    """The pages show these through the catalogue: diagram element and lane names (the case page
    translates the XML), scorecard characteristics and reasons, risk rules, products."""
    import html
    import json

    from scoring.risk import RULES
    from web.pages.cases import NAME

    chinese = load_catalogues()["zh_CN"]
    names = set()
    for path in (PROJECT_ROOT / "bpmn").rglob("*.bpmn"):
        names |= {html.unescape(name) for _, name, _ in NAME.findall(path.read_text(encoding="utf-8"))}
    for path in (PROJECT_ROOT / "bpmn").rglob("scorecard.json"):
        card = json.loads(path.read_text(encoding="utf-8"))
        for characteristic in card["characteristics"] + card.get("expert", {}).get("characteristics", []):
            names |= {characteristic["name"], characteristic["reason"]}
    names |= {rule.name for rule in RULES} | set(json.loads((PROJECT_ROOT / "bpmn" / "default" / "products.json").read_text(encoding="utf-8"))["products"])
    assert len(names) > 150
    missing = sorted(n for n in names if chinese.gettext(n) == n and not re.fullmatch(r"[^A-Za-z]*", n))
    assert missing == []


def test_engine_messages_are_translated_with_their_figures_and_unknown_ones_stay_as_they_are():
    from web.pages.i18n import MESSAGE_SHAPES, translate_message

    chinese = load_catalogues()["zh_CN"]
    assert [m for _, m in MESSAGE_SHAPES if chinese.gettext(m) == m] == []

    def zh(message, **figures):
        text = chinese.gettext(message) if message else message
        return text % figures if figures else text

    assert translate_message("9 credit inquiries in the last 3 months (more than 6)", zh) == \
        "近 3 个月征信查询 9 次（超过 6 次）"
    assert translate_message("applicant is on the graylist: 多头借贷", zh) == "申请人在灰名单上：多头借贷"
    assert translate_message("guarantee 1 is expired; guarantor of guarantee 2 has written-off loans", zh) == \
        "第 1 项担保状态为已失效；第 2 项担保的担保人有已核销贷款"
    assert translate_message("borrower is currently overdue by 1234.5 yuan at this bank", zh) == \
        "借款人在本行当前逾期 ¥1,234.50"
    assert translate_message("something new", zh) == "something new"


def test_a_task_page_shows_chinese_labels_and_a_plain_title(client, token_for):
    body = journeys.example("application-review.json")
    application = journeys.submit(client, token_for("api-demo"), body).get_json()
    task = journeys.open_task(client, token_for("cm-BR001"), application["id"])
    sign_in(client, "cm-BR001")
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<" not in title and "客户经理调查" in title
    for raw in ("AGRI_BUSINESS", "debt_to_income", "customer_type", "amount above"):
        assert raw not in page, raw


def test_another_branchs_task_is_a_404_page_in_chinese_without_the_engines_english(client, token_for):
    application = journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json")).get_json()
    task = journeys.open_task(client, token_for("cm-BR001"), application["id"])
    sign_in(client, "rev-BR002")
    page = client.get(f"/tasks/{task['id']}")
    assert page.status_code == 404
    assert "not found" not in page.get_data(as_text=True) and "不存在" in page.get_data(as_text=True)


def test_in_english_codes_read_as_words_not_python_names(client, token_for):
    application = journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json")).get_json()
    task = journeys.open_task(client, token_for("cm-BR001"), application["id"])
    sign_in(client, "cm-BR001")
    client.set_cookie("loanflow_lang", "en")
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    assert "Debt to income" in page and "Agri business" in page
    for raw in ("AGRI_BUSINESS", "debt_to_income", "customer_type"):
        assert raw not in page, raw


def test_a_nul_in_an_inbox_filter_is_a_400_page_not_a_500(client):
    sign_in(client, "cm-BR001")
    for query in ("customer=%00", "process=%00", "sort=%00", "tab=%00"):
        response = client.get(f"/inbox?{query}")
        assert response.status_code == 400, query
        assert "text/html" in response.content_type and "表单" in response.get_data(as_text=True)


def test_a_nul_in_a_task_form_names_the_field_instead_of_failing(client, token_for):
    application = journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json")).get_json()
    task = journeys.open_task(client, token_for("cm-BR001"), application["id"])
    sign_in(client, "cm-BR001")
    token = csrf_of(client, f"/tasks/{task['id']}")
    response = client.post(f"/tasks/{task['id']}", data={"csrf_token": token, "decision": "approve",
                                                         "findings": "属实\x00", "verified_income": "\x00"})
    assert response.status_code in (400, 422), response.status_code
    assert "出错了" not in response.get_data(as_text=True)


def test_limit_hits_show_their_dimension_values_and_figures_in_chinese(client, token_for, services):
    from workflows.models import HumanTask

    application = journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json")).get_json()
    task = journeys.open_task(client, token_for("cm-BR001"), application["id"])
    hits = [{"limit_id": "unsecured-business-loans", "dimension": "customer_type+guarantee_method",
             "values": {"customer_type": "individual_business", "guarantee_method": "credit"},
             "limit": "30000000.00", "usage": "27300000.00", "severity": "warn", "checkpoint": "application",
             "message": "customer_type+guarantee_method limit (...): 27300000.00 yuan after this loan uses 91.0% ..."}]
    sign_in(client, "cm-BR001")
    # As the engine left it: every limit that applies, within ones too (limit usage per dimension).
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    limits = page[page.index('id="limits"'):page.index("</table>", page.index('id="limits"'))]
    # The demo book is young (below min_book_for_shares), so only the amount limits apply: the
    # single customer's 30,000,000 and the institution's 20,000,000,000, each at 300,000 after this loan.
    assert limits.count('<tr class="ok">') == 2 and limits.count("未超限") == 2
    for shown in ("单一客户", "¥30,000,000.00", "1.0%", "机构：BR001", "¥20,000,000,000.00", "¥300,000.00"):
        assert shown in limits, shown
    with services.db.unit_of_work() as session:
        row = session.get(HumanTask, task["id"])
        row.context = dict(row.context, limit_hits=hits, limit_usage=hits)
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    limits = page[page.index('id="limits"'):page.index("</table>", page.index('id="limits"'))]
    for shown in ("客户类型 + 担保方式", "¥30,000,000.00", "¥27,300,000.00", "91.0%", "预警"):
        assert shown in limits, shown
    assert "yuan" not in limits and "guarantee_method" not in limits


def _three_waiting_for_the_customer_manager(client, token_for, services):
    """Three applications waiting for cm-BR001: 50,000 due yesterday, 300,000 due in five minutes,
    120,000 due next week (China time), their task ids in that order."""
    import datetime as dt

    from workflows.clock import CHINA
    from workflows.models import HumanTask

    ids = []
    china_now = dt.datetime.now(CHINA)
    soon = china_now + dt.timedelta(minutes=5)
    if soon.date() != china_now.date():
        pytest.skip("five minutes before midnight in China: nothing can be due later today")
    dues = [china_now - dt.timedelta(days=1), soon, china_now + dt.timedelta(days=7)]
    for amount, due in zip(("50000", "300000", "120000"), dues):
        body = journeys.example("application-review.json")
        body["amount"] = amount
        application = journeys.submit(client, token_for("api-demo"), body).get_json()
        assert application["status"] == "in_review", application
        task_id = journeys.open_task(client, token_for("cm-BR001"), application["id"])["id"]
        with services.db.unit_of_work() as session:
            session.get(HumanTask, task_id).due_at = due.astimezone(dt.timezone.utc).replace(tzinfo=None)
        ids.append(task_id)
    return ids


def test_the_inbox_sorts_by_amount_or_due_time_filters_due_today_and_overdue_and_pages(client, token_for, services):
    overdue, due_today, later = _three_waiting_for_the_customer_manager(client, token_for, services)
    sign_in(client, "cm-BR001")

    def listed(query):
        html = client.get(f"/inbox/list?tab=unclaimed&{query}").get_data(as_text=True)
        return re.findall(r'data-task-id="([^"]+)"', html)

    assert listed("sort=amount_desc") == [due_today, later, overdue]
    assert listed("sort=amount_asc") == [overdue, later, due_today]
    assert listed("sort=due") == [overdue, due_today, later]
    assert listed("overdue=1") == [overdue]
    assert listed("due_today=1") == [due_today]
    assert listed("min_amount=100000&max_amount=200000") == [later]
    page = client.get("/inbox?tab=unclaimed&overdue=1").get_data(as_text=True)
    assert 'class="overdue"' in page and "已超时" in page

    from workflows.worklist import worklist
    from workflows.models import User
    with services.db.unit_of_work() as session:
        user = session.get(User, "cm-BR001")
        first = worklist(session, user, sort="amount_desc", per_page=2, page=1)
        second = worklist(session, user, sort="amount_desc", per_page=2, page=2)
    assert (first["total"], first["pages"]) == (3, 2)
    assert [t["id"] for t in first["items"] + second["items"]] == [due_today, later, overdue]


def test_the_inbox_pages_next_link_is_a_keyset_cursor_and_the_page_number_labels_it(client, token_for, services,
                                                                                    monkeypatch):
    import html as html_text

    from web.pages import inbox as inbox_page
    monkeypatch.setattr(inbox_page, "PER_PAGE", 2)
    ids = _three_waiting_for_the_customer_manager(client, token_for, services)
    sign_in(client, "cm-BR001")
    first = client.get("/inbox?tab=unclaimed&sort=due").get_data(as_text=True)
    [next_link] = re.findall(r'<a href="([^"]*after=[^"]*)">下一页', first)
    second = client.get(html_text.unescape(next_link)).get_data(as_text=True)
    shown = re.findall(r'data-task-id="([^"]+)"', first) + re.findall(r'data-task-id="([^"]+)"', second)
    assert sorted(shown) == sorted(ids) and len(set(shown)) == 3
    assert "after=" not in second.split('class="pager"')[1].split("</p>")[0]  # the last page has no next
    by_number = client.get("/inbox?tab=unclaimed&sort=due&page=2").get_data(as_text=True)
    assert re.findall(r'data-task-id="([^"]+)"', by_number) == re.findall(r'data-task-id="([^"]+)"', second)
    mangled = client.get("/inbox?tab=unclaimed&sort=due&page=2&after=garbage")
    assert mangled.status_code == 200  # a mangled link falls back to the page by number
    assert re.findall(r'data-task-id="([^"]+)"', mangled.get_data(as_text=True)) == \
        re.findall(r'data-task-id="([^"]+)"', second)


def test_bulk_claim_claims_the_ticked_tasks_and_release_gives_one_back(client, token_for, services):
    ids = _three_waiting_for_the_customer_manager(client, token_for, services)
    sign_in(client, "cm-BR001")
    token = csrf_of(client, "/inbox")
    response = client.post("/inbox/claim", data={"csrf_token": token, "task_id": ids[:2]}, follow_redirects=True)
    assert "已领取 2 个任务" in response.get_data(as_text=True)
    mine = client.get("/inbox/list?tab=mine").get_data(as_text=True)
    assert set(re.findall(r'data-task-id="([^"]+)"', mine)) == set(ids[:2])
    response = client.post("/inbox/unclaim", data={"csrf_token": token, "one_task": ids[0]}, follow_redirects=True)
    assert response.status_code == 200
    assert re.findall(r'data-task-id="([^"]+)"', client.get("/inbox/list?tab=mine").get_data(as_text=True)) == [ids[1]]


def test_head_office_sees_the_dashboard_of_every_branch(client, token_for):
    journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json"))
    for user in ("hq-approver", "hq-risk", "appr-BR001"):
        sign_in(client, user)
        page = client.get("/dashboard")
        assert page.status_code == 200, user
        html = page.get_data(as_text=True)
        assert 'id="dashboard-data"' in html and "批准率" in html and "时效达成率" in html
        client.post("/logout", data={"csrf_token": csrf_of(client, "/dashboard")})


def test_the_large_amount_report_reads_as_figures_in_chinese(client, token_for, services):
    from workflows.models import HumanTask

    application = journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json")).get_json()
    task = journeys.open_task(client, token_for("cm-BR001"), application["id"])
    report = {"branch": "BR001", "amount": "60000000.00", "branch_tier1_capital_net": "2000000000.00",
              "share_of_capital": "0.0300", "grade": "A", "score": "700", "reported_on": "2026-12-03",
              "reported_by": "system"}
    with services.db.unit_of_work() as session:
        row = session.get(HumanTask, task["id"])
        row.context = dict(row.context, is_large_amount=True, large_amount_report=report)
    sign_in(client, "cm-BR001")
    page = client.get(f"/tasks/{task['id']}").get_data(as_text=True)
    for shown in ("本行一级资本净额", "¥2,000,000,000.00", "¥60,000,000.00", "3.00%", "报告人"):
        assert shown in page, shown
    assert "branch_tier1_capital_net" not in page and "share_of_capital" not in page


def test_the_case_page_hands_bpmn_js_diagrams_with_chinese_names_and_english_words_after_the_switch(client, token_for):
    import json

    def diagrams(page):
        found = re.search(r'<script type="application/json" id="diagrams-data">(.*?)</script>', page, re.S).group(1)
        return " ".join(d["xml"] for d in json.loads(found))

    application = journeys.submit(client, token_for("api-demo"), journeys.example("application-review.json")).get_json()
    sign_in(client, "appr-BR001")
    chinese = diagrams(client.get(f"/applications/{application['id']}").get_data(as_text=True))
    assert 'name="客户经理"' in chinese and 'name="申请人预审"' in chinese
    assert 'name="customer_manager"' not in chinese and "Applicant pre-check" not in chinese
    client.set_cookie("loanflow_lang", "en")
    english = diagrams(client.get(f"/applications/{application['id']}").get_data(as_text=True))
    assert 'name="Customer manager"' in english and "Applicant pre-check" in english
