"""Scorecards as data: a statistical (WoE) scorecard and an expert scorecard for farm households.

Scaling (Siddiqi, "Credit Risk Scorecards"): score = offset + factor * ln(odds of good), with
factor = PDO / ln 2 and offset = base_score - factor * ln(base_odds). The model is a logistic
regression on WoE-coded characteristics, ln(odds) = alpha + sum(beta_i * WoE_i), with
WoE = ln(%good / %bad). Spreading the intercept and offset evenly over the n characteristics gives
each attribute's points:

    target "good" (regression predicts good):  points = (beta * WoE + alpha / n) * factor + offset / n
    target "bad"  (regression predicts bad):   points = -(beta * WoE + alpha / n) * factor + offset / n

so the points of one applicant add up exactly to offset + factor * ln(odds). A bin may instead give
`points` directly (a pre-scaled card); the expert card always does.

The expert card's raw points are mapped linearly onto the statistical card's attainable range
[min, max] and the two are blended: score = w_stat * statistical + w_expert * expert_on_scale,
for the customer types listed in `combination.applies_to`; other customers get the statistical score.

Reason codes are the characteristics where the applicant lost most points against the best
attainable bin, measured on the final scale (so an expert shortfall counts with its weight).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal, localcontext
from typing import Any, Callable, Mapping

from scoring.errors import ApplicantDataError, RatingFileError, ScoringError
from scoring.unary_tests import compile_unary_tests
from scoring import money

Test = Callable[[Any], bool]


@dataclass(frozen=True)
class Scaling:
    base_score: Decimal
    base_odds: Decimal
    pdo: Decimal
    factor: Decimal
    offset: Decimal

    def score_for_odds(self, odds: Decimal) -> Decimal:
        with localcontext() as context:
            context.prec = 28
            return self.offset + self.factor * odds.ln()


def scaling(base_score: Decimal, base_odds: Decimal, pdo: Decimal) -> Scaling:
    if base_odds <= 0 or pdo == 0:
        raise RatingFileError("scaling needs positive base_odds and a non-zero pdo", field="scaling")
    with localcontext() as context:
        context.prec = 28
        factor = pdo / Decimal(2).ln()
        offset = base_score - factor * base_odds.ln()
    return Scaling(base_score, base_odds, pdo, factor, offset)


@dataclass(frozen=True)
class Bin:
    label: str
    test: Test | None  # None: the bin for a missing value, or the catch-all "other" bin
    points: Decimal


@dataclass(frozen=True)
class Characteristic:
    name: str
    field: str
    reason_code: str
    reason: str
    bins: tuple[Bin, ...]
    missing: Bin | None
    other: Bin | None
    best_points: Decimal
    worst_points: Decimal

    def bin_for(self, value: Any) -> Bin:
        if value is None:
            if self.missing is None:
                raise ApplicantDataError(f"is required by characteristic {self.name!r}", field=self.field)
            return self.missing
        for candidate in self.bins:
            if candidate.test(value):
                return candidate
        if self.other is None:
            raise ApplicantDataError(f"{value!r} falls in no bin of characteristic {self.name!r}",
                                     field=self.field)
        return self.other


@dataclass(frozen=True)
class Contribution:
    characteristic: str
    reason_code: str
    reason: str
    bin: str
    points: Decimal
    best_points: Decimal


@dataclass(frozen=True)
class Scorecard:
    name: str
    version: str
    scaling: Scaling
    statistical: tuple[Characteristic, ...]
    expert: tuple[Characteristic, ...]
    statistical_weight: Decimal
    expert_weight: Decimal
    expert_applies_to: frozenset[str]
    reason_code_count: int
    statistical_range: tuple[Decimal, Decimal]  # worst and best attainable totals
    expert_range: tuple[Decimal, Decimal]


def _total_range(characteristics: tuple[Characteristic, ...]) -> tuple[Decimal, Decimal]:
    return (sum((c.worst_points for c in characteristics), Decimal(0)),
            sum((c.best_points for c in characteristics), Decimal(0)))


@lru_cache(maxsize=64)
def load_scorecard(text: str) -> Scorecard:
    """The compiled scorecard for a JSON text, compiled once per distinct text."""
    return compile_scorecard(text)


def compile_scorecard(text: str) -> Scorecard:
    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=money.refuse_json_constant)
    except ValueError as error:
        raise RatingFileError(f"scorecard is not valid JSON: {error}", field="scorecard.json") from None
    if not isinstance(document, dict):
        raise RatingFileError("scorecard must be a JSON object", field="scorecard.json")
    try:
        return _compile(document)
    except RatingFileError:
        raise
    except ScoringError as error:
        raise RatingFileError(f"scorecard: {error.message}", field=error.field) from None
    except (KeyError, TypeError, ValueError, ArithmeticError) as error:
        raise RatingFileError(f"scorecard is malformed: {error!r}", field="scorecard.json") from None


def _number(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise RatingFileError(f"{where} must be a number", field="scorecard.json")
    return money.to_decimal(value, field=where, error=RatingFileError)


def _compile(document: Mapping[str, Any]) -> Scorecard:
    scale_spec = document["scaling"]
    scale = scaling(_number(scale_spec["base_score"], "scaling.base_score"),
                    _number(scale_spec["base_odds"], "scaling.base_odds"),
                    _number(scale_spec["pdo"], "scaling.pdo"))
    model = document.get("model", {})
    target = model.get("target", "good")
    if target not in ("good", "bad"):
        raise RatingFileError("model.target must be 'good' or 'bad'", field="model.target")
    places = int(model.get("points_places", 2))
    specs = document["characteristics"]
    n = Decimal(len(specs))
    alpha = _number(model.get("intercept", 0), "model.intercept")
    sign = Decimal(1) if target == "good" else Decimal(-1)

    def woe_points(beta: Decimal, woe: Decimal) -> Decimal:
        raw = sign * (beta * woe + alpha / n) * scale.factor + scale.offset / n
        return raw.quantize(Decimal(1).scaleb(-places))

    statistical = tuple(_characteristic(spec, woe_points, f"characteristics[{i}]")
                        for i, spec in enumerate(specs))
    expert_spec = document.get("expert") or {}
    expert = tuple(_characteristic(spec, None, f"expert.characteristics[{i}]")
                   for i, spec in enumerate(expert_spec.get("characteristics", [])))
    combination = document.get("combination") or {}
    statistical_weight = _number(combination.get("statistical_weight", 1), "combination.statistical_weight")
    expert_weight = _number(combination.get("expert_weight", 0), "combination.expert_weight")
    if statistical_weight < 0 or expert_weight < 0 or statistical_weight + expert_weight != 1:
        raise RatingFileError("combination weights must be non-negative and add up to 1",
                              field="combination")
    if expert_weight and not expert:
        raise RatingFileError("an expert weight needs expert characteristics", field="combination")
    card = Scorecard(
        name=str(document.get("name", "scorecard")), version=str(document.get("version", "1")),
        scaling=scale, statistical=statistical, expert=expert,
        statistical_weight=statistical_weight, expert_weight=expert_weight,
        expert_applies_to=frozenset(combination.get("applies_to", ["farm_household"])),
        reason_code_count=int(document.get("reason_codes", {}).get("count", 4)),
        statistical_range=_total_range(statistical),
        expert_range=_total_range(expert),
    )
    if expert:
        low, high = card.expert_range
        if high <= low:
            raise RatingFileError("the expert card's best and worst totals are equal", field="expert")
    return card


def _characteristic(spec: Mapping[str, Any], woe_points, where: str) -> Characteristic:
    name, field = spec["name"], spec.get("field", spec["name"])
    beta = _number(spec.get("coefficient", 1), f"{where}.coefficient")
    bins, missing, other = [], None, None
    for index, bin_spec in enumerate(spec["bins"]):
        bin_where = f"{where} ({name}), bin {index + 1}"
        if "points" in bin_spec:
            points = _number(bin_spec["points"], f"{bin_where}.points")
        elif woe_points is not None and "woe" in bin_spec:
            points = woe_points(beta, _number(bin_spec["woe"], f"{bin_where}.woe"))
        else:
            raise RatingFileError(f"{bin_where} needs " + ("woe or points" if woe_points else "points"),
                                  field="scorecard.json")
        if bin_spec.get("missing"):
            missing = Bin(bin_spec.get("label", "missing"), None, points)
        elif bin_spec.get("other"):
            other = Bin(bin_spec.get("label", "other"), None, points)
        elif "range" in bin_spec:
            test = compile_unary_tests(str(bin_spec["range"]), where=bin_where)
            bins.append(Bin(bin_spec.get("label", str(bin_spec["range"])), test, points))
        elif "categories" in bin_spec:
            bins.append(Bin(bin_spec.get("label", ",".join(map(str, bin_spec["categories"]))),
                            _category_test(bin_spec["categories"], bin_where), points))
        else:
            raise RatingFileError(f"{bin_where} needs range, categories, missing or other",
                                  field="scorecard.json")
    every = [b.points for b in bins] + [b.points for b in (missing, other) if b is not None]
    if not every:
        raise RatingFileError(f"{where} ({name}) has no bins", field="scorecard.json")
    return Characteristic(name, field, str(spec.get("reason_code", name)), str(spec.get("reason", name)),
                          tuple(bins), missing, other, max(every), min(every))


def _category_test(categories: list[Any], where: str) -> Test:
    # Keyed by type as well as value: True must not match a category 1, nor "1" the number 1.
    allowed = set()
    for category in categories:
        if not isinstance(category, (str, bool)):
            raise RatingFileError(f"{where}: categories are strings or booleans; use a range for "
                                  f"numbers, got {category!r}", field="scorecard.json")
        allowed.add((type(category), category))
    frozen = frozenset(allowed)
    return lambda value: (type(value), value) in frozen


def _points(characteristics: tuple[Characteristic, ...], applicant: Mapping[str, Any]):
    total = Decimal(0)
    chosen = []
    for characteristic in characteristics:
        found = characteristic.bin_for(applicant.get(characteristic.field))
        total += found.points
        chosen.append((characteristic, found))
    return total, chosen


@dataclass(frozen=True)
class ScoreParts:
    score: Decimal
    statistical: Decimal
    expert: Decimal | None  # on the statistical scale; None when the expert card does not apply
    expert_raw: Decimal | None
    expert_weight: Decimal
    # (characteristic, chosen bin, weight of its points on the final scale)
    chosen: tuple[tuple[Characteristic, Bin, Decimal], ...]

    @property
    def contributions(self) -> list[tuple[Contribution, Decimal]]:
        """Each characteristic's points and its shortfall against its best bin, on the final scale."""
        return [(Contribution(c.name, c.reason_code, c.reason, b.label, b.points, c.best_points),
                 (c.best_points - b.points) * weight) for c, b, weight in self.chosen]


_ONE = Decimal(1)


def score_applicant(card: Scorecard, applicant: Mapping[str, Any]) -> ScoreParts:
    statistical, stat_chosen = _points(card.statistical, applicant)
    expert_applies = bool(card.expert) and card.expert_weight > 0 \
        and applicant.get("customer_type") in card.expert_applies_to
    if not expert_applies:
        return ScoreParts(statistical, statistical, None, None, Decimal(0),
                          tuple((c, b, _ONE) for c, b in stat_chosen))
    raw, expert_chosen = _points(card.expert, applicant)
    stat_low, stat_high = card.statistical_range
    expert_low, expert_high = card.expert_range
    stretch = (stat_high - stat_low) / (expert_high - expert_low)
    expert_on_scale = stat_low + (raw - expert_low) * stretch
    score = card.statistical_weight * statistical + card.expert_weight * expert_on_scale
    expert_scale = card.expert_weight * stretch
    chosen = tuple((c, b, card.statistical_weight) for c, b in stat_chosen) \
        + tuple((c, b, expert_scale) for c, b in expert_chosen)
    return ScoreParts(score, statistical, expert_on_scale, raw, card.expert_weight, chosen)


def reason_codes(card: Scorecard, parts: ScoreParts) -> list[tuple[Contribution, Decimal]]:
    """The characteristics that cost the most points, largest first; ties keep the card's order."""
    lost = [(c, b, (c.best_points - b.points) * weight) for c, b, weight in parts.chosen
            if b.points < c.best_points]
    lost.sort(key=lambda item: item[2], reverse=True)
    return [(Contribution(c.name, c.reason_code, c.reason, b.label, b.points, c.best_points), shortfall)
            for c, b, shortfall in lost[:card.reason_code_count]]
