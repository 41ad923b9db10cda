"""Every webhook is signed with its integrator's own secret: a receiver on 127.0.0.1 checks the
signature with a few lines of its own (no loanflow code), a rotation carries both signatures for a
day, an old timestamp is refused, and an integrator without a secret gets no unsigned call."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from sqlalchemy import update

from tests.web.journeys import example, submit
from workflows import webhook_signing
from workflows.callbacks import CallbackHosts
from workflows.models import OutboxMessage, WebhookSecret, utcnow
from workflows.outbox import deliver_due
from workflows.seed import DEMO_WEBHOOK_SECRET


@pytest.fixture
def settings_overrides():
    return {"callback_hosts": CallbackHosts.parse("api-demo=127.0.0.1")}


def receiver_accepts(secret: str, delivery: dict, now: dt.datetime, window_seconds: int = 300) -> bool:
    """What the README tells a receiver to do, written here independently of loanflow's code."""
    timestamp = delivery["headers"]["X-Loanflow-Timestamp"]
    if abs(now.replace(tzinfo=dt.timezone.utc).timestamp() - int(timestamp)) > window_seconds:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + delivery["raw"], hashlib.sha256).hexdigest()
    offered = [s.removeprefix("v1=") for s in delivery["headers"]["X-Loanflow-Signature"].split(",")]
    return any(hmac.compare_digest(expected, s) for s in offered)


def deliveries_for(received, application_id):
    return [r for r in received if r["body"]["application_id"] == application_id]


def test_a_webhook_verifies_with_the_integrators_secret_and_fails_with_another(client, token_for, services, receiver):
    url, received, _ = receiver
    application = submit(client, token_for("api-demo"), example("application-auto.json", callback_url=url)).get_json()
    now = utcnow()
    assert deliver_due(services.db, now=now) >= 1
    delivery = deliveries_for(received, application["id"])[0]
    assert delivery["headers"]["X-Loanflow-Signature"].startswith("v1=")
    assert receiver_accepts(DEMO_WEBHOOK_SECRET, delivery, now)
    assert not receiver_accepts("whsec_someone-else", delivery, now)
    tampered = dict(delivery, raw=delivery["raw"].replace(b"awaiting_signature", b"disbursed"))
    assert not receiver_accepts(DEMO_WEBHOOK_SECRET, tampered, now)
    # a replayed call: the same bytes and headers six minutes later are refused
    assert not receiver_accepts(DEMO_WEBHOOK_SECRET, delivery, now + dt.timedelta(minutes=6))
    # the module's own check agrees with the independent one
    assert webhook_signing.verify(DEMO_WEBHOOK_SECRET, delivery["headers"], delivery["raw"], now)
    assert not webhook_signing.verify(DEMO_WEBHOOK_SECRET, delivery["headers"], delivery["raw"],
                                      now + dt.timedelta(minutes=6))


def test_a_rotation_signs_with_both_secrets_for_a_day_then_only_the_new_one(client, token_for, services, receiver):
    url, received, _ = receiver
    integrator = token_for("api-demo")
    rotated = client.post("/api/v1/webhooks/secret", headers=integrator)
    assert rotated.status_code == 201, rotated.get_json()
    new_secret = rotated.get_json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != DEMO_WEBHOOK_SECRET
    listed = client.get("/api/v1/webhooks/secret", headers=integrator).get_json()
    assert len(listed["items"]) == 2 and listed["replay_window_seconds"] == 300
    assert new_secret not in str(listed) and DEMO_WEBHOOK_SECRET not in str(listed)
    assert listed["items"][0]["valid_until"] is None and listed["items"][1]["valid_until"]

    first = submit(client, integrator, example("application-auto.json", callback_url=url)).get_json()
    soon = utcnow() + dt.timedelta(minutes=1)
    deliver_due(services.db, now=soon)
    during = deliveries_for(received, first["id"])[0]
    assert len(during["headers"]["X-Loanflow-Signature"].split(",")) == 2
    assert receiver_accepts(new_secret, during, soon) and receiver_accepts(DEMO_WEBHOOK_SECRET, during, soon)

    second = submit(client, integrator, example("application-auto.json", callback_url=url)).get_json()
    later = utcnow() + dt.timedelta(hours=25)
    deliver_due(services.db, now=later)
    after = deliveries_for(received, second["id"])[0]
    assert len(after["headers"]["X-Loanflow-Signature"].split(",")) == 1
    assert receiver_accepts(new_secret, after, later) and not receiver_accepts(DEMO_WEBHOOK_SECRET, after, later)


def test_an_integrator_without_a_secret_gets_no_unsigned_call_until_it_makes_one(client, token_for, services, receiver):
    url, received, _ = receiver
    with services.db.unit_of_work() as session:
        session.execute(update(WebhookSecret).values(valid_until=utcnow() - dt.timedelta(seconds=1)))
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json", callback_url=url)).get_json()
    assert deliver_due(services.db) == 0 and not received
    with services.db.unit_of_work() as session:
        message = session.query(OutboxMessage).filter_by(application_id=application["id"]).one()
        assert "no webhook signing secret" in message.last_error and message.delivered_at is None
    secret = client.post("/api/v1/webhooks/secret", headers=integrator).get_json()["secret"]
    later = utcnow() + dt.timedelta(minutes=5)
    assert deliver_due(services.db, now=later) == 1
    assert receiver_accepts(secret, deliveries_for(received, application["id"])[0], later)


def test_only_integrators_have_webhook_secrets(client, token_for):
    for user in ("rev-BR001", "admin"):
        assert client.post("/api/v1/webhooks/secret", headers=token_for(user)).status_code == 403
        assert client.get("/api/v1/webhooks/secret", headers=token_for(user)).status_code == 403


def test_the_secret_is_sealed_in_the_database(services):
    with services.db.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT secret FROM webhook_secret").scalars().all()
    assert stored and all(DEMO_WEBHOOK_SECRET not in value for value in stored)


def readme_receiver():
    """The README's receiver, exactly as printed there."""
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Signed webhooks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README's example
    return namespace["verified"]


def test_the_readmes_receiver_verifies_a_real_delivery(client, token_for, services, receiver):
    verified = readme_receiver()
    url, received, _ = receiver
    application = submit(client, token_for("api-demo"), example("application-auto.json", callback_url=url)).get_json()
    deliver_due(services.db)  # now: the README's receiver reads the real clock
    delivery = deliveries_for(received, application["id"])[0]
    assert verified(DEMO_WEBHOOK_SECRET, delivery["headers"], delivery["raw"])
    assert not verified("whsec_someone-else", delivery["headers"], delivery["raw"])
    assert not verified(DEMO_WEBHOOK_SECRET, delivery["headers"], delivery["raw"] + b" ")
    stale = dict(delivery["headers"], **{"X-Loanflow-Timestamp": str(int(delivery["headers"]["X-Loanflow-Timestamp"]) - 600)})
    assert not verified(DEMO_WEBHOOK_SECRET, stale, delivery["raw"])
