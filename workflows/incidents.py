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
from workflows.models import HQ, ProcessInstance, User, utcnow
from workflows.origination import Origination

log = logging.getLogger(__name__)

# Retries act as the system, which sees every branch and holds no reviewer role.
SYSTEM = User(username="system", full_name="Automatic retry", branch_code=HQ, roles="", password_hash="")
BATCH = 20


def retry_due_incidents(db: Database, origination: Origination, *, now: dt.datetime | None = None) -> int:
    """Retry every incident whose next attempt is due; returns how many carried on."""
    now = now or utcnow()
    with db.sessions() as session:
        query = (select(ProcessInstance.application_id)
                 .where(ProcessInstance.status == "incident", ProcessInstance.next_retry_at <= now)
                 .order_by(ProcessInstance.next_retry_at).limit(BATCH))
        due = list(session.scalars(query))
    recovered = 0
    for application_id in due:
        try:
            # One unit of work each: one application's failure must not undo another's recovery.
            with db.unit_of_work() as session:
                application = origination.retry(session, application_id, SYSTEM)
                recovered += application.status != "incident"
        except WorkflowError as err:  # e.g. a person retried it first (409)
            log.info("automatic retry of %s skipped: %s", application_id, redact_text(err.message))
    return recovered
