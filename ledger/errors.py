"""Typed ledger errors. `field` names the offending input so web/ can answer 422 naming it."""
from __future__ import annotations


class LedgerError(Exception):
    """`kind` tells web/ which HTTP status fits: invalid (422), not_found (404), conflict (409)."""

    code = "ledger_error"
    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def as_dict(self) -> dict:
        body = {"error": self.code, "message": self.message, "fields": {}}
        if self.field:
            body["fields"] = {self.field: [self.message]}
        return body


class InvalidInput(LedgerError):
    """An input value is out of range or malformed; nothing was posted."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class UnbalancedEntry(LedgerError):
    """A journal entry whose debits and credits differ, or that mixes branches."""

    code = "unbalanced_entry"


class UnknownAccount(LedgerError):
    code = "unknown_account"
    kind = "not_found"


class UnknownLoan(LedgerError):
    code = "unknown_loan"
    kind = "not_found"

    def __init__(self, loan_ref, field: str = "loan_id") -> None:
        super().__init__(f"no loan {loan_ref!r}", field=field)


class UnknownEntry(LedgerError):
    code = "unknown_entry"
    kind = "not_found"


class DuplicateLoan(LedgerError):
    code = "duplicate_loan"
    kind = "conflict"


class LoanStateError(LedgerError):
    """The operation does not fit the loan's state (e.g. disbursing a loan twice, repaying a closed loan)."""

    code = "loan_state"
    kind = "conflict"


class AlreadyReversed(LedgerError):
    code = "already_reversed"
    kind = "conflict"


class BusinessDateClosed(LedgerError):
    """The end-of-day batch for a date at or before the last closed one: re-running a closed day
    would accrue, age and reclassify again from today's balances and undo the later days' work."""

    code = "business_date_closed"
    kind = "conflict"

    def __init__(self, business_date, last_closed) -> None:
        super().__init__(
            f"business date {business_date.isoformat()} is at or before the last closed date "
            f"{last_closed.isoformat()}; a correction is a new posting, not a re-run",
            field="business_date")
        self.business_date = business_date
        self.last_closed = last_closed
