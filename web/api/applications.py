"""Loan applications as integrators drive them: submit, read, the signing callback, retry."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api_docs import documented
from web.auth import require
from web.pipeline import command
from workflows.origination import application_view

blueprint = Blueprint("applications", __name__)

SUBMITTERS = ("integrator", "customer_manager")


def origination():
    return services().origination


@blueprint.post("/applications")
@documented("Submit a loan application", ok=201, body="application", idempotency="required")
@require(*SUBMITTERS)
def submit_application():
    return command(lambda session, form, key: application_view(session, origination().submit(session, form, g.user), g.user),
                   status=201, form="application", idempotency="required")


@blueprint.get("/applications/<application_id>")
@documented("An application: status, stage, decision, reasons, rating, contract, tasks, history")
@require()
def get_application(application_id: str):
    with read_only() as session:
        return jsonify(application_view(session, origination().application_for(session, application_id, g.user), g.user))


@blueprint.post("/applications/<application_id>/signature")
@documented("The channel's signing callback: the customer's signature of the contract", body="signature",
            idempotency="optional")
@require("integrator")
def sign(application_id: str):
    return command(lambda session, body, key: application_view(
        session, origination().record_signature(session, application_id, g.user, body), g.user),
        idempotency="optional", scope=f"signature:{application_id}")


@blueprint.post("/applications/<application_id>/retry")
@documented("Retry the step that stopped with an incident (e.g. the bureau was down)")
@require("integrator", "approver", "hq_approver")
def retry(application_id: str):
    return command(lambda session, _, key: application_view(
        session, origination().retry(session, application_id, g.user), g.user), body=False)
