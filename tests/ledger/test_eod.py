from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from ledger import service
from tests.ledger.helpers import assert_books_consistent, open_and_disburse

START = date(2024, 1, 15)


def run_days(database, first, last):
    day = first
    while day <= last:
        with database.unit_of_work() as s:
            service.run_eod(s, day)
        day += timedelta(days=1)


def test_daily_accrual_adds_up_to_the_scheduled_interest_on_the_due_date(database):
    # 12,000 at 6%, 等额本金: first month's interest 60.00 spread over Jan 15 → Feb 15 (31 days).
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, START + timedelta(days=1), date(2024, 2, 14))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan.id).interest_receivable == D("58.06")  # 60 × 30/31
    run_days(database, date(2024, 2, 15), date(2024, 2, 15))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan.id).interest_receivable == D("60.00")
        assert service.account_balance(s, "B01", "interest_income") == D("-60.00")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_running_the_batch_again_for_a_closed_date_is_refused_and_posts_nothing(database):
    with database.unit_of_work() as s:
        open_and_disburse(s)
    with database.unit_of_work() as s:
        assert service.run_eod(s, "2024-01-20").accrual_lines == 1
    with pytest.raises(service.BusinessDateClosed) as refused:
        with database.unit_of_work() as s:
            service.run_eod(s, "2024-01-20")
    assert refused.value.message == ("business date 2024-01-20 is at or before the last closed date 2024-01-20; "
                                     "a correction is a new posting, not a re-run")
    assert refused.value.field == "business_date" and refused.value.kind == "conflict"
    with database.unit_of_work() as s:
        assert service.trial_balance(s, "B01").total_debit == D("12000.00") + D("9.68")  # 60 × 5/31


def test_a_date_before_the_last_closed_one_is_refused_and_nothing_is_reclassified_back(database):
    # The case: closing an earlier date again would age and reclassify from today's
    # balances, and the next run would flip every loan back.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 17))
    with database.unit_of_work() as s:
        before = (service.loan_view(s, loan.id), service.trial_balance(s, "B01").total_debit)
    with pytest.raises(service.BusinessDateClosed, match="business date 2024-02-10 is at or before the last "
                                                         "closed date 2024-02-17"):
        with database.unit_of_work() as s:
            service.run_eod(s, date(2024, 2, 10))
    with database.unit_of_work() as s:
        assert (service.loan_view(s, loan.id), service.trial_balance(s, "B01").total_debit) == before
        assert before[0]["classification"] == "special_mention"
    run_days(database, date(2024, 2, 18), date(2024, 2, 18))  # the next day closes as usual


def test_a_later_date_after_a_gap_closes_and_catches_the_missed_days_up(database):
    with database.unit_of_work() as s:
        loan_id = open_and_disburse(s).id
    run_days(database, date(2024, 1, 16), date(2024, 1, 16))
    run_days(database, date(2024, 1, 20), date(2024, 1, 20))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan_id).interest_receivable == D("9.68")  # 60 × 5/31, as day by day


def test_an_unpaid_installment_ages_charges_penalty_and_moves_to_special_mention(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 17))
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert view["days_past_due"] == 2
        assert view["classification"] == "special_mention"
        # overdue principal 1000.00 × 9% (6% + 50%) / 360 = 0.25 a day, on the 16th and 17th
        assert view["balances"]["penalty_receivable"] == "0.50"
        assert service.account_balance(s, "B01", "loans_special_mention") == D("12000.00")
        assert service.account_balance(s, "B01", "loans_normal") == D("0.00")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_paying_the_arrears_brings_the_loan_back_to_normal_at_the_next_batch(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 17))
    with database.unit_of_work() as s:
        result = service.repay(s, loan.id, "1060.50", posting_key="r1", value_date="2024-02-18")
        assert (result.penalty, result.interest, result.principal) == (D("0.50"), D("60.00"), D("1000.00"))
    run_days(database, date(2024, 2, 18), date(2024, 2, 18))
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert view["days_past_due"] == 0 and view["classification"] == "normal"
        assert view["schedule"][0]["settled"] is True
        assert_books_consistent(s, [loan.id], ["B01"])


def test_dpd_thresholds_are_configurable(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    strict = service.ClassificationPolicy(normal_max=0, special_mention_max=1, substandard_max=2, doubtful_max=3)
    day = date(2024, 2, 15)
    for offset in range(6):
        with database.unit_of_work() as s:
            service.run_eod(s, day + timedelta(days=offset), policy=strict)
    with database.unit_of_work() as s:
        assert service.loan_view(s, loan.id)["classification"] == "loss"
        assert service.account_balance(s, "B01", "loans_loss") == D("12000.00")
        assert_books_consistent(s, [loan.id], ["B01"])
