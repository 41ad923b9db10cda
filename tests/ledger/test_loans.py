from decimal import Decimal as D

import pytest

from ledger import service
from ledger.errors import DuplicateLoan, InvalidInput, LoanStateError, UnknownLoan
from tests.ledger.helpers import assert_books_consistent, open_and_disburse


def test_disbursing_a_loan_debits_loans_receivable_and_credits_the_customer_deposit(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
    with database.unit_of_work() as s:
        view = service.loan_view(s, loan.id)
        assert view["status"] == "active"
        assert view["balances"]["principal_outstanding"] == "12000.00"
        assert len(view["schedule"]) == 12 and view["schedule"][0]["principal"] == "1000.00"
        assert view["schedule"][0]["interest"] == "60.00"
        (tx,) = view["transactions"]
        assert {(l["account"], l["debit"], l["credit"]) for l in tx["lines"]} == {
            ("loans_normal", "12000.00", "0.00"), ("customer_deposits", "0.00", "12000.00")}
        assert service.account_balance(s, "B01", "customer_deposits") == D("-12000.00")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_disbursing_twice_with_the_same_key_posts_once_and_with_another_key_is_refused(database):
    with database.unit_of_work() as s:
        loan = open_and_disburse(s)
        again = service.disburse(s, loan.id, posting_key="disburse:L1")
        assert again.kind == "disbursement"
        with pytest.raises(LoanStateError):
            service.disburse(s, loan.id, posting_key="other")
        assert service.trial_balance(s, "B01").total_debit == D("12000.00")


def test_opening_the_same_contract_twice_returns_the_same_account(database):
    with database.unit_of_work() as s:
        first = open_and_disburse(s, disburse=False)
        assert open_and_disburse(s, disburse=False).id == first.id
        with pytest.raises(DuplicateLoan):
            open_and_disburse(s, principal="13000.00", disburse=False)


@pytest.mark.parametrize("override, field", [
    ({"principal": "0"}, "principal"), ({"principal": "-5"}, "principal"), ({"term": 0}, "term_months"),
    ({"rate": "0.30"}, "annual_rate"), ({"start": "2024-13-01"}, "start_date"), ({"method": "x"}, "method"),
])
def test_bad_contract_terms_name_the_field_and_open_nothing(database, override, field):
    with database.unit_of_work() as s:
        with pytest.raises(InvalidInput) as caught:
            open_and_disburse(s, **override)
        assert caught.value.field == field
        assert service.trial_balance(s).rows == []


def test_an_unknown_loan_is_a_typed_error_naming_the_loan(database):
    with database.unit_of_work() as s:
        with pytest.raises(UnknownLoan) as caught:
            service.loan_view(s, 999)
        assert caught.value.field == "loan_id"
        with pytest.raises(UnknownLoan):
            service.repay(s, 999, "10", posting_key="x", value_date="2024-01-01")
