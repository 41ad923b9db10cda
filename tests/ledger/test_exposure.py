"""The exposure rows on one worked loan, and what the ledger refuses as tags."""
from datetime import date
from decimal import Decimal as D

import pytest

from ledger import service
from ledger.errors import InvalidInput
from ledger.exposure import exposure_of
from tests.support.exposure import rows_in_table

TAGS = {"industry": "agriculture", "guarantee_method": "credit", "customer_type": "individual_business"}
ASKED = [{"industry": "agriculture"}, {"guarantee_method": "credit", "customer_type": "individual_business"},
         {"industry": "agriculture", "guarantee_method": "credit", "customer_type": "individual_business"},
         {"industry": "retail"}]


def figures(session, customer="C1"):
    found = exposure_of(session, branch="B01", customer=customer, combinations=ASKED)
    return found.book, found.customer, found.totals


def test_a_tagged_loan_counts_from_disbursement_through_repayment_to_write_off(database):
    with database.unit_of_work() as s:
        loan = service.open_loan(
            s, loan_number="L1", branch="B01", customer_id="C1", product_code="AGRI", principal="12000.00",
            annual_rate="0.06", term_months=12, method="equal_principal", start_date=date(2024, 1, 15),
            deposit_account="D1", exposure_tags=TAGS)
        # opened, not disbursed: nothing outstanding, no rows
        assert rows_in_table(s) == {}
        service.disburse(s, loan.id, posting_key="disburse:L1", business_date=date(2024, 1, 15))
        # an untagged loan of the same branch and customer counts in nothing
        other = service.open_loan(
            s, loan_number="L2", branch="B01", customer_id="C1", product_code="AGRI", principal="5000.00",
            annual_rate="0.06", term_months=6, method="equal_installment", start_date=date(2024, 1, 15),
            deposit_account="D2")
        service.disburse(s, other.id, posting_key="disburse:L2", business_date=date(2024, 1, 15))
    with database.unit_of_work() as s:
        assert figures(s) == (D("12000.00"), D("12000.00"), [D("12000.00")] * 3 + [D("0.00")])
        assert figures(s, customer="C2")[1] == D("0.00")
        assert len(rows_in_table(s)) == 3 + 3 + 3  # book, customer, cell; three dimensions; three pairs
    with database.unit_of_work() as s:
        # first installment on its due date: 1,000 principal + 12,000 × 6 % / 12 = 60 interest
        service.repay(s, "L1", D("1060.00"), posting_key="repay:L1:1", value_date=date(2024, 2, 15))
    with database.unit_of_work() as s:
        assert figures(s) == (D("11000.00"), D("11000.00"), [D("11000.00")] * 3 + [D("0.00")])
    with database.unit_of_work() as s:
        service.override_classification(s, "L1", "loss", reason="uncollectable", approver="A",
                                        posting_key="override:L1", business_date=date(2024, 2, 16))
        # reclassification moves the principal between loans accounts: the exposure stays
        assert figures(s)[0] == D("11000.00")
        service.write_off(s, "L1", posting_key="write-off:L1", business_date=date(2024, 2, 16), reason="x")
    with database.unit_of_work() as s:
        assert figures(s) == (D("0.00"), D("0.00"), [D("0.00")] * 4)


def test_tags_the_ledger_cannot_keep_are_refused_naming_each(database):
    with database.unit_of_work() as s:
        with pytest.raises(InvalidInput) as refused:
            service.open_loan(
                s, loan_number="L1", branch="B01", customer_id="C1", product_code="AGRI", principal="1000.00",
                annual_rate="0.06", term_months=6, method="equal_installment", start_date=date(2024, 1, 15),
                deposit_account="D1", exposure_tags={"book": "x", "a+b": "y", "industry": 7})
    message = str(refused.value)
    assert "'book'" in message and "'a+b'" in message and "industry" in message
