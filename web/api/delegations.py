"""Delegations: a reviewer on leave hands their tasks to a colleague of the same branch and role."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api.tasks import REVIEWERS
from web.api_docs import documented
from web.auth import require
from web.pipeline import command
from workflows import delegation

blueprint = Blueprint("delegations", __name__)


@blueprint.get("/delegations")
@documented("Delegations the caller gives or receives (approvers and administrators: their branch's)")
@require(*REVIEWERS, "admin")
def delegations():
    with read_only() as session:
        return jsonify(delegation.delegations_of(session, g.user, services().processes.now()))


@blueprint.post("/delegations")
@documented("Delegate one's tasks to a colleague from starts_at to ends_at (China time)", body="delegation", ok=201)
@require(*REVIEWERS, "admin")
def create():
    def act(session, body, key):
        now = services().processes.now()
        return delegation.delegation_view(delegation.create_delegation(session, g.user, body, now), now)
    return command(act, status=201, form="delegation")


@blueprint.post("/delegations/<int:delegation_id>/end")
@documented("End a delegation now (one not begun yet is cancelled)")
@require(*REVIEWERS, "admin")
def end(delegation_id: int):
    def act(session, body, key):
        now = services().processes.now()
        return delegation.delegation_view(delegation.end_delegation(session, g.user, delegation_id, now), now)
    return command(act, body=False)
