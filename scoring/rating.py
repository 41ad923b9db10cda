"""Rate one applicant: score, grade, credit line and annual rate, from the branch's rating files.

`rating_files` maps file names to the texts resolved for the applicant's branch (the workflows layer
resolves branch overrides and hands the texts over):

    scorecard.json    statistical + expert scorecard (see scoring.scorecard)
    grade.dmn         decision "grade":            score -> grade (A..E)
    credit_line.dmn   decision "credit_line":      grade, monthly_income -> income_multiple (months
                                                   of income), cap_ratio (share of the product cap)
    pricing.dmn       decision "pricing_tier":     grade, product.code -> tier, rate_adjustment
                                                   (fraction of the base rate, -0.15 = 15 % cheaper)
                      decision "village_discount": credit_village, credit_household -> discount
                                                   (COLLECT SUM; absolute annual rate, 0.0025 = 25bp)

Credit line = min(monthly_income * income_multiple - existing_debt, product.max_amount * cap_ratio),
never below zero, rounded down to whole hundreds of yuan.
Annual rate = base_rate * (1 + rate_adjustment) - discount, never below product.min_rate (or 0)
and never above product.max_rate (when given).

The product dict: code (str), base_rate (Decimal annual fraction), max_amount (Decimal yuan),
min_rate and max_rate (optional Decimal annual fractions: the product's rate floor and ceiling).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from scoring import money
from scoring.applicant import normalize_applicant
from scoring.dmn import DmnModel, load_dmn
from scoring.errors import DecisionFailed, ProductDataError, RatingFileError
from scoring.scorecard import load_scorecard, reason_codes, score_applicant

RATING_FILES = ("scorecard.json", "grade.dmn", "credit_line.dmn", "pricing.dmn")
_ONE = Decimal(1)


@dataclass(frozen=True)
class ReasonCode:
    code: str
    characteristic: str
    description: str
    points_lost: Decimal  # against the best attainable bin, on the final score's scale


@dataclass(frozen=True)
class RatingResult:
    score: Decimal
    statistical_score: Decimal
    expert_score: Decimal | None  # on the statistical scale; None when not a farm household
    expert_weight: Decimal
    grade: str
    credit_line: Decimal
    annual_rate: Decimal
    pricing_tier: str
    reason_codes: tuple[ReasonCode, ...]
    scorecard: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: Decimals as strings, so no float ever carries a yuan amount or a rate."""
        return {
            "score": str(self.score),
            "statistical_score": str(self.statistical_score),
            "expert_score": None if self.expert_score is None else str(self.expert_score),
            "expert_weight": str(self.expert_weight),
            "grade": self.grade,
            "credit_line": str(self.credit_line),
            "annual_rate": str(self.annual_rate),
            "pricing_tier": self.pricing_tier,
            "reason_codes": [{"code": r.code, "characteristic": r.characteristic,
                              "description": r.description, "points_lost": str(r.points_lost)}
                             for r in self.reason_codes],
            "scorecard": self.scorecard,
        }


def _file(rating_files: Mapping[str, str], name: str) -> str:
    text = rating_files.get(name)
    if not text:
        raise RatingFileError(f"rating file {name} is missing", field=name)
    return text


def _product_number(product: Mapping[str, Any], field: str, *, required: bool = True) -> Decimal | None:
    value = product.get(field)
    if value is None:
        if required:
            raise ProductDataError("is required", field=f"product.{field}")
        return None
    number = money.to_decimal(value, field=f"product.{field}", error=ProductDataError)
    if number < 0:
        raise ProductDataError("must not be negative", field=f"product.{field}")
    return number


def _decide(model: DmnModel, decision: str, context: Mapping[str, Any], file: str) -> Any:
    outcome = model.evaluate(decision, context)
    if outcome is None:
        raise DecisionFailed(f"{file}: no rule of decision {decision!r} matched", field=file)
    return outcome


def _output(outcome: Mapping[str, Any], name: str, file: str, kind: type) -> Any:
    value = outcome.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RatingFileError(f"{file}: output {name!r} must be a {kind.__name__}, got {value!r}", field=file)
    return value


def rate_applicant(applicant: Mapping[str, Any], product: Mapping[str, Any],
                   rating_files: Mapping[str, str]) -> RatingResult:
    """Rate one applicant (a raw dict, see scoring.applicant) for one product."""
    card = load_scorecard(_file(rating_files, "scorecard.json"))
    grade_model = load_dmn(_file(rating_files, "grade.dmn"))
    line_model = load_dmn(_file(rating_files, "credit_line.dmn"))
    pricing_model = load_dmn(_file(rating_files, "pricing.dmn"))
    base_rate = _product_number(product, "base_rate")
    max_amount = _product_number(product, "max_amount")
    min_rate = _product_number(product, "min_rate", required=False) or Decimal(0)
    person = normalize_applicant(applicant)

    parts = score_applicant(card, person)
    score = money.score(parts.score)
    grade = _output(_decide(grade_model, "grade", {"score": score}, "grade.dmn"), "grade", "grade.dmn", str)

    line_terms = _decide(line_model, "credit_line",
                         {"grade": grade, "monthly_income": person["monthly_income"]}, "credit_line.dmn")
    income_multiple = _output(line_terms, "income_multiple", "credit_line.dmn", Decimal)
    cap_ratio = _output(line_terms, "cap_ratio", "credit_line.dmn", Decimal)
    by_income = person["monthly_income"] * income_multiple - person["existing_debt"]
    line = money.credit_line(min(by_income, max_amount * cap_ratio))

    product_context = {"code": product.get("code")}
    tier = _decide(pricing_model, "pricing_tier", {"grade": grade, "product": product_context}, "pricing.dmn")
    adjustment = _output(tier, "rate_adjustment", "pricing.dmn", Decimal)
    discount = pricing_model.evaluate("village_discount", {
        "credit_village": person["credit_village"], "credit_household": person["credit_household"],
        "product": product_context})
    if isinstance(discount, dict):  # a FIRST/UNIQUE table instead of COLLECT SUM
        discount = discount.get("discount")
    discount = discount or Decimal(0)
    rate = max(base_rate * (_ONE + adjustment) - discount, min_rate)
    max_rate = _product_number(product, "max_rate", required=False)
    if max_rate is not None:  # the product's rate ceiling clamps the price like its floor does
        rate = min(rate, max_rate)
    rate = money.annual_rate(rate)

    reasons = tuple(ReasonCode(c.reason_code, c.characteristic, c.reason, money.score(lost))
                    for c, lost in reason_codes(card, parts))
    return RatingResult(
        score=score,
        statistical_score=money.score(parts.statistical),
        expert_score=None if parts.expert is None else money.score(parts.expert),
        expert_weight=parts.expert_weight,
        grade=grade,
        credit_line=line,
        annual_rate=rate,
        pricing_tier=_output(tier, "tier", "pricing.dmn", str),
        reason_codes=reasons,
        scorecard=f"{card.name}@{card.version}",
    )
