"""Concurrent disbursements in one branch on PostgreSQL lose no exposure update: every thread adds
to the same book, customer and dimension rows (and races to create rows for a value nobody has
used yet), and the rows end equal to the sums from the books."""
import threading
from collections import defaultdict
from datetime import date
from decimal import Decimal as D

import pytest

from ledger import service
from ledger.books import ensure_chart
from ledger.exposure import exposure_of
from ledger.tables import LoanAccount
from tests.conftest import test_keyring
from tests.support.exposure import expected_keys, rows_in_table
from workflows.db import Database

THREADS = 8
LOANS_EACH = 6
TODAY = date(2024, 3, 1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_threads_disbursing_in_one_branch_at_once_lose_no_update(database_url):
    db = Database(database_url, keyring=test_keyring())
    with db.unit_of_work() as s:
        ensure_chart(s, "BR001")  # the branch exists before its loans, as in the product
    start = threading.Barrier(THREADS)
    failures = []

    def disburse_many(thread):
        try:
            start.wait()
            for k in range(LOANS_EACH):
                # Own transaction per loan; every one moves the shared "book" row and a value that the
                # first loans of all threads race to create ("industry=new-<k>").
                with db.unit_of_work() as s:
                    number = f"T{thread}-{k}"
                    loan = service.open_loan(
                        s, loan_number=number, branch="BR001", customer_id=f"C{thread % 2}", product_code="AGRI",
                        principal=D("1000.00") + thread + k, annual_rate=D("0.06"), term_months=12,
                        method="revolving" if k % 2 else "equal_installment", start_date=TODAY,
                        deposit_account="D", exposure_tags={"industry": f"new-{k}", "guarantee_method": "credit"})
                    service.disburse(s, loan.id, posting_key=f"disburse:{number}", business_date=TODAY)
                if k % 2:  # and a repayment of principal on a line, concurrently with the others' disbursements
                    with db.unit_of_work() as s:
                        service.repay(s, number, D("100.00"), posting_key=f"repay:{number}", value_date=TODAY)
        except Exception as error:  # noqa: BLE001 - reported below with the thread
            failures.append((thread, repr(error)))

    threads = [threading.Thread(target=disburse_many, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        with db.unit_of_work() as s:
            loans = s.query(LoanAccount).all()
            assert len(loans) == THREADS * LOANS_EACH
            expected = defaultdict(D)
            for loan in loans:
                tags = {"industry": f"new-{loan.loan_number.split('-')[1]}",
                        "guarantee_method": "credit"}
                for key in expected_keys(loan.customer_id, tags):
                    expected[("BR001", *key)] += loan.principal_outstanding
            assert rows_in_table(s) == dict(expected)
            # the independent worked figure: principals 1000 + thread + k, less 100 on each line (odd k)
            book = sum(D("1000.00") + t + k - (100 if k % 2 else 0) for t in range(THREADS) for k in range(LOANS_EACH))
            figures = exposure_of(s, branch="BR001", customer="C0", combinations=[{"guarantee_method": "credit"}])
            assert figures.book == figures.totals[0] == book
    finally:
        db.dispose()
