"""The analysts' studio through Flask's test client: what a scope resolves to (HQ default or
branch override), drafts, validate with every reason at once, publish as the next version, and
the refusals (no comment, a version published meanwhile, a reviewer). The browser test
(tests/e2e/test_studio.py) drives the modeler itself."""
from __future__ import annotations

import json
import re
from pathlib import Path

from tests.web.test_pages import csrf_of, sign_in

HQ_LIMITS = Path(__file__).resolve().parents[2] / "bpmn" / "default" / "scoring" / "limits.json"


def origins(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-file="([^"]+)" data-origin="([^"]+)"', html))


def save(client, scope, name, content):
    token = csrf_of(client, f"/studio?scope={scope}")
    return client.post(f"/studio/{scope}/files/{name}/draft", data={"content": content},
                       headers={"X-CSRF-Token": token})


def post(client, scope, action, **data):
    return client.post(f"/studio/{scope}/{action}", data={"csrf_token": csrf_of(client, f"/studio?scope={scope}"), **data})


def test_an_analyst_starts_in_the_studio_and_sees_what_a_branch_inherits_and_overrides(client):
    response = sign_in(client, "analyst")
    assert response.headers["Location"].endswith("/studio")
    html = client.get("/studio?scope=BR002").get_data(as_text=True)
    found = origins(html)
    assert found["review.bpmn"] == "branch_override"            # BR002 has its own review
    assert found["loan_origination.bpmn"] == "hq_default"
    assert "本行覆盖" in html and "总行默认" in html
    assert set(origins(client.get("/studio?scope=HQ").get_data(as_text=True)).values()) == {"hq_default"}
    assert re.findall(r'<option value="([^"]+)"', html) == ["HQ", "BR001", "BR002"]   # each scope once
    editor = client.get("/studio/BR002/files/review.bpmn").get_data(as_text=True)
    assert "bpmn-modeler.production.min.js" in editor and "review_level_1" in editor or "userTask" in editor


def test_a_broken_draft_is_named_on_validate_then_fixed_published_and_inherited_no_more(client, token_for):
    sign_in(client, "analyst")
    limits = json.loads(HQ_LIMITS.read_text(encoding="utf-8"))
    limits["single_customer"]["max_amount"] = "-5"
    assert save(client, "BR001", "limits.json", json.dumps(limits)).get_json()["saved"] is True
    checked = post(client, "BR001", "validate")
    assert checked.status_code == 422
    page = checked.get_data(as_text=True)
    assert "limits.json" in page and "single_customer.max_amount" in page and 'id="problems"' in page
    refused = post(client, "BR001", "publish", comment="lower the cap")
    assert refused.status_code == 422 and 'id="problems"' in refused.get_data(as_text=True)
    before = client.get("/api/v1/deployments?scope=BR001", headers=token_for("analyst")).get_json()["items"]

    limits["single_customer"]["max_amount"] = "2000000"
    save(client, "BR001", "limits.json", json.dumps(limits, indent=2))
    assert 'id="validation-passed"' in post(client, "BR001", "validate").get_data(as_text=True)
    unsaid = post(client, "BR001", "publish", comment=" ")
    assert unsaid.status_code == 422
    published = post(client, "BR001", "publish", comment="BR001 caps one customer at 2,000,000")
    assert published.status_code == 302
    after = client.get("/api/v1/deployments?scope=BR001", headers=token_for("analyst")).get_json()["items"]
    assert len(after) == len(before) + 1
    assert after[0]["comment"] == "BR001 caps one customer at 2,000,000"
    assert [f["name"] for f in after[0]["files"]] == ["limits.json"]
    html = client.get("/studio?scope=BR001").get_data(as_text=True)
    assert origins(html)["limits.json"] == "branch_override" and "BR001 caps one customer" in html
    assert "暂无草稿" in html or "没有草稿" in html   # the drafts went with the publication


def test_publishing_over_a_version_published_meanwhile_is_refused_naming_the_file(client, token_for):
    sign_in(client, "analyst")
    text = HQ_LIMITS.read_text(encoding="utf-8")
    save(client, "BR001", "limits.json", text.replace('"0.90"', '"0.85"'))
    # Meanwhile a colleague deploys BR001's own limits.json through the API.
    deployed = client.post("/api/v1/deployments", headers=token_for("analyst"), data={
        "scope": "BR001", "comment": "colleague", "files": [(__import__("io").BytesIO(text.encode()), "limits.json")]},
        content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.get_json()
    save(client, "BR001", "limits.json", text.replace('"0.90"', '"0.80"'))  # the same draft, edited on
    refused = post(client, "BR001", "publish", comment="mine")
    assert refused.status_code == 409 and "limits.json" in refused.get_data(as_text=True)


def test_a_draft_that_is_not_a_deployable_file_is_refused_naming_the_field(client):
    sign_in(client, "analyst")
    answer = save(client, "BR001", "notes.txt", "hello")
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {"name"}
    empty = save(client, "BR001", "review.bpmn", "   ")
    assert empty.status_code == 422 and set(empty.get_json()["fields"]) == {"content"}


def test_a_reviewer_gets_the_403_page_for_the_studio(client):
    sign_in(client, "rev-BR001")
    response = client.get("/studio")
    assert response.status_code == 403 and "text/html" in response.content_type


def resolved_scope(client, token_for, branch: str, file_name: str) -> str:
    definitions = client.get(f"/api/v1/deployments/resolved?branch={branch}", headers=token_for("analyst")).get_json()
    return {d["file"]: d["scope"] for d in definitions["definitions"]}[file_name]


def test_removing_an_override_gives_the_branch_head_offices_file_again(client, token_for):
    sign_in(client, "analyst")
    assert resolved_scope(client, token_for, "BR002", "pricing.dmn") == "BR002"
    drafted = post(client, "BR002", "files/pricing.dmn/withdraw")
    assert drafted.status_code == 302
    html = client.get("/studio?scope=BR002").get_data(as_text=True)
    assert 'data-draft="pricing.dmn"' in html and "撤销覆盖" in html
    assert 'id="validation-passed"' in post(client, "BR002", "validate").get_data(as_text=True)
    assert post(client, "BR002", "publish", comment="BR002 prices as head office does").status_code == 302
    assert origins(client.get("/studio?scope=BR002").get_data(as_text=True))["pricing.dmn"] == "hq_default"
    assert resolved_scope(client, token_for, "BR002", "pricing.dmn") == "HQ"
    # Head office's files cannot be "removed" from a branch, nor HQ's own from HQ.
    assert post(client, "BR002", "files/limits.json/withdraw").status_code == 422
    assert post(client, "HQ", "files/limits.json/withdraw").status_code == 422


def test_rolling_back_drafts_the_old_files_and_withdraws_the_ones_added_since(client, token_for):
    sign_in(client, "analyst")
    pricing_v1 = client.get("/studio/BR002/files/pricing.dmn").get_data(as_text=True)
    limits = HQ_LIMITS.read_text(encoding="utf-8").replace('"0.90"', '"0.80"')
    save(client, "BR002", "limits.json", limits)
    assert post(client, "BR002", "publish", comment="BR002 warns at 80 %").status_code == 302
    assert origins(client.get("/studio?scope=BR002").get_data(as_text=True))["limits.json"] == "branch_override"

    drafted = post(client, "BR002", "rollback", version="1")
    assert drafted.status_code == 302
    html = client.get("/studio?scope=BR002").get_data(as_text=True)
    assert re.findall(r'data-draft="([^"]+)"', html) == ["limits.json"]   # the only change since version 1
    assert "撤销覆盖" in html
    assert post(client, "BR002", "publish", comment="back to version 1").status_code == 302
    html = client.get("/studio?scope=BR002").get_data(as_text=True)
    assert origins(html)["limits.json"] == "hq_default"
    assert re.findall(r'data-version="(\d+)"', html) == ["3", "2", "1"]
    assert "back to version 1" in html and "撤销了 limits.json" in html
    assert client.get("/studio/BR002/files/pricing.dmn").get_data(as_text=True) == pricing_v1
    again = post(client, "BR002", "rollback", version="1")
    assert again.status_code == 422 and "version 1" in again.get_data(as_text=True)


def test_the_api_withdraws_a_branch_file_and_refuses_to_withdraw_one_the_branch_does_not_provide(client, token_for):
    analyst = token_for("analyst")
    withdrawn = client.post("/api/v1/deployments", headers=analyst, content_type="multipart/form-data",
                            data={"scope": "BR002", "comment": "back to HQ's ladder", "withdraw": ["collection_ladder.dmn"]})
    assert withdrawn.status_code == 201, withdrawn.get_json()
    assert withdrawn.get_json()["files"] == [{"name": "collection_ladder.dmn", "sha256": withdrawn.get_json()["files"][0]["sha256"],
                                              "withdrawn": True}]
    assert resolved_scope(client, token_for, "BR002", "collection_ladder.dmn") == "HQ"
    refused = client.post("/api/v1/deployments", headers=analyst, content_type="multipart/form-data",
                          data={"scope": "BR002", "withdraw": ["collection_ladder.dmn"]})
    assert refused.status_code == 422 and "collection_ladder.dmn" in refused.get_json()["fields"]["withdraw"][0]


def test_the_studio_compares_an_override_with_hq_and_a_draft_with_the_version_in_use(client):
    sign_in(client, "analyst")
    assert "compare-hq" in client.get("/studio?scope=BR002").get_data(as_text=True)
    review = client.get("/studio/BR002/files/review.bpmn/diff?against=hq")
    assert review.status_code == 200 and 'id="changes"' in review.get_data(as_text=True)
    route = (HQ_LIMITS.parents[1] / "review_route.dmn").read_text(encoding="utf-8")
    save(client, "BR002", "review_route.dmn", route.replace("&gt; 200000", "&gt; 150000"))
    html = client.get("/studio/BR002/files/review_route.dmn/diff?against=hq").get_data(as_text=True)
    assert re.findall(r'data-element="([^"]+)" data-kind="([^"]+)"', html) == [("over_two_hundred_thousand", "changed")]
    assert "&gt; 150000" in html and "修改" in html
    assert client.get("/studio/BR002/files/pricing.dmn/diff?against=published").status_code == 404   # no draft yet
    assert client.get("/studio/HQ/files/pricing.dmn/diff?against=hq").status_code == 404              # HQ against itself
    assert client.get("/studio/BR002/files/review.bpmn/diff?against=nonsense").status_code == 404


def test_a_condition_is_checked_by_the_sandbox_as_the_analyst_types(client):
    sign_in(client, "analyst")
    token = csrf_of(client, "/studio?scope=BR002")

    def check(expression):
        response = client.post("/studio/check-expression", data={"expression": expression},
                               headers={"X-CSRF-Token": token})
        assert response.status_code == 200
        return response.get_json()

    assert check('decision == "reject"') == {"ok": True, "problems": []}
    refused = check("decision.__class__")
    assert refused["ok"] is False and refused["problems"]
    juel = check("${decision eq 'reject' && !empty comment}")
    assert juel["ok"] is False and juel["suggestion"] == "decision == 'reject' and comment"
    assert "JUEL" in juel["problems"][0]
    assert check("   ")["ok"] is False
    assert client.post("/studio/check-expression", data={"expression": "x"}).status_code == 400   # no CSRF token


def test_a_draft_that_removes_an_override_compares_head_offices_file_with_the_branchs(client):
    sign_in(client, "analyst")
    post(client, "BR002", "files/pricing.dmn/withdraw")
    html = client.get("/studio/BR002/files/pricing.dmn/diff?against=published").get_data(as_text=True)
    assert 'id="changes"' in html and "data-kind=" in html   # what BR002 gives up by running HQ's table
    editor = client.get("/studio/BR002/files/pricing.dmn").get_data(as_text=True)
    assert 'id="withdraw-draft"' in editor and 'id="save-draft"' not in editor


def test_products_json_is_in_the_studio_per_scope_and_a_branch_starts_its_narrowing_from_none(client, token_for):
    sign_in(client, "analyst")
    assert origins(client.get("/studio?scope=BR002").get_data(as_text=True))["products.json"] == "branch_override"
    assert origins(client.get("/studio?scope=BR001").get_data(as_text=True))["products.json"] == "hq_default"
    starter = client.get("/studio/BR001/files/products.json").get_data(as_text=True)
    assert "&#34;products&#34;: {}" in starter or '"products": {}' in starter
    # Widening head office's bound is named on validate; a narrowing publishes as BR001's version.
    wider = {"products": {"FARM_EASY": {"max_amount": "400000"}}}
    assert save(client, "BR001", "products.json", json.dumps(wider)).get_json()["saved"] is True
    checked = post(client, "BR001", "validate")
    assert checked.status_code == 422
    assert "products.FARM_EASY.max_amount: 400000 is above head office&#39;s 300000" in checked.get_data(as_text=True)
    save(client, "BR001", "products.json", json.dumps({"products": {"FARM_EASY": {"max_amount": "100000"}}}))
    assert post(client, "BR001", "publish", comment="farm loans up to 100,000 here").status_code in (200, 302, 303)
    farm = client.get("/api/v1/products/FARM_EASY?branch=BR001", headers=token_for("analyst")).get_json()
    assert farm["fields"]["max_amount"] == {"value": "100000", "source": "BR001"}
