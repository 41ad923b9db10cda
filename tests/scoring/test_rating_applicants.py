from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from scoring.errors import ApplicantDataError, ProductDataError, RatingFileError
from scoring.rating import rate_applicant
from scoring.scorecard import load_scorecard
from tests.scoring.conftest import rating_files_for


def test_a_farm_household_gets_score_grade_line_and_rate_from_the_hq_files(farm_household, agri_product, hq_files):
    result = rate_applicant(farm_household, agri_product, hq_files)
    assert result.expert_score is not None and result.expert_weight == Decimal("0.4")
    blended = Decimal("0.6") * result.statistical_score + Decimal("0.4") * result.expert_score
    assert abs(result.score - blended) <= Decimal("0.01")  # the parts are rounded separately
    assert result.grade == "B"  # 600 <= score < 620
    # B: 24 months of income less existing debt (24 * 6000 - 20000), under 80 % of the 300,000 cap.
    assert result.credit_line == Decimal("124000.00")
    # Standard tier (no adjustment) less the 25bp credit-village discount.
    assert result.annual_rate == Decimal("0.041000")
    assert result.pricing_tier == "standard"


def test_every_amount_rate_and_score_is_a_decimal(farm_household, agri_product, hq_files):
    result = rate_applicant(farm_household, agri_product, hq_files)
    for value in (result.score, result.statistical_score, result.expert_score, result.credit_line,
                  result.annual_rate, *(r.points_lost for r in result.reason_codes)):
        assert type(value) is Decimal


def test_a_salaried_applicant_is_rated_by_the_statistical_card_alone(farm_household, agri_product, hq_files):
    result = rate_applicant({**farm_household, "customer_type": "salaried"}, agri_product, hq_files)
    assert result.expert_score is None
    assert result.score == result.statistical_score
    assert all(not r.code.startswith("E") for r in result.reason_codes)


def test_reason_codes_are_the_largest_losses_against_the_best_bins_largest_first(farm_household, agri_product, hq_files):
    result = rate_applicant(farm_household, agri_product, hq_files)
    losses = [r.points_lost for r in result.reason_codes]
    assert losses == sorted(losses, reverse=True) and all(loss > 0 for loss in losses)
    assert len(result.reason_codes) == 4
    # 6,000 a month sits two bins below the best income bin: the biggest single loss.
    assert result.reason_codes[0].code == "S02"


def test_a_perfect_applicant_has_no_reason_codes(agri_product, hq_files):
    best = {"age": 40, "monthly_income": "20000", "years_at_address": 20, "land_mu": 80, "livestock_head": 30,
            "family_members": 4, "labourers": 3, "income_sources": ["crop", "livestock", "wage"],
            "existing_debt": "0", "credit_village": True, "credit_household": True}
    result = rate_applicant({**best, "customer_type": "salaried"}, agri_product, hq_files)
    # Salaried is the best customer-type bin, and the expert card does not apply to salaried people.
    assert result.reason_codes == ()
    assert result.grade == "A"
    # Premium: 15 % off the base rate, then 25bp + 25bp village and household discounts.
    assert result.annual_rate == Decimal("0.031975")
    assert result.credit_line == Decimal("300000.00")


def test_a_weak_applicant_gets_grade_e_and_no_line(agri_product, hq_files):
    weak = {"age": 22, "monthly_income": "1500", "years_at_address": 1, "family_members": 6, "labourers": 1,
            "existing_debt": "60000", "customer_type": "individual_business"}
    result = rate_applicant(weak, agri_product, hq_files)
    assert result.grade == "E"
    assert result.credit_line == Decimal("0.00")
    assert result.annual_rate == Decimal("0.056550")  # high-risk tier: base + 30 %


def test_a_branch_pricing_override_changes_only_that_branchs_price(farm_household, agri_product):
    hq = rate_applicant(farm_household, agri_product, rating_files_for(None))
    br001 = rate_applicant(farm_household, agri_product, rating_files_for("BR001"))
    br002 = rate_applicant(farm_household, agri_product, rating_files_for("BR002"))
    assert br001.annual_rate == hq.annual_rate == Decimal("0.041000")
    assert br002.annual_rate == Decimal("0.038500")  # BR002's campaign doubles the village discount
    assert br002.score == hq.score and br002.credit_line == hq.credit_line


@pytest.mark.parametrize("change, field", [
    ({"age": 17}, "age"), ({"age": "forty"}, "age"), ({"monthly_income": None}, "monthly_income"),
    ({"monthly_income": 6000.5}, "monthly_income"), ({"existing_debt": "-1"}, "existing_debt"),
    ({"labourers": 9}, "labourers"), ({"income_sources": "crop;poetry"}, "income_sources"),
    ({"credit_village": "maybe"}, "credit_village"), ({"customer_type": "alien"}, "customer_type"),
])
def test_bad_applicant_data_is_refused_naming_the_field(farm_household, agri_product, hq_files, change, field):
    with pytest.raises(ApplicantDataError) as caught:
        rate_applicant({**farm_household, **change}, agri_product, hq_files)
    assert caught.value.field == field and caught.value.code == "invalid_applicant"


def test_a_product_without_a_base_rate_is_refused(farm_household, hq_files):
    with pytest.raises(ProductDataError) as caught:
        rate_applicant(farm_household, {"code": "X", "max_amount": Decimal(1000)}, hq_files)
    assert caught.value.field == "product.base_rate"


def test_a_missing_rating_file_is_named(farm_household, agri_product, hq_files):
    files = {name: text for name, text in hq_files.items() if name != "pricing.dmn"}
    with pytest.raises(RatingFileError) as caught:
        rate_applicant(farm_household, agri_product, files)
    assert caught.value.field == "pricing.dmn"


applicants = st.fixed_dictionaries({
    "age": st.integers(18, 100),
    "monthly_income": st.decimals(0, 100000, places=2).map(str),
    "years_at_address": st.one_of(st.none(), st.integers(0, 60)),
    "land_mu": st.decimals(0, 500, places=1),
    "livestock_head": st.integers(0, 500),
    "family_members": st.integers(1, 12),
    "labourers": st.integers(0, 1),
    "income_sources": st.lists(st.sampled_from(["crop", "livestock", "wage", "business"]), max_size=4),
    "existing_debt": st.decimals(0, 1000000, places=2),
    "credit_village": st.booleans(),
    "credit_household": st.booleans(),
    "customer_type": st.sampled_from(["farm_household", "individual_business", "salaried"]),
})


@settings(max_examples=300, deadline=None)
@given(applicant=applicants)
def test_any_valid_applicant_gets_a_bounded_score_a_capped_line_and_a_positive_rate(applicant):
    files = rating_files_for(None)
    product = {"code": "AGRI", "base_rate": Decimal("0.0435"), "max_amount": Decimal("300000")}
    result = rate_applicant(applicant, product, files)
    low, high = load_scorecard(files["scorecard.json"]).statistical_range
    assert low - Decimal("0.01") <= result.score <= high + Decimal("0.01")
    assert Decimal(0) <= result.credit_line <= product["max_amount"]
    assert result.credit_line % 100 == 0
    assert Decimal("0.03") < result.annual_rate < Decimal("0.06")
    assert result.grade in {"A", "B", "C", "D", "E"}
