"""The reviewer's inbox: own branch and roles, claimed by me or unclaimed, filters, pages, total."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.web.journeys import decide, example, open_task, submit
from workflows import task_counts
from workflows.delegation import delegated_tasks, running_for
from workflows.directory import hash_password
from workflows.models import DUE_NEVER, DueTimer, HumanTask, ProcessInstance, User
from workflows.task_counts import CountKey
from workflows.timer_jobs import fire_due_timers
from workflows.worklist import _tab_query, worklist


def test_the_inbox_pages_and_counts_and_filters_by_amount(client, token_for):
    api, cm = token_for("api-demo"), token_for("cm-BR001")
    for amount in ("100000.00", "200000.00", "300000.00"):
        assert submit(client, api, example("application-review.json", amount=amount)).status_code == 201
    first = client.get("/api/v1/tasks?per_page=2", headers=cm).get_json()
    second = client.get("/api/v1/tasks?per_page=2&page=2", headers=cm).get_json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert {t["id"] for t in first["items"]}.isdisjoint({t["id"] for t in second["items"]})
    big = client.get("/api/v1/tasks?min_amount=150000", headers=cm).get_json()
    assert sorted(t["amount"] for t in big["items"]) == ["200000.00", "300000.00"]
    assert all(t["application_id"] and t["role"] == "customer_manager" for t in first["items"])


def test_bad_inbox_parameters_are_named(client, token_for):
    response = client.get("/api/v1/tasks?page=zero&status=lost", headers=token_for("cm-BR001"))
    assert response.status_code == 422
    assert "status" in response.get_json()["fields"]
    response = client.get("/api/v1/tasks?page=zero", headers=token_for("cm-BR001"))
    assert "page" in response.get_json()["fields"]


def test_a_claimed_task_leaves_colleagues_inboxes_until_it_is_released(client, token_for, services):
    with services.db.unit_of_work() as session:
        session.add(User(username="cm2-BR001", full_name="Second CM", branch_code="BR001",
                         roles="customer_manager", password_hash=hash_password("demo")))
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    mine, colleague = token_for("cm-BR001"), token_for("cm2-BR001")
    task = open_task(client, mine, app_id)
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=mine).get_json()["assignee"] == "cm-BR001"
    assert client.get("/api/v1/tasks", headers=colleague).get_json()["total"] == 0
    assert client.get("/api/v1/tasks?mine=true", headers=mine).get_json()["total"] == 1
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=colleague).status_code == 409
    assert client.post(f"/api/v1/tasks/{task['id']}/unclaim", headers=colleague).status_code == 409
    assert client.post(f"/api/v1/tasks/{task['id']}/unclaim", headers=mine).get_json()["assignee"] is None
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=colleague).status_code == 200


# -- at scale: maintained counts, keyset pages -----------------------------------------------------

def counts_hold(services) -> dict:
    """The maintained counts are exactly a COUNT(*) of the rows; returns them."""
    with services.db.sessions() as session:
        maintained = task_counts.maintained(session)
        assert maintained == task_counts.from_rows(session)
        return maintained


def tabs_hold(services, username: str) -> dict:
    """A user's tab counts (from the maintained counts) equal a COUNT(*) of each tab's query."""
    with services.db.sessions() as session:
        user = session.get(User, username)
        listing = worklist(session, user, at=services.origination.layer.now())
        delegated = delegated_tasks(running_for(session, user, services.origination.layer.now()))
        counted = {tab: session.scalar(sa.select(sa.func.count()).select_from(
            _tab_query(user, tab, delegated).subquery())) for tab in listing["tabs"]}
    assert listing["tabs"] == counted
    return counted


def add_user(services, username, roles, branch="BR001"):
    with services.db.unit_of_work() as session:
        session.add(User(username=username, full_name=username, branch_code=branch, roles=roles,
                         password_hash=hash_password("demo")))


def test_the_maintained_counts_equal_a_count_of_the_rows_through_every_kind_of_change(client, token_for, services):
    add_user(services, "cm2-BR001", "customer_manager")
    api, cm, cm2, approver = token_for("api-demo"), token_for("cm-BR001"), token_for("cm2-BR001"), token_for("appr-BR001")
    assert counts_hold(services) == {}
    apps = [submit(client, api, example("application-review.json", amount=f"{n}00000.00")).get_json()["id"]
            for n in (1, 2, 3)]
    key = CountKey("BR001", "customer_manager", "open", "", "loan_origination", "AGRI_BUSINESS")
    assert counts_hold(services) == {key: 3}                                           # created
    first, second = open_task(client, cm, apps[0]), open_task(client, cm, apps[1])
    assert client.post(f"/api/v1/tasks/{first['id']}/claim", headers=cm).status_code == 200
    assert client.post(f"/api/v1/tasks/{first['id']}/claim", headers=cm2).status_code == 409  # rolled back
    assert counts_hold(services)[key] == 2                                             # claimed
    assert client.post(f"/api/v1/tasks/{second['id']}/claim", headers=cm2).status_code == 200
    assert client.post(f"/api/v1/tasks/{second['id']}/unclaim", headers=cm2).status_code == 200
    assert counts_hold(services)[key] == 2                                             # released
    moved = client.post(f"/api/v1/tasks/{second['id']}/reassign", headers=approver, json={"assignee": "cm2-BR001"})
    assert moved.status_code == 200, moved.get_json()
    reassigned = CountKey("BR001", "customer_manager", "open", "cm2-BR001", "loan_origination", "AGRI_BUSINESS")
    assert counts_hold(services)[reassigned] == 1                                      # reassigned
    tabs_hold(services, "cm-BR001"), tabs_hold(services, "cm2-BR001"), tabs_hold(services, "appr-BR001")
    decide(client, cm, apps[0])                                                        # completed, next level opened
    counted = counts_hold(services)
    assert counted[CountKey("BR001", "customer_manager", "completed", "cm-BR001", "loan_origination", "AGRI_BUSINESS")] == 1
    assert counted[CountKey("BR001", "reviewer", "open", "", "loan_origination", "AGRI_BUSINESS")] == 1
    # The review's escalation cancels the reviewer's task and opens one for the approver.
    with services.db.sessions() as session:
        due = session.scalar(sa.select(DueTimer.due_at).join(ProcessInstance, ProcessInstance.id == DueTimer.instance_id)
                             .where(ProcessInstance.application_id == apps[0],
                                    DueTimer.element_id == "first_review_escalation"))
    fire_due_timers(services.db, services.origination, at=due.replace(tzinfo=dt.timezone.utc))
    counted = counts_hold(services)
    assert counted[CountKey("BR001", "reviewer", "cancelled", "", "loan_origination", "AGRI_BUSINESS")] == 1
    assert counted[CountKey("BR001", "approver", "open", "", "loan_origination", "AGRI_BUSINESS")] == 1
    for username in ("cm-BR001", "cm2-BR001", "rev-BR001", "appr-BR001"):
        tabs_hold(services, username)
    api_total = client.get("/api/v1/tasks?status=cancelled", headers=token_for("rev-BR001")).get_json()["total"]
    assert api_total == 1


def test_a_due_time_changed_on_a_row_moves_its_sort_key(client, token_for, services):
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    task = open_task(client, token_for("cm-BR001"), app_id)
    with services.db.unit_of_work() as session:
        row = session.get(HumanTask, task["id"])
        assert row.due_sort == (row.due_at or DUE_NEVER)
        row.due_at = dt.datetime(2030, 1, 2, 3, 4)
    with services.db.sessions() as session:
        assert session.get(HumanTask, task["id"]).due_sort == dt.datetime(2030, 1, 2, 3, 4)


def test_pages_by_cursor_cover_the_inbox_once_in_the_order_of_pages_by_number(client, token_for, services):
    # A user with two roles reads two (branch, role) groups, merged in due order.
    add_user(services, "both-BR001", "customer_manager,reviewer")
    api, cm, both = token_for("api-demo"), token_for("cm-BR001"), token_for("both-BR001")
    apps = [submit(client, api, example("application-review.json", amount=f"{n}0000.00")).get_json()["id"]
            for n in range(11, 16)]
    for app_id in apps[:2]:
        decide(client, cm, app_id)  # their next task is the reviewer's, due by its SLA timer
    by_number = client.get("/api/v1/tasks?per_page=50", headers=both).get_json()
    assert by_number["total"] == 5 and by_number["next"] is None
    assert [t["role"] for t in by_number["items"]].count("reviewer") == 2
    dues = [t["due_at"] or "~never" for t in by_number["items"]]
    assert dues == sorted(dues)
    seen, after, pages = [], None, 0
    while True:
        answer = client.get("/api/v1/tasks?per_page=2" + (f"&after={after}" if after else ""), headers=both).get_json()
        seen += [t["id"] for t in answer["items"]]
        assert answer["total"] == 5
        pages += 1
        after = answer["next"]
        if after is None:
            break
    assert (seen, pages) == ([t["id"] for t in by_number["items"]], 3)
    # A page by number carries the cursor of the page after it.
    second = client.get("/api/v1/tasks?per_page=2&page=2", headers=both).get_json()
    after_second = client.get(f"/api/v1/tasks?per_page=2&after={second['next']}", headers=both).get_json()
    assert [t["id"] for t in after_second["items"]] == seen[4:]


def test_a_bad_cursor_or_a_cursor_with_a_page_is_named(client, token_for):
    cm = token_for("cm-BR001")
    bad = client.get("/api/v1/tasks?after=not-a-cursor", headers=cm)
    assert bad.status_code == 422 and "after" in bad.get_json()["fields"]
    both = client.get("/api/v1/tasks?after=x&page=2", headers=cm)
    assert both.status_code == 422 and set(both.get_json()["fields"]) >= {"after", "page"}


def test_an_overlong_or_deeply_nested_cursor_is_a_422_naming_after(client, token_for):
    import base64

    nested = base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode().rstrip("=")
    for cursor in ("x" * 600, nested[:500], nested):
        answer = client.get(f"/api/v1/tasks?after={cursor}", headers=token_for("rev-BR001"))
        assert answer.status_code == 422 and "after" in answer.get_json()["fields"], cursor[:20]
