"""Bad input gets a clear error naming the field, and nothing is written."""
from __future__ import annotations

import threading

import pytest

import sqlalchemy as sa

from tests.web.journeys import decide, example, open_task, submit
from workflows.directory import hash_password
from workflows.models import Application, User


def count_applications(services) -> int:
    with services.db.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Application))


def test_no_token_is_401(client):
    response = client.get("/api/v1/tasks")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthenticated"


def test_a_forged_token_is_401(client):
    response = client.get("/api/v1/tasks", headers={"Authorization": "Bearer not.a.token"})
    assert response.status_code == 401


def test_wrong_password_is_401(client):
    response = client.post("/api/v1/auth/token", json={"username": "api-demo", "password": "nope"})
    assert response.status_code == 401


def test_malformed_json_is_400_and_nothing_is_written(client, token_for, services):
    response = client.post("/api/v1/applications", data='{"branch": "BR001",',
                           headers={**token_for("api-demo"), "Idempotency-Key": "bad-json",
                                    "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json"
    assert count_applications(services) == 0


def test_missing_and_invalid_fields_are_named_each(client, token_for, services):
    body = example("application-auto.json")
    del body["purpose"]
    body["amount"] = "-5"
    body["applicant"]["phone"] = "12"
    response = submit(client, token_for("api-demo"), body)
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert set(fields) == {"purpose", "amount", "applicant"}
    assert "phone" in fields["applicant"]
    assert count_applications(services) == 0


def test_an_absurd_amount_is_refused(client, token_for):
    response = submit(client, token_for("api-demo"), example("application-auto.json", amount="1e12"))
    assert response.status_code == 422
    assert "amount" in response.get_json()["fields"]


def test_unknown_branch_and_product_are_422(client, token_for, services):
    api = token_for("api-demo")
    branch = submit(client, api, example("application-auto.json", branch="BR999"))
    product = submit(client, api, example("application-auto.json", product="GOLD_BARS"))
    assert branch.status_code == 422 and "branch" in branch.get_json()["fields"]
    assert product.status_code == 422 and "product" in product.get_json()["fields"]
    assert count_applications(services) == 0


def test_an_amount_outside_the_products_range_is_422(client, token_for):
    response = submit(client, token_for("api-demo"), example("application-auto.json", amount="500000"))
    assert response.status_code == 422
    assert "amount" in response.get_json()["fields"]


def test_the_same_idempotency_key_returns_the_first_answer_and_creates_nothing_more(client, token_for, services):
    api = token_for("api-demo")
    first = submit(client, api, example("application-auto.json"), key="retry-me")
    second = submit(client, api, example("application-auto.json"), key="retry-me")
    assert first.status_code == second.status_code == 201
    assert first.get_json()["id"] == second.get_json()["id"]
    assert count_applications(services) == 1
    reused = submit(client, api, example("application-auto.json", amount="31000.00"), key="retry-me")
    assert reused.status_code == 422
    assert reused.get_json()["error"] == "idempotency_key_reused"


def test_a_missing_idempotency_key_is_400(client, token_for):
    response = client.post("/api/v1/applications", json=example("application-auto.json"),
                           headers=token_for("api-demo"))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["fields"]


def test_another_branchs_application_and_task_are_not_found(client, token_for):
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    task = open_task(client, token_for("cm-BR001"), app_id)
    assert client.get(f"/api/v1/applications/{app_id}", headers=token_for("cm-BR002")).status_code == 404
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=token_for("cm-BR002"),
                           json={"decision": "approve", "comment": "not mine"})
    assert response.status_code == 404
    assert client.get("/api/v1/tasks", headers=token_for("cm-BR002")).get_json()["total"] == 0


def test_an_integrator_token_cannot_work_review_tasks(client, token_for):
    api = token_for("api-demo")
    app_id = submit(client, api, example("application-review.json")).get_json()["id"]
    task = open_task(client, token_for("cm-BR001"), app_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=api,
                           json={"decision": "approve", "comment": "self-approval"})
    assert response.status_code == 403


def test_a_reviewer_cannot_work_the_customer_managers_task(client, token_for):
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    task = open_task(client, token_for("cm-BR001"), app_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=token_for("rev-BR001"),
                           json={"decision": "approve", "comment": "wrong lane"})
    assert response.status_code == 404


def test_completing_a_task_twice_is_409(client, token_for):
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    cm = token_for("cm-BR001")
    task = decide(client, cm, app_id)
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm,
                        json={"decision": "approve", "comment": "again"})
    assert again.status_code == 409


def test_an_invalid_review_decision_names_the_field(client, token_for):
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    cm = token_for("cm-BR001")
    task = open_task(client, cm, app_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm,
                           json={"decision": "maybe", "comment": ""})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"decision", "comment"}
    assert open_task(client, cm, app_id)["status"] == "open"


def test_a_task_claimed_by_one_reviewer_is_not_completed_by_another(client, token_for, services):
    with services.db.unit_of_work() as session:
        session.add(User(username="cm2-BR001", full_name="Second CM", branch_code="BR001",
                         roles="customer_manager", password_hash=hash_password("demo")))
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    task = open_task(client, token_for("cm-BR001"), app_id)
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=token_for("cm-BR001")).status_code == 200
    other = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=token_for("cm2-BR001"),
                        json={"decision": "approve", "comment": "sneaky"})
    assert other.status_code == 409
    assert client.get("/api/v1/tasks", headers=token_for("cm2-BR001")).get_json()["total"] == 0


def test_one_person_cannot_approve_two_levels_of_the_same_application(client, token_for, services):
    with services.db.unit_of_work() as session:
        session.add(User(username="dual-BR001", full_name="Reviewer and approver", branch_code="BR001",
                         roles="reviewer,approver", password_hash=hash_password("demo")))
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    dual = token_for("dual-BR001")
    decide(client, token_for("cm-BR001"), app_id)
    decide(client, dual, app_id)
    task = open_task(client, dual, app_id)
    assert task["role"] == "approver"
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=dual,
                           json={"decision": "approve", "comment": "approving my own review"})
    assert response.status_code == 403
    assert "two levels" in response.get_json()["message"]
    decide(client, token_for("appr-BR001"), app_id)


def test_two_reviewers_racing_on_one_task_get_one_success_and_one_409(app, token_for, services):
    with services.db.unit_of_work() as session:
        session.add(User(username="cm2-BR001", full_name="Second CM", branch_code="BR001",
                         roles="customer_manager", password_hash=hash_password("demo")))
    client = app.test_client()
    app_id = submit(client, token_for("api-demo"), example("application-review.json")).get_json()["id"]
    task = open_task(client, token_for("cm-BR001"), app_id)
    headers = [token_for("cm-BR001"), token_for("cm2-BR001")]
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def complete(h):
        c = app.test_client()
        barrier.wait()
        statuses.append(c.post(f"/api/v1/tasks/{task['id']}/complete", headers=h,
                               json={"decision": "approve", "comment": "mine"}).status_code)

    threads = [threading.Thread(target=complete, args=(h,)) for h in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    view = client.get(f"/api/v1/applications/{app_id}", headers=token_for("api-demo")).get_json()
    assert [e["event"] for e in view["history"]].count("task_completed") == 1


def test_two_concurrent_retries_with_one_key_create_one_application(app, token_for, services):
    headers = {**token_for("api-demo"), "Idempotency-Key": "same-key-twice"}
    body = example("application-auto.json")
    answers: list = []
    barrier = threading.Barrier(2)

    def send():
        c = app.test_client()
        barrier.wait()
        r = c.post("/api/v1/applications", json=body, headers=headers)
        answers.append((r.status_code, r.get_json()["id"]))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert count_applications(services) == 1


def test_a_signature_for_another_contract_is_refused_and_the_application_keeps_waiting(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-auto.json")).get_json()
    body = example("signature.json")
    body.update(contract_number=application["contract"]["number"], content_hash="0" * 64)
    response = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api, json=body)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"content_hash"}
    after = client.get(f"/api/v1/applications/{application['id']}", headers=api).get_json()
    assert after["status"] == "awaiting_signature"


@pytest.mark.parametrize("change, field", [
    ({"amount": "30000.123"}, "amount"),
    ({"amount": "3e4"}, "amount"),
    ({"amount": "１２３"}, "amount"),
])
def test_amounts_must_be_plain_digits_to_the_fen(client, token_for, change, field):
    response = submit(client, token_for("api-demo"), example("application-auto.json", **change))
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_what_rating_and_limits_need_from_the_applicant_is_required_and_consistent(client, token_for):
    missing = example("application-auto.json")
    del missing["applicant"]["industry"]
    response = submit(client, token_for("api-demo"), missing)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]["applicant"]) == {"industry"}
    inconsistent = example("application-auto.json")
    inconsistent["applicant"]["labourers"] = 9
    response = submit(client, token_for("api-demo"), inconsistent)
    assert response.status_code == 422
    assert response.get_json()["fields"]["applicant"] == {"labourers": ["cannot be more than family_members (4)"]}
