"""One's own account: changing one's own password (API and page), the change an administrator's
password forces at the next sign-in to the pages, and delegations made on the account page."""
from __future__ import annotations

import re

from tests.web.test_administration import bearer, change, create, sign_in
from tests.web.test_pages import csrf_of, sign_in as sign_in_page
from workflows.models import AdminAudit, User


def change_password(client, headers, current, new):
    return client.post("/api/v1/account/password", headers=headers,
                       json={"current_password": current, "new_password": new})


def test_a_user_changes_their_own_password_and_only_the_new_one_signs_in(client, token_for, services):
    me = bearer(sign_in(client, "cm-BR001", "demo"))
    assert client.get("/api/v1/account", headers=me).get_json()["password_change_required"] is False
    changed = change_password(client, me, "demo", "Harvest-2027")
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["username"] == "cm-BR001" and changed.get_json()["password_changed_at"]
    assert sign_in(client, "cm-BR001", "demo").status_code == 401
    bearer(sign_in(client, "cm-BR001", "Harvest-2027"))
    with services.db.unit_of_work() as session:
        trail = [(a.actor, a.action, a.after) for a in session.query(AdminAudit).filter_by(target="cm-BR001")]
    assert ("cm-BR001", "password_changed", {"password": "changed by its user"}) in trail
    assert "Harvest" not in repr(trail)


def test_every_reason_a_new_password_is_refused_is_named(client):
    me = bearer(sign_in(client, "rev-BR001", "demo"))
    cases = {"short1": "at least 8 characters", "demo": "at least 8 characters",
             "my-rev-BR001-pass": "must not contain your username"}
    for new, reason in cases.items():
        refused = change_password(client, me, "demo", new)
        assert refused.status_code == 422 and refused.get_json()["fields"] == {"new_password": [reason]}, new
    missing = client.post("/api/v1/account/password", headers=me, json={})
    assert set(missing.get_json()["fields"]) == {"current_password", "new_password"}
    bearer(sign_in(client, "rev-BR001", "demo"))  # nothing changed


def test_a_wrong_current_password_counts_towards_the_lockout(client, token_for):
    me = bearer(sign_in(client, "rev-BR002", "demo"))
    for _ in range(4):
        wrong = change_password(client, me, "guess", "Harvest-2027")
        assert wrong.status_code == 422 and wrong.get_json()["fields"] == {"current_password": ["is not your current password"]}
    fifth = change_password(client, me, "guess", "Harvest-2027")
    assert fifth.status_code == 403 and fifth.get_json()["fields"] == {"current_password": [fifth.get_json()["message"]]}
    assert sign_in(client, "rev-BR002", "demo").get_json()["error"] == "account_locked"
    assert change(client, token_for("admin"), "rev-BR002", unlock=True).status_code == 200
    bearer(sign_in(client, "rev-BR002", "demo"))


def test_an_administrators_password_must_be_replaced_before_the_pages_can_be_used(client, token_for):
    assert create(client, token_for("admin-BR001")).get_json()["password_change_required"] is True
    response = client.post("/login", data={"username": "rev3-BR001", "password": "Spring-2027",
                                           "csrf_token": csrf_of(client)})
    assert response.status_code == 302
    # every page sends the user to their account first, remembering where they were going
    inbox = client.get("/inbox")
    assert inbox.status_code == 302 and "/account?next=/inbox" in inbox.headers["Location"]
    page = client.get("/account?next=/inbox").get_data(as_text=True)
    assert "您的密码由管理员设置" in page and 'id="password-due"' in page
    token = csrf_of(client, "/account")
    mismatch = client.post("/account/password", data={"current_password": "Spring-2027", "new_password": "Harvest-2027",
                                                      "repeat_password": "Harvest-2028", "csrf_token": token})
    assert mismatch.status_code == 422 and "再次输入新密码：与新密码不一致" in mismatch.get_data(as_text=True)
    wrong = client.post("/account/password", data={"current_password": "guess", "new_password": "short",
                                                   "repeat_password": "short", "csrf_token": token})
    assert wrong.status_code == 422 and "当前密码：不是您的当前密码" in wrong.get_data(as_text=True)
    done = client.post("/account/password", data={"current_password": "Spring-2027", "new_password": "Harvest-2027",
                                                  "repeat_password": "Harvest-2027", "next": "/inbox",
                                                  "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].endswith("/inbox")
    assert client.get("/inbox").status_code == 200
    # a reset by an administrator asks again; the user's own change does not
    assert change(client, token_for("admin-BR001"), "rev3-BR001", password="Reset-by-admin").get_json()[
        "password_change_required"] is True
    assert client.get("/inbox").status_code == 302


def test_a_reviewer_delegates_on_the_account_page_and_ends_it(client, token_for):
    assert create(client, token_for("admin-BR001")).status_code == 201  # a second reviewer: rev3-BR001
    sign_in_page(client, "rev-BR001")
    page = client.get("/account").get_data(as_text=True)
    assert 'id="new-delegation"' in page and "rev3-BR001" in page and "cm-BR001" not in page.split('id="delegate"')[1].split("</select>")[0]
    token = csrf_of(client, "/account")
    bad = client.post("/account/delegations", data={"delegate": "rev3-BR001", "starts_at": "2099-01-05T09:00",
                                                    "ends_at": "2099-01-01T09:00", "csrf_token": token})
    assert bad.status_code == 422 and "结束时间（北京时间）：必须晚于开始时间" in bad.get_data(as_text=True)
    made = client.post("/account/delegations", data={"delegate": "rev3-BR001", "starts_at": "2099-01-01T09:00",
                                                     "ends_at": "2099-01-05T18:00", "reason": "年假", "csrf_token": token})
    assert made.status_code == 302
    listed = client.get("/account").get_data(as_text=True)
    row = re.search(r'<tr data-delegation-id="(\d+)">(.*?)</tr>', listed, re.S)
    assert "rev3-BR001" in row.group(2) and "未开始" in row.group(2) and "2099-01-01 09:00" in row.group(2)
    ended = client.post(f"/account/delegations/{row.group(1)}/end", data={"csrf_token": token})
    assert ended.status_code == 302
    assert "已结束" in client.get("/account").get_data(as_text=True)


def test_staff_without_an_inbox_role_see_their_account_but_no_delegations(client):
    sign_in_page(client, "analyst")
    page = client.get("/account").get_data(as_text=True)
    assert 'id="change-password"' in page and 'id="delegations"' not in page
    assert client.post("/account/delegations", data={"csrf_token": csrf_of(client, "/account")}).status_code == 403


def test_the_account_api_needs_a_signed_in_user(client):
    assert client.get("/api/v1/account").status_code == 401
    assert client.post("/api/v1/account/password", json={}).status_code == 401


def test_a_changed_password_ends_the_tokens_and_page_sessions_issued_before_it(client, token_for):
    old_token = bearer(sign_in(client, "cm-BR002", "demo"))
    sign_in_page(client, "cm-BR002")
    assert client.get("/inbox").status_code == 200
    changed = change_password(client, old_token, "demo", "Harvest-2027")
    new_token = {"Authorization": f"Bearer {changed.get_json()['token']}"}
    stale = client.get("/api/v1/tasks", headers=old_token)
    assert stale.status_code == 401 and stale.get_json()["error"] == "invalid_token"
    assert client.get("/api/v1/tasks", headers=new_token).status_code == 200
    assert client.get("/inbox").headers["Location"].split("?")[0].endswith("/login")  # the page session too
    # a reset by an administrator ends the new token as well
    assert change(client, token_for("admin"), "cm-BR002",
                  password="Reset-by-admin").status_code == 200
    assert client.get("/api/v1/tasks", headers=new_token).status_code == 401


def test_until_an_administrators_password_is_replaced_the_api_does_nothing_else(client, token_for):
    assert create(client, token_for("admin-BR001")).status_code == 201
    first = bearer(sign_in(client, "rev3-BR001"))
    refused = client.get("/api/v1/tasks", headers=first)
    assert refused.status_code == 403 and refused.get_json()["error"] == "password_change_required"
    assert client.get("/api/v1/account", headers=first).get_json()["password_change_required"] is True
    changed = change_password(client, first, "Spring-2027", "Harvest-2027")
    assert changed.status_code == 200 and changed.get_json()["password_change_required"] is False
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {changed.get_json()['token']}"}).status_code == 200


def test_tokens_and_secrets_are_never_cached(client):
    answer = client.post("/api/v1/auth/token", json={"username": "cm-BR001", "password": "demo"})
    assert answer.headers["Cache-Control"] == "no-store"


def test_an_integrator_client_has_no_account_of_its_own(client):
    token = client.post("/api/v1/auth/token", json={"grant_type": "client_credentials", "client_id": "partner-BR001",
                                                    "client_secret": "demo-client-secret"}).get_json()["token"]
    answer = client.get("/api/v1/account", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
