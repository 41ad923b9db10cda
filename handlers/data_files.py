"""Files deployed beside the diagrams that components read as data, and how they are checked.

These are deployed and resolved per branch like diagrams (a branch's pricing.dmn replaces HQ's),
but the workflow engine does not execute them: the scoring component does. A deployment runs the
component's validator so a broken scorecard or table is refused before any application meets it.
"""
from __future__ import annotations

from scoring.errors import ScoringError
from scoring.validation import VALIDATORS, validate_rating_file


def is_data_file(name: str) -> bool:
    return name in VALIDATORS


def data_file_problem(name: str, text: str) -> str | None:
    """Why this data file cannot be deployed, or None."""
    try:
        validate_rating_file(name, text)
    except ScoringError as err:
        message = getattr(err, "message", None) or str(err)
        # Name the entry of the file ("single_customer.max_amount: must not be negative"), unless
        # the message already does or the "field" is the file itself.
        field = getattr(err, "field", None)
        if field and field != name and field not in message:
            return f"{field}: {message}"
        return message
    except RecursionError:
        return "is nested too deeply to read"
    return None
