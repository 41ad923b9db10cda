"""The ledger's endpoints refuse absurd input with the field named, and never post twice."""
from __future__ import annotations

import pytest

from tests.web.journeys import example, signature_for, submit

PREVIEW = {"principal": "10000", "annual_rate": "0.05", "term_months": "12", "method": "equal_installment",
           "start_date": "2026-01-15"}


@pytest.fixture
def loan_id(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-auto.json")).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application)).get_json()
    return signed["loan_id"]


@pytest.mark.parametrize("field, value", [
    ("start_date", "9999-12-31"),
    ("principal", "1e400"),
    ("annual_rate", "1e-400"),
    ("principal", "\uff11\uff10\uff10"),  # full-width digits 100
])
def test_the_calculator_names_the_bad_parameter(client, field, value):
    response = client.get("/api/v1/schedules/preview", query_string={**PREVIEW, field: value})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]


@pytest.mark.parametrize("amount", ["1e400", "99999999999999999999999999999999999", "1_000"])
def test_an_absurd_repayment_amount_is_422(client, token_for, loan_id, amount):
    response = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": amount},
                           headers={**token_for("api-demo"), "Idempotency-Key": f"k-{amount}"})
    assert response.status_code == 422
    assert "amount" in response.get_json()["fields"]


def test_a_repayment_cannot_be_value_dated_in_the_future(client, token_for, loan_id):
    response = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "100.00", "value_date": "2100-01-01"},
                           headers={**token_for("api-demo"), "Idempotency-Key": "future"})
    assert response.status_code == 422
    assert "value_date" in response.get_json()["fields"]


def test_a_retried_repayment_replays_and_another_body_under_its_key_is_refused(client, token_for, loan_id):
    headers = {**token_for("api-demo"), "Idempotency-Key": "rp-1"}
    url = f"/api/v1/loans/{loan_id}/repayments"
    first = client.post(url, json={"amount": "100.00"}, headers=headers)
    again = client.post(url, json={"amount": "100.00"}, headers=headers)
    other = client.post(url, json={"amount": "5000.00"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    loan = client.get(f"/api/v1/loans/{loan_id}", headers=token_for("api-demo")).get_json()
    assert [tx["kind"] for tx in loan["transactions"]].count("repayment") == 1


def test_a_classification_override_needs_a_written_reason(client, token_for, loan_id):
    response = client.post(f"/api/v1/loans/{loan_id}/classification",
                           json={"classification": "substandard", "reason": {"a": 1}},
                           headers={**token_for("appr-BR001"), "Idempotency-Key": "ov-1"})
    assert response.status_code == 422
    assert "reason" in response.get_json()["fields"]


def test_another_branchs_loan_is_not_found(client, token_for, loan_id):
    assert client.get(f"/api/v1/loans/{loan_id}", headers=token_for("cm-BR002")).status_code == 404
    assert client.get(f"/api/v1/loans/{loan_id}", headers=token_for("cm-BR001")).status_code == 200


def test_the_books_of_an_unknown_branch_are_not_found(client, token_for):
    response = client.get("/api/v1/ledger/trial-balance?branch=XX", headers=token_for("hq-approver"))
    assert response.status_code == 404
    assert client.get("/api/v1/ledger/trial-balance?branch=BR001", headers=token_for("hq-approver")).status_code == 200
