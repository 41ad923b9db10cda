"""Operations (issue 14): is the product healthy, and what is stuck.

Readiness (`/readyz`): the database answers, its schema is at this version's head, and some worker
sent a heartbeat recently. The console (`/ops`, `/api/v1/operations/...`): incidents with a bulk
retry, webhooks that failed with redelivery, timers overdue (a stopped worker), the end-of-day runs
and the workers' heartbeats. A branch's operations staff see their branch only; HQ's see all.
Every function takes the moment it judges by (`now`, naive UTC), so tests move a clock, not sleep.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlparse

import requests
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from privacy import redact_text
from workflows.db import Database
from workflows.errors import InvalidInput, NotFound, WorkflowError
from workflows.models import (HQ, Application, AuditEvent, DueTimer, EodBatchRun, HumanTask, OutboxMessage,
                              ProcessInstance,
                              User, WorkerHeartbeat, utcnow)
from workflows.outbox import MAX_ATTEMPTS, send

log = logging.getLogger(__name__)

# A timer this much past its due time means no worker fired it: one runs them every 10 seconds.
OVERDUE_TIMER_AFTER = dt.timedelta(minutes=5)
LISTED = 200          # rows per list in the console
MOST_IDS = 100        # ids per bulk retry or redelivery
INCIDENT = "incident"


# -- heartbeats and readiness -------------------------------------------------------------------

def beat(db: Database, worker_id: str, *, host: str = "", pid: int = 0, started_at: dt.datetime | None = None,
         now: dt.datetime | None = None) -> None:
    """Record that `worker_id` is alive (the worker calls it on every tick of its scheduler)."""
    now = now or utcnow()
    with db.unit_of_work() as session:
        row = session.get(WorkerHeartbeat, worker_id)
        if row is None:
            session.add(WorkerHeartbeat(worker_id=worker_id, host=host, pid=pid, started_at=started_at or now,
                                        beat_at=now))
        else:
            row.beat_at = now
            if started_at is not None:
                row.started_at, row.host, row.pid = started_at, host, pid


@dataclass(frozen=True)
class Readiness:
    checks: dict = field(default_factory=dict)   # database / schema / worker -> "ok" or what is wrong

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())

    @property
    def reasons(self) -> list[str]:
        return [f"{name}: {value}" for name, value in self.checks.items() if value != "ok"]

    def to_dict(self) -> dict:
        return {"status": "ready" if self.ready else "unready", "checks": self.checks, "reasons": self.reasons}


def readiness(db: Database, *, now: dt.datetime, stale_after: dt.timedelta) -> Readiness:
    """Can this process serve? Each check says "ok" or, in a line, why not."""
    from workflows.schema import CURRENT, inspect_schema

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as err:
        return Readiness({"database": f"unreachable ({type(err).__name__})", "schema": "not checked",
                          "worker": "not checked"})
    status = inspect_schema(db.engine)
    if status.state != CURRENT:
        return Readiness({"database": "ok", "schema": status.describe(), "worker": "not checked"})
    with db.read_sessions() as session:
        last = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    if last is None:
        worker = "no worker has sent a heartbeat (is `loanflow worker` running?)"
    elif now - last > stale_after:
        worker = (f"stale: the last heartbeat was {int((now - last).total_seconds())} s ago "
                  f"(limit {int(stale_after.total_seconds())} s)")
    else:
        worker = "ok"
    return Readiness({"database": "ok", "schema": "ok", "worker": worker})


# -- what the console shows ---------------------------------------------------------------------

def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def _sees_all(viewer: User) -> bool:
    return viewer.branch_code == HQ


def workers(session: Session, *, now: dt.datetime, stale_after: dt.timedelta) -> list[dict]:
    rows = session.scalars(select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(LISTED))
    return [{"worker_id": row.worker_id, "host": row.host, "pid": row.pid, "started_at": _iso(row.started_at),
             "beat_at": _iso(row.beat_at), "seconds_since_beat": int((now - row.beat_at).total_seconds()),
             "fresh": now - row.beat_at <= stale_after} for row in rows]


def _incident_query(viewer: User):
    query = select(ProcessInstance).where(ProcessInstance.status == INCIDENT)
    return query if _sees_all(viewer) else query.where(ProcessInstance.branch_code == viewer.branch_code)


def incidents(session: Session, viewer: User) -> list[dict]:
    rows = session.scalars(_incident_query(viewer).order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id)
                           .limit(LISTED))
    return [{"instance_id": row.id, "process_id": row.process_id, "branch": row.branch_code,
             "application_id": row.application_id, "stage": row.stage, "incident": row.incident or "",
             "automatic_attempts": row.incident_attempts, "next_automatic_retry_at": _iso(row.next_retry_at),
             "since": _iso(row.updated_at)} for row in rows]


def _failed_webhook_query(viewer: User):
    query = (select(OutboxMessage, Application.branch_code)
             .outerjoin(Application, Application.id == OutboxMessage.application_id)
             .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts > 0))
    return query if _sees_all(viewer) else query.where(Application.branch_code == viewer.branch_code)


def failed_webhooks(session: Session, viewer: User) -> list[dict]:
    """Webhooks that failed at least once and are not delivered: `dead` once the worker gave up
    (MAX_ATTEMPTS), else `retrying` with the next attempt's time."""
    rows = session.execute(_failed_webhook_query(viewer).order_by(OutboxMessage.id.desc()).limit(LISTED))
    return [_webhook_view(message, branch) for message, branch in rows]


def _webhook_view(message: OutboxMessage, branch: str | None) -> dict:
    url = (message.payload or {}).get("callback_url") or ""
    return {"id": message.id, "topic": message.topic, "application_id": message.application_id, "branch": branch,
            "receiver": urlparse(url).netloc, "attempts": message.attempts,
            "state": "dead" if message.attempts >= MAX_ATTEMPTS else "retrying",
            "last_error": redact_text(message.last_error or ""), "created_at": _iso(message.created_at),
            "next_attempt_at": None if message.attempts >= MAX_ATTEMPTS else _iso(message.next_attempt_at)}


def _overdue_timer_query(viewer: User, now: dt.datetime):
    query = (select(DueTimer, ProcessInstance)
             .join(ProcessInstance, ProcessInstance.id == DueTimer.instance_id)
             .where(DueTimer.fired_at.is_(None), DueTimer.due_at < now - OVERDUE_TIMER_AFTER))
    return query if _sees_all(viewer) else query.where(ProcessInstance.branch_code == viewer.branch_code)


def overdue_timers(session: Session, viewer: User, *, now: dt.datetime) -> list[dict]:
    """Timers more than OVERDUE_TIMER_AFTER past due and not fired: no worker is firing them."""
    rows = session.execute(_overdue_timer_query(viewer, now).order_by(DueTimer.due_at, DueTimer.id).limit(LISTED))
    return [{"timer_id": timer.id, "instance_id": instance.id, "process_id": instance.process_id,
             "branch": instance.branch_code, "application_id": instance.application_id,
             "element_id": timer.element_id, "due_at": _iso(timer.due_at),
             "minutes_overdue": int((now - timer.due_at).total_seconds() // 60)} for timer, instance in rows]


def eod_runs(session: Session, *, limit: int = 30) -> list[dict]:
    """The last end-of-day batches (group-wide: one batch closes the date for every branch)."""
    rows = session.scalars(select(EodBatchRun).order_by(EodBatchRun.id.desc()).limit(limit))
    return [{"business_date": row.business_date.isoformat(), "started_at": _iso(row.started_at),
             "finished_at": _iso(row.finished_at), "duration_seconds": str(row.duration_seconds),
             "figures": row.figures} for row in rows]


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def overview(session: Session, viewer: User, *, now: dt.datetime, stale_after: dt.timedelta) -> dict:
    dead = _failed_webhook_query(viewer).where(OutboxMessage.attempts >= MAX_ATTEMPTS)
    beats = workers(session, now=now, stale_after=stale_after)
    runs = eod_runs(session, limit=1)
    return {"scope": viewer.branch_code, "open_incidents": _count(session, _incident_query(viewer)),
            "failed_webhooks": _count(session, _failed_webhook_query(viewer)), "dead_webhooks": _count(session, dead),
            "overdue_timers": _count(session, _overdue_timer_query(viewer, now)),
            "workers": len(beats), "stale_workers": sum(not w["fresh"] for w in beats),
            "last_eod": runs[0] if runs else None}


# -- what the console does ----------------------------------------------------------------------

def checked_ids(body, kind: type) -> list:
    """The `ids` of a bulk request: a non-empty list of at most MOST_IDS ids, each named if wrong."""
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        raise InvalidInput("Send the ids to act on as a non-empty list", fields={"ids": ["A non-empty list"]})
    if len(ids) > MOST_IDS:
        raise InvalidInput(f"At most {MOST_IDS} ids at once", fields={"ids": [f"At most {MOST_IDS} ids"]})
    wrong = {f"ids.{n}": [f"Not {'a whole number' if kind is int else 'a text'} id"]
             for n, value in enumerate(ids) if not _is_id(value, kind)}
    if wrong:
        raise InvalidInput("Some ids are not ids", fields=wrong)
    return list(dict.fromkeys(int(value) if kind is int else value for value in ids))


def _is_id(value, kind: type) -> bool:
    if kind is str:
        return isinstance(value, str) and 0 < len(value) <= 64
    # The API reads JSON numbers as Decimal: a whole one is a message id.
    return (isinstance(value, (int, Decimal)) and not isinstance(value, bool)
            and Decimal(value) == Decimal(value).to_integral_value() and 0 < value < 2 ** 62)


def retry_incidents(session: Session, layer, viewer: User, instance_ids: list[str]) -> dict:
    """Retry each instance's failed step, each in a savepoint of its own: one that fails again or
    is refused leaves the others' recoveries standing. Every id gets its outcome."""
    results = []
    for instance_id in instance_ids:
        try:
            with session.begin_nested():
                # Locked before it is read: a worker retrying it meanwhile is waited for, not overwritten.
                instance = layer.lock(session, instance_id)
                if not (_sees_all(viewer) or instance.branch_code == viewer.branch_code):
                    raise NotFound("Process instance not found")
                step = layer.retry(session, instance, viewer.username)
        except NotFound:
            results.append({"instance_id": instance_id, "outcome": "not_found"})
            continue
        except WorkflowError as err:  # not (or no longer) an incident: someone retried it first
            results.append({"instance_id": instance_id, "outcome": "refused", "message": err.message})
            continue
        recovered = step.state.status != INCIDENT
        results.append({"instance_id": instance_id, "outcome": "resumed" if recovered else "failed_again",
                        "status": step.state.status, **({} if recovered else {"incident": step.incident or ""})})
    return {"results": results, "resumed": sum(r["outcome"] == "resumed" for r in results)}


def redeliver_webhooks(session: Session, viewer: User, message_ids: list[int], *, now: dt.datetime,
                       http: requests.Session | None = None) -> dict:
    """Send each failed webhook again at once (the receiver is back): delivered, or the new error.
    A dead letter that fails again stays dead; a retrying one keeps its backoff."""
    http = http or requests.Session()
    results = []
    for message_id in message_ids:
        query = (select(OutboxMessage, Application.branch_code)
                 .outerjoin(Application, Application.id == OutboxMessage.application_id)
                 .where(OutboxMessage.id == message_id))
        found = session.execute(query.with_for_update(of=OutboxMessage)).first()
        if found is None or not (_sees_all(viewer) or found[1] == viewer.branch_code):
            results.append({"id": message_id, "outcome": "not_found"})
            continue
        message = found[0]
        if message.delivered_at is not None:
            results.append({"id": message_id, "outcome": "already_delivered"})
            continue
        if not (message.payload or {}).get("callback_url"):
            results.append({"id": message_id, "outcome": "no_receiver"})
            continue
        delivered = send(session, http, message, now)
        outcome = {"id": message_id, "outcome": "delivered" if delivered else "failed",
                   **({} if delivered else {"error": redact_text(message.last_error or "")})}
        session.add(AuditEvent(application_id=message.application_id, actor=viewer.username, at=now,
                               event="webhook_redelivered", detail=outcome))
        results.append(outcome)
    return {"results": results, "delivered": sum(r["outcome"] == "delivered" for r in results)}


# -- the bank's state as figures (the metrics' database half) ------------------------------------------
@dataclass(frozen=True)
class ProcessFigures:
    started: int
    completed: int
    incidents: int


@dataclass(frozen=True)
class BankState:
    """What the database says at one moment, across every branch: read once per metrics scrape."""
    processes: dict[str, ProcessFigures]
    open_tasks: dict[str, int]
    timers_due: int
    timers_overdue: int
    webhook_backlog: int
    webhook_dead_letters: int
    eod_runs: int
    eod_seconds_total: float
    eod_last_seconds: float
    heartbeat_age_seconds: float | None  # None: no worker has beaten yet


def bank_state(db: Database, *, now: dt.datetime) -> BankState:
    with db.read_sessions() as session:
        by_process = session.execute(select(ProcessInstance.process_id, ProcessInstance.status, func.count())
                                     .group_by(ProcessInstance.process_id, ProcessInstance.status)).all()
        open_tasks = session.execute(select(HumanTask.role, func.count()).where(HumanTask.status == "open")
                                     .group_by(HumanTask.role)).all()
        unfired = DueTimer.fired_at.is_(None)
        timers_due = session.scalar(select(func.count()).where(unfired, DueTimer.due_at <= now))
        timers_overdue = session.scalar(select(func.count()).where(unfired, DueTimer.due_at < now - OVERDUE_TIMER_AFTER))
        undelivered = OutboxMessage.delivered_at.is_(None)
        backlog = session.scalar(select(func.count()).where(undelivered, OutboxMessage.attempts < MAX_ATTEMPTS))
        dead = session.scalar(select(func.count()).where(undelivered, OutboxMessage.attempts >= MAX_ATTEMPTS))
        eod_count, eod_sum = session.execute(select(func.count(), func.sum(EodBatchRun.duration_seconds))).one()
        last_eod = session.scalar(select(EodBatchRun.duration_seconds).order_by(EodBatchRun.id.desc()).limit(1))
        last_beat = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    totals: dict[str, list[int]] = {}
    for process, status, count in by_process:
        figures = totals.setdefault(process, [0, 0, 0])
        figures[0] += count
        figures[1] += count if status == "completed" else 0
        figures[2] += count if status == "incident" else 0
    return BankState(
        processes={p: ProcessFigures(*figures) for p, figures in sorted(totals.items())},
        open_tasks=dict(sorted(open_tasks)), timers_due=timers_due or 0, timers_overdue=timers_overdue or 0,
        webhook_backlog=backlog or 0, webhook_dead_letters=dead or 0, eod_runs=eod_count or 0,
        eod_seconds_total=float(eod_sum or 0), eod_last_seconds=float(last_eod or 0),
        heartbeat_age_seconds=(now - last_beat).total_seconds() if last_beat else None)
