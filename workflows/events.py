"""The webhook event catalogue: every event an integrator's callback URL receives, with its
payload, as the API documents it (`GET /api/v1/webhooks/events`).

The catalogue is what integrators code against, so it is checked against what is really sent:
tests/web/test_webhook_events.py delivers each event to a real receiver and compares the body with
the entry, field by field. A new topic on the outbox that reaches callbacks needs its entry here.
"""
from __future__ import annotations

from dataclasses import dataclass

APPLICATION_STATUSES = ("running", "in_review", "awaiting_signature", "disbursed", "line_active", "declined",
                        "incident")  # line_active: a credit line application (POST /credit-lines) ended with an active line


@dataclass(frozen=True)
class EventField:
    name: str
    type: str            # JSON type: string, object
    description: str
    values: tuple[str, ...] = ()  # the only values it takes, when it is a code


@dataclass(frozen=True)
class EventType:
    topic: str
    description: str
    fields: tuple[EventField, ...]
    example: dict


# Every delivery: POST with Content-Type application/json, the topic in X-Loanflow-Event and the
# id in X-Loanflow-Delivery (the same id again is a redelivery: at least once, so deduplicate on it),
# signed in X-Loanflow-Timestamp and X-Loanflow-Signature (workflows/webhook_signing.py).
ENVELOPE = (
    EventField("id", "integer", "the delivery's id, the same on every redelivery of this event"),
    EventField("topic", "string", "the event type"),
    EventField("created_at", "string", "when it happened (ISO 8601, UTC)"),
)

CATALOGUE = (
    EventType(
        topic="application.status_changed",
        description="An application moved to another status (GET /applications/{id} has the rest). Sent to the "
                    "application's callback_url, in the order the changes happened.",
        fields=(
            EventField("application_id", "string", "the application"),
            EventField("status", "string", "its new status", APPLICATION_STATUSES),
            EventField("previous_status", "string", "its status before", ("submitted",) + APPLICATION_STATUSES),
            EventField("applicant", "object", "id_number and phone, masked (a webhook is a copy outside the bank)"),
        ),
        example={"id": 41, "topic": "application.status_changed", "created_at": "2026-12-01T02:15:07Z",
                 "application_id": "8f0c2a6e-3d1b-4c8e-9a57-2b6f7f0e9d13", "status": "awaiting_signature",
                 "previous_status": "submitted",
                 "applicant": {"id_number": "370784********0015", "phone": "138****1234"}},
    ),
)


def catalogue_view() -> dict:
    def field_view(f: EventField) -> dict:
        return {"name": f.name, "type": f.type, "description": f.description,
                **({"values": list(f.values)} if f.values else {})}
    return {"envelope": [field_view(f) for f in ENVELOPE],
            "headers": {"X-Loanflow-Event": "the topic", "X-Loanflow-Delivery": "the delivery's id",
                        "X-Loanflow-Timestamp": "when it was sent (Unix seconds); refuse one older than 5 minutes",
                        "X-Loanflow-Signature": "v1=HMAC-SHA256(your webhook secret, timestamp + '.' + body) in hex; "
                                                "two, comma-separated, while a rotated secret is still in force"},
            "delivery": "at least once, retried with backoff up to 8 attempts; deduplicate on id",
            "events": [{"topic": e.topic, "description": e.description,
                        "fields": [field_view(f) for f in e.fields], "example": e.example} for e in CATALOGUE]}
