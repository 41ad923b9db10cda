"""The scaling is checked against Siddiqi's published worked example ("Credit Risk Scorecards":
600 points at 50:1 odds, 20 points to double the odds -> factor 28.8539, offset 487.123), not
against this code's own output."""
import json
import math
from decimal import Decimal

import pytest

from scoring.errors import ApplicantDataError, RatingFileError
from scoring.scorecard import compile_scorecard, scaling, score_applicant

PUBLISHED_FACTOR = 28.8539
PUBLISHED_OFFSET = 487.123


def test_factor_and_offset_match_the_published_example():
    scale = scaling(Decimal(600), Decimal(50), Decimal(20))
    assert float(scale.factor) == pytest.approx(PUBLISHED_FACTOR, abs=1e-4)
    assert float(scale.offset) == pytest.approx(PUBLISHED_OFFSET, abs=1e-3)


def test_doubling_the_odds_adds_the_pdo_points():
    scale = scaling(Decimal(600), Decimal(50), Decimal(20))
    assert scale.score_for_odds(Decimal(50)) == pytest.approx(Decimal(600), abs=Decimal("1e-20"))
    assert float(scale.score_for_odds(Decimal(100))) == pytest.approx(620)
    assert float(scale.score_for_odds(Decimal(25))) == pytest.approx(580)


def test_thirty_to_one_at_six_hundred_gives_its_own_offset():
    scale = scaling(Decimal(600), Decimal(30), Decimal(20))
    assert float(scale.factor) == pytest.approx(PUBLISHED_FACTOR, abs=1e-4)
    assert float(scale.offset) == pytest.approx(600 - PUBLISHED_FACTOR * math.log(30), abs=1e-3)


TWO_CHARACTERISTICS = {
    "scaling": {"base_score": 600, "base_odds": 50, "pdo": 20},
    "model": {"target": "good", "intercept": 3.2, "points_places": 6},
    "characteristics": [
        {"name": "age", "coefficient": 0.9, "bins": [{"range": "< 30", "woe": -0.4}, {"range": ">= 30", "woe": 0.3}]},
        {"name": "housing", "coefficient": 0.7, "bins": [{"categories": ["own"], "woe": 0.5},
                                                         {"other": True, "woe": -0.6}]},
    ],
}


@pytest.mark.parametrize("age, housing, woes", [(25, "own", (-0.4, 0.5)), (45, "rent", (0.3, -0.6)),
                                                (45, "own", (0.3, 0.5))])
def test_points_add_up_to_the_published_scale_for_the_models_odds(age, housing, woes):
    card = compile_scorecard(json.dumps(TWO_CHARACTERISTICS))
    log_odds = 3.2 + 0.9 * woes[0] + 0.7 * woes[1]
    expected = PUBLISHED_OFFSET + PUBLISHED_FACTOR * log_odds
    parts = score_applicant(card, {"age": Decimal(age), "housing": housing, "customer_type": "salaried"})
    assert float(parts.score) == pytest.approx(expected, abs=0.01)


def test_a_model_of_bad_odds_uses_the_negated_points_formula():
    bad = json.loads(json.dumps(TWO_CHARACTERISTICS))
    bad["model"].update(target="bad", intercept=-3.2)
    for spec in bad["characteristics"]:
        spec["coefficient"] = -spec["coefficient"]
    good_card = compile_scorecard(json.dumps(TWO_CHARACTERISTICS))
    bad_card = compile_scorecard(json.dumps(bad))
    applicant = {"age": Decimal(25), "housing": "rent"}
    assert score_applicant(bad_card, applicant).score == score_applicant(good_card, applicant).score


def test_a_value_in_no_bin_names_the_field():
    card = compile_scorecard(json.dumps({**TWO_CHARACTERISTICS, "characteristics": [
        {"name": "age", "bins": [{"range": "[18..60]", "woe": 0.1}]}]}))
    with pytest.raises(ApplicantDataError) as caught:
        score_applicant(card, {"age": Decimal(70)})
    assert caught.value.field == "age"


def test_a_missing_value_uses_the_missing_bin_when_there_is_one():
    card = compile_scorecard(json.dumps({**TWO_CHARACTERISTICS, "characteristics": [
        {"name": "age", "bins": [{"range": "[18..60]", "points": 30}, {"missing": True, "points": 5}]}]}))
    assert score_applicant(card, {}).score == Decimal(5)


@pytest.mark.parametrize("broken, complaint", [
    ({"combination": {"statistical_weight": 0.7, "expert_weight": 0.4}}, "add up to 1"),
    ({"characteristics": [{"name": "age", "bins": [{"range": "age > 3", "woe": 1}]}]}, "unsupported"),
    ({"characteristics": [{"name": "age", "bins": [{"categories": [1, 2], "woe": 1}]}]}, "use a range"),
    ({"scaling": {"base_score": 600, "base_odds": 0, "pdo": 20}}, "positive base_odds"),
])
def test_a_broken_scorecard_is_refused_with_a_reason(broken, complaint):
    with pytest.raises(RatingFileError, match=complaint):
        compile_scorecard(json.dumps({**TWO_CHARACTERISTICS, **broken}))
