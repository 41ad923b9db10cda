"""Typed errors of the workflows package. `kind` tells web/ which HTTP status to use."""
from __future__ import annotations


class WorkflowError(Exception):
    kind = "invalid"
    code = "workflow_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.field = field
        self.fields = fields or {}


class NotFound(WorkflowError):
    kind = "not_found"
    code = "not_found"


class Conflict(WorkflowError):
    kind = "conflict"
    code = "conflict"


class Forbidden(WorkflowError):
    kind = "forbidden"
    code = "forbidden"


class InvalidInput(WorkflowError):
    kind = "invalid"
    code = "invalid_input"


class DeploymentRejected(WorkflowError):
    """A diagram set that must not be deployed; `problems` lists every reason, per file."""
    kind = "invalid"
    code = "deployment_rejected"

    def __init__(self, problems: list[dict]):
        summary = "; ".join(f"{p['file']}: {p['reason']}" for p in problems)
        fields: dict[str, list[str]] = {}
        for problem in problems:  # every reason of every file, not the last one per file
            fields.setdefault(problem["file"], []).append(problem["reason"])
        super().__init__(f"Deployment rejected: {summary}", fields=fields)
        self.problems = problems


class ScriptRefused(WorkflowError):
    """A BPMN script or condition the sandbox will not run."""
    code = "script_refused"


class ScriptFailed(WorkflowError):
    """An analyst's script, condition or expression that failed or was refused while running.

    Carries what an incident shows: the element, a plain reason and the expression as the
    analyst wrote it; never a traceback, never a value from outside task data.
    """
    code = "script_failed"
    MAX_SHOWN = 300
    MAX_REASON = 500  # a reason can quote task data: a 100,000-character key, say

    def __init__(self, *, element: str, reason: str, expression: str):
        shown = expression if len(expression) <= self.MAX_SHOWN else expression[:self.MAX_SHOWN] + "…"
        reason = reason if len(reason) <= self.MAX_REASON else reason[:self.MAX_REASON] + "…"
        super().__init__(f"{element}: {reason} — in: {shown}",
                         fields={"element": [element], "reason": [reason], "expression": [shown]})
        self.element, self.reason, self.expression = element, reason, shown


class ProcessBoundExceeded(WorkflowError):
    """One advance of an instance ran more engine tasks, or longer, than limits.py allows."""
    code = "process_bound_exceeded"


class HandlerFailed(WorkflowError):
    """A service task's handler raised; the instance records an incident."""
    kind = "unavailable"
    code = "handler_failed"
