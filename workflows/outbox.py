"""Delivering outbox messages to integrators' webhooks.

Messages are written in the same transaction as the change they announce (workflows.origination);
delivery happens later, from the worker, at least once. A message is claimed with
FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers never send the same one at the same
time; failures are retried with exponential backoff and give up after MAX_ATTEMPTS.
"""
from __future__ import annotations

import datetime as dt
import logging

import requests
from privacy import redact_text
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from workflows import webhook_signing
from workflows.db import Database, dumps
from workflows.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH = 50
TIMEOUT = (2.0, 5.0)


def next_attempt_after(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 5 * 2 ** attempts))


def deliver_due(db: Database, *, http: requests.Session | None = None, now: dt.datetime | None = None) -> int:
    """Send every due message that has a callback URL; returns how many were delivered."""
    http = http or requests.Session()
    now = now or utcnow()
    delivered = 0
    with db.unit_of_work() as session:
        query = (select(OutboxMessage)
                 .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS,
                        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
                 .order_by(OutboxMessage.id).limit(BATCH))
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        for message in session.scalars(query):
            if not (message.payload or {}).get("callback_url"):
                message.delivered_at = now  # nobody to tell: the event stays readable in the history
                continue
            delivered += send(session, http, message, now)
    return delivered


def send(session: Session, http: requests.Session, message: OutboxMessage, now: dt.datetime) -> bool:
    """Post one message, signed with its integrator's secrets (workflows/webhook_signing.py), to
    its callback URL and record the attempt on the row: delivered, or the error and when to try
    again. The worker's delivery and the console's redelivery both use it."""
    url = message.payload["callback_url"]
    body = {"id": message.id, "topic": message.topic, "created_at": message.created_at.isoformat() + "Z",
            **{k: v for k, v in message.payload.items() if k != "callback_url"}}
    data = dumps(body).encode("utf-8")  # the signed bytes are the sent bytes
    signed = webhook_signing.headers_for(session, message, data, now)
    if signed is None:
        ok, problem = False, "the integrator has no webhook signing secret yet (POST /api/v1/webhooks/secret)"
    else:
        try:
            # No redirects: the callback host was checked against the integrator's allow-list
            # (workflows/callbacks.py), and a redirect would send us to a host nobody checked.
            response = http.post(url, data=data, timeout=TIMEOUT, allow_redirects=False,
                                 headers={"Content-Type": "application/json",
                                          "X-Loanflow-Event": message.topic,
                                          "X-Loanflow-Delivery": str(message.id), **signed.as_dict()})
            ok = 200 <= response.status_code < 300
            problem = None if ok else f"HTTP {response.status_code}"
        except requests.RequestException as err:
            ok, problem = False, str(err)
    message.attempts += 1
    if ok:
        message.delivered_at = now
        return True
    message.last_error = problem[:500]
    message.next_attempt_at = now + next_attempt_after(message.attempts)
    log.warning("webhook %s to %s failed (attempt %s): %s", message.id, redact_text(url), message.attempts,
                redact_text(problem))
    return False
