"""What the review SLA writes when its timers fire: the reminder and the escalation.

The times are in the diagram (boundary timers on each review task in review.bpmn); the service
tasks on their paths call these through `handlers/review_sla.py`. Both run inside the timer's step
(`Origination.fire_timer`), before the inbox rows are synced, so the task's row is still open:

- a reminder marks the row (`context.sla`: how many reminders, the last one's time) so the inbox
  shows it, records `task_reminder_sent` in the audit trail and a `task.reminder` notice in the
  outbox. The row keeps its reviewer and its claim.
- an escalation records `task_escalated` and a `task.escalated` notice, and returns what the
  escalated task shows (`escalations` in its context). The engine has cancelled the task; the
  inbox sync closes its row and opens the next role's.

Notices carry no callback URL: they are for the bank's staff channels, not the integrator's
webhook, so the outbox keeps them as readable history.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from privacy import redact
from workflows.models import AuditEvent, HumanTask, OutboxMessage

log = logging.getLogger(__name__)


class ReviewSla:
    def remind(self, ctx, task_key: str) -> None:
        row = _open_task(ctx, task_key)
        if row is None:
            # No row to mark: the parameter names another task than the event's (an analyst's
            # slip), or a zero-length reminder came due before the task's row was written.
            log.warning("review reminder for %s on %s: no open task row", task_key, ctx.application_id)
            return
        at = ctx.now.isoformat() + "Z"
        count = int((row.context or {}).get("sla", {}).get("reminders", 0)) + 1
        # A new dict: the JSON column is only written when the attribute is assigned.
        row.context = {**(row.context or {}), "sla": {"reminders": count, "reminded_at": at}}
        _record(ctx, row, "task_reminder_sent", "task.reminder", {"reminders": count})

    def escalate(self, ctx, task_key: str) -> dict:
        row = _open_task(ctx, task_key)
        at = ctx.now.isoformat() + "Z"
        if row is None:  # as for a reminder: the engine still moves the task on
            log.warning("review escalation for %s on %s: no open task row", task_key, ctx.application_id)
            return {"task_key": task_key, "at": at}
        _record(ctx, row, "task_escalated", "task.escalated", {})
        return {"task_key": task_key, "task": row.title, "from_role": row.role, "assignee": row.assignee,
                "at": at}


def _open_task(ctx, task_key: str) -> HumanTask | None:
    return ctx.session.scalar(select(HumanTask).where(
        HumanTask.application_id == ctx.application_id, HumanTask.task_key == task_key,
        HumanTask.status == "open").order_by(HumanTask.created_at.desc()).limit(1))


def _record(ctx, row: HumanTask, event: str, topic: str, extra: dict) -> None:
    # Masked as every audit row is (privacy.redact): a title is the analyst's free text.
    detail = redact({"task_id": row.id, "task": row.title, "role": row.role, "assignee": row.assignee, **extra})
    ctx.session.add(AuditEvent(application_id=ctx.application_id, actor=ctx.actor, event=event,
                               detail=detail, at=ctx.now))
    ctx.session.add(OutboxMessage(topic=topic, application_id=ctx.application_id,
                                  payload={"application_id": ctx.application_id, "branch": row.branch_code,
                                           **detail}))
