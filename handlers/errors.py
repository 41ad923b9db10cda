"""Errors a handler raises when it cannot do its step (not business outcomes: those are data)."""
from __future__ import annotations


class HandlerError(Exception):
    """The step could not be done; the instance shows an incident that can be retried."""
    kind = "unavailable"
    code = "handler_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
