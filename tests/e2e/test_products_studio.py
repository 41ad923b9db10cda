"""products.json in the studio's browser page: BR002's narrowing is listed as its override, BR001
starts its own from an empty narrowing, writes one in the text editor, validates and publishes it,
and the products API shows the branch's value."""
from __future__ import annotations

import json

from tests.e2e.test_review_journey import shot
from tests.e2e.test_studio import validate_and_publish


def test_an_analyst_narrows_br001s_products_in_the_studio(sign_in, api, screenshots):
    page = sign_in("analyst", lands="**/studio**")
    page.goto("/studio?scope=BR002")
    row = page.locator("tr[data-file='products.json']")
    assert row.get_attribute("data-origin") == "branch_override" and "本行覆盖" in row.inner_text()

    page.goto("/studio?scope=BR001")
    row = page.locator("tr[data-file='products.json']")
    assert row.get_attribute("data-origin") == "hq_default"
    shot(page, screenshots, "studio-products")
    row.locator("a").first.click()
    page.wait_for_url("**/studio/BR001/files/products.json")
    assert "本行沿用总行产品" in page.locator("#products-narrowing").inner_text()
    assert json.loads(page.input_value("#source"))["products"] == {}
    page.fill("#source", json.dumps({"products": {"LARGE_CORP": {"max_term_months": 96}}}, indent=2))
    page.click("#save-draft")
    page.wait_for_selector("#save-status[data-saved=yes]")
    shot(page, screenshots, "studio-products-edit")
    page.goto("/studio?scope=BR001")
    validate_and_publish(page, "大额经营贷最长 96 个月")

    client, token = api
    large = client.get("/api/v1/products/LARGE_CORP?branch=BR001", headers=token("analyst")).get_json()
    assert large["fields"]["max_term_months"] == {"value": 96, "source": "BR001"}
