import json
from decimal import Decimal

import pytest

from scoring.errors import RatingFileError
from scoring.limits import LimitDataError, check_limits, exposure_key, is_large_amount, needed_exposures
from tests.scoring.conftest import rating_files_for

APPLICATION = {
    "amount": Decimal("200000"), "id_number": "330102199001011234", "region": "330100", "institution": "BR001",
    "product": "AGRI-OPERATING", "industry": "agriculture", "loan_purpose": "production",
    "guarantee_method": "credit", "customer_type": "farm_household",
}
BOOK = Decimal("1000000000")


def roomy_exposure(application=APPLICATION, config=None, **overrides):
    config = config or rating_files_for(None)["limits.json"]
    by_key = {exposure_key(values): Decimal("1000000") for values in needed_exposures(application, config)}
    by_key.update(overrides)
    return {"customer": Decimal(0), "book": BOOK, "by_key": by_key}


def hq_limits():
    return rating_files_for(None)["limits.json"]


def test_an_ordinary_application_hits_no_limit():
    assert check_limits(APPLICATION, hq_limits(), roomy_exposure()) == []


def test_the_caller_is_told_which_dimension_outstandings_to_supply():
    keys = [exposure_key(values) for values in needed_exposures(APPLICATION, hq_limits())]
    assert keys == ["region=330100", "industry=agriculture", "guarantee_method=credit", "product=AGRI-OPERATING",
                    "institution=BR001"]


def test_going_over_a_dimension_limit_blocks_and_names_the_dimension_the_limit_and_the_usage():
    # Unsecured credit may be 40 % of the book after the loan: 400,080,000 yuan.
    exposure = roomy_exposure(**{"guarantee_method=credit": Decimal("399900000")})
    hits = check_limits(APPLICATION, hq_limits(), exposure)
    assert [(h.limit_id, h.dimension, h.severity) for h in hits] == [("unsecured-credit", "guarantee_method", "block")]
    assert hits[0].limit == Decimal("400080000.00") and hits[0].usage == Decimal("400100000.00")
    assert hits[0].values == {"guarantee_method": "credit"}


def test_a_combined_limit_applies_only_to_the_combination():
    business = {**APPLICATION, "customer_type": "individual_business"}
    exposure = roomy_exposure(business, **{"customer_type=individual_business&guarantee_method=credit":
                                           Decimal("29900000")})
    hits = check_limits(business, hq_limits(), exposure)
    assert [(h.limit_id, h.dimension, h.severity) for h in hits] == [
        ("unsecured-business-loans", "customer_type+guarantee_method", "block")]
    assert check_limits(APPLICATION, hq_limits(), roomy_exposure()) == []


def test_an_each_value_limit_follows_the_applications_own_value():
    exposure = roomy_exposure(**{"industry=agriculture": Decimal("300000000")})
    hits = check_limits(APPLICATION, hq_limits(), exposure)
    assert [(h.limit_id, h.values) for h in hits] == [("each-industry", {"industry": "agriculture"})]


def test_nearing_a_limit_warns_without_blocking():
    exposure = roomy_exposure(**{"guarantee_method=credit": Decimal("370000000")})
    hits = check_limits(APPLICATION, hq_limits(), exposure)
    assert [(h.limit_id, h.severity) for h in hits] == [("unsecured-credit", "warn")]


def test_the_single_customer_limit_counts_the_customers_existing_loans():
    # HQ's single-customer limit is 30,000,000 yuan.
    exposure = {**roomy_exposure(), "customer": Decimal("29900000")}
    hits = check_limits(APPLICATION, hq_limits(), exposure)
    assert [(h.limit_id, h.severity, h.usage) for h in hits] == [
        ("single_customer", "block", Decimal("30100000.00"))]


def test_customer_concentration_is_a_share_of_the_branchs_book():
    small_book = {**roomy_exposure(), "book": Decimal("10000000"), "customer": Decimal("900000")}
    config = {"concentration": {"max_share": "0.10"}}
    hits = check_limits(APPLICATION, config, small_book)
    assert [(h.dimension, h.limit, h.usage) for h in hits] == [
        ("concentration", Decimal("1020000.00"), Decimal("1100000.00"))]


def test_a_missing_outstanding_figure_is_an_error_not_a_zero():
    exposure = roomy_exposure()
    del exposure["by_key"]["industry=agriculture"]
    with pytest.raises(LimitDataError) as caught:
        check_limits(APPLICATION, hq_limits(), exposure)
    assert caught.value.field == "exposure.by_key"


def test_an_application_missing_a_limited_dimension_is_refused():
    incomplete = {key: value for key, value in APPLICATION.items() if key != "industry"}
    with pytest.raises(LimitDataError) as caught:
        check_limits(incomplete, hq_limits(), roomy_exposure())
    assert caught.value.field == "industry"


def test_a_limit_on_an_unknown_dimension_is_refused():
    config = {"dimension_limits": [{"dimensions": {"star_sign": "leo"}, "max_amount": "1"}]}
    with pytest.raises(RatingFileError, match="star_sign"):
        check_limits(APPLICATION, config, roomy_exposure())


@pytest.mark.parametrize("amount, capital, large", [
    ("25000000", "1000000000", False),       # exactly 2.5 % is not above it
    ("25000000.01", "1000000000", True),
    ("50000000", "100000000000", False),     # exactly 50 million is not above it
    ("50000000.01", "100000000000", True),
    ("1000000", "30000000", True),           # a small branch: 2.5 % of 30 million is 750,000
])
def test_large_amounts_are_above_two_and_a_half_percent_of_tier1_capital_or_fifty_million(amount, capital, large):
    assert is_large_amount(Decimal(amount), Decimal(capital)) is large
    assert is_large_amount(Decimal(amount), Decimal(capital), hq_limits()) is large


def test_the_large_amount_thresholds_come_from_the_branchs_limits_file():
    config = json.loads(hq_limits())
    config["large_amount"]["absolute"] = "10000000"
    assert is_large_amount(Decimal("10000001"), Decimal("100000000000"), config)


def test_share_limits_wait_until_the_book_reaches_its_minimum_but_amount_limits_do_not():
    config = {"min_book_for_shares": "10000000", "concentration": {"max_share": "0.10"},
              "single_customer": {"max_amount": "500000"},
              "dimension_limits": [{"id": "each-region", "dimensions": {"region": "*"}, "max_share": "0.60"}]}
    application = {"amount": Decimal("600000"), "id_number": "X", "region": "Anqiu"}
    young = {"customer": Decimal("0"), "book": Decimal("1000000"), "by_key": {"region=Anqiu": Decimal("0")}}
    hits = check_limits(application, config, young)
    assert [(h.limit_id, h.severity) for h in hits] == [("single_customer", "block")]
    grown = dict(young, book=Decimal("20000000"))
    assert {h.limit_id for h in check_limits(application, config, grown)} == {"single_customer"}
    big_region = dict(grown, by_key={"region=Anqiu": Decimal("12500000")})
    # 12.5 M + 0.6 M = 13.1 M of a 20.6 M book is 63.6 % > 60 %
    assert {h.limit_id for h in check_limits(application, config, big_region)} == {"single_customer", "each-region"}


def test_limit_usage_lists_every_limit_that_applies_with_its_usage_even_when_none_is_near():
    from scoring.limits import limit_usage

    # The book after the loan is 1,000,000,000 + 200,000 = 1,000,200,000 yuan; each dimension's
    # outstanding is 1,000,000 before the loan, 1,200,000 after. Limits that do not apply to this
    # application (real estate, consumption, business customers) are not listed.
    usage = {u.limit_id: (u.limit, u.usage, u.severity) for u in limit_usage(APPLICATION, hq_limits(), roomy_exposure())}
    assert usage == {
        "single_customer": (Decimal("30000000.00"), Decimal("200000.00"), "ok"),
        "concentration": (Decimal("100020000.00"), Decimal("200000.00"), "ok"),   # 10 %
        "each-region": (Decimal("600120000.00"), Decimal("1200000.00"), "ok"),    # 60 %
        "each-industry": (Decimal("300060000.00"), Decimal("1200000.00"), "ok"),  # 30 %
        "unsecured-credit": (Decimal("400080000.00"), Decimal("1200000.00"), "ok"),  # 40 %
        "each-product": (Decimal("700140000.00"), Decimal("1200000.00"), "ok"),   # 70 %
        "institution-total": (Decimal("20000000000.00"), Decimal("1200000.00"), "ok"),
    }
    # A breach sorts first, and check_limits keeps only what is not within.
    near = roomy_exposure(**{"guarantee_method=credit": Decimal("399900000")})
    listed = limit_usage(APPLICATION, hq_limits(), near)
    assert (listed[0].limit_id, listed[0].severity) == ("unsecured-credit", "block") and len(listed) == 7
    assert [h.limit_id for h in check_limits(APPLICATION, hq_limits(), near)] == ["unsecured-credit"]
