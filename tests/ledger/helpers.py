from datetime import date

from ledger import service


def open_and_disburse(session, number="L1", *, branch="B01", principal="12000.00", rate="0.06", term=12,
                      method="equal_principal", start=date(2024, 1, 15), day_count="30/360", disburse=True):
    loan = service.open_loan(
        session, loan_number=number, branch=branch, customer_id=f"C-{number}", product_code="AGRI",
        principal=principal, annual_rate=rate, term_months=term, method=method, start_date=start,
        deposit_account=f"DEP-{number}", day_count=day_count,
    )
    if disburse:
        service.disburse(session, loan.id, posting_key=f"disburse:{number}")
    return loan


def assert_books_consistent(session, loan_ids, branches):
    for branch in branches:
        tb = service.trial_balance(session, branch)
        assert tb.total_debit == tb.total_credit, branch
    for loan_id in loan_ids:
        loan = service.load_loan(session, loan_id)
        posted = service.loan_posting_balances(session, loan_id)
        assert posted == {
            "principal_outstanding": loan.principal_outstanding,
            "interest_receivable": loan.interest_receivable,
            "penalty_receivable": loan.penalty_receivable,
        }, loan.loan_number
