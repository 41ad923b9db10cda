from datetime import date
from decimal import Decimal as D

import pytest

from ledger.books import credit, debit, ensure_chart, post_entry, reverse_entry, trial_balance, account_balance
from ledger.errors import AlreadyReversed, LedgerError, UnbalancedEntry, UnknownAccount
from ledger.tables import JournalEntry, JournalLine
from sqlalchemy import func, select

DAY = date(2024, 3, 1)


def _post(session, key, amount="100.00", branch="B01", **kw):
    return post_entry(
        session, branch=branch, posting_key=key, business_date=DAY, kind="manual",
        lines=kw.pop("lines", [debit("provision_expense", D(amount)), credit("loan_loss_provision", D(amount))]), **kw,
    )


def test_a_balanced_entry_is_posted_and_shows_in_the_trial_balance(database):
    with database.unit_of_work() as s:
        ensure_chart(s, "B01")
        _post(s, "k1", "250.50")
    with database.unit_of_work() as s:
        tb = trial_balance(s, "B01")
        assert tb.is_balanced and tb.total_debit == D("250.50")
        assert account_balance(s, "B01", "loan_loss_provision") == D("-250.50")


def test_an_unbalanced_entry_is_refused_and_nothing_is_written(database):
    with database.unit_of_work() as s:
        ensure_chart(s, "B01")
    with pytest.raises(UnbalancedEntry) as caught:
        with database.unit_of_work() as s:
            _post(s, "bad", lines=[debit("provision_expense", D("10.00")), credit("loan_loss_provision", D("9.99"))])
    assert caught.value.field == "lines"
    with database.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == 0


@pytest.mark.parametrize("lines", [
    [debit("provision_expense", D("0")), credit("loan_loss_provision", D("0"))],
    [debit("provision_expense", D("-5")), credit("loan_loss_provision", D("-5"))],
    [debit("provision_expense", D("5"))],
    [debit("provision_expense", D("5.001")), credit("loan_loss_provision", D("5.001"))],
])
def test_zero_negative_one_sided_or_sub_fen_lines_are_refused(database, lines):
    with database.unit_of_work() as s:
        ensure_chart(s, "B01")
        with pytest.raises(LedgerError) as caught:
            _post(s, "x", lines=lines)
        assert getattr(caught.value, "code", None) in {"unbalanced_entry", "invalid_input"}


def test_an_account_outside_the_branch_chart_is_refused(database):
    with database.unit_of_work() as s:
        ensure_chart(s, "B01")
        with pytest.raises(UnknownAccount):
            _post(s, "x", lines=[debit("petty_cash", D("1")), credit("loan_loss_provision", D("1"))])
        with pytest.raises(UnknownAccount):
            _post(s, "y", branch="B99")


def test_posting_twice_with_the_same_key_returns_the_first_entry_and_posts_nothing(database):
    with database.unit_of_work() as s:
        ensure_chart(s, "B01")
        first = _post(s, "same", "10.00")
    with database.unit_of_work() as s:
        again = _post(s, "same", "99.00")
        assert again.id == first.id
        assert s.scalar(select(func.count()).select_from(JournalLine)) == 2
        assert trial_balance(s, "B01").total_debit == D("10.00")


def test_a_reversal_is_a_new_mirrored_entry_and_cannot_be_repeated(database):
    with database.unit_of_work() as s:
        ensure_chart(s, "B01")
        original = _post(s, "orig", "42.42")
        reversal = reverse_entry(s, original.id, posting_key="rev", business_date=DAY, reason="typo")
        assert reversal.reverses_entry_id == original.id
        assert reverse_entry(s, original.id, posting_key="rev", business_date=DAY, reason="typo").id == reversal.id
        with pytest.raises(AlreadyReversed):
            reverse_entry(s, original.id, posting_key="rev2", business_date=DAY, reason="again")
        assert account_balance(s, "B01", "loan_loss_provision") == D("0.00")
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == 2


def test_the_consolidated_trial_balance_adds_up_every_branch(database):
    with database.unit_of_work() as s:
        for branch, amount in (("B01", "1.10"), ("B02", "2.20")):
            ensure_chart(s, branch)
            _post(s, f"k-{branch}", amount, branch=branch)
        tb = trial_balance(s)
        assert tb.is_balanced and tb.total_debit == D("3.30")
        assert {r.branch for r in tb.rows} == {"*"}
