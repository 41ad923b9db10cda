"""Delegation and reassignment: a reviewer on leave, the colleague who covers, the approver who
hands a task on. Time is the process layer's clock, moved by the test."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.web.journeys import decide, example, open_task, submit

MONDAY_9AM_CHINA = dt.datetime(2027, 3, 1, 1, 0)  # naive UTC, as stored: 09:00 in Asia/Shanghai


@pytest.fixture
def clock(services, monkeypatch):
    """The process layer's clock (every task, audit row and delegation reads it), set by the test."""
    moment = {"now": MONDAY_9AM_CHINA}
    monkeypatch.setattr(services.origination.layer, "clock", lambda: moment["now"])
    return moment


@pytest.fixture
def colleague(client, token_for):
    """A second credit reviewer in BR001, made by the branch's administrator."""
    response = client.post("/api/v1/admin/users", headers=token_for("admin-BR001"), json={
        "username": "rev2-BR001", "full_name": "李四", "branch": "BR001", "roles": ["reviewer"],
        "password": "demo-demo"})
    assert response.status_code == 201, response.get_json()
    return signed_in_anew(client, "rev2-BR001")


def signed_in_anew(client, username: str) -> dict:
    """A new user's headers: signed in with the administrator's first password ("demo-demo"), which
    is replaced before anything else (workflows/account.py)."""
    signed = client.post("/api/v1/auth/token", json={"username": username, "password": "demo-demo"})
    changed = client.post("/api/v1/account/password", headers={"Authorization": f"Bearer {signed.get_json()['token']}"},
                          json={"current_password": "demo-demo", "new_password": "Harvest-2027"})
    assert changed.status_code == 200, changed.get_json()
    return {"Authorization": f"Bearer {changed.get_json()['token']}"}


def claimed_review(client, token_for):
    """An application at credit review, claimed by rev-BR001 (信贷审查员) before the leave."""
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    decide(client, token_for("cm-BR001"), app_id)
    task = open_task(client, token_for("rev-BR001"), app_id)
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=token_for("rev-BR001")).status_code == 200
    return app_id, task


def delegate(client, headers, **fields):
    body = {"delegate": "rev2-BR001", "starts_at": "2027-03-01T08:00:00", "ends_at": "2027-03-05T18:00:00",
            "reason": "年假", **fields}
    return client.post("/api/v1/delegations", headers=headers, json=body)


def test_a_delegate_sees_and_completes_the_delegators_tasks_and_the_history_names_both(
        client, token_for, clock, colleague):
    app_id, task = claimed_review(client, token_for)
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 0
    made = delegate(client, token_for("rev-BR001"))
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["status"], made.get_json()["starts_at"], made.get_json()["roles"]) == \
        ("active", "2027-03-01T08:00:00+08:00", ["reviewer"])
    inbox = client.get("/api/v1/tasks", headers=colleague).get_json()["items"]
    assert [(t["id"], t["assignee"], t["delegated_by"]) for t in inbox] == [(task["id"], "rev-BR001", "rev-BR001")]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=colleague,
                       json={"decision": "approve", "comment": "代审：资料齐全"})
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["completed_by"], done.get_json()["on_behalf_of"]) == ("rev2-BR001", "rev-BR001")
    view = client.get(f"/api/v1/applications/{app_id}", headers=token_for("appr-BR001")).get_json()
    completed = [e for e in view["history"] if e["event"] == "task_completed"][-1]
    assert (completed["actor_name"], completed["on_behalf_of_name"]) == ("李四", "信贷审查员")
    assert completed["detail"]["on_behalf_of"] == "rev-BR001"
    approval = open_task(client, token_for("appr-BR001"), app_id)
    trail = approval["context"]["decision_trail"][-1]
    assert (trail["by"], trail["on_behalf_of"]) == ("rev2-BR001", "rev-BR001")


def test_after_the_period_the_delegate_no_longer_sees_nor_completes_them(client, token_for, clock, colleague):
    app_id, task = claimed_review(client, token_for)
    assert delegate(client, token_for("rev-BR001"), starts_at="2027-03-02T00:00:00").get_json()["status"] == "scheduled"
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 0  # not begun yet
    clock["now"] = dt.datetime(2027, 3, 2, 1, 0)
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 1
    clock["now"] = dt.datetime(2027, 3, 5, 10, 0)  # 18:00 China time on the last day: over
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 0
    late = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=colleague,
                       json={"decision": "approve", "comment": "too late"})
    assert late.status_code == 409
    assert client.get("/api/v1/tasks?mine=true", headers=token_for("rev-BR001")).get_json()["total"] == 1


def test_a_delegation_ended_early_hands_the_tasks_back(client, token_for, clock, colleague):
    claimed_review(client, token_for)
    made = delegate(client, token_for("rev-BR001")).get_json()
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 1
    clock["now"] = MONDAY_9AM_CHINA + dt.timedelta(hours=3)
    ended = client.post(f"/api/v1/delegations/{made['id']}/end", headers=token_for("rev-BR001"))
    assert (ended.status_code, ended.get_json()["status"], ended.get_json()["ended_by"]) == (200, "ended", "rev-BR001")
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 0
    assert client.post(f"/api/v1/delegations/{made['id']}/end", headers=token_for("rev-BR001")).status_code == 409
    listed = client.get("/api/v1/delegations", headers=colleague).get_json()["items"]
    assert [(d["delegator"], d["status"]) for d in listed] == [("rev-BR001", "ended")]
    trail = client.get(f"/api/v1/admin/audit?target={made['id']}", headers=token_for("admin-BR001")).get_json()
    assert [a["action"] for a in trail["items"]] == ["delegation_ended", "delegation_created"]


def test_a_delegation_goes_to_a_colleague_of_the_same_branch_and_role_for_a_real_period(
        client, token_for, clock, colleague):
    reviewer = token_for("rev-BR001")
    other_branch = delegate(client, reviewer, delegate="rev-BR002")
    assert (other_branch.status_code, list(other_branch.get_json()["fields"])) == (422, ["delegate"])
    other_role = delegate(client, reviewer, delegate="cm-BR001")
    assert (other_role.status_code, list(other_role.get_json()["fields"])) == (422, ["roles"])
    backwards = delegate(client, reviewer, ends_at="2027-02-28T18:00:00")
    assert (backwards.status_code, list(backwards.get_json()["fields"])) == (422, ["ends_at"])
    missing = client.post("/api/v1/delegations", headers=reviewer, json={"delegate": "rev2-BR001"})
    assert set(missing.get_json()["fields"]) == {"starts_at", "ends_at"}
    assert delegate(client, reviewer).status_code == 201
    assert delegate(client, reviewer, starts_at="2027-03-04T09:00:00").status_code == 409
    arranged = delegate(client, colleague, delegator="rev-BR001", delegate="rev2-BR001")
    assert arranged.status_code == 403
    away = delegate(client, colleague, delegate="rev-BR001")
    assert (away.status_code, list(away.get_json()["fields"])) == (422, ["delegate"])


def test_four_eyes_still_holds_for_a_delegate(client, token_for, clock, services):
    admin = token_for("admin-BR001")
    for username, name, roles in (("dual-BR001", "赵六", ["reviewer", "approver"]), ("appr2-BR001", "钱七", ["approver"])):
        assert client.post("/api/v1/admin/users", headers=admin, json={
            "username": username, "full_name": name, "branch": "BR001", "roles": roles,
            "password": "demo-demo"}).status_code == 201
    dual, approver2 = signed_in_anew(client, "dual-BR001"), signed_in_anew(client, "appr2-BR001")
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    decide(client, token_for("cm-BR001"), app_id)
    decide(client, dual, app_id)  # the credit review
    approval = open_task(client, approver2, app_id)
    assert client.post(f"/api/v1/tasks/{approval['id']}/claim", headers=approver2).status_code == 200
    assert delegate(client, approver2, delegate="dual-BR001").status_code == 201
    refused = client.post(f"/api/v1/tasks/{approval['id']}/complete", headers=dual,
                          json={"decision": "approve", "comment": "on behalf, but I reviewed it"})
    assert refused.status_code == 403 and "two levels" in refused.get_json()["message"]


def test_an_approver_reassigns_an_open_task_of_the_branch(client, token_for, clock, colleague):
    app_id, task = claimed_review(client, token_for)
    by_reviewer = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=token_for("rev-BR001"),
                              json={"assignee": "rev2-BR001"})
    assert by_reviewer.status_code == 403
    elsewhere = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=token_for("appr-BR001"),
                            json={"assignee": "rev-BR002"})
    assert (elsewhere.status_code, list(elsewhere.get_json()["fields"])) == (422, ["assignee"])
    other_branch = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=token_for("appr-BR002"),
                               json={"assignee": "rev-BR002"})
    assert other_branch.status_code == 404
    moved = client.post(f"/api/v1/tasks/{task['id']}/reassign", headers=token_for("appr-BR001"),
                        json={"assignee": "rev2-BR001"})
    assert moved.get_json()["assignee"] == "rev2-BR001"
    assert open_task(client, colleague, app_id)["id"] == task["id"]
    history = client.get(f"/api/v1/applications/{app_id}", headers=token_for("appr-BR001")).get_json()["history"]
    assert history[-1]["event"] == "task_reassigned" and history[-1]["detail"]["to"] == "rev2-BR001"
