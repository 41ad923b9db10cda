"""Checks an analyst's rating file before it is deployed, so a broken file never meets an applicant.

`validate_rating_file(name, text)` raises a RatingFileError (or DmnError) saying what is wrong:
beyond being well-formed, each file must hold what rate_applicant / check_risk / check_limits read
(the decisions and their output columns, known rules, decimal limits).
"""
from __future__ import annotations

from typing import Callable

from scoring.dmn import load_dmn
from scoring.errors import RatingFileError, ScoringError
from scoring.limits import parse_limits_config
from scoring.risk import parse_rules_config
from scoring.scorecard import load_scorecard

# decision id -> output columns it must have, per DMN file.
REQUIRED_DECISIONS = {
    "grade.dmn": {"grade": ("grade",)},
    "credit_line.dmn": {"credit_line": ("income_multiple", "cap_ratio")},
    "pricing.dmn": {"pricing_tier": ("tier", "rate_adjustment"), "village_discount": ("discount",)},
}


def _dmn(name: str) -> Callable[[str], None]:
    def check(text: str) -> None:
        model = load_dmn(text)
        for decision, outputs in REQUIRED_DECISIONS[name].items():
            if decision not in model.decisions:
                raise RatingFileError(f"{name} must define decision {decision!r}", field=name)
            missing = set(outputs) - set(model.decisions[decision].output_names)
            if missing:
                raise RatingFileError(f"{name}: decision {decision!r} lacks output(s) {sorted(missing)}", field=name)
    return check


VALIDATORS: dict[str, Callable[[str], object]] = {
    "scorecard.json": load_scorecard,
    "grade.dmn": _dmn("grade.dmn"),
    "credit_line.dmn": _dmn("credit_line.dmn"),
    "pricing.dmn": _dmn("pricing.dmn"),
    "risk_rules.json": parse_rules_config,
    "limits.json": parse_limits_config,
}


def validate_rating_file(name: str, text: str) -> None:
    check = VALIDATORS.get(name)
    if check is None:
        raise RatingFileError(f"{name} is not a rating file (known: {', '.join(VALIDATORS)})", field=name)
    try:
        check(text)
    except ScoringError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RatingFileError(f"{name} is malformed: {error!r}", field=name) from None
