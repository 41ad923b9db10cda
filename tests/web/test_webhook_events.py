"""The webhook event catalogue says what is really sent: each delivered event's body has exactly the
envelope's and its entry's fields, with the values the entry lists."""
from __future__ import annotations

import pytest

from tests.web.journeys import decide, example, signature_for, submit
from workflows.callbacks import CallbackHosts
from workflows.events import CATALOGUE, ENVELOPE
from workflows.outbox import deliver_due


@pytest.fixture
def settings_overrides():
    return {"callback_hosts": CallbackHosts.parse("api-demo=127.0.0.1")}


def test_every_event_delivered_on_a_journey_is_as_the_catalogue_says(client, token_for, services, receiver):
    url, received, _ = receiver
    api = token_for("api-demo")
    reviewed = submit(client, api, example("application-review.json", callback_url=url)).get_json()
    for reviewer in ("cm-BR001", "rev-BR001", "appr-BR001"):
        decide(client, token_for(reviewer), reviewed["id"])
    signed = client.get(f"/api/v1/applications/{reviewed['id']}", headers=api).get_json()
    assert client.post(f"/api/v1/applications/{reviewed['id']}/signature", headers=api,
                       json=signature_for(signed)).status_code == 200
    deliver_due(services.db)

    entries = {e.topic: e for e in CATALOGUE}
    catalogue_headers = client.get("/api/v1/webhooks/events", headers=api).get_json()["headers"]
    statuses = []
    assert received
    for delivery in received:
        body = delivery["body"]
        entry = entries[delivery["event"]]
        assert body["topic"] == delivery["event"]
        assert set(delivery["headers"]) >= set(catalogue_headers)  # every documented header is sent
        assert set(body) == {f.name for f in ENVELOPE + entry.fields}
        for field in entry.fields:
            if field.values:
                assert body[field.name] in field.values, (field.name, body[field.name])
        assert set(body["applicant"]) == {"id_number", "phone"} and "*" in body["applicant"]["id_number"]
        statuses.append(body["status"])
    assert statuses == ["in_review", "awaiting_signature", "disbursed"]


def test_the_catalogue_is_served_with_each_events_fields_and_example(client, token_for):
    catalogue = client.get("/api/v1/webhooks/events", headers=token_for("api-demo")).get_json()
    [event] = catalogue["events"]
    assert event["topic"] == "application.status_changed"
    assert set(event["example"]) == {f["name"] for f in catalogue["envelope"] + event["fields"]}
    status = next(f for f in event["fields"] if f["name"] == "status")
    assert "disbursed" in status["values"]
    assert client.get("/api/v1/webhooks/events").status_code == 401
