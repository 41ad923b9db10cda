"""Property: after any mix of disbursements, draws, repayments (due, part, payoff, prepayment),
reversals, end-of-day runs, reclassifications and write-offs, the exposure rows equal the sums from
the books: each tagged loan's principal_outstanding added under its branch, customer, each of its
dimension values and its combination; and every combination a limit check can ask for reads the
same from the rows as summed loan by loan."""
from collections import defaultdict
from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import service
from ledger.exposure import exposure_of, tag_loan
from ledger.tables import LoanAccount
from tests.ledger.test_books_stay_balanced import (BRANCHES, World, classify_op, draw_op, eod_op, repay_op,
                                                   reverse_op, write_off_op)
from tests.support.exposure import expected_keys, rows_in_table

# Few values each, so loans share rows and cells and the additions really accumulate.
INDUSTRIES = ("agriculture", "retail")
GUARANTEES = ("credit", "guarantee")
CUSTOMERS = ("C1", "C2", "C3")

tags_of = st.fixed_dictionaries({"industry": st.sampled_from(INDUSTRIES),
                                 "guarantee_method": st.sampled_from(GUARANTEES),
                                 "customer_type": st.sampled_from(("farmer", "individual_business", None))})
tagged_open_op = st.tuples(
    st.just("open_tagged"), st.sampled_from(BRANCHES), st.sampled_from(CUSTOMERS),
    st.decimals(min_value=D("100"), max_value=D("500000"), places=2),
    st.sampled_from(["equal_installment", "equal_principal", "bullet", "revolving"]), tags_of,
)
untagged_open_op = st.tuples(st.just("open"), st.sampled_from(BRANCHES),
                             st.decimals(min_value=D("100"), max_value=D("50000"), places=2),
                             st.just(D("0.06")), st.just(6), st.just("equal_installment"), st.just("30/360"))
retag_op = st.tuples(st.just("retag"), st.integers(0, 9), tags_of)
operations = st.lists(st.one_of(tagged_open_op, tagged_open_op, untagged_open_op, retag_op, eod_op, repay_op,
                                repay_op, reverse_op, classify_op, write_off_op, draw_op, draw_op),
                      min_size=3, max_size=16)


class TaggedWorld(World):
    def __init__(self, database):
        super().__init__(database)
        self.tags: dict[int, dict] = {}  # loan id -> the tags this test gave it

    def open_tagged(self, s, branch, customer, principal, method, tags):
        self.n += 1
        loan = service.open_loan(
            s, loan_number=f"L{self.n}", branch=branch, customer_id=customer, product_code="AGRI",
            principal=principal, annual_rate=D("0.07"), term_months=12, method=method, start_date=self.today,
            deposit_account="D", exposure_tags=tags)
        entry = service.disburse(s, loan.id, posting_key=f"disburse:{self.n}", business_date=self.today)
        self.loans.append(loan.id)
        self.entries.append(entry.id)
        self.tags[loan.id] = tags

    def retag(self, s, index, tags):
        tagged = sorted(self.tags)
        if tagged:
            loan_id = tagged[index % len(tagged)]
            tag_loan(s, service.load_loan(s, loan_id), tags)
            self.tags[loan_id] = tags

    def check_exposure(self):
        with self.db.unit_of_work() as s:
            expected: dict[tuple[str, str, str], D] = defaultdict(D)
            for loan_id, tags in self.tags.items():
                loan = s.get(LoanAccount, loan_id)
                for dimension, value in expected_keys(loan.customer_id, tags):
                    expected[(loan.branch, dimension, value)] += loan.principal_outstanding
            assert rows_in_table(s) == {key: amount for key, amount in expected.items() if amount}

            for branch in BRANCHES:
                loans = [(s.get(LoanAccount, i), tags) for i, tags in self.tags.items()]
                loans = [(loan, tags) for loan, tags in loans if loan.branch == branch]
                asked = [{"industry": i} for i in INDUSTRIES] + [{"guarantee_method": g} for g in GUARANTEES]
                asked += [{"industry": i, "guarantee_method": g} for i in INDUSTRIES for g in GUARANTEES]
                asked += [{"guarantee_method": "credit", "customer_type": "individual_business"},
                          {"guarantee_method": "credit", "customer_type": "individual_business", "industry": "retail"},
                          {"guarantee_method": "guarantee", "customer_type": "farmer", "industry": "agriculture"}]
                for customer in CUSTOMERS:
                    figures = exposure_of(s, branch=branch, customer=customer, combinations=asked)
                    assert figures.book == sum((loan.principal_outstanding for loan, _ in loans), D("0.00"))
                    assert figures.customer == sum((loan.principal_outstanding for loan, _ in loans
                                                    if loan.customer_id == customer), D("0.00"))
                    for values, total in zip(asked, figures.totals):
                        assert total == sum((loan.principal_outstanding for loan, tags in loans
                                             if all(tags.get(n) == v for n, v in values.items())), D("0.00")), values


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=operations)
def test_the_exposure_rows_equal_the_sums_from_the_books_after_any_mix_of_postings(new_database, ops):
    world = TaggedWorld(new_database())
    world.apply(("open_tagged", "B01", "C1", D("10000.00"), "revolving",
                 {"industry": "agriculture", "guarantee_method": "credit", "customer_type": "farmer"}))
    for op in ops:
        world.apply(op)
        world.check_exposure()
    world.check()
