"""Reconciliation (对账) against the payment-channel simulator's statement file (a real HTTP server on
127.0.0.1): a clean day opens nothing; one injected difference opens exactly one work order, of the
right kind, whose amounts and branch are right; reconciling again adds none; operations resolve it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
import requests
from sqlalchemy import func, select

from tests.ledger.helpers import open_and_disburse
from web.simulators import start_in_thread
from web.simulators.payment_channel import create_app as channel_app
from workflows import reconciliation
from workflows.collection import PaymentChannelClient, PaymentChannelUnavailable, collect_due, parse_statement
from workflows.models import HQ, ReconciliationWorkOrder, User, utcnow

DUE_DATE = date(2024, 2, 15)  # the first due date of a loan started on 2024-01-15
OPS = User(username="ops", full_name="运维", branch_code=HQ, roles="operations", password_hash="")
BRANCH_OPS = User(username="ops-B02", full_name="运维", branch_code="B02", roles="operations", password_hash="")


@pytest.fixture
def channel():
    server = start_in_thread(channel_app())
    yield server.url
    server.stop()


def control(url: str, **switches) -> dict:
    return requests.post(f"{url}/control", json=switches, timeout=5).json()


@pytest.fixture
def collected(database, channel):
    """Two loans debited and booked on the due date: 1,000.00 (B01) and 1,032.80 (B02)."""
    with database.unit_of_work() as s:
        open_and_disburse(s, "ZERO", rate="0", method="equal_installment")
        open_and_disburse(s, "SIX", branch="B02", rate="0.06", method="equal_installment")
    result = collect_due(database, DUE_DATE, PaymentChannelClient(channel))
    assert (result.collected, result.collected_amount) == (2, D("2032.80"))
    return channel


def run(database, url):
    return reconciliation.reconcile_day(database, PaymentChannelClient(url), DUE_DATE, "ops", utcnow())


def orders(database):
    with database.unit_of_work() as s:
        return reconciliation.work_orders(s, OPS, status=None)


def test_the_statement_lists_the_days_debits_and_a_clean_day_opens_nothing(database, collected):
    statement = PaymentChannelClient(collected).statement(DUE_DATE)
    assert sorted((l.reference, l.amount) for l in statement) == [("autodebit:SIX:2024-02-15", D("1032.80")),
                                                                   ("autodebit:ZERO:2024-02-15", D("1000.00"))]
    assert PaymentChannelClient(collected).statement(date(2024, 2, 16)) == []
    result = run(database, collected)
    assert (result["statement_lines"], result["booked"], result["matched"], result["differences"]) == (2, 2, 2, 0)
    assert orders(database) == []


def test_one_injected_amount_difference_opens_exactly_one_work_order(database, collected):
    control(collected, statement_amounts={"autodebit:SIX:2024-02-15": "1023.80"})  # a digit swapped by the core
    result = run(database, collected)
    assert (result["matched"], result["differences"]) == (1, 1)
    [order] = orders(database)
    assert (order["kind"], order["reference"], order["branch"], order["loan_number"]) == (
        "amount_differs", "autodebit:SIX:2024-02-15", "B02", "SIX")
    assert (order["channel_amount"], order["booked_amount"], order["status"]) == ("1023.80", "1032.80", "open")
    assert order["account"] == "****-SIX" and "DEP-SIX" not in str(order)  # masked, never whole
    # the same day again: still exactly one
    assert run(database, collected)["differences"] == 1 and len(orders(database)) == 1


def test_a_debit_on_the_statement_we_never_booked_is_not_booked(database, collected):
    control(collected, statement_extra=[{"reference": "autodebit:GHOST:2024-02-15", "account": "6222000011112222",
                                         "amount": "500.00", "value_date": "2024-02-15"}])
    result = run(database, collected)
    kinds = {o["reference"]: (o["kind"], o["channel_amount"], o["booked_amount"], o["branch"], o["account"])
             for o in orders(database)}
    assert kinds == {"autodebit:GHOST:2024-02-15": ("not_booked", "500.00", None, HQ, "****2222")}
    assert result["differences"] == 1


def test_a_booking_missing_from_the_statement_is_not_on_statement(database, channel):
    with database.unit_of_work() as s:
        open_and_disburse(s, "ZERO", rate="0", method="equal_installment")
    collect_due(database, DUE_DATE, PaymentChannelClient(channel))
    fresh = start_in_thread(channel_app())  # a channel whose statement has none of our debits
    try:
        result = reconciliation.reconcile_day(database, PaymentChannelClient(fresh.url), DUE_DATE, "ops", utcnow())
    finally:
        fresh.stop()
    [order] = orders(database)
    assert (order["kind"], order["booked_amount"], order["channel_amount"]) == ("not_on_statement", "1000.00", None)
    assert result["booked"] == 1 and result["statement_lines"] == 0


def test_operations_resolve_a_work_order_and_a_branch_sees_only_its_own(database, collected):
    control(collected, statement_amounts={"autodebit:SIX:2024-02-15": "1023.80"})
    run(database, collected)
    [order] = orders(database)
    with database.unit_of_work() as s:
        assert [o["id"] for o in reconciliation.work_orders(s, BRANCH_OPS)] == [order["id"]]
        other = User(username="ops-B01", full_name="x", branch_code="B01", roles="operations", password_hash="")
        assert reconciliation.work_orders(s, other) == []
        done = reconciliation.resolve(s, OPS, order["id"], "核心系统更正为 1032.80", utcnow())
    assert (done["status"], done["resolved_by"], done["note"]) == ("resolved", "ops", "核心系统更正为 1032.80")
    with database.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(ReconciliationWorkOrder)
                        .where(ReconciliationWorkOrder.status == "open")) == 0


def test_a_difference_that_matches_on_a_later_run_is_resolved_by_the_system(database, collected):
    control(collected, statement_amounts={"autodebit:SIX:2024-02-15": "1023.80"})
    run(database, collected)
    control(collected, statement_amounts={"autodebit:SIX:2024-02-15": "1032.80"})  # the core corrected it
    assert run(database, collected)["differences"] == 0
    [order] = orders(database)
    assert (order["status"], order["resolved_by"]) == ("resolved", "system")


def test_an_unreadable_statement_stops_the_run_naming_the_line():
    with pytest.raises(PaymentChannelUnavailable) as stopped:
        parse_statement("reference,account,amount\nautodebit:A:2024-02-15,1,12.00\nautodebit:B:2024-02-15,2,abc\n")
    assert "line 3" in stopped.value.message
    with pytest.raises(PaymentChannelUnavailable):
        parse_statement("ref;acct;amt\n")


def test_the_console_api_runs_lists_and_resolves(client, token_for, services, channel, monkeypatch):
    ops = token_for("ops")
    monkeypatch.delenv("LOANFLOW_PAYMENT_CHANNEL_URL", raising=False)
    unset = client.post("/api/v1/operations/reconciliation/runs", headers=ops, json={"business_date": "2026-12-03"})
    assert unset.status_code == 503 and "LOANFLOW_PAYMENT_CHANNEL_URL" in unset.get_json()["message"]
    monkeypatch.setenv("LOANFLOW_PAYMENT_CHANNEL_URL", channel)
    control(channel, statement_extra=[{"reference": "autodebit:GHOST:2026-12-03", "account": "6222000011112222",
                                       "amount": "500.00", "value_date": "2026-12-03"}])
    bad = client.post("/api/v1/operations/reconciliation/runs", headers=ops, json={"business_date": "yesterday"})
    assert bad.status_code == 422 and "business_date" in bad.get_json()["fields"]
    ran = client.post("/api/v1/operations/reconciliation/runs", headers=ops, json={"business_date": "2026-12-03"})
    assert ran.status_code == 201 and ran.get_json()["differences"] == 1
    listed = client.get("/api/v1/operations/reconciliation", headers=ops).get_json()
    [order] = listed["items"]
    assert order["kind"] == "not_booked" and listed["runs"][0]["business_date"] == "2026-12-03"
    assert client.get("/api/v1/operations/reconciliation", headers=token_for("ops-BR001")).get_json()["items"] == []
    assert client.get("/api/v1/operations/reconciliation", headers=token_for("rev-BR001")).status_code == 403
    path = f"/api/v1/operations/reconciliation/work-orders/{order['id']}/resolve"
    assert client.post(path, headers=ops, json={}).status_code == 422
    done = client.post(path, headers=ops, json={"note": "渠道冲正"})
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"
    assert client.post(path, headers=ops, json={"note": "again"}).status_code == 409


def test_a_debit_made_twice_is_a_duplicate_even_when_one_matches(database, collected):
    control(collected, statement_extra=[{"reference": "autodebit:ZERO:2024-02-15", "account": "DEP-ZERO",
                                         "amount": "1000.00", "value_date": "2024-02-15"}])
    result = run(database, collected)
    [order] = orders(database)
    assert (order["kind"], order["channel_amount"], order["booked_amount"]) == ("duplicate", "2000.00", "1000.00")
    assert (result["matched"], result["differences"]) == (1, 1)


def test_only_head_office_runs_a_reconciliation_and_sees_the_runs(client, token_for, channel, monkeypatch):
    monkeypatch.setenv("LOANFLOW_PAYMENT_CHANNEL_URL", channel)
    branch = token_for("ops-BR001")
    refused = client.post("/api/v1/operations/reconciliation/runs", headers=branch, json={"business_date": "2026-12-03"})
    assert refused.status_code == 403
    assert client.post("/api/v1/operations/reconciliation/runs", headers=token_for("ops"),
                       json={"business_date": "2026-12-03"}).status_code == 201
    assert client.get("/api/v1/operations/reconciliation", headers=branch).get_json()["runs"] == []
    blank = client.post("/api/v1/operations/reconciliation/work-orders/1/resolve", headers=token_for("ops"),
                        json={"note": "   "})
    assert blank.status_code == 422 and "note" in blank.get_json()["fields"]
