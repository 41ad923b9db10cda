"""No credit-bureau query without the customer's recorded authorisation (数据查询授权): a missing,
expired or withdrawn one stops the risk check with an incident that says why; recording one and
retrying carries on. Recorded with the application or through the API, with how, channel,
reference, when and until when."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.web.journeys import example, submit
from workflows.models import Application, CustomerConsent


def without_consent(**changes) -> dict:
    body = example("application-auto.json", **changes)
    body.pop("consent")
    return body


def consent_of(client, headers, customer_id):
    return client.get(f"/api/v1/customers/{customer_id}/consents", headers=headers).get_json()["consents"]


def test_without_an_authorisation_the_bureau_is_not_asked_and_recording_one_lets_a_retry_carry_on(
        client, token_for, bureau):
    api = token_for("api-demo")
    application = submit(client, api, without_consent()).get_json()
    assert application["status"] == "incident" and application["stage"] == "intake"
    assert "credit bureau not queried: no authorisation from the customer for credit bureau queries is on record" \
        in application["incident"]

    recorded = client.post(f"/api/v1/customers/{application['customer_id']}/consents", headers=api, json={
        "scope": "credit_bureau", "method": "recorded_call", "channel": "counter", "reference": "CALL-20261201-17"})
    assert recorded.status_code == 201, recorded.get_json()
    retried = client.post(f"/api/v1/applications/{application['id']}/retry", headers=api).get_json()
    assert retried["status"] == "awaiting_signature" and retried["incident"] is None


def test_the_authorisation_given_with_the_application_is_on_record_for_a_year(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-auto.json")).get_json()
    assert application["status"] == "awaiting_signature"
    [consent] = consent_of(client, api, application["customer_id"])
    assert (consent["method"], consent["channel"], consent["reference"], consent["source"]) == (
        "e_sign", "mobile", "ESIGN-AUTH-0001", f"application:{application['id']}")
    granted_china_day = (dt.datetime.fromisoformat(consent["granted_at"].rstrip("Z")) + dt.timedelta(hours=8)).date()
    assert dt.date.fromisoformat(consent["valid_until"]) - granted_china_day == dt.timedelta(days=365)


def test_an_expired_authorisation_stops_the_step_naming_its_last_day(client, token_for, services):
    api = token_for("api-demo")
    first = submit(client, api, example("application-auto.json")).get_json()
    # The customer's authorisation is an old one: given 400 days ago, it held for a year.
    with services.db.unit_of_work() as session:
        consent = session.scalars(select(CustomerConsent)).one()
        consent.granted_at -= dt.timedelta(days=400)
        consent.valid_until = consent.valid_until - dt.timedelta(days=400)
        last_day = consent.valid_until
    second = submit(client, api, without_consent()).get_json()
    assert second["customer_id"] == first["customer_id"] and second["status"] == "incident"
    assert f"the customer's authorisation for credit bureau queries expired on {last_day.isoformat()}" \
        in second["incident"]


def test_a_withdrawn_authorisation_stops_the_next_query(client, token_for):
    api, manager = token_for("api-demo"), token_for("cm-BR001")
    first = submit(client, api, example("application-auto.json")).get_json()
    [consent] = consent_of(client, manager, first["customer_id"])
    withdrawn = client.post(f"/api/v1/customers/{first['customer_id']}/consents/{consent['id']}/withdraw",
                            headers=manager)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn_by"] == "cm-BR001"
    again = client.post(f"/api/v1/customers/{first['customer_id']}/consents/{consent['id']}/withdraw", headers=manager)
    assert again.status_code == 409
    second = submit(client, api, without_consent()).get_json()
    assert second["status"] == "incident"
    assert "the customer withdrew the authorisation for credit bureau queries on" in second["incident"]


def test_an_authorisation_from_the_future_or_ending_before_it_began_is_refused_and_nothing_is_written(
        client, token_for, services):
    body = example("application-auto.json")
    tomorrow = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(days=1)
    body["consent"] = {**body["consent"], "granted_at": tomorrow.isoformat()}
    refused = submit(client, token_for("api-demo"), body)
    assert refused.status_code == 422
    assert refused.get_json()["fields"] == {"consent": {"granted_at": ["is in the future"]}}
    with services.db.unit_of_work() as session:
        assert session.scalars(select(Application)).all() == []

    registered = submit(client, token_for("api-demo"), example("application-auto.json")).get_json()
    backwards = client.post(f"/api/v1/customers/{registered['customer_id']}/consents", headers=token_for("cm-BR001"),
                            json={"scope": "credit_bureau", "method": "paper", "channel": "counter",
                                  "reference": "P-1", "granted_at": "2026-11-01T10:00:00+08:00",
                                  "valid_until": "2026-10-01"})
    assert backwards.status_code == 422 and backwards.get_json()["fields"] == {
        "valid_until": ["is before the day it was given"]}
    bad = client.post(f"/api/v1/customers/{registered['customer_id']}/consents", headers=token_for("cm-BR001"),
                      json={"scope": "marketing", "method": "smoke_signal", "channel": "Mobile App", "reference": " "})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"scope", "method", "channel", "reference"}
    assert len(consent_of(client, token_for("cm-BR001"), registered["customer_id"])) == 1
    other_branch = client.post(f"/api/v1/customers/{registered['customer_id']}/consents", headers=token_for("cm-BR002"),
                               json={"scope": "credit_bureau", "method": "paper", "channel": "counter",
                                     "reference": "P-2"})
    assert other_branch.status_code == 404
