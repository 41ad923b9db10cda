"""What auto-debit collects on a business date: `ledger.collection.due_collections`."""
from datetime import date
from decimal import Decimal as D

from sqlalchemy import event

from ledger import service
from ledger.collection import due_collections
from tests.ledger.helpers import assert_books_consistent, open_and_disburse
from tests.ledger.test_eod import run_days


def test_an_installment_due_today_is_listed_with_its_scheduled_amount_and_a_reference(database):
    # 12,000 at 6 % over 12 months, 等额本息: PMT = 12000 × 0.005 / (1 − 1.005^−12)
    # = 60 / 0.0580951 = 1032.797… → 1032.80; the first month's interest is 12000 × 0.5 % = 60.00.
    with database.unit_of_work() as s:
        loan = open_and_disburse(s, method="equal_installment")
    with database.unit_of_work() as s:
        [due] = due_collections(s, "2024-02-15")
        first = service.loan_view(s, loan.id)["schedule"][0]
    assert (due.amount, due.interest, due.principal, due.penalty) == (D("1032.80"), D("60.00"), D("972.80"), D("0.00"))
    assert str(due.amount) == first["total"]
    assert due.loan_number == "L1" and due.deposit_account == "DEP-L1" and due.branch == "B01"
    assert due.reference == "autodebit:L1:2024-02-15"


def test_nothing_is_due_the_day_before_the_due_date(database):
    with database.unit_of_work() as s:
        open_and_disburse(s)
    with database.unit_of_work() as s:
        assert due_collections(s, date(2024, 2, 14)) == []


def test_an_overdue_installment_and_todays_are_due_together_and_repaying_the_figure_settles_both(database):
    # 12,000 at 6 %, 等额本金: 1,000.00 principal a month; interest 60.00 (on 12,000) then 55.00 (on 11,000).
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    with database.unit_of_work() as s:
        [due] = due_collections(s, date(2024, 3, 15))
        assert (due.principal, due.interest, due.amount) == (D("2000.00"), D("115.00"), D("2115.00"))
        result = service.repay(s, loan.id, due.amount, posting_key=due.reference, value_date=due.business_date)
        assert result.prepaid_principal == D("0.00") and result.principal == D("2000.00")
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert [row["settled"] for row in view["schedule"][:3]] == [True, True, False]
        assert view["balances"]["principal_outstanding"] == "10000.00"
        assert due_collections(s, date(2024, 3, 15)) == []
        assert_books_consistent(s, [loan.id], ["B01"])


def test_penalty_outstanding_is_due_with_the_arrears(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 17))
    with database.unit_of_work() as s:
        [due] = due_collections(s, date(2024, 2, 18))
        # overdue principal 1,000.00 × 9 % / 360 = 0.25 a day on the 16th and 17th (as test_eod)
        assert (due.penalty, due.interest, due.principal, due.amount) == (D("0.50"), D("60.00"), D("1000.00"), D("1060.50"))
        result = service.repay(s, loan.id, due.amount, posting_key=due.reference, value_date=due.business_date)
        assert (result.penalty, result.interest, result.principal, result.prepaid_principal) == (
            D("0.50"), D("60.00"), D("1000.00"), D("0.00"))
    with database.unit_of_work() as s:
        assert due_collections(s, date(2024, 2, 18)) == []
        assert_books_consistent(s, [loan.id], ["B01"])


def test_loans_not_yet_disbursed_or_already_paid_are_not_listed(database):
    with database.unit_of_work() as s:
        open_and_disburse(s, "NEW", disburse=False)
        paid = open_and_disburse(s, "PAID")
        open_and_disburse(s, "DUE")
        service.repay(s, paid.id, "1060.00", posting_key="paid-by-hand", value_date="2024-02-15")
    with database.unit_of_work() as s:
        assert [due.loan_number for due in due_collections(s, "2024-02-15")] == ["DUE"]


def test_a_date_the_batch_has_already_closed_lists_nothing_because_the_ledger_would_refuse_the_repayment(database):
    with database.unit_of_work() as s:
        open_and_disburse(s)
    run_days(database, date(2024, 2, 15), date(2024, 2, 17))
    with database.unit_of_work() as s:
        assert due_collections(s, "2024-02-15") == []
        assert len(due_collections(s, "2024-02-17")) == 1


def test_due_collections_are_found_in_one_statement_however_many_loans(database):
    def selects_for(loan_count):
        with database.unit_of_work() as s:
            for n in range(loan_count):
                open_and_disburse(s, f"N{loan_count}-{n:03}")
        statements = []

        def count(_conn, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)

        event.listen(database.engine, "before_cursor_execute", count)
        try:
            with database.unit_of_work() as s:
                listed = due_collections(s, "2024-02-15")
        finally:
            event.remove(database.engine, "before_cursor_execute", count)
        return len(statements), len(listed)

    assert selects_for(3) == (1, 3)
    assert selects_for(30) == (1, 33)
