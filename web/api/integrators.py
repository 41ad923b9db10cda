"""Integrator clients (`/admin/integrators`): their credentials, branches and channels, for head
office's administrators and, for their branch's clients, a branch's (workflows/integrators.py).

Creating a client and rotating its secret answer with `client_secret`, the only time it is shown.
Neither takes an Idempotency-Key: a stored answer would keep the secret in clear."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api_docs import documented
from web.auth import require
from web.pipeline import command
from workflows import integrators

blueprint = Blueprint("integrators", __name__)


def _now():
    return services().processes.now()


@blueprint.get("/admin/integrators")
@documented("Integrator clients the caller administers: branches, channels, enabled, created, rotated, last used")
@require("admin")
def clients():
    with read_only() as session:
        return jsonify(integrators.list_clients(session, g.user))


@blueprint.post("/admin/integrators")
@documented("Create an integrator client; the answer's client_secret is shown this once", body="admin_integrator",
            ok=201)
@require("admin")
def create_client():
    return command(lambda session, body, key: integrators.issued_view(
        integrators.create_client(session, g.user, body, _now())), status=201, form="admin_integrator", secret=True)


@blueprint.patch("/admin/integrators/<client_id>")
@documented("Change an integrator client: enabled, name, branches, channels, partner id (from its next request)",
            body="admin_integrator_change")
@require("admin")
def change_client(client_id: str):
    return command(lambda session, body, key: integrators.client_view(
        integrators.change_client(session, g.user, client_id, body, _now())), form="admin_integrator_change")


@blueprint.post("/admin/integrators/<client_id>/secret")
@documented("Rotate a client's secret: the new one is shown this once; the old one and its tokens stop")
@require("admin")
def rotate_secret(client_id: str):
    return command(lambda session, _, key: integrators.issued_view(
        integrators.rotate_secret(session, g.user, client_id, _now())), body=False, secret=True)
