"""The review SLA's service tasks (审查时限): a reminder to a review task's reviewer, and an escalation
of the task to the next role.

When they run is the diagram's business (boundary timers in review.bpmn, changed by deploying a
file); these only say what happens then. What is written — the audit trail, a notice in the outbox,
the mark on the inbox row — belongs to the workflow layer, which hands its writer in as
`ctx.services["review_sla"]` (workflows/review_sla.py), as it hands in the exposure service.
"""
from __future__ import annotations

from handlers.context import HandlerContext


def remind(ctx: HandlerContext, data: dict) -> dict:
    ctx.services["review_sla"].remind(ctx, data["task_key"])
    # Nothing goes back into the task data: this path ends beside the review, and what it left in
    # the data must not be read as the review's outcome.
    return {}


def escalate(ctx: HandlerContext, data: dict) -> dict:
    record = ctx.services["review_sla"].escalate(ctx, data["task_key"])
    # A trail, as decision_trail is: the escalated task (and every later one) shows why it came.
    return {"escalations": [*(data.get("escalations") or []), record]}
