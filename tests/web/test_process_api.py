"""The process layer as integrators use it: what a branch can start, starting by key, any instance,
and messages correlated to the one waiting instance (with a log and replays)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.web.journeys import example, signature_for, submit
from workflows.models import MessageLog


def started(client, headers, key, body):
    return client.post(f"/api/v1/processes/{key}/instances", json=body,
                       headers={**headers, "Idempotency-Key": str(uuid.uuid4())})


def test_a_branch_lists_the_processes_people_can_start_with_their_forms_and_roles(client, token_for):
    listed = client.get("/api/v1/processes?branch=BR001", headers=token_for("api-demo"))
    assert listed.status_code == 200
    by_key = {p["key"]: p for p in listed.get_json()["items"]}
    assert set(by_key) == {"loan_origination", "post_loan_check"}  # the rest are started by callers or the batch
    origination = by_key["loan_origination"]
    assert origination["start_form"] == "application" and set(origination["roles"]) == {"integrator", "customer_manager"}
    assert origination["scope"] == "HQ" and origination["version"] == 1
    assert "applicant" in origination["start_form_schema"]["properties"]
    assert origination["start_form_schema"]["properties"]["applicant"]["type"] == "object"  # nested, inlined
    assert client.get("/api/v1/processes", headers=token_for("api-demo")).get_json()["fields"] == {
        "branch": ["branch is required, e.g. ?branch=BR001"]}
    assert client.get("/api/v1/processes?branch=BR999", headers=token_for("api-demo")).status_code == 404


def test_an_application_started_through_the_process_api_is_the_same_as_one_posted(client, token_for):
    integrator = token_for("api-demo")
    data = example("application-auto.json")
    del data["branch"]
    response = started(client, integrator, "loan_origination", {"branch": "BR001", "data": data})
    assert response.status_code == 201, response.get_json()
    instance = response.get_json()
    assert instance["process"] == "loan_origination" and instance["status"] == "awaiting_signature"
    assert instance["stage"] == "signing" and instance["application_id"]
    application = client.get(f"/api/v1/applications/{instance['application_id']}", headers=integrator).get_json()
    assert application["instance_id"] == instance["id"]  # reachable both ways
    assert instance["correlation"] == {"application_id": application["id"]}
    assert [e["event"] for e in instance["history"]][:2] == ["application_submitted", "instance_started"]

    refused = started(client, token_for("rev-BR001"), "loan_origination", {"branch": "BR001", "data": data})
    assert refused.status_code == 403
    other_branch = started(client, token_for("cm-BR002"), "loan_origination", {"branch": "BR001", "data": data})
    assert other_branch.status_code == 403
    bad = started(client, integrator, "loan_origination", {"branch": "BR001", "data": {"amount": "-1"}})
    assert bad.status_code == 422 and {"amount", "applicant", "product"} <= set(bad.get_json()["fields"])
    assert started(client, integrator, "no_such_process", {"branch": "BR001", "data": {}}).status_code == 404


def test_a_signature_delivered_as_a_message_reaches_the_one_waiting_application_and_replays(client, token_for, services):
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    message = {"name": "customer_signed", "message_id": f"esign-{uuid.uuid4()}",
               "correlation": {"application_id": application["id"]}, "payload": signature_for(application)}
    first = client.post("/api/v1/messages", json=message, headers=integrator)
    assert first.status_code == 200, first.get_json()
    answer = first.get_json()
    assert answer["status"] == "disbursed" and answer["application_id"] == application["id"]
    assert answer["replayed"] is False
    again = client.post("/api/v1/messages", json=message, headers=integrator)
    assert again.status_code == 200 and again.get_json() == {**answer, "replayed": True}
    with services.db.sessions() as session:
        [logged] = session.scalars(sa.select(MessageLog)).all()
    assert logged.name == "customer_signed" and logged.correlation == {"application_id": application["id"]}
    assert logged.payload["contract_number"] == application["contract"]["number"]

    reused = client.post("/api/v1/messages", json={**message, "name": "loan_current"}, headers=integrator)
    assert reused.status_code == 409 and reused.get_json()["fields"] == {
        "message_id": [f"message_id {message['message_id']} was already used for another message"]}
    # Nothing waits any more: a new message for it is a 404 naming the correlation.
    late = client.post("/api/v1/messages", json={**message, "message_id": "esign-late"}, headers=integrator)
    assert late.status_code == 404 and "correlation" in late.get_json()["fields"]


def test_a_message_is_checked_like_the_callback_it_replaces(client, token_for):
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    wrong = signature_for(application)
    wrong["content_hash"] = "0" * 64
    refused = client.post("/api/v1/messages", headers=integrator, json={
        "name": "customer_signed", "message_id": "esign-wrong", "correlation": {"application_id": application["id"]},
        "payload": wrong})
    assert refused.status_code == 422 and set(refused.get_json()["fields"]) == {"content_hash"}
    still = client.get(f"/api/v1/applications/{application['id']}", headers=integrator).get_json()
    assert still["status"] == "awaiting_signature"
    nobody = client.post("/api/v1/messages", headers=integrator, json={
        "name": "customer_signed", "message_id": "esign-nobody", "correlation": {"application_id": "nope"}})
    assert nobody.status_code == 404
    malformed = client.post("/api/v1/messages", headers=integrator, json={"name": "x y", "correlation": {}})
    assert malformed.status_code == 422
    assert set(malformed.get_json()["fields"]) == {"name", "message_id", "correlation"}


def test_an_instance_of_another_branch_is_not_found(client, token_for):
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    assert client.get(f"/api/v1/instances/{application['instance_id']}", headers=token_for("cm-BR002")).status_code == 404
    shown = client.get(f"/api/v1/instances/{application['instance_id']}", headers=token_for("cm-BR001")).get_json()
    assert shown["id"] == application["instance_id"] and shown["status"] == "awaiting_signature"


def test_six_copies_of_one_message_racing_deliver_it_once_and_all_get_the_first_answer(app, client, token_for,
                                                                                      services):
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from web.simulators import start_in_thread

    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    message = {"name": "customer_signed", "message_id": f"esign-{uuid.uuid4()}",
               "correlation": {"application_id": application["id"]}, "payload": signature_for(application)}
    server = start_in_thread(app)  # a real threaded server: the copies really run at once
    try:
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: requests.post(f"{server.url}/api/v1/messages", json=message,
                                                             headers=integrator, timeout=60), range(6)))
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert sorted(a.json()["replayed"] for a in answers) == [False] + [True] * 5
    assert len({a.json()["instance_id"] for a in answers}) == 1 and {a.json()["status"] for a in answers} == {"disbursed"}
    with services.db.sessions() as session:
        assert len(session.scalars(sa.select(MessageLog)).all()) == 1
