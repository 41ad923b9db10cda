"""Signed webhooks: every delivery carries an HMAC-SHA256 signature an integrator checks with its
own secret, so a receiver can tell our calls from anyone else's and refuse a replayed one.

    X-Loanflow-Timestamp: 1796372400                       (Unix seconds, when it was sent)
    X-Loanflow-Signature: v1=<hex>[,v1=<hex>]             (HMAC-SHA256(secret, f"{timestamp}.{body}"))

The timestamp is the moment of sending (a redelivery is signed anew), so a receiver refuses any
call older than its replay window (REPLAY_WINDOW, five minutes, is what we document). Each
integrator has its own secrets (table `webhook_secret`, sealed like personal data). Rotating makes a
new current secret; the previous one still signs for ROTATION_OVERLAP, so during a rotation each
call carries two signatures and a receiver holding either secret accepts it.

An application's webhooks belong to the integrator that submitted it (`application.created_by`).
An integrator without a secret gets no unsigned call: the delivery fails, naming the reason, and
shows in the operations console until a secret is made and the message redelivered.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets as random_secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.errors import Forbidden
from workflows.models import Application, OutboxMessage, WebhookSecret

SCHEME = "v1"
REPLAY_WINDOW = dt.timedelta(minutes=5)
ROTATION_OVERLAP = dt.timedelta(hours=24)
PREFIX = "whsec_"


@dataclass(frozen=True)
class SignedHeaders:
    timestamp: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {"X-Loanflow-Timestamp": self.timestamp, "X-Loanflow-Signature": self.signature}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign(secrets: list[str], body: bytes, now: dt.datetime) -> SignedHeaders:
    """The headers for one call: one signature per secret still in force, the current one first."""
    timestamp = str(int(now.replace(tzinfo=dt.timezone.utc).timestamp()))
    return SignedHeaders(timestamp, ",".join(f"{SCHEME}={signature(s, timestamp, body)}" for s in secrets))


def verify(secret: str, headers, body: bytes, now: dt.datetime, window: dt.timedelta = REPLAY_WINDOW) -> bool:
    """What a receiver does (the README shows the same in a few lines): the timestamp within the
    window, and one of the signatures made with `secret` (compared in constant time)."""
    timestamp = headers.get("X-Loanflow-Timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    sent = dt.datetime.fromtimestamp(int(timestamp), dt.timezone.utc).replace(tzinfo=None)
    if abs(now - sent) > window:
        return False
    expected = signature(secret, timestamp, body)
    offered = [part.partition("=")[2] for part in headers.get("X-Loanflow-Signature", "").split(",")
               if part.startswith(SCHEME + "=")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


# -- the secrets -------------------------------------------------------------------------------
def in_force(session: Session, integrator: str, now: dt.datetime) -> list[WebhookSecret]:
    """An integrator's secrets that still sign, newest (the current one) first."""
    rows = session.scalars(select(WebhookSecret).where(WebhookSecret.integrator == integrator)
                           .order_by(WebhookSecret.created_at.desc(), WebhookSecret.id.desc()))
    return [row for row in rows if row.valid_until is None or row.valid_until > now]


def rotate(session: Session, integrator: str, actor: str, now: dt.datetime, *, value: str | None = None) -> WebhookSecret:
    """A new current secret for `integrator`; the one before signs on for ROTATION_OVERLAP, any
    older one stops now. `value`: a given secret (the demo seed's), else a random one."""
    for position, row in enumerate(in_force(session, integrator, now)):
        row.valid_until = now + ROTATION_OVERLAP if position == 0 else now
    secret = WebhookSecret(integrator=integrator, secret=value or PREFIX + random_secrets.token_urlsafe(32),
                           created_at=now, created_by=actor, valid_until=None)
    session.add(secret)
    session.flush()
    return secret


def secret_view(row: WebhookSecret, *, reveal: bool = False) -> dict:
    view = {"id": row.id, "created_at": row.created_at.isoformat() + "Z", "created_by": row.created_by,
            "valid_until": row.valid_until.isoformat() + "Z" if row.valid_until else None,
            "hint": row.secret[:len(PREFIX) + 4] + "…"}
    if reveal:
        view["secret"] = row.secret  # shown once, to the integrator that rotated it
    return view


def secrets_of(session: Session, integrator: str, now: dt.datetime) -> dict:
    return {"integrator": integrator, "scheme": SCHEME, "replay_window_seconds": int(REPLAY_WINDOW.total_seconds()),
            "items": [secret_view(row) for row in in_force(session, integrator, now)]}


def require_integrator(user) -> str:
    if "integrator" not in user.role_set:
        raise Forbidden("Only an integrator has webhook secrets")
    return user.username


# -- for the outbox ----------------------------------------------------------------------------
def headers_for(session: Session, message: OutboxMessage, body: bytes, now: dt.datetime) -> SignedHeaders | None:
    """The signature headers for a message to its application's integrator; None if it has no secret."""
    integrator = session.scalar(select(Application.created_by).where(Application.id == message.application_id))
    secrets = [row.secret for row in in_force(session, integrator, now)] if integrator else []
    return sign(secrets, body, now) if secrets else None
