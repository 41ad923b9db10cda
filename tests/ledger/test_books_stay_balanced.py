"""Property: after any mix of disbursements, end-of-day runs, repayments and reversals, every
branch's trial balance nets to zero and each loan's balances equal the sum of its postings."""
from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import service
from ledger.accrual import accrued_interest
from ledger.errors import LedgerError
from ledger.tables import LoanInstallment
from sqlalchemy import select
from tests.ledger.helpers import assert_books_consistent

BRANCHES = ("B01", "B02")

open_op = st.tuples(
    st.just("open"),
    st.sampled_from(BRANCHES),
    st.decimals(min_value=D("100"), max_value=D("500000"), places=2),
    st.decimals(min_value=D("0"), max_value=D("0.24"), places=4),
    st.sampled_from([1, 3, 6, 12]),
    st.sampled_from(["equal_installment", "equal_principal", "bullet", "interest_only", "revolving"]),
    st.sampled_from(["30/360", "actual/365", "actual/actual"]),
)
eod_op = st.tuples(st.just("eod"), st.integers(1, 45))
repay_op = st.tuples(
    st.just("repay"), st.integers(0, 9), st.sampled_from(["due", "part", "payoff", "prepay"]),
    st.decimals(min_value=D("0.01"), max_value=D("1"), places=2), st.sampled_from(["reduce_installment", "shorten_term"]),
)
reverse_op = st.tuples(st.just("reverse"), st.integers(0, 20))
rate_op = st.tuples(st.just("change_rate"), st.integers(0, 9), st.decimals(min_value=D("0"), max_value=D("0.24"), places=4))
classify_op = st.tuples(st.just("override"), st.integers(0, 9),
                        st.sampled_from(["special_mention", "substandard", "doubtful", "loss", None]))
write_off_op = st.tuples(st.just("write_off"), st.integers(0, 9), st.decimals(min_value=D("0.01"), max_value=D("999"), places=2))
draw_op = st.tuples(st.just("draw"), st.integers(0, 9), st.decimals(min_value=D("0.01"), max_value=D("1"), places=2))
operations = st.lists(
    st.one_of(open_op, eod_op, eod_op, repay_op, repay_op, reverse_op, rate_op, classify_op, write_off_op, draw_op),
    min_size=3, max_size=14,
)


class World:
    def __init__(self, database):
        self.db = database
        self.today = date(2024, 1, 31)
        self.loans: list[int] = []
        self.entries: list[int] = []
        self.n = 0

    def apply(self, op):
        kind = op[0]
        try:
            with self.db.unit_of_work() as s:
                getattr(self, kind)(s, *op[1:])
        except LedgerError:
            pass  # refused operations must leave the books untouched (checked below)

    def open(self, s, branch, principal, rate, term, method, day_count):
        self.n += 1
        loan = service.open_loan(
            s, loan_number=f"L{self.n}", branch=branch, customer_id="C", product_code="P", principal=principal,
            annual_rate=rate, term_months=term, method=method, start_date=self.today, deposit_account="D",
            day_count=day_count,
        )
        entry = service.disburse(s, loan.id, posting_key=f"disburse:{self.n}", business_date=self.today)
        self.loans.append(loan.id)
        self.entries.append(entry.id)

    def eod(self, s, days):
        for _ in range(days):
            service.run_eod(s, self.today)
            self.today += timedelta(days=1)

    def repay(self, s, index, how, fraction, mode):
        if not self.loans:
            return
        loan_id = self.loans[index % len(self.loans)]
        quote = service.payoff_quote(s, loan_id, self.today)
        view = service.loan_view(s, loan_id)
        due = sum(
            (D(r["principal"]) - D(r["principal_paid"]) + D(r["interest"]) - D(r["interest_paid"])
             for r in view["schedule"] if not r["settled"] and r["due_date"] <= self.today.isoformat()),
            D("0"),
        ) + quote["penalty"]
        amount = {
            "due": due,
            "part": (due * fraction).quantize(D("0.01")),
            "payoff": quote["total"],
            "prepay": due + (D(view["balances"]["principal_outstanding"]) * fraction / 2).quantize(D("0.01")),
        }[how]
        self.n += 1
        result = service.repay(s, loan_id, amount, posting_key=f"repay:{self.n}", value_date=self.today,
                               prepayment=mode)
        self.entries.append(result.entry_id)

    def reverse(self, s, index):
        if not self.entries:
            return
        self.n += 1
        service.reverse_loan_entry(s, self.entries[index % len(self.entries)], posting_key=f"reverse:{self.n}",
                                   business_date=self.today, reason="test")

    def _loan(self, index):
        return self.loans[index % len(self.loans)] if self.loans else None

    def change_rate(self, s, index, rate):
        if self.loans:
            self.n += 1
            service.change_rate(s, self._loan(index), rate, effective_date=self.today, change_key=f"rate:{self.n}")

    def override(self, s, index, classification):
        if self.loans:
            self.n += 1
            service.override_classification(s, self._loan(index), classification, reason="review", approver="A",
                                            posting_key=f"override:{self.n}", business_date=self.today)

    def write_off(self, s, index, recovered):
        if self.loans:
            self.n += 1
            loan_id = self._loan(index)
            service.override_classification(s, loan_id, "loss", reason="uncollectable", approver="A",
                                            posting_key=f"override:{self.n}", business_date=self.today)
            service.write_off(s, loan_id, posting_key=f"write-off:{self.n}", business_date=self.today, reason="x")
            service.recover(s, loan_id, recovered, posting_key=f"recover:{self.n}", business_date=self.today)

    def draw(self, s, index, fraction):
        if self.loans:
            self.n += 1
            loan = service.load_loan(s, self._loan(index))
            amount = ((loan.principal - loan.principal_outstanding) * fraction).quantize(D("0.01"))
            service.draw(s, loan.id, amount, posting_key=f"draw:{self.n}", business_date=self.today)

    def check(self):
        with self.db.unit_of_work() as s:
            assert_books_consistent(s, self.loans, BRANCHES)
            tb = service.trial_balance(s)
            assert tb.total_debit == tb.total_credit
            for loan_id in self.loans:
                loan = service.load_loan(s, loan_id)
                rows = s.scalars(select(LoanInstallment).where(LoanInstallment.loan_id == loan_id,
                                                               LoanInstallment.active.is_(True))).all()
                if loan.status in ("active", "closed"):
                    assert sum((r.principal - r.principal_paid for r in rows), D(0)) == loan.principal_outstanding
                    assert sum((accrued_interest(loan, r) - r.interest_paid for r in rows), D(0)) == loan.interest_receivable


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=operations)
def test_any_mix_of_postings_keeps_every_branch_balanced_and_every_loan_equal_to_its_postings(new_database, ops):
    world = World(new_database())
    world.apply(("open", "B01", D("10000.00"), D("0.05"), 6, "equal_installment", "30/360"))
    for op in ops:
        world.apply(op)
        world.check()
