"""Four-eyes publishing: in a scope whose policy asks for it, an analyst's drafts become a release
that only a second analyst's approval publishes; the author cannot approve it, a rejection gives
the drafts back, and the API cannot deploy around it."""
from __future__ import annotations

import io
import re

from tests.web.test_pages import csrf_of, sign_in
from tests.web.test_studio import HQ_LIMITS, origins, post, save


def deployments(client, token_for, scope: str) -> int:
    return len(client.get(f"/api/v1/deployments?scope={scope}", headers=token_for("analyst")).get_json()["items"])


def four_eyes_for(client, scope: str) -> None:
    response = post(client, scope, "policy", four_eyes="on")
    assert response.status_code == 302


def ask_for_release(client, warn_at: str) -> str:
    """As `analyst` in four-eyes BR001: a limits.json warning at `warn_at`, asked for as a release."""
    sign_in(client, "analyst")
    four_eyes_for(client, "BR001")
    save(client, "BR001", "limits.json", HQ_LIMITS.read_text(encoding="utf-8").replace('"0.90"', f'"{warn_at}"'))
    asked = post(client, "BR001", "publish", comment=f"BR001 warns at {warn_at}")
    assert asked.status_code == 302
    [release] = re.findall(r'data-release="(\d+)"', client.get("/studio?scope=BR001").get_data(as_text=True))
    return release


def test_a_release_waits_for_a_second_analyst_who_publishes_it(client, token_for):
    sign_in(client, "analyst")
    four_eyes_for(client, "BR001")
    before = deployments(client, token_for, "BR001")
    save(client, "BR001", "limits.json", HQ_LIMITS.read_text(encoding="utf-8").replace('"0.90"', '"0.85"'))
    asked = post(client, "BR001", "publish", comment="BR001 warns at 85 %")
    assert asked.status_code == 302 and deployments(client, token_for, "BR001") == before   # nothing published yet
    html = client.get("/studio?scope=BR001").get_data(as_text=True)
    [release] = re.findall(r'data-release="(\d+)"', html)
    assert "等待另一位分析师批准" in html and "已提交发布申请" in html
    own = post(client, "BR001", f"releases/{release}/approve", comment="mine")
    assert own.status_code == 403 and deployments(client, token_for, "BR001") == before

    sign_in(client, "analyst2")
    approved = post(client, "BR001", f"releases/{release}/approve", comment="checked the simulation")
    assert approved.status_code == 302
    assert deployments(client, token_for, "BR001") == before + 1
    newest = client.get("/api/v1/deployments?scope=BR001", headers=token_for("analyst")).get_json()["items"][0]
    assert newest["created_by"] == "analyst" and "approved by analyst2" in newest["comment"]
    html = client.get("/studio?scope=BR001").get_data(as_text=True)
    assert origins(html)["limits.json"] == "branch_override" and 'data-release=' not in html
    assert post(client, "BR001", f"releases/{release}/approve").status_code == 409   # decided already


def test_a_rejected_release_gives_the_drafts_back_and_the_api_cannot_deploy_around_the_policy(client, token_for):
    release = ask_for_release(client, "0.80")
    sign_in(client, "analyst2")
    assert post(client, "BR001", f"releases/{release}/reject", comment="too low").status_code == 302
    sign_in(client, "analyst")
    html = client.get("/studio?scope=BR001").get_data(as_text=True)
    assert re.findall(r'data-draft="([^"]+)"', html) == ["limits.json"]   # back with its author
    direct = client.post("/api/v1/deployments", headers=token_for("analyst"), content_type="multipart/form-data",
                         data={"scope": "BR001", "files": [(io.BytesIO(HQ_LIMITS.read_bytes()), "limits.json")]})
    assert direct.status_code == 409 and "four eyes" in direct.get_json()["message"]


def test_only_head_office_analysts_set_the_policy_and_a_reviewer_cannot(client):
    sign_in(client, "rev-BR001")
    token = csrf_of(client, "/inbox")
    assert client.post("/studio/BR001/policy", data={"csrf_token": token, "four_eyes": "on"}).status_code == 403


def test_a_release_is_decided_only_in_its_own_scope(client, token_for):
    release = ask_for_release(client, "0.88")
    sign_in(client, "analyst2")
    assert post(client, "BR002", f"releases/{release}/approve").status_code == 404   # not BR002's release
    assert post(client, "BR001", f"releases/{release}/approve").status_code == 302
