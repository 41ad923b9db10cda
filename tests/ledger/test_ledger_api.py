"""The ledger's HTTP endpoints (web/api/ledger_api.py) and `loanflow eod`, over a real app."""
import json
from datetime import date

import sqlalchemy as sa

from ledger import service
from ledger.tables import JournalEntry


def test_the_public_calculator_previews_an_equal_installment_schedule(client):
    response = client.get("/api/v1/schedules/preview?principal=1000000&annual_rate=0.049&term_months=360"
                          "&method=equal_installment&start_date=2024-01-15")
    assert response.status_code == 200
    body = response.get_json()
    assert body["installments"][0]["total"] == "5307.27"
    assert body["totals"]["principal"] == "1000000.00"


def test_the_calculator_names_the_bad_field(client):
    for query, field in (("principal=0", "principal"), ("annual_rate=0.3", "annual_rate"),
                         ("term_months=0", "term_months"), ("start_date=2024-02-31", "start_date")):
        args = dict(principal="1000", annual_rate="0.05", term_months="12", method="bullet", start_date="2024-01-01")
        name, value = query.split("=")
        args[name] = value
        response = client.get("/api/v1/schedules/preview", query_string=args)
        assert response.status_code == 422, query
        assert field in response.get_json()["fields"]


def _loan(services, branch="BR001"):
    with services.db.unit_of_work() as s:
        loan = service.open_loan(s, loan_number="API-1", branch=branch, customer_id="C1", product_code="AGRI",
                                 principal="12000", annual_rate="0.06", term_months=12, method="equal_principal",
                                 start_date=date(2024, 1, 15), deposit_account="D1")
        service.disburse(s, loan.id, posting_key="api-disb")
        return loan.id


def test_a_repayment_is_posted_once_per_idempotency_key(client, services, token_for):
    loan_id = _loan(services)
    headers = {**token_for("cm-BR001"), "Idempotency-Key": "pay-1"}
    body = {"amount": "1060.00", "value_date": "2024-02-15"}
    first = client.post(f"/api/v1/loans/{loan_id}/repayments", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["principal"] == "1000.00"
    again = client.post(f"/api/v1/loans/{loan_id}/repayments", json=body, headers=headers)
    assert again.get_json()["entry_id"] == first.get_json()["entry_id"]
    bad = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "-1", "value_date": "2024-02-15"},
                      headers={**headers, "Idempotency-Key": "pay-2"})
    assert bad.status_code == 422 and "amount" in bad.get_json()["fields"]
    unknown = client.post("/api/v1/loans/NOPE/repayments", json=body, headers={**headers, "Idempotency-Key": "p3"})
    assert unknown.status_code == 404


def test_the_payoff_quote_and_a_payoff_close_the_loan_over_http(client, services, token_for):
    loan_id = _loan(services)
    headers = token_for("cm-BR001")
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?value_date=2024-01-25", headers=headers).get_json()
    assert quote == {"penalty": "0.00", "interest": "20.00", "principal": "12000.00", "total": "12020.00"}
    paid = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "12020.00", "value_date": "2024-01-25"},
                       headers={**headers, "Idempotency-Key": "payoff"})
    assert paid.status_code == 201 and paid.get_json()["closed"] is True
    other_branch = client.get(f"/api/v1/loans/{loan_id}/payoff", headers=token_for("cm-BR002"))
    assert other_branch.status_code == 404


def test_trial_balance_is_per_branch_for_branch_staff_and_consolidated_for_hq(client, services, token_for):
    _loan(services)
    own = client.get("/api/v1/ledger/trial-balance", headers=token_for("rev-BR001")).get_json()
    assert own["branch"] == "BR001" and own["balanced"] and own["total_debit"] == "12000.00"
    assert client.get("/api/v1/ledger/trial-balance?branch=BR002", headers=token_for("rev-BR001")).status_code == 403
    hq = client.get("/api/v1/ledger/trial-balance", headers=token_for("analyst")).get_json()
    assert hq["branch"] is None and hq["balanced"]
    book = client.get("/api/v1/ledger/loan-book", headers=token_for("analyst")).get_json()
    assert book["principal_outstanding"] == "12000.00" and book["npl_ratio"] == "0.0000"


def test_the_eod_command_refuses_a_date_at_or_before_the_last_closed_one(services, monkeypatch, capsys):
    from web.cli import main

    _loan(services)
    monkeypatch.setenv("LOANFLOW_DATABASE_URL", services.settings.database_url)
    assert main(["eod", "--date", "2024-01-22"]) == 0
    assert '"accrual_lines": 1' in capsys.readouterr().out
    with services.db.sessions() as session:
        entries = session.scalar(sa.select(sa.func.count()).select_from(JournalEntry))
    for earlier_or_same in ("2024-01-20", "2024-01-22"):
        assert main(["eod", "--date", earlier_or_same]) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert json.loads(err)["message"] == (f"business date {earlier_or_same} is at or before the last closed date "
                                              "2024-01-22; a correction is a new posting, not a re-run")
        assert json.loads(err)["error"] == "business_date_closed"
    with services.db.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) == entries
    assert main(["eod", "--date", "22-01-2024"]) == 2
    assert main(["eod", "--date", "2024-01-23"]) == 0
