"""Integrators hear about status changes on their callback URL, from a real HTTP server."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from flask import Flask, request

from tests.web.journeys import example, submit
from web.simulators import start_in_thread
from workflows.callbacks import CallbackHosts
from workflows.outbox import deliver_due
from workflows.models import OutboxMessage, utcnow


@pytest.fixture
def settings_overrides():
    # The receiver runs on this machine: loopback is refused unless the settings allow it.
    return {"callback_hosts": CallbackHosts.parse("api-demo=127.0.0.1")}


def test_status_changes_reach_the_callback_url(client, token_for, services, receiver):
    url, received, _ = receiver
    application = submit(client, token_for("api-demo"), example("application-auto.json", callback_url=url)).get_json()
    assert deliver_due(services.db) >= 1
    statuses = [r["body"]["status"] for r in received if r["body"]["application_id"] == application["id"]]
    assert statuses == ["awaiting_signature"]
    assert received[0]["event"] == "application.status_changed"
    assert deliver_due(services.db) == 0  # delivered once, not again


def test_a_failing_receiver_is_retried_later(client, token_for, services, receiver):
    url, received, state = receiver
    state["fail"] = True
    submit(client, token_for("api-demo"), example("application-auto.json", callback_url=url))
    assert deliver_due(services.db) == 0
    state["fail"] = False
    assert deliver_due(services.db) == 0  # not due yet: backing off
    assert deliver_due(services.db, now=utcnow() + dt.timedelta(minutes=5)) == 1
    assert len(received) == 1


def test_a_redirecting_receiver_is_not_followed_and_counts_as_a_failure(client, token_for, services):
    # The allowed host answers with a redirect to a host nobody allowed: the worker must not go there.
    app = Flask("redirector")
    followed: list[str] = []

    @app.post("/hooks")
    def hook():
        return "", 307, {"Location": "/internal"}

    @app.post("/internal")
    def internal():
        followed.append(request.path)
        return "", 204

    server = start_in_thread(app)
    try:
        submit(client, token_for("api-demo"), example("application-auto.json", callback_url=server.url + "/hooks"))
        assert deliver_due(services.db) == 0
    finally:
        server.stop()
    assert followed == []
    with services.db.sessions() as session:
        errors = session.scalars(sa.select(OutboxMessage.last_error).where(OutboxMessage.last_error.is_not(None))).all()
    assert errors == ["HTTP 307"]
