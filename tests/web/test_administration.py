"""Administration through the API: users, roles, lockout, the org tree, and the audit of it all."""
from __future__ import annotations

import hashlib
import json

from tests.web.journeys import decide, example, open_task, submit
from workflows.models import User

NEW_PASSWORD = "Spring-2027"


def sign_in(client, username, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def bearer(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def own_password(client, username) -> dict:
    """Sign in with the administrator's first password and replace it, as a new user must first."""
    changed = client.post("/api/v1/account/password", headers=bearer(sign_in(client, username)),
                          json={"current_password": NEW_PASSWORD, "new_password": "Harvest-2027"})
    assert changed.status_code == 200, changed.get_json()
    return {"Authorization": f"Bearer {changed.get_json()['token']}"}


def create(client, admin, **fields):
    body = {"username": "rev3-BR001", "full_name": "王五", "branch": "BR001", "outlet": "BR001-02",
            "roles": ["reviewer"], "password": NEW_PASSWORD, **fields}
    return client.post("/api/v1/admin/users", headers=admin, json=body)


def change(client, admin, username, **fields):
    return client.patch(f"/api/v1/admin/users/{username}", headers=admin, json=fields)


def test_an_administrator_creates_a_reviewer_who_signs_in_and_sees_the_branch_inbox(client, token_for):
    created = create(client, token_for("admin-BR001"))
    assert created.status_code == 201, created.get_json()
    assert created.get_json() == {"username": "rev3-BR001", "full_name": "王五", "branch": "BR001",
                                  "outlet": "BR001-02", "roles": ["reviewer"], "enabled": True, "locked": False,
                                  "failed_sign_ins": 0, "locked_at": None, "password_change_required": True}
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    decide(client, token_for("cm-BR001"), app_id)
    first = bearer(sign_in(client, "rev3-BR001"))
    # the administrator's password is replaced before the account does anything else
    assert client.get("/api/v1/tasks", headers=first).get_json()["error"] == "password_change_required"
    changed = client.post("/api/v1/account/password", headers=first,
                          json={"current_password": NEW_PASSWORD, "new_password": "Harvest-2027"})
    assert changed.status_code == 200, changed.get_json()
    reviewer = {"Authorization": f"Bearer {changed.get_json()['token']}"}
    task = open_task(client, reviewer, app_id)
    assert (task["role"], task["branch"]) == ("reviewer", "BR001")
    decide(client, reviewer, app_id)
    listed = client.get("/api/v1/admin/users", headers=token_for("admin-BR001")).get_json()["items"]
    assert {u["branch"] for u in listed} == {"BR001"} and "rev3-BR001" in {u["username"] for u in listed}


def test_a_disabled_users_token_stops_working_at_once(client, token_for):
    reviewer, admin = token_for("rev-BR001"), token_for("admin-BR001")
    assert client.get("/api/v1/tasks", headers=reviewer).status_code == 200
    assert change(client, admin, "rev-BR001", enabled=False).get_json()["enabled"] is False
    refused = client.get("/api/v1/tasks", headers=reviewer)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_token"
    again = sign_in(client, "rev-BR001", "demo")
    assert (again.status_code, again.get_json()["error"]) == (401, "account_disabled")
    assert change(client, admin, "rev-BR001", enabled=True).status_code == 200
    assert client.get("/api/v1/tasks", headers=reviewer).status_code == 200


def test_five_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(client, token_for):
    for _ in range(4):
        wrong = sign_in(client, "rev-BR002", "guess")
        assert (wrong.status_code, wrong.get_json()["error"]) == (401, "invalid_credentials")
    fifth = sign_in(client, "rev-BR002", "guess")
    assert (fifth.status_code, fifth.get_json()["error"]) == (401, "account_locked")
    assert "administrator" in fifth.get_json()["message"]
    right = sign_in(client, "rev-BR002", "demo")
    assert (right.status_code, right.get_json()["error"]) == (401, "account_locked")
    admin = token_for("admin")
    user = client.get("/api/v1/admin/users?branch=BR002", headers=admin).get_json()["items"]
    assert {u["username"]: u["locked"] for u in user}["rev-BR002"] is True
    assert change(client, admin, "rev-BR002", unlock=True).get_json()["locked"] is False
    bearer(sign_in(client, "rev-BR002", "demo"))
    trail = client.get("/api/v1/admin/audit?target=rev-BR002", headers=admin).get_json()["items"]
    assert [(a["action"], a["actor"]) for a in trail] == [("user_changed", "admin"), ("user_locked", "system"),
                                                          ("user_created", "seed")]
    assert (trail[0]["before"], trail[0]["after"]) == ({"locked": True}, {"locked": False})


def test_a_success_between_failures_starts_the_count_again(client):
    for _ in range(4):
        assert sign_in(client, "cm-BR002", "guess").status_code == 401
    bearer(sign_in(client, "cm-BR002", "demo"))
    for _ in range(4):
        assert sign_in(client, "cm-BR002", "guess").get_json()["error"] == "invalid_credentials"
    bearer(sign_in(client, "cm-BR002", "demo"))


def test_a_branch_administrator_stays_in_the_branch_and_grants_no_head_office_role(client, token_for):
    branch_admin = token_for("admin-BR001")
    elsewhere = create(client, branch_admin, branch="BR002", outlet=None)
    assert (elsewhere.status_code, list(elsewhere.get_json()["fields"])) == (403, ["branch"])
    hq_role = create(client, branch_admin, roles=["hq_approver"])
    assert (hq_role.status_code, list(hq_role.get_json()["fields"])) == (403, ["roles"])
    assert change(client, branch_admin, "rev-BR001", roles=["reviewer", "hq_risk"]).status_code == 403
    assert change(client, branch_admin, "rev-BR002", full_name="x").status_code == 404
    assert change(client, branch_admin, "admin-BR001", roles=["admin", "approver"]).status_code == 403
    branch = client.post("/api/v1/admin/org-units", headers=branch_admin,
                         json={"kind": "branch", "code": "BR009", "name": "x", "tier1_capital_net": "1"})
    assert branch.status_code == 403
    assert client.get("/api/v1/admin/users", headers=token_for("rev-BR001")).status_code == 403
    outlet = client.post("/api/v1/admin/org-units", headers=branch_admin,
                         json={"kind": "outlet", "code": "BR001-03", "name": "凌河分理处", "parent": "BR001"})
    assert outlet.status_code == 201, outlet.get_json()
    tree = client.get("/api/v1/admin/org-units", headers=branch_admin).get_json()
    assert [b["code"] for b in tree["children"]] == ["BR001"]
    assert [o["code"] for o in tree["children"][0]["children"]] == ["BR001-01", "BR001-02", "BR001-03"]


def test_every_bad_field_of_a_new_user_is_named_at_once(client, token_for):
    response = create(client, token_for("admin"), username="rev3-BR001", branch="BR001", outlet="BR002-01",
                      roles=["admin", "reviewer"], password="short", full_name=" ")
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"outlet", "roles", "password", "full_name"}
    hq = create(client, token_for("admin"), branch="HQ", outlet=None, roles=["reviewer"])
    assert hq.get_json()["fields"]["roles"] == ["reviewer: a branch's role; head office staff hold integrator, "
                                                "hq_approver, hq_risk, analyst"]
    again = create(client, token_for("admin"), username="rev-BR001")
    assert (again.status_code, list(again.get_json()["fields"])) == (409, ["username"])


def test_every_change_is_audited_with_before_and_after_and_no_secret(client, token_for):
    admin = token_for("admin")
    assert create(client, admin).status_code == 201
    assert change(client, admin, "rev3-BR001", roles=["reviewer", "approver"], outlet="BR001-01").status_code == 200
    assert change(client, admin, "rev3-BR001", password="Another-pass-1").status_code == 200
    unit = client.patch("/api/v1/admin/org-units/BR001-02", headers=admin, json={"name": "景芝营业部"})
    assert unit.get_json()["name"] == "景芝营业部"
    trail = client.get("/api/v1/admin/audit", headers=admin).get_json()["items"]
    mine = [(a["actor"], a["action"], a["target"], a["before"], a["after"]) for a in trail if a["actor"] == "admin"]
    assert mine == [
        ("admin", "outlet_changed", "BR001-02", {"name": "景芝分理处"}, {"name": "景芝营业部"}),
        ("admin", "user_changed", "rev3-BR001", {}, {"password": "reset"}),
        ("admin", "user_changed", "rev3-BR001", {"outlet": "BR001-02", "roles": ["reviewer"]},
         {"outlet": "BR001-01", "roles": ["approver", "reviewer"]}),
        ("admin", "user_created", "rev3-BR001", {},
         {"full_name": "王五", "branch": "BR001", "outlet": "BR001-02", "roles": ["reviewer"], "enabled": True,
          "locked": False})]
    text = json.dumps(trail)
    assert NEW_PASSWORD not in text and "Another-pass-1" not in text and "scrypt$" not in text
    assert client.get("/api/v1/admin/audit", headers=token_for("admin-BR001")).get_json()["items"][0]["target"] == "BR001-02"
    bearer(sign_in(client, "rev3-BR001", "Another-pass-1"))


def test_a_password_hash_of_the_old_scheme_still_signs_in_and_is_upgraded(client, services):
    salt = bytes(16)
    old = f"pbkdf2_sha256$120000${salt.hex()}${hashlib.pbkdf2_hmac('sha256', b'demo', salt, 120000).hex()}"
    with services.db.unit_of_work() as session:
        session.get(User, "cm-BR001").password_hash = old
    bearer(sign_in(client, "cm-BR001", "demo"))
    with services.db.unit_of_work() as session:
        assert session.get(User, "cm-BR001").password_hash.startswith("scrypt$16384$8$1$")
    bearer(sign_in(client, "cm-BR001", "demo"))


def test_a_branch_head_office_adds_takes_applications_on_hqs_processes(client, token_for):
    admin = token_for("admin")
    branch = client.post("/api/v1/admin/org-units", headers=admin, json={
        "kind": "branch", "code": "BR003", "name": "昌乐支行", "region": "Weifang", "tier1_capital_net": "500000000"})
    assert branch.status_code == 201, branch.get_json()
    assert client.post("/api/v1/admin/org-units", headers=admin, json={
        "kind": "outlet", "code": "BR003-01", "name": "昌乐城区营业部", "parent": "BR003"}).status_code == 201
    assert create(client, admin, username="cm-BR003", branch="BR003", outlet="BR003-01",
                  roles=["customer_manager"]).status_code == 201
    body = example("application-review.json", branch="BR003")
    app_id = submit(client, token_for("api-demo"), body).get_json()["id"]
    task = open_task(client, own_password(client, "cm-BR003"), app_id)
    assert (task["branch"], task["role"]) == ("BR003", "customer_manager")


def test_the_admin_page_lists_creates_and_edits_users_within_the_administrators_branch(client):
    from tests.web.test_pages import csrf_of, sign_in as sign_in_page

    sign_in_page(client, "admin-BR001")
    assert client.get("/").headers["Location"].endswith("/admin")
    listing = client.get("/admin").get_data(as_text=True)
    assert "rev-BR001" in listing and "rev-BR002" not in listing and "用户" in listing and "景芝分理处" in listing
    token = csrf_of(client, "/admin")
    bad = client.post("/admin/users", data={"username": "rev3-BR001", "full_name": "王五", "branch": "BR001",
                                            "roles": ["reviewer", "admin"], "password": "short", "csrf_token": token})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "角色：" in text and "密码：" in text and 'value="rev3-BR001"' in text
    made = client.post("/admin/users", data={"username": "rev3-BR001", "full_name": "王五", "branch": "BR001",
                                             "outlet": "BR001-01", "roles": ["reviewer"], "password": NEW_PASSWORD,
                                             "csrf_token": token})
    assert made.headers["Location"].endswith("/admin/users/rev3-BR001")
    disabled = client.post("/admin/users/rev3-BR001", data={"full_name": "王五", "outlet": "BR001-02",
                                                            "roles_shown": "1", "roles": ["reviewer", "approver"],
                                                            "csrf_token": token})
    assert disabled.status_code == 302
    page = client.get("/admin/users/rev3-BR001").get_data(as_text=True)
    assert 'id="status-disabled"' in page and "user_changed" not in page and "用户变更" in page
    assert client.get("/admin/users/rev-BR002").status_code == 404
    assert client.post("/admin/users", data={"username": "x1", "full_name": "x", "branch": "BR002",
                                             "roles": ["reviewer"], "password": NEW_PASSWORD,
                                             "csrf_token": token}).status_code == 403
    sign_in_page(client, "rev-BR001")
    assert client.get("/admin").status_code == 403
