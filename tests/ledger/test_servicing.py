"""Repayments, early repayment, payoff, reversals, overrides, write-off and contract changes.
Expected figures are hand computations from the contract terms, shown inline."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from ledger import service
from ledger.errors import InvalidInput, LoanStateError
from ledger.tables import LoanAccount, LoanChange, LoanInstallment
from tests.ledger.helpers import assert_books_consistent, open_and_disburse


def run_days(database, first, last):
    day = first
    while day <= last:
        with database.unit_of_work() as s:
            service.run_eod(s, day)
        day += timedelta(days=1)


def active_rows(session, loan_id):
    return service.loan_view(session, loan_id)["schedule"]


def test_payoff_charges_interest_to_date_at_the_daily_rate_and_closes_the_loan(database):
    # 12,000 at 6% under 30/360, paid off after 10 days: 12,000 × 6% / 360 × 10 = 20.00
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 1, 16), date(2024, 1, 24))  # the batch accrued 60 × 9/31 = 17.42
    with database.unit_of_work() as s:
        quote = service.payoff_quote(s, loan.id, "2024-01-25")
        assert (quote["interest"], quote["principal"], quote["total"]) == (D("20.00"), D("12000.00"), D("12020.00"))
        result = service.repay(s, loan.id, "12020.00", posting_key="payoff", value_date="2024-01-25")
        assert result.closed and result.interest == D("20.00")
    run_days(database, date(2024, 1, 25), date(2024, 1, 26))
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert view["status"] == "closed"
        assert view["balances"] == {"principal_outstanding": "0.00", "interest_receivable": "0.00",
                                    "penalty_receivable": "0.00"}
        assert service.account_balance(s, "B01", "interest_income") == D("-20.00")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_paying_more_than_the_payoff_amount_is_refused_naming_the_amount(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
        with pytest.raises(InvalidInput) as caught:
            service.repay(s, loan.id, "99999.00", posting_key="too-much", value_date="2024-01-25")
        assert caught.value.field == "amount"
    with database.unit_of_work() as s:
        for bad, field in (("0", "amount"), ("-1", "amount"), ("1.001", "amount")):
            with pytest.raises(InvalidInput) as caught:
                service.repay(s, loan.id, bad, posting_key="bad", value_date="2024-01-25")
            assert caught.value.field == field
        with pytest.raises(InvalidInput) as caught:
            service.repay(s, loan.id, "10", posting_key="bad", value_date="25/01/2024")
        assert caught.value.field == "value_date"
        assert service.trial_balance(s, "B01").total_debit == D("12000.00")


def _equal_installment_loan(session):
    # 120,000 at 6% over 12 months: PMT(0.5%, 12, 120000) = 10,327.97; first month interest 600.00,
    # principal 9,727.97, balance 110,272.03.
    return open_and_disburse(session, principal="120000.00", rate="0.06", term=12, method="equal_installment",
                             start=date(2024, 1, 1))


def test_early_repayment_with_a_smaller_installment_keeps_the_term(database):
    # After paying the first installment and 50,000 more on 2024-02-01 the balance is 60,272.03;
    # PMT(0.5%, 11, 60272.03) = 5,645.02 (60272.03 × 0.005 / (1 − 1.005⁻¹¹)).
    with database.unit_of_work() as s:
        loan = _equal_installment_loan(s)
        result = service.repay(s, loan.id, "60327.97", posting_key="r", value_date="2024-02-01",
                               prepayment="reduce_installment")
        assert (result.interest, result.principal, result.prepaid_principal) == (D("600.00"), D("9727.97"), D("50000.00"))
        rows = active_rows(s, loan.id)
        assert len(rows) == 12 and rows[0]["settled"]
        assert D(rows[1]["total"]) == D("5645.02")
        assert rows[1]["interest"] == "301.36"  # 60,272.03 × 0.5%
        assert rows[-1]["due_date"] == "2025-01-01"
        assert sum(D(r["principal"]) for r in rows[1:]) == D("60272.03")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_early_repayment_with_a_shorter_term_keeps_the_installment(database):
    # Keeping 10,327.97 a month, 60,272.03 needs 6 more months (PMT(0.5%, 6, …) = 10,221.86 ≤ 10,327.97
    # but PMT(0.5%, 5, …) = 12,235.82 is more), so the loan now ends on 2024-08-01.
    with database.unit_of_work() as s:
        loan = _equal_installment_loan(s)
        service.repay(s, loan.id, "60327.97", posting_key="r", value_date="2024-02-01", prepayment="shorten_term")
        rows = active_rows(s, loan.id)
        assert len(rows) == 7
        assert rows[-1]["due_date"] == "2024-08-01"
        assert service.load_loan(s, loan.id).maturity_date == date(2024, 8, 1)
        assert sum(D(r["principal"]) for r in rows[1:]) == D("60272.03")
        history = s.scalar(select(func.count()).select_from(LoanInstallment).where(LoanInstallment.active.is_(False)))
        assert history == 11  # the replaced rows are kept
        assert_books_consistent(s, [loan.id], ["B01"])


def test_a_mid_period_prepayment_keeps_the_interest_earned_and_charges_the_rest_on_the_new_balance(database):
    # 按期付息 100,000 at 7.2%, 30/360, from 2024-01-01; 40,000 prepaid on 2024-01-11.
    # Earned to date: 100,000 × 7.2% / 360 × 10 = 200.00. Rest of the 31-day period on 60,000:
    # 60,000 × 7.2% / 12 × 21/31 = 243.87. First installment interest: 443.87; then 360.00 a month.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, principal="100000.00", rate="0.072", term=3, method="interest_only",
                                 start=date(2024, 1, 1))
        service.repay(s, loan.id, "40000.00", posting_key="pre", value_date="2024-01-11")
        rows = active_rows(s, loan.id)
        assert [r["interest"] for r in rows] == ["443.87", "360.00", "360.00"]
        assert rows[-1]["principal"] == "60000.00"
    run_days(database, date(2024, 1, 11), date(2024, 2, 1))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan.id).interest_receivable == D("443.87")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_the_allocation_order_is_configurable(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 17))
    with database.unit_of_work() as s:
        result = service.repay(s, loan.id, "1000.00", posting_key="p", value_date="2024-02-18",
                               allocation_order=("principal", "interest", "penalty"))
        assert (result.principal, result.interest, result.penalty) == (D("1000.00"), D("0.00"), D("0.00"))
        assert_books_consistent(s, [loan.id], ["B01"])


def test_reversing_a_repayment_puts_the_arrears_back(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 15))
    with database.unit_of_work() as s:
        paid = service.repay(s, loan.id, "1060.00", posting_key="r1", value_date="2024-02-15")
        assert active_rows(s, loan.id)[0]["settled"]
        service.reverse_loan_entry(s, paid.entry_id, posting_key="rev1", business_date="2024-02-16", reason="bounced")
        view = service.loan_view(s, loan.id)
        assert not view["schedule"][0]["settled"] and view["days_past_due"] == 1
        assert view["balances"]["principal_outstanding"] == "12000.00"
        assert view["balances"]["interest_receivable"] == "60.00"
        assert_books_consistent(s, [loan.id], ["B01"])


def test_an_override_reclassifies_now_and_a_loss_loan_can_be_written_off_and_recovered(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 1, 16), date(2024, 1, 20))  # 60 × 5/31 = 9.68 accrued
    with database.unit_of_work() as s:
        with pytest.raises(InvalidInput) as caught:
            service.override_classification(s, loan.id, "loss", reason=" ", approver="A1", posting_key="o",
                                            business_date="2024-01-21")
        assert caught.value.field == "reason"
        with pytest.raises(LoanStateError):
            service.write_off(s, loan.id, posting_key="w0", business_date="2024-01-21", reason="x")
        service.override_classification(s, loan.id, "loss", reason="borrower deceased, no estate",
                                        approver="A1", posting_key="o1", business_date="2024-01-21")
        assert service.account_balance(s, "B01", "loans_loss") == D("12000.00")
    run_days(database, date(2024, 1, 21), date(2024, 1, 21))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan.id).classification == "loss"  # the batch keeps the override
        service.write_off(s, loan.id, posting_key="w1", business_date="2024-01-22", reason="approved write-off")
        assert service.account_balance(s, "B01", "loans_loss") == D("0.00")
        assert service.account_balance(s, "B01", "loan_loss_provision") == D("12011.61")  # 12,000 + 60 × 6/31
        service.recover(s, loan.id, "500.00", posting_key="rc1", business_date="2024-03-01")
        assert service.account_balance(s, "B01", "bad_debt_recovery") == D("-500.00")
        assert_books_consistent(s, [loan.id], ["B01"])
    run_days(database, date(2024, 1, 22), date(2024, 1, 23))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan.id).interest_receivable == D("0.00")  # no accrual after write-off


def test_a_rate_change_on_a_due_date_reprices_the_remaining_installments_and_keeps_history(database):
    # 100,000 按期付息 at 6% → 4.8% from 2024-03-01: 500.00 a month before, 400.00 after.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, principal="100000.00", rate="0.06", term=6, method="interest_only",
                                 start=date(2024, 1, 1))
        version = service.change_rate(s, loan.id, "0.048", effective_date="2024-03-01", change_key="c1",
                                      reason="LPR repricing", approved_by="A1")
        assert version == 2
        assert [r["interest"] for r in active_rows(s, loan.id)] == ["500.00", "500.00", "400.00", "400.00", "400.00", "400.00"]
        change = s.scalars(select(LoanChange)).one()
        assert (change.old_value, change.new_value) == ("0.06", "0.048")
        assert service.change_rate(s, loan.id, "0.048", effective_date="2024-03-01", change_key="c1") == 2
        with pytest.raises(InvalidInput) as caught:
            service.change_rate(s, loan.id, "0.5", effective_date="2024-03-01", change_key="c2")
        assert caught.value.field == "annual_rate"


def test_a_mid_period_rate_change_charges_each_rate_for_its_days(database):
    # Period 2024-03-01 → 04-01 (31 days); change on 03-16: 100,000 × 6% / 360 × 15 = 250.00
    # then 100,000 × 4.8% / 12 × 16/31 = 206.45: 456.45 for March.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, principal="100000.00", rate="0.06", term=6, method="interest_only",
                                 start=date(2024, 1, 1))
        service.change_rate(s, loan.id, "0.048", effective_date="2024-03-16", change_key="c1")
        assert [r["interest"] for r in active_rows(s, loan.id)][2:4] == ["456.45", "400.00"]
        assert_books_consistent(s, [loan.id], ["B01"])


def test_method_and_repayment_account_changes_are_recorded(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, principal="120000.00", rate="0.06", term=12, method="interest_only",
                                 start=date(2024, 1, 1))
        service.change_method(s, loan.id, "equal_principal", effective_date="2024-06-01", change_key="m1")
        rows = active_rows(s, loan.id)
        assert [r["principal"] for r in rows[5:]] == ["17142.86"] * 6 + ["17142.84"]  # 120,000 / 7
        service.change_repayment_account(s, loan.id, "DEP-NEW", effective_date="2024-06-01", change_key="a1")
        assert service.loan_view(s, loan.id)["terms"]["deposit_account"] == "****-NEW"  # masked (privacy)
        assert s.get(LoanAccount, loan.id).deposit_account == "DEP-NEW"
        assert s.scalar(select(func.count()).select_from(LoanChange)) == 2


def test_a_guarantee_change_is_history_only_once_per_key_and_a_money_kind_is_refused(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, principal="50000.00", rate="0.06", term=12, start=date(2024, 1, 1))
        before = active_rows(s, loan.id)
        version = s.get(LoanAccount, loan.id).schedule_version
        for _ in range(2):  # a retried step records it once
            assert service.record_non_financial_change(
                s, loan.id, "guarantee", "credit", "mortgage", effective_date="2024-03-01", change_key="g1",
                reason="house pledged", approved_by="appr") == version
        assert active_rows(s, loan.id) == before and s.get(LoanAccount, loan.id).schedule_version == version
        assert s.execute(select(LoanChange.kind, LoanChange.old_value, LoanChange.new_value)).all() == [
            ("guarantee", "credit", "mortgage")]
        with pytest.raises(InvalidInput) as refused:
            service.record_non_financial_change(s, loan.id, "rate", "0.06", "0.01", effective_date="2024-03-01",
                                                change_key="g2")
        assert refused.value.field == "kind"
        with pytest.raises(InvalidInput) as late:
            service.record_non_financial_change(s, loan.id, "customer_data", "", "region=Anqiu",
                                                effective_date="2026-01-01", change_key="g3")
        assert late.value.field == "effective_date"   # after the loan's maturity


def test_an_extension_spreads_the_principal_over_the_longer_term_and_is_granted_once(database):
    # 展期 worked by hand: 12,000 at 6 % equal principal over 12 months from 2024-01-15, extended by
    # 6 months on 2024-01-20 (before anything is due): 12,000 / 18 = 666.67 a month (the last row
    # takes the cent: 12,000 - 17 × 666.67 = 666.61). The first month is split at the change, as a
    # mid-period rate change is: 5 days accrued, 12,000 × 6 % / 360 × 5 = 10.00, then the rest of
    # the 31-day period, 12,000 × 6 % / 12 × 26/31 = 50.32: 60.32. The second month is whole:
    # (12,000 - 666.67) × 0.5 % = 56.67.
    # The loan now matures 18 months after its start: 2025-07-15.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
        version = service.extend_term(s, loan.id, 6, effective_date="2024-01-20", change_key="x1",
                                      reason="drought: the harvest comes a season late", approved_by="A1")
        rows = active_rows(s, loan.id)
        assert version == 2 and len(rows) == 18
        assert [r["principal"] for r in rows] == ["666.67"] * 17 + ["666.61"]
        assert [r["interest"] for r in rows[:2]] == ["60.32", "56.67"]
        assert [r["due_date"] for r in rows[11:13]] + [rows[-1]["due_date"]] == ["2025-01-15", "2025-02-15", "2025-07-15"]
        account = s.get(LoanAccount, loan.id)
        assert (account.maturity_date, account.term_months) == (date(2025, 7, 15), 18)
        change = s.scalars(select(LoanChange)).one()
        assert (change.kind, change.old_value, change.new_value) == ("extension", "2025-01-15", "2025-07-15")
        assert service.extend_term(s, loan.id, 6, effective_date="2024-01-20", change_key="x1") == 2  # a replay
        with pytest.raises(LoanStateError) as once:
            service.extend_term(s, loan.id, 3, effective_date="2024-01-25", change_key="x2")
        assert once.value.field == "extra_months" and "extended once" in once.value.message
        assert_books_consistent(s, [loan.id], ["B01"])


@pytest.mark.parametrize("term, extra, most", [(12, 13, 12), (36, 19, 18), (120, 37, 36)])
def test_an_extension_beyond_what_the_rules_allow_for_the_term_is_refused(database, term, extra, most):
    # 贷款通则: short-term loans by up to their term, medium-term by half, long-term by three years.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, term=term)
        with pytest.raises(InvalidInput) as caught:
            service.extend_term(s, loan.id, extra, effective_date="2024-01-20", change_key="x")
        assert caught.value.field == "extra_months"
        assert f"by {most} months at most" in caught.value.message
        assert service.extend_term(s, loan.id, most, effective_date="2024-01-20", change_key="ok") == 2


def test_a_revolving_line_charges_daily_interest_on_whatever_is_drawn(database):
    # 随借随还: a 100,000 line at 7.2% (30/360 → 0.02% a day), Jan 1 → Apr 1, interest settled monthly.
    # Jan 1–11 on 100,000: 200.00; 40,000 repaid on Jan 11; Jan 11–21 on 60,000: 120.00;
    # 20,000 drawn on Jan 21; Jan 21–Feb 1 on 80,000: 176.00 → January's interest 496.00.
    # February (29 days) on 80,000: 464.00; March (31 days): 496.00.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, principal="100000.00", rate="0.072", term=3, method="revolving",
                                 start=date(2024, 1, 1))
        service.repay(s, loan.id, "40000.00", posting_key="repay-1", value_date="2024-01-11")
        service.draw(s, loan.id, "20000.00", posting_key="draw-1", business_date="2024-01-21")
        rows = active_rows(s, loan.id)
        assert [r["interest"] for r in rows] == ["496.00", "464.00", "496.00"]
        assert rows[-1]["principal"] == "80000.00"
        with pytest.raises(InvalidInput) as caught:
            service.draw(s, loan.id, "20000.01", posting_key="draw-2", business_date="2024-01-22")
        assert caught.value.field == "amount"
        assert_books_consistent(s, [loan.id], ["B01"])
    run_days(database, date(2024, 1, 22), date(2024, 2, 1))
    with database.unit_of_work() as s:
        assert service.load_loan(s, loan.id).interest_receivable == D("496.00")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_only_a_revolving_line_can_be_drawn_again(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
        with pytest.raises(LoanStateError):
            service.draw(s, loan.id, "1.00", posting_key="d", business_date="2024-01-20")
