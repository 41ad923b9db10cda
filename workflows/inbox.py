"""The human-task inbox: rows mirrored from the engine's ready user tasks, and their queries."""
from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from privacy import redact
from workflows import task_counts
from workflows.business_calendar import load_calendar
from workflows.diagrams import task_property, user_task_form
from workflows.models import HQ, HumanTask, User, utcnow
from workflows.timers import first_boundary_timer_due

# What a reviewer sees of the task data, beside the application itself.
CONTEXT_KEYS = ("score", "grade", "credit_line", "annual_rate", "approved_amount", "reason_codes",
                "risk_hits", "limit_hits", "limit_usage", "review_levels", "review_route_reason", "is_large_amount",
                "decision_trail", "applicant_age", "large_amount_report", "escalations")


@dataclass(frozen=True)
class TaskSubject:
    """What an inbox row shows of the business object a task is about (an application, a loan),
    copied onto the row so the inbox is one indexed query."""
    branch_code: str
    process_id: str
    amount: Decimal = Decimal("0")
    customer_name: str = ""
    product_code: str = ""
    application_id: str | None = None
    loan_id: str | None = None


def ready_user_tasks(workflow: BpmnWorkflow):
    return [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]


def sync_inbox(session: Session, subject: TaskSubject, instance_id: str, workflow: BpmnWorkflow,
               now: dt.datetime) -> list[HumanTask]:
    """Open a row for every new ready user task; cancel rows whose task is no longer ready."""
    ready = {str(t.id): t for t in ready_user_tasks(workflow)}
    if not ready and not _has_user_tasks(workflow):
        return []  # no diagram of it has a user task, so no row for it can be open
    # The step runs without autoflush, so a row this request just completed still reads as open in
    # the database: the identity map hands back that same object, whose own status is the truth.
    open_rows = {row.id: row for row in session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance_id, HumanTask.status == "open"))
        if row.status == "open"}
    created = []
    calendars: list = []  # the bank's calendar, read once per sync and only if a task counts working hours

    def calendar():
        if not calendars:
            calendars.append(load_calendar(session))
        return calendars[0]

    for task_id, task in ready.items():
        if task_id in open_rows:
            continue
        spec = task.task_spec
        row = HumanTask(
            id=task_id, instance_id=instance_id, application_id=subject.application_id,
            process_id=subject.process_id, loan_id=subject.loan_id,
            branch_code=subject.branch_code, role=spec.lane or "", form=user_task_form(spec) or "",
            task_key=spec.bpmn_id or spec.name, title=spec.bpmn_name or spec.name,
            level=int(task_property(spec, "level", 0)), amount=subject.amount,
            customer_name=subject.customer_name, product_code=subject.product_code,
            created_at=now, due_at=_due_at(calendar, task, now),
            context={k: task.data[k] for k in _context_keys(spec) if k in task.data},
        )
        session.add(row)
        created.append(row)
    for task_id, row in open_rows.items():
        if task_id not in ready:
            row.status = "cancelled"
            row.completed_at = now
    return created


_MANUAL_SPECS: "weakref.WeakKeyDictionary[object, bool]" = weakref.WeakKeyDictionary()


def _has_user_tasks(workflow: BpmnWorkflow) -> bool:
    """Whether any diagram of this instance has a user task; cached per parsed spec (immutable,
    and an instance keeps its pinned spec), so a step of a process without people (a timer
    probe, a batch's process) reads no inbox rows."""
    key = workflow.spec  # weakly: an id() could be reused by another spec once this one is gone
    if key not in _MANUAL_SPECS:
        specs = [workflow.spec, *workflow.subprocess_specs.values()]
        _MANUAL_SPECS[key] = any(ts.manual for spec in specs for ts in spec.task_specs.values())
    return _MANUAL_SPECS[key]


def _context_keys(spec) -> tuple[str, ...]:
    """The origination figures, plus what the diagram asks the task to show (property 'shows',
    comma-separated task-data names: a collection call shows the days past due and the arrears)."""
    extra = tuple(name.strip() for name in (task_property(spec, "shows") or "").split(",") if name.strip())
    return CONTEXT_KEYS + extra


def _due_at(calendar, task, now: dt.datetime) -> dt.datetime | None:
    """When the task is due (naive UTC): its first SLA timer (a boundary timer, e.g. the review's
    reminder), so the inbox's due date and `overdue` move when an analyst changes the diagram's
    timers; else its `due_working_hours` property (the bank's working time, business_calendar.py)
    or its `due_hours` property (hours on the clock); else never."""
    sla = first_boundary_timer_due(task)
    if sla is not None:
        return sla.astimezone(dt.timezone.utc).replace(tzinfo=None)
    working_hours = task_property(task.task_spec, "due_working_hours")
    if working_hours:
        return calendar().add_working_hours(now, int(working_hours)).replace(tzinfo=None)
    due_hours = task_property(task.task_spec, "due_hours")
    return now + dt.timedelta(hours=int(due_hours)) if due_hours else None


def visible_to(user: User):
    """Tasks of the user's roles: in their own branch; head-office roles see every branch."""
    roles = list(user.role_set)
    if user.branch_code == HQ:
        return HumanTask.role.in_([r for r in roles if r.startswith("hq_")])
    return (HumanTask.role.in_(roles)) & (HumanTask.branch_code == user.branch_code)


def may_work(user: User, row: HumanTask) -> bool:
    if row.role not in user.role_set:
        return False
    return user.branch_code == HQ and row.role.startswith("hq_") or user.branch_code == row.branch_code


def inbox_query(user: User, *, status: str = "open", role: str | None = None, mine: bool = False,
                application_id: str | None = None, min_amount: Decimal | None = None,
                max_amount: Decimal | None = None, overdue: bool = False, now: dt.datetime | None = None,
                process: str | None = None, loan_id: str | None = None, delegated=None, scoped: bool = True):
    """`delegated`: the clause for the tasks colleagues delegate to the user now
    (workflows.delegation.delegated_tasks), which are theirs as if claimed by them. `scoped=False`
    leaves out the viewer's branches and roles, which a keyset page adds per (branch, role)."""
    query = select(HumanTask).where(HumanTask.status == status)
    if scoped:
        query = query.where(visible_to(user))
    own = HumanTask.assignee == user.username
    if delegated is not None:
        own = or_(own, delegated)
    if status == "open":
        # Own claims and unclaimed tasks; another reviewer's claimed task is not in my inbox.
        query = query.where(or_(HumanTask.assignee.is_(None), own))
    if mine:
        query = query.where(own)
    if role:
        query = query.where(HumanTask.role == role)
    if application_id:
        query = query.where(HumanTask.application_id == application_id)
    if process:
        query = query.where(HumanTask.process_id == process)
    if loan_id:
        query = query.where(HumanTask.loan_id == loan_id)
    if min_amount is not None:
        query = query.where(HumanTask.amount >= min_amount)
    if max_amount is not None:
        query = query.where(HumanTask.amount <= max_amount)
    if overdue:
        query = query.where(HumanTask.due_at < (now or utcnow()))
    return query


# Filters the maintained counts (workflows.task_counts) cannot answer: with one of them the total is
# a COUNT(*) of the matching rows.
_UNCOUNTED = ("application_id", "loan_id", "min_amount", "max_amount", "overdue")


def list_inbox(session: Session, user: User, *, page: int = 1, per_page: int = 20, at: dt.datetime | None = None,
               after: str | None = None, **filters) -> dict:
    """One page of the inbox, by `page` (OFFSET) or by the cursor `after` (a `next` of an earlier
    answer, keyset: as cheap deep in the list as on page 1); `next` is the following page's cursor.
    `at`: the moment whose delegations count (the process layer's now)."""
    from workflows.delegation import delegated_tasks, running_for
    from workflows.task_pages import Cursor, keyset_page, offset_page

    cursor = Cursor.decode(after) if after is not None else None
    delegations = running_for(session, user, at or utcnow())
    delegated = delegated_tasks(delegations)
    status = filters.get("status", "open")
    counts = task_counts.visible_counts(session, user, status, role=filters.get("role"),
                                        process=filters.get("process") or None)
    if any(filters.get(name) for name in _UNCOUNTED):
        total = session.scalar(select(func.count()).select_from(
            inbox_query(user, delegated=delegated, **filters).subquery()))
    else:
        owned = task_counts.owned_by(user, delegations)
        if filters.get("mine"):
            total = task_counts.total(counts, owned)
        elif status == "open":
            total = task_counts.total(counts, lambda row: task_counts.unclaimed(row) or owned(row))
        else:
            total = task_counts.total(counts)
    if cursor is not None:
        groups = sorted({(c.branch_code, c.role) for c in counts})
        rows, following = keyset_page(session, inbox_query(user, delegated=delegated, scoped=False, **filters),
                                      groups, after=cursor, limit=per_page)
        page_number = None
    else:
        offset = (page - 1) * per_page
        rows = offset_page(session, inbox_query(user, delegated=delegated, **filters), offset=offset, limit=per_page)
        following = Cursor.of(rows[-1]) if rows and offset + len(rows) < total else None
        page_number = page
    # A list shows personal data masked, also in the reviewers' comments (privacy.masking).
    return {"items": [redact(task_view(r, delegations)) for r in rows], "total": total, "page": page_number,
            "per_page": per_page, "next": following.encode() if following else None}


def task_view(row: HumanTask, delegations=()) -> dict:
    """The row as the API shows it; a task one of `delegations` (the viewer's, running now)
    hands to the viewer says whose it is (`delegated_by`)."""
    delegated_by = next((d.delegator for d in delegations if row.status == "open" and row.assignee == d.delegator
                         and row.role in d.role_set and row.branch_code == d.branch_code), None)
    return {
        "id": row.id, "instance_id": row.instance_id, "process": row.process_id,
        "application_id": row.application_id, "loan_id": row.loan_id, "branch": row.branch_code,
        "title": row.title, "task_key": row.task_key, "role": row.role, "form": row.form,
        "level": row.level, "status": row.status, "assignee": row.assignee,
        "amount": str(row.amount), "customer_name": row.customer_name, "product": row.product_code,
        "created_at": _iso(row.created_at), "due_at": _iso(row.due_at),
        "completed_at": _iso(row.completed_at), "completed_by": row.completed_by,
        "decision": row.decision, "context": row.context,
        "on_behalf_of": row.on_behalf_of, **({"delegated_by": delegated_by} if delegated_by else {}),
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None
