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
