"""Schedules against independent published figures (never the code's own output).

Sources of the figures:
- numpy-financial `pmt` docstring: pmt(0.075/12, 12*15, 200000) = -1854.0247200054619.
- numpy-financial `ipmt`/`ppmt` docstring: the amortization table of 2500 at 8.24% over 12 months
  (interest column 17.17, 15.79, 14.40, …; principal column -200.58, -201.96, …; total interest
  -112.98). numpy keeps the payment unrounded, so principal parts may differ by a fen.
- Excel/LibreOffice PMT documentation: PMT(8%/12, 10, 10000) = -1037.03;
  LibreOffice help PMT(1.99%/12; 36; 25000) = -715.96.
- Chinese bank calculators' standard examples: 1,000,000 yuan at 4.9% over 30 years, 等额本息
  5307.27 a month (first month interest 4083.33, principal 1223.94); over 20 years 6544.44;
  等额本金 first month 6861.11 (2777.78 + 4083.33) over 30 years, second month 6849.77, and
  8250.00 (4166.67 + 4083.33) over 20 years.
- Apache Fineract's ProgressiveEMICalculatorTest: 100 at 9.4822% (30/360) and 100 at 15.678%
  (actual days / 365) over 6 months, every installment's EMI, interest, principal and balance.
- Day-count figures are hand computations from the conventions' definitions (shown inline).
"""
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.schedules import (
    METHODS,
    add_months,
    annuity_payment,
    build_schedule,
)


def test_numpy_financial_pmt_example_rounds_to_1854_02():
    assert annuity_payment(D("200000"), D("0.075"), 180) == D("1854.02")
    schedule = build_schedule("200000", "0.075", 180, "equal_installment", "2020-01-01")
    assert schedule.installments[0].total == D("1854.02")


def test_excel_pmt_documentation_example_is_1037_03():
    schedule = build_schedule("10000", "0.08", 10, "equal_installment", "2024-01-01")
    assert [i.total for i in schedule.installments[:-1]] == [D("1037.03")] * 9


def test_libreoffice_pmt_documentation_example_is_715_96():
    assert annuity_payment(D("25000"), D("0.0199"), 36) == D("715.96")


def test_numpy_financial_ipmt_table_interest_column_matches_to_the_fen():
    published_interest = ["17.17", "15.79", "14.40", "13.01", "11.60", "10.18", "8.76", "7.32", "5.88", "4.42", "2.96"]
    published_principal = ["200.58", "201.96", "203.35", "204.74", "206.15", "207.56", "208.99", "210.42", "211.87", "213.32", "214.79", "216.26"]
    schedule = build_schedule("2500", "0.0824", 12, "equal_installment", "2024-01-01")
    rows = schedule.installments
    assert [str(r.interest) for r in rows[:11]] == published_interest
    for row, published in zip(rows, published_principal):
        assert abs(row.principal - D(published)) <= D("0.02")
    assert abs(schedule.total_interest - D("112.98")) <= D("0.02")
    assert schedule.total_principal == D("2500.00")


def test_fineract_emi_example_on_30_360_matches_every_figure():
    # Apache Fineract ProgressiveEMICalculatorTest.test_disbursedAmt100_dayInYears360_daysInMonth30_repayEvery1Month:
    # 100 at 9.4822%, 6 months from 2024-01-01: EMI 17.13.
    schedule = build_schedule("100", "0.094822", 6, "equal_installment", "2024-01-01")
    rows = [(str(r.total), str(r.interest), str(r.principal), str(r.remaining_balance)) for r in schedule.installments]
    assert rows == [
        ("17.13", "0.79", "16.34", "83.66"), ("17.13", "0.66", "16.47", "67.19"), ("17.13", "0.53", "16.60", "50.59"),
        ("17.13", "0.40", "16.73", "33.86"), ("17.13", "0.27", "16.86", "17.00"), ("17.13", "0.13", "17.00", "0.00"),
    ]


def test_fineract_emi_example_on_actual_365_uses_each_periods_own_days():
    # Fineract test_emiAdjustment_newCalculatedEmiNotBetterThanOriginal: 100 at 15.678%, DAYS_365 /
    # actual days in month, 6 months from 2024-01-01: EMI 17.43, last 17.47.
    schedule = build_schedule("100", "0.15678", 6, "equal_installment", "2024-01-01", day_count="actual/365")
    rows = [(str(r.total), str(r.interest), str(r.principal), str(r.remaining_balance)) for r in schedule.installments]
    assert rows == [
        ("17.43", "1.33", "16.10", "83.90"), ("17.43", "1.05", "16.38", "67.52"), ("17.43", "0.90", "16.53", "50.99"),
        ("17.43", "0.66", "16.77", "34.22"), ("17.43", "0.46", "16.97", "17.25"), ("17.47", "0.22", "17.25", "0.00"),
    ]


def test_fineract_twelve_month_example_pays_8_65_a_month():
    # Fineract test_emi_calculator_performance: 100 at 7%, 30/360, 12 months → EMI 8.65.
    schedule = build_schedule("100", "0.07", 12, "equal_installment", "2024-01-01")
    assert {r.total for r in schedule.installments[:-1]} == {D("8.65")}


def test_chinese_equal_installment_example_one_million_at_4_9_percent_over_30_years():
    schedule = build_schedule("1000000", "0.049", 360, "equal_installment", "2024-01-15")
    first = schedule.installments[0]
    assert (first.total, first.interest, first.principal) == (D("5307.27"), D("4083.33"), D("1223.94"))
    assert all(i.total == D("5307.27") for i in schedule.installments[:-1])
    assert annuity_payment(D("1000000"), D("0.049"), 240) == D("6544.44")


def test_chinese_equal_principal_example_first_month_is_6861_11_then_falls_by_11_34():
    schedule = build_schedule("1000000", "0.049", 360, "equal_principal", "2024-01-15")
    first, second = schedule.installments[:2]
    assert (first.principal, first.interest, first.total) == (D("2777.78"), D("4083.33"), D("6861.11"))
    assert second.total == D("6849.77")
    twenty_years = build_schedule("1000000", "0.049", 240, "equal_principal", "2024-01-15")
    assert twenty_years.installments[0].total == D("8250.00")


def test_equal_principal_puts_the_rounding_residue_in_the_last_installment():
    # 1,000,000 / 360 = 2777.777…: 359 × 2777.78 = 997,223.02, so the last is 2,776.98.
    schedule = build_schedule("1000000", "0.049", 360, "equal_principal", "2024-01-15")
    assert schedule.installments[-1].principal == D("2776.98")
    assert schedule.installments[-1].remaining_balance == D("0.00")


def test_bullet_pays_all_interest_and_principal_at_maturity_under_30_360():
    # 利随本清: 100,000 × 4.35% × 6/12 = 2,175.00
    schedule = build_schedule("100000", "0.0435", 6, "bullet", "2024-03-10")
    (only,) = schedule.installments
    assert only.due_date == date(2024, 9, 10)
    assert (only.principal, only.interest, only.total) == (D("100000.00"), D("2175.00"), D("102175.00"))


def test_bullet_under_actual_365_counts_the_calendar_days():
    # 2024-01-01 → 2024-04-01 is 91 days (leap February): 10,000 × 3.65% × 91/365 = 91.00
    (only,) = build_schedule("10000", "0.0365", 3, "bullet", "2024-01-01", day_count="actual/365").installments
    assert only.interest == D("91.00")


def test_actual_actual_splits_a_period_across_a_leap_year_boundary():
    # 2023-12-01 → 2024-03-01: 31 days of 2023 / 365 + 60 days of 2024 / 366
    # 100,000 × 3.65% × (31/365 + 60/366) = 310.00 + 598.36 = 908.36
    (only,) = build_schedule("100000", "0.0365", 3, "bullet", "2023-12-01", day_count="actual/actual").installments
    assert only.interest == D("908.36")


def test_interest_only_pays_interest_each_month_and_principal_at_maturity():
    # 按期付息到期还本: 120,000 × 6% / 12 = 600.00 a month
    schedule = build_schedule("120000", "0.06", 12, "interest_only", "2024-01-05")
    assert [i.interest for i in schedule.installments] == [D("600.00")] * 12
    assert [i.principal for i in schedule.installments[:-1]] == [D("0.00")] * 11
    assert schedule.installments[-1].total == D("120600.00")


def test_revolving_preview_charges_daily_interest_on_actual_days_of_each_period():
    # 随借随还, 30/360 → daily rate = 7.2% / 360 = 0.02% a day on 50,000 = 10.00 a day
    schedule = build_schedule("50000", "0.072", 3, "revolving", "2024-01-31")
    days = [31 - 2, 31, 30]  # Jan 31 → Feb 29 (29 days), → Mar 31 (31), → Apr 30 (30)
    assert [i.due_date for i in schedule.installments] == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
    assert [i.interest for i in schedule.installments] == [D(10 * d) for d in days]
    assert schedule.installments[-1].principal == D("50000.00")


def test_quarterly_equal_installment_uses_the_quarterly_rate():
    # PMT(6%/4, 4, 120000) = 31,133.37 (120000 × 0.015 / (1 − 1.015⁻⁴))
    schedule = build_schedule("120000", "0.06", 12, "equal_installment", "2024-01-01", frequency="quarterly")
    assert [i.due_date for i in schedule.installments] == [date(2024, 4, 1), date(2024, 7, 1), date(2024, 10, 1), date(2025, 1, 1)]
    assert schedule.installments[0].total == D("31133.37")
    assert schedule.installments[0].interest == D("1800.00")


def test_a_loan_taken_on_january_31_falls_due_on_the_last_day_of_short_months():
    schedule = build_schedule("12000", "0.05", 4, "equal_principal", "2023-01-31")
    assert [i.due_date for i in schedule.installments] == [
        date(2023, 2, 28), date(2023, 3, 31), date(2023, 4, 30), date(2023, 5, 31)
    ]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_a_zero_rate_loan_repays_only_principal():
    schedule = build_schedule("1000", "0", 3, "equal_installment", "2024-01-01")
    assert [i.total for i in schedule.installments] == [D("333.33"), D("333.33"), D("333.34")]
    assert schedule.total_interest == D("0.00")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(principal="0"), "principal"),
        (dict(principal="-100"), "principal"),
        (dict(principal="10.001"), "principal"),
        (dict(principal="1e20"), "principal"),
        (dict(principal="abc"), "principal"),
        (dict(principal=100.5), "principal"),
        (dict(term_months=0), "term_months"),
        (dict(term_months=361), "term_months"),
        (dict(term_months="x"), "term_months"),
        (dict(annual_rate="0.25"), "annual_rate"),
        (dict(annual_rate="-0.01"), "annual_rate"),
        (dict(annual_rate="4.35"), "annual_rate"),
        (dict(method="balloon"), "method"),
        (dict(start_date="2024-02-30"), "start_date"),
        (dict(start_date="yesterday"), "start_date"),
        (dict(day_count="actual/360"), "day_count"),
        (dict(frequency="weekly"), "frequency"),
        (dict(frequency="quarterly", term_months=10), "term_months"),
    ],
)
def test_bad_input_is_refused_with_an_error_naming_the_field(kwargs, field):
    args = dict(principal="10000", annual_rate="0.05", term_months=12, method="equal_installment", start_date="2024-01-01")
    args.update(kwargs)
    with pytest.raises(InvalidInput) as caught:
        build_schedule(args.pop("principal"), args.pop("annual_rate"), args.pop("term_months"), args.pop("method"), args.pop("start_date"), **args)
    assert caught.value.field == field
    assert caught.value.code == "invalid_input"


amounts = st.decimals(min_value=D("0.01"), max_value=D("50000000"), places=2)
rates = st.decimals(min_value=D("0"), max_value=D("0.24"), places=4)
starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    principal=amounts,
    rate=rates,
    term=st.integers(1, 360),
    method=st.sampled_from(METHODS),
    start=starts,
    day_count=st.sampled_from(["30/360", "actual/365", "actual/actual"]),
    quarterly=st.booleans(),
    harvest=st.sets(st.integers(1, 12), max_size=4),
    grace=st.integers(0, 24),
)
def test_every_schedule_repays_exactly_the_principal_in_whole_fen(principal, rate, term, method, start, day_count,
                                                                 quarterly, harvest, grace):
    frequency = "monthly"
    if quarterly:
        term = max(3, term - term % 3)
        frequency = "quarterly"
    seasonal = {}
    if method == "seasonal":  # a seasonal loan maturing in a harvest month always has a principal date
        seasonal = {"harvest_months": sorted(harvest | {add_months(start, term).month}), "grace_months": grace % term}
    schedule = build_schedule(principal, rate, term, method, start, day_count=day_count, frequency=frequency,
                              **seasonal)
    rows = schedule.installments
    assert sum(r.principal for r in rows) == principal
    assert rows[-1].remaining_balance == 0
    assert rows[-1].due_date == add_months(start, term)
    for row in rows:
        for amount in (row.principal, row.interest, row.total, row.remaining_balance):
            assert amount == amount.quantize(D("0.01")) and amount >= 0
        assert row.total == row.principal + row.interest
    assert all(a.due_date < b.due_date for a, b in zip(rows, rows[1:]))
