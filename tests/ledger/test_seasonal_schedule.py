"""The seasonal repayment method (按收获季节还本) against worked examples computed by hand here
(30/360: a month's interest is balance × rate / 12, a quarter's balance × rate / 4, each rounded
to the fen; principal in equal parts on the harvest-month due dates after the grace period, the
residue and whatever remains at maturity)."""
from datetime import date
from decimal import Decimal as D

import pytest

from ledger.errors import InvalidInput
from ledger.schedules import build_schedule


def rows(schedule):
    return [(i.due_date, i.principal, i.interest, i.remaining_balance) for i in schedule.installments]


def test_monthly_interest_and_principal_at_the_july_and_october_harvests_and_maturity():
    # 100,000 at 6 % from 2026-03-15 for 12 months: interest 500.00 a month on 100,000;
    # principal 100,000 / 3 = 33,333.33 on 07-15 and 10-15, and 33,333.34 at maturity (March).
    # After July: 66,666.67 × 0.005 = 333.33335 -> 333.33; after October: 33,333.34 × 0.005 = 166.6667 -> 166.67.
    schedule = build_schedule("100000", "0.06", 12, "seasonal", "2026-03-15", harvest_months=[7, 10])
    expected = [(date(2026, 4, 15), D("0"), D("500.00"), D("100000.00")),
                (date(2026, 5, 15), D("0"), D("500.00"), D("100000.00")),
                (date(2026, 6, 15), D("0"), D("500.00"), D("100000.00")),
                (date(2026, 7, 15), D("33333.33"), D("500.00"), D("66666.67")),
                (date(2026, 8, 15), D("0"), D("333.33"), D("66666.67")),
                (date(2026, 9, 15), D("0"), D("333.33"), D("66666.67")),
                (date(2026, 10, 15), D("33333.33"), D("333.33"), D("33333.34")),
                *[(date(y, m, 15), D("0"), D("166.67"), D("33333.34"))
                  for y, m in ((2026, 11), (2026, 12), (2027, 1), (2027, 2))],
                (date(2027, 3, 15), D("33333.34"), D("166.67"), D("0.00"))]
    assert rows(schedule) == expected
    assert schedule.total_interest == D("3833.34")  # 4 × 500 + 3 × 333.33 + 5 × 166.67
    assert schedule.to_dict()["harvest_months"] == [7, 10] and schedule.to_dict()["grace_months"] == 0


def test_quarterly_interest_with_a_year_of_grace():
    # 90,000 at 7.2 % from 2026-01-10, 24 months, quarterly: a quarter's interest is 1.8 % of the
    # balance, 1,620.00 on 90,000. Harvest months July and October; 12 months' grace, so July and
    # October 2026 repay nothing; principal 30,000 on 2027-07-10 and 2027-10-10 and at maturity
    # 2028-01-10; interest then 1,080.00 on 60,000 and 540.00 on 30,000.
    schedule = build_schedule("90000", "0.072", 24, "seasonal", "2026-01-10", frequency="quarterly",
                              harvest_months="7,10", grace_months=12)
    assert rows(schedule) == [
        (date(2026, 4, 10), D("0"), D("1620.00"), D("90000.00")),
        (date(2026, 7, 10), D("0"), D("1620.00"), D("90000.00")),
        (date(2026, 10, 10), D("0"), D("1620.00"), D("90000.00")),
        (date(2027, 1, 10), D("0"), D("1620.00"), D("90000.00")),
        (date(2027, 4, 10), D("0"), D("1620.00"), D("90000.00")),
        (date(2027, 7, 10), D("30000.00"), D("1620.00"), D("60000.00")),
        (date(2027, 10, 10), D("30000.00"), D("1080.00"), D("30000.00")),
        (date(2028, 1, 10), D("30000.00"), D("540.00"), D("0.00")),
    ]
    assert schedule.total_interest == D("11340.00")


@pytest.mark.parametrize("changes, field, reason", [
    ({}, "harvest_months", "harvest_months are required"),
    ({"harvest_months": [7, 13]}, "harvest_months", "is not a month"),
    ({"harvest_months": [7, 7]}, "harvest_months", "each month once"),
    ({"harvest_months": [7], "grace_months": 12}, "grace_months", "from 0 to 11"),
    ({"harvest_months": [8], "frequency": "quarterly"}, "harvest_months", "no due date after the grace period"),
])
def test_bad_seasonal_terms_name_the_field(changes, field, reason):
    frequency = changes.pop("frequency", "monthly")
    with pytest.raises(InvalidInput) as refused:
        build_schedule("100000", "0.06", 12, "seasonal", "2026-03-15", frequency=frequency, **changes)
    assert refused.value.field == field and reason in str(refused.value)


def test_harvest_months_belong_to_the_seasonal_method_only():
    with pytest.raises(InvalidInput) as refused:
        build_schedule("100000", "0.06", 12, "equal_principal", "2026-03-15", harvest_months=[7])
    assert refused.value.field == "harvest_months"


def test_a_seasonal_loan_prepaid_keeps_repaying_principal_in_its_harvest_months(database):
    # The first example's loan, opened and disbursed; on 2026-04-15 the farmer pays the first
    # installment (500.00 interest) and 40,000 more, keeping the term: 60,000 remain, repaid
    # 20,000 on 07-15, 10-15 and at maturity 2027-03-15; May's interest is 60,000 × 0.005 = 300.00.
    from ledger import service
    from tests.ledger.helpers import assert_books_consistent

    with database.unit_of_work() as s:
        loan = service.open_loan(s, loan_number="S1", branch="B01", customer_id="C-S1", product_code="AGRI",
                                 principal="100000.00", annual_rate="0.06", term_months=12, method="seasonal",
                                 start_date="2026-03-15", deposit_account="DEP-S1", harvest_months=[7, 10])
        service.disburse(s, loan.id, posting_key="disburse:S1")
        result = service.repay(s, loan.id, "40500.00", posting_key="r", value_date="2026-04-15",
                               prepayment="reduce_installment")
        assert (result.interest, result.principal, result.prepaid_principal) == (D("500.00"), D("0.00"), D("40000.00"))
        rows = {r["due_date"]: (D(r["principal"]), D(r["interest"])) for r in service.loan_view(s, loan.id)["schedule"]}
        assert rows["2026-05-15"] == (D("0"), D("300.00"))
        assert rows["2026-07-15"][0] == rows["2026-10-15"][0] == rows["2027-03-15"][0] == D("20000.00")
        assert rows["2026-08-15"][0] == D("0")
        assert_books_consistent(s, [loan.id], ["B01"])


def test_the_loan_calculator_previews_a_seasonal_schedule_and_names_a_bad_field(client):
    query = "principal=100000&annual_rate=0.06&term_months=12&method=seasonal&start_date=2026-03-15"
    preview = client.get(f"/api/v1/schedules/preview?{query}&harvest_months=7,10")
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["harvest_months"] == [7, 10] and body["totals"]["interest"] == "3833.34"
    assert [i["principal"] for i in body["installments"] if D(i["principal"])] == ["33333.33", "33333.33", "33333.34"]
    refused = client.get(f"/api/v1/schedules/preview?{query}&harvest_months=7,13")
    assert refused.status_code == 422 and "harvest_months" in refused.get_json()["fields"]


def test_digits_of_other_scripts_are_refused_not_a_server_error(client):
    query = "principal=100000&annual_rate=0.06&term_months=12&method=seasonal&start_date=2026-03-15"
    for extra in ("harvest_months=%C2%B2", "harvest_months=7&grace_months=%C2%B2"):
        answer = client.get(f"/api/v1/schedules/preview?{query}&{extra}")
        assert answer.status_code == 422, extra
