"""The customer register in the browser: a customer manager finds a household by ID number (a
POST, so the number stays out of the address bar) and reads its page; the application's page
links to it."""
from __future__ import annotations

import uuid

from tests.e2e.conftest import valid_id_number
from tests.web import journeys


def test_a_customer_manager_finds_a_household_by_id_number_and_reads_its_page(sign_in, api, screenshots):
    client, token = api
    id_number = valid_id_number("37078419860521" + f"{uuid.uuid4().int % 1000:03d}")
    name = f"王建国{uuid.uuid4().hex[:4]}"
    body = journeys.example("application-auto.json")
    body["applicant"] = dict(body["applicant"], id_number=id_number, name=name)
    application = journeys.submit(client, token("cm-BR001"), body).get_json()
    changed = client.patch(f"/api/v1/customers/{application['customer_id']}", headers=token("cm-BR001"), json={
        "address": {"province": "山东省", "city": "潍坊市", "county": "安丘市", "township": "景芝镇",
                    "village": "东村", "village_group": "三组"},
        "assets": "268000.00", "debts": "15000.00",
        "family_members": [{"name": "李秀兰", "relation": "spouse", "birth_year": 1988, "is_labourer": True},
                           {"name": "王小军", "relation": "child", "birth_year": 2012}],
        "reason": "上门走访：新建大棚两座"})
    assert changed.status_code == 200, changed.get_json()

    page = sign_in("cm-BR001")
    page.click("#nav-customers")
    page.wait_for_url("**/customers")
    page.click("#tab-my-customers")
    assert page.locator("#customer-list tr[data-customer-id]", has_text=name).count() == 1
    page.screenshot(path=str(screenshots / "customers-list.png"), full_page=True)

    page.fill("input[name=id_number]", id_number)
    page.click("#search-customer")
    page.wait_for_url(f"**/customers/{application['customer_id']}")
    assert id_number not in page.url
    assert name in page.locator("h1").inner_text()
    assert page.locator("#address").inner_text() == "山东省 潍坊市 安丘市 景芝镇 东村 三组"
    assert "¥268,000.00" in page.locator("#household").inner_text()
    assert "配偶" in page.locator("#family").inner_text()
    assert "上门走访：新建大棚两座" in page.locator("#customer-history").inner_text()
    consents = page.locator("#customer-consents").inner_text()
    assert "征信查询" in consents and "电子签名" in consents and "ESIGN-AUTH-0001" in consents
    page.screenshot(path=str(screenshots / "customer-page.png"), full_page=True)

    page.goto("/customers")
    page.fill("input[name=id_number]", id_number[:17] + ("0" if id_number[17] != "0" else "1"))
    page.click("#search-customer")
    assert "身份证号校验位不符" in page.locator("#search-problem").inner_text()

    page.goto(f"/applications/{application['id']}")
    page.click("#customer-link")
    page.wait_for_url(f"**/customers/{application['customer_id']}")


def test_the_customer_page_lists_the_households_credit_lines_with_what_is_available(sign_in, api, screenshots):
    client, token = api
    id_number = valid_id_number("37078419860521" + f"{uuid.uuid4().int % 1000:03d}")
    body = journeys.example("application-auto.json", amount="100000.00")
    body["applicant"] = dict(body["applicant"], id_number=id_number, name=f"王建国{uuid.uuid4().hex[:4]}")
    response = client.post("/api/v1/credit-lines", json=body,
                           headers={**token("api-demo"), "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_json()
    application = response.get_json()
    for reviewer in ("cm-BR001", "rev-BR001"):  # the investigation, then the credit review
        journeys.decide(client, token(reviewer), application["id"])
    application = client.get(f"/api/v1/applications/{application['id']}", headers=token("api-demo")).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=token("api-demo"),
                         json=journeys.signature_for(application)).get_json()
    assert signed["status"] == "line_active", signed
    drawn = client.post(f"/api/v1/credit-lines/{signed['credit_line_id']}/drawdowns", json={"amount": "40000.00"},
                        headers={**token("api-demo"), "Idempotency-Key": str(uuid.uuid4())})
    assert drawn.status_code == 201, drawn.get_json()

    page = sign_in("cm-BR001")
    page.goto(f"/customers/{application['customer_id']}")
    lines = page.locator("#customer-credit-lines").inner_text()
    assert "授信额度" in lines and "有效" in lines
    assert "¥100,000.00" in lines and "¥60,000.00" in lines and "¥40,000.00" in lines
    assert "授信已生效" in page.locator("#customer-applications").inner_text()
    page.locator("#customer-credit-lines").screenshot(path=str(screenshots / "customer-credit-lines.png"))
    page.screenshot(path=str(screenshots / "customer-page-with-line.png"), full_page=True)
    print("screenshots:", screenshots)


def test_a_br002_approver_sees_a_line_reduction_asked_by_the_customer_manager(sign_in, api, screenshots):
    client, token = api
    id_number = valid_id_number("37078419860521" + f"{uuid.uuid4().int % 1000:03d}")
    body = journeys.example("application-auto.json", amount="100000.00", branch="BR002")
    body["applicant"] = dict(body["applicant"], id_number=id_number, name=f"王建国{uuid.uuid4().hex[:4]}")
    application = client.post("/api/v1/credit-lines", json=body,
                              headers={**token("api-demo"), "Idempotency-Key": str(uuid.uuid4())}).get_json()
    for reviewer in ("cm-BR002", "rev-BR002"):
        journeys.decide(client, token(reviewer), application["id"])
    application = client.get(f"/api/v1/applications/{application['id']}", headers=token("api-demo")).get_json()
    line_id = client.post(f"/api/v1/applications/{application['id']}/signature", headers=token("api-demo"),
                          json=journeys.signature_for(application)).get_json()["credit_line_id"]
    asked = client.post(f"/api/v1/credit-lines/{line_id}/reduce", headers=token("cm-BR002"),
                        json={"new_limit": "60000.00", "reason": "收成不好，下调额度"}).get_json()
    assert asked["change"]["status"] == "pending_approval"
    task = [t for t in client.get("/api/v1/tasks", headers=token("appr-BR002")).get_json()["items"]
            if t["instance_id"] == asked["change"]["instance_id"]][0]

    page = sign_in("appr-BR002")
    page.goto(f"/tasks/{task['id']}")
    assert "审批授信变更" in page.inner_text("body")
    page.screenshot(path=str(screenshots / "line-change-task.png"), full_page=True)
    print("screenshots:", screenshots)
