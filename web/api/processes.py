"""The process layer for integrators: what a branch can start, starting, any instance, messages."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services
from web.api.openapi import form_json_schema
from web.api_docs import Query, documented
from web.auth import require
from web.pipeline import command
from workflows.errors import InvalidInput
from workflows.processes import Message

blueprint = Blueprint("processes", __name__)


def layer():
    return services().processes


@blueprint.get("/processes")
@documented("The processes a branch can start: key, name, version, start form and its schema, roles",
            query=(Query("branch", required=True, description="a branch code"),))
@require()
def startable():
    branch = request.args.get("branch", "").strip()
    if not branch:
        raise InvalidInput("branch is required, e.g. ?branch=BR001", field="branch")
    with read_only() as session:
        found = layer().startable(session, branch)
    return jsonify({"branch": branch, "items": [
        {"key": p.key, "name": p.name, "version": p.version, "scope": p.scope, "start_form": p.form,
         "start_form_schema": form_json_schema(p.form) if p.form else {"type": "object"},
         "roles": list(p.roles), "correlation_keys": list(p.correlation_keys)} for p in found]})


@blueprint.post("/processes/<key>/instances")
@documented("Start an instance of a process for a branch with its start form (`data`)", ok=201,
            body="process_start", idempotency="required")
@require()
def start(key: str):
    def act(session, body, _):
        instance = layer().start(session, key, body["branch"], body.get("data") or {}, g.user)
        return layer().view(session, instance, g.user)
    return command(act, status=201, form="process_start", idempotency="required", scope=f"start:{key}")


@blueprint.get("/instances/<instance_id>")
@documented("Any process instance: process, status, stage, open tasks, due timers, history")
@require()
def get_instance(instance_id: str):
    with read_only() as session:
        return jsonify(layer().view(session, layer().instance_for(session, instance_id, g.user), g.user))


@blueprint.post("/messages")
@documented("Deliver a message to the one instance waiting for it whose correlation keys match; "
            "the same message_id again returns the first answer", body="message")
@require("integrator", "customer_manager", "approver", "hq_approver")
def deliver():
    def act(session, body, _):
        delivery = layer().deliver(session, Message(body["name"], body["message_id"], body["correlation"],
                                                    body.get("payload") or {}), g.user)
        return {**delivery.answer, "replayed": delivery.replayed}
    return command(act, form="message", replays_itself=True)
