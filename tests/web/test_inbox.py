"""The reviewer's inbox: own branch and roles, claimed by me or unclaimed, filters, pages, total."""
from __future__ import annotations

from tests.web.journeys import example, open_task, submit
from workflows.directory import hash_password
from workflows.models import User


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
