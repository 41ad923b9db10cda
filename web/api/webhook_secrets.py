"""An integrator's webhook signing secrets (workflows/webhook_signing.py): which are in force, and
a rotation that shows the new secret once."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api_docs import documented
from web.auth import require
from web.pipeline import command
from workflows import webhook_signing

blueprint = Blueprint("webhook_secrets", __name__)


@blueprint.get("/webhooks/secret")
@documented("The caller's webhook signing secrets in force (a hint of each, never the secret), the "
            "signature scheme and the replay window")
@require("integrator")
def secrets():
    integrator = webhook_signing.require_integrator(g.user)
    with read_only() as session:
        return jsonify(webhook_signing.secrets_of(session, integrator, services().processes.now()))


@blueprint.post("/webhooks/secret")
@documented("Rotate the caller's webhook signing secret: the new one is in the answer, once; the one "
            "before still signs for 24 hours (each call then carries both signatures)", ok=201)
@require("integrator")
def rotate():
    # No Idempotency-Key: a stored answer would keep the secret in the clear.
    def act(session, body, key):
        integrator = webhook_signing.require_integrator(g.user)
        row = webhook_signing.rotate(session, integrator, g.user.username, services().processes.now())
        return webhook_signing.secret_view(row, reveal=True)
    return command(act, status=201, body=False, secret=True)
