"""Auto-debit end to end: due installments debited through the payment-channel simulator (a real
HTTP server on 127.0.0.1) and booked in the ledger, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest
import requests
from sqlalchemy import func, select

from ledger import service
from ledger.tables import JournalEntry
from tests.ledger.helpers import assert_books_consistent, open_and_disburse
from web.simulators import start_in_thread
from web.simulators.payment_channel import create_app as channel_app
from workflows.collection import PaymentChannelClient, PaymentChannelRejected, collect_due
from workflows.worker import auto_debit

DUE_DATE = date(2024, 2, 15)  # the first due date of a loan started on 2024-01-15


@pytest.fixture
def channel():
    server = start_in_thread(channel_app())
    yield server.url
    server.stop()


def control(url: str, **switches) -> dict:
    return requests.post(f"{url}/control", json=switches, timeout=5).json()


def entry_count(database) -> int:
    with database.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(JournalEntry))


def test_collecting_on_the_due_date_debits_the_installment_and_settles_it(database, channel):
    # 12,000 at 0 % over 12 months, 等额本息: 12000 / 12 = 1,000.00 a month.
    # 12,000 at 6 %: PMT = 12000 × 0.005 / (1 − 1.005^−12) = 1032.797… → 1,032.80.
    with database.unit_of_work() as s:
        free = open_and_disburse(s, "ZERO", rate="0", method="equal_installment")
        priced = open_and_disburse(s, "SIX", rate="0.06", method="equal_installment")
        schedule_totals = [service.loan_view(s, loan.id)["schedule"][0]["total"] for loan in (free, priced)]
    assert schedule_totals == ["1000.00", "1032.80"]
    control(channel, balances={"DEP-ZERO": "5000.00", "DEP-SIX": "5000.00"})

    result = collect_due(database, DUE_DATE, PaymentChannelClient(channel))

    assert (result.due, result.collected, result.collected_amount) == (2, 2, D("2032.80"))
    assert not result.channel_unavailable and result.insufficient_funds == 0 and result.not_posted == []
    assert control(channel)["balances"] == {"DEP-ZERO": "4000.00", "DEP-SIX": "3967.20"}
    with database.unit_of_work() as s:
        zero, six = service.loan_view(s, free.id), service.loan_view(s, priced.id)
        assert zero["schedule"][0]["settled"] and six["schedule"][0]["settled"]
        assert not zero["schedule"][1]["settled"]
        assert zero["balances"] == {"principal_outstanding": "11000.00", "interest_receivable": "0.00",
                                    "penalty_receivable": "0.00"}
        # 1,032.80 = 60.00 interest + 972.80 principal: the principal falls by exactly the latter.
        assert six["balances"]["principal_outstanding"] == "11027.20"
        assert six["balances"]["interest_receivable"] == "0.00"
        repayment = [tx for tx in six["transactions"] if tx["kind"] == "repayment"]
        assert [tx["posting_key"] for tx in repayment] == ["autodebit:SIX:2024-02-15"]
        assert six["schedule_version"] == 1  # no early repayment regenerated the schedule
        assert_books_consistent(s, [free.id, priced.id], ["B01"])


def test_a_second_run_for_the_same_date_debits_and_posts_nothing(database, channel):
    with database.unit_of_work() as s:
        open_and_disburse(s, rate="0", method="equal_installment")
    first = collect_due(database, DUE_DATE, PaymentChannelClient(channel))
    entries = entry_count(database)

    second = collect_due(database, DUE_DATE, PaymentChannelClient(channel))

    assert first.collected == 1
    assert (second.due, second.collected, second.collected_amount) == (0, 0, D("0.00"))
    assert entry_count(database) == entries
    assert control(channel)["debits"] == 1


def test_insufficient_funds_books_nothing_and_the_next_days_batch_ages_the_loan(database, channel):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, rate="0", method="equal_installment")
    control(channel, balances={"DEP-L1": "999.99"})
    entries = entry_count(database)

    result = collect_due(database, DUE_DATE, PaymentChannelClient(channel))

    assert (result.due, result.collected, result.insufficient_funds) == (1, 0, 1)
    assert entry_count(database) == entries
    assert control(channel)["balances"]["DEP-L1"] == "999.99"
    with database.unit_of_work() as s:
        service.run_eod(s, DUE_DATE)  # due today, not yet late
    with database.unit_of_work() as s:
        assert service.loan_view(s, loan.id)["days_past_due"] == 0
        service.run_eod(s, date(2024, 2, 16))
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert view["days_past_due"] == 1 and view["classification"] == "special_mention"
        assert not view["schedule"][0]["settled"]
        assert view["balances"]["principal_outstanding"] == "12000.00"


def test_a_loan_that_bounced_is_collected_with_its_arrears_at_the_next_days_run(database, channel):
    # At 0 % there is no penalty (rate × 1.5 = 0), so the arrears are exactly the 1,000.00 installment.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, rate="0", method="equal_installment")
    control(channel, balances={"DEP-L1": "0.00"})
    assert collect_due(database, DUE_DATE, PaymentChannelClient(channel)).insufficient_funds == 1
    with database.unit_of_work() as s:
        service.run_eod(s, DUE_DATE)
    control(channel, balances={"DEP-L1": "1500.00"})

    result = collect_due(database, date(2024, 2, 16), PaymentChannelClient(channel))

    assert (result.collected, result.collected_amount) == (1, D("1000.00"))
    with database.unit_of_work() as s:
        service.run_eod(s, date(2024, 2, 16))
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert view["schedule"][0]["settled"] and view["days_past_due"] == 0
        assert view["classification"] == "normal"


def test_while_the_channel_is_down_nothing_is_posted_and_the_result_says_so(database, channel):
    with database.unit_of_work() as s:
        open_and_disburse(s, "A", rate="0", method="equal_installment")
        open_and_disburse(s, "B", rate="0", method="equal_installment")
    control(channel, down=True)
    entries = entry_count(database)

    result = collect_due(database, DUE_DATE, PaymentChannelClient(channel))

    assert result.channel_unavailable and (result.due, result.collected, result.not_attempted) == (2, 0, 2)
    assert result.to_dict()["channel_unavailable"] is True
    assert entry_count(database) == entries
    control(channel, down=False)
    assert collect_due(database, DUE_DATE, PaymentChannelClient(channel)).collected == 2


def test_a_channel_slower_than_the_read_timeout_counts_as_down(database, channel):
    with database.unit_of_work() as s:
        open_and_disburse(s, rate="0", method="equal_installment")
    control(channel, delay=1.0)

    result = collect_due(database, DUE_DATE, PaymentChannelClient(channel, read_timeout=0.2))

    assert result.channel_unavailable and result.collected == 0


def test_a_debit_whose_answer_was_lost_is_booked_once_by_the_next_run_without_debiting_again(database, channel):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, rate="0", method="equal_installment")
    control(channel, balances={"DEP-L1": "1000.00"})
    # An earlier run's debit reached the core but its answer never came back.
    PaymentChannelClient(channel).debit("DEP-L1", D("1000.00"), "autodebit:L1:2024-02-15")

    result = collect_due(database, DUE_DATE, PaymentChannelClient(channel))

    assert (result.collected, result.collected_amount) == (1, D("1000.00"))
    assert control(channel)["debits"] == 1 and control(channel)["balances"]["DEP-L1"] == "0.00"
    with database.unit_of_work() as s:
        assert service.loan_view(s, loan.id)["schedule"][0]["settled"]


def test_the_collect_command_runs_against_the_configured_channel(database_url, database, channel, monkeypatch, capsys):
    from web.cli import main

    with database.unit_of_work() as s:
        open_and_disburse(s, rate="0", method="equal_installment")
    monkeypatch.setenv("LOANFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("LOANFLOW_PAYMENT_CHANNEL_URL", channel)

    assert main(["collect", "--date", "2024-02-15"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["collected"], printed["collected_amount"]) == (1, "1000.00")


def test_the_collect_command_asks_for_the_channel_url_when_it_is_unset(monkeypatch, capsys):
    from web.cli import main

    monkeypatch.delenv("LOANFLOW_PAYMENT_CHANNEL_URL", raising=False)

    assert main(["collect", "--date", "2024-02-15"]) == 2
    assert "LOANFLOW_PAYMENT_CHANNEL_URL" in capsys.readouterr().err


def test_the_workers_auto_debit_job_collects_through_the_channel_at_its_url(database, channel):
    with database.unit_of_work() as s:
        open_and_disburse(s, rate="0", method="equal_installment")

    result = auto_debit(database, channel, business_date=DUE_DATE)

    assert (result["collected"], result["collected_amount"]) == (1, "1000.00")


def test_a_request_the_channel_refuses_is_a_typed_error_and_moves_no_money(channel):
    client = PaymentChannelClient(channel)
    with pytest.raises(PaymentChannelRejected):
        client.debit("", D("10.00"), "autodebit:X:2024-02-15")
    with pytest.raises(PaymentChannelRejected):
        client.debit("DEP-X", 10.0, "autodebit:X:2024-02-15")  # a float is not money
    assert control(channel)["debits"] == 0
