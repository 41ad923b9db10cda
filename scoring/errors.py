"""Typed errors of the scoring component.

Every error carries a stable `code` (web/ maps it to an HTTP answer), a human `message` and, where
one input is to blame, the `field` that caused it. Expected business outcomes (a block, a limit
hit) are *results*, not errors: these are for bad data, bad configuration and unavailable services.
"""
from __future__ import annotations


class ScoringError(Exception):
    code = "scoring_error"
    # How web/ should answer: invalid (422), not_found (404), conflict (409), unavailable (503).
    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ApplicantDataError(ScoringError):
    """An applicant field is missing, malformed or outside every bin."""

    code = "invalid_applicant"


class ProductDataError(ScoringError):
    code = "invalid_product"


class RatingFileError(ScoringError):
    """A scorecard, decision table or configuration file cannot be used as written."""

    code = "invalid_rating_file"


class DmnError(RatingFileError):
    """A DMN file uses something this evaluator refuses, or is malformed."""

    code = "invalid_dmn"


class DecisionFailed(ScoringError):
    """A decision table could not decide: no rule matched, or a UNIQUE table matched twice."""

    code = "decision_failed"


class RiskListError(ScoringError):
    code = "risk_list_error"


class UnknownRiskList(RiskListError):
    code = "unknown_risk_list"
    kind = "not_found"


class RiskListEntryExists(RiskListError):
    code = "risk_list_entry_exists"
    kind = "conflict"


class RiskListEntryNotFound(RiskListError):
    code = "risk_list_entry_not_found"
    kind = "not_found"


class BureauError(ScoringError):
    code = "bureau_error"
    kind = "unavailable"


class BureauUnavailable(BureauError):
    """The bureau could not be reached after every retry, or the circuit breaker is open.

    Never swallowed into a default score: the caller (a service task) retries later or raises an
    incident.
    """

    code = "bureau_unavailable"
    kind = "unavailable"


class BureauRejected(BureauError):
    """The bureau answered, but refused the request (a 4xx other than 404/429): retrying won't help."""

    code = "bureau_rejected"
    kind = "invalid"
