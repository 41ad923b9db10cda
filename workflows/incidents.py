"""The worker's retry of incidents: a step that failed (the credit bureau was down, say) is run
again with backoff, so an outage that clears by itself needs nobody. After the last automatic
attempt the incident waits for `POST /applications/{id}/retry`.
"""
from __future__ import annotations

import datetime as dt
import logging

from privacy import redact_text
from sqlalchemy import select

from workflows.db import Database
from workflows.errors import WorkflowError
from workflows.models import ProcessInstance, utcnow
from workflows.processes import SYSTEM
from workflows.origination import Origination

log = logging.getLogger(__name__)

BATCH = 20


def retry_due_incidents(db: Database, origination: Origination, *, now: dt.datetime | None = None) -> int:
    """Retry every incident (of any process) whose next attempt is due; returns how many carried on."""
    now = now or utcnow()
    layer = origination.layer
    with db.sessions() as session:
        query = (select(ProcessInstance.id)
                 .where(ProcessInstance.status == "incident", ProcessInstance.next_retry_at <= now)
                 .order_by(ProcessInstance.next_retry_at).limit(BATCH))
        due = list(session.scalars(query))
    recovered = 0
    for instance_id in due:
        try:
            # One unit of work each: one instance's failure must not undo another's recovery.
            with db.unit_of_work() as session:
                step = layer.retry(session, layer.lock(session, instance_id), SYSTEM)
                recovered += step.state.status != "incident"
        except WorkflowError as err:  # e.g. a person retried it first (409)
            log.info("automatic retry of %s skipped: %s", instance_id, redact_text(err.message))
    return recovered
