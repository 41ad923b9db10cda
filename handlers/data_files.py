"""Files deployed beside the diagrams that components read as data, with their validators.

These are deployed and resolved per branch like diagrams (a branch's pricing.dmn replaces HQ's),
but the workflow engine does not execute them: the scoring component does. A deployment runs each
validator so a broken scorecard or table is refused before any application meets it.
"""
from __future__ import annotations

from typing import Callable

from scoring.dmn import load_dmn
from scoring.errors import ScoringError
from scoring.limits import DIMENSIONS, needed_exposures
from scoring.risk import check_risk
from scoring.scorecard import load_scorecard


def _risk_rules(text: str) -> None:
    # check_risk validates its configuration before evaluating anything.
    check_risk("application", {}, {}, {}, text)


def _limits(text: str) -> None:
    # Asking which exposures an application touching every dimension needs reads the whole file.
    needed_exposures({dimension: "any" for dimension in DIMENSIONS}, text)


VALIDATORS: dict[str, Callable[[str], object]] = {
    "scorecard.json": load_scorecard,
    "grade.dmn": load_dmn,
    "credit_line.dmn": load_dmn,
    "pricing.dmn": load_dmn,
    "risk_rules.json": _risk_rules,
    "limits.json": _limits,
}


def is_data_file(name: str) -> bool:
    return name in VALIDATORS


def data_file_problem(name: str, text: str) -> str | None:
    """Why this data file cannot be deployed, or None."""
    try:
        VALIDATORS[name](text)
    except ScoringError as err:
        return getattr(err, "message", None) or str(err)
    except ValueError as err:  # malformed JSON or XML
        return str(err)
    return None
