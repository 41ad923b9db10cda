from __future__ import annotations

from flask import Blueprint, g, jsonify
from sqlalchemy.exc import IntegrityError

from forms.compiler import load_form
from web.api.context import read_only, services, unit_of_work
from web.auth import require
from web.idempotency import body_hash, remember, replay, required_key
from web.requests import json_body
from workflows.origination import application_view

blueprint = Blueprint("applications", __name__)

SUBMITTERS = ("integrator", "customer_manager")


@blueprint.post("/applications")
@require(*SUBMITTERS)
def submit_application():
    key = required_key()
    form = load_form("application", json_body())
    request_hash = body_hash()
    try:
        return _submit_once(key, form, request_hash)
    except IntegrityError:
        # A concurrent request with the same key committed first: answer with its result.
        return _submit_once(key, form, request_hash)


def _submit_once(key: str, form: dict, request_hash: str):
    with unit_of_work() as session:
        previous = replay(session, g.user.username, key, request_hash)
        if previous is not None:
            status, body = previous
            return jsonify(body), status
        application = services().origination.submit(session, form, g.user)
        body = application_view(session, application, g.user)
        remember(session, g.user.username, key, request_hash, 201, body)
    return jsonify(body), 201


@blueprint.get("/applications/<application_id>")
@require()
def get_application(application_id: str):
    with read_only() as session:
        application = services().origination.application_for(session, application_id, g.user)
        return jsonify(application_view(session, application, g.user))


@blueprint.post("/applications/<application_id>/signature")
@require("integrator")
def sign(application_id: str):
    body = json_body()
    with unit_of_work() as session:
        application = services().origination.record_signature(session, application_id, g.user, body)
        view = application_view(session, application, g.user)
    return jsonify(view)


@blueprint.post("/applications/<application_id>/retry")
@require("integrator", "approver", "hq_approver")
def retry(application_id: str):
    with unit_of_work() as session:
        application = services().origination.retry(session, application_id, g.user)
        view = application_view(session, application, g.user)
    return jsonify(view)
