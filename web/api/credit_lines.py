"""Credit lines (/credit-lines, 授信) and their drawdowns (用信).

A line application runs the credit_line process (the origination stages, ending by activating the
line); its tasks, signature and status are an application's (/applications/{id}, /tasks). Drawdowns,
freezing, unfreezing and reducing are commands on the line, through workflows.credit_lines.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api_docs import documented
from web.auth import require
from web.pipeline import command
from workflows.credit_lines import LINE_PROCESS
from workflows.origination import application_view

blueprint = Blueprint("credit_lines", __name__)


def book():
    return services().origination.credit_lines


@blueprint.post("/credit-lines")
@documented("Apply for a credit line (授信): intake, rating, review and the line contract, then an active "
            "line; the answer is the line application (its `credit_line_id` once active)", ok=201,
            body="credit_line_application", idempotency="required")
@require("integrator", "customer_manager")
def apply_for_line():
    def act(session, form, _):
        application = services().origination.submit(session, form, g.user, process_id=LINE_PROCESS)
        return application_view(session, application, g.user)
    return command(act, status=201, form="credit_line_application", idempotency="required", scope="credit_line")


@blueprint.get("/credit-lines/<line_id>")
@documented("A credit line: limit, available, outstanding, status, expiry, drawdowns and history")
@require()
def show_line(line_id: str):
    with read_only() as session:
        return jsonify(book().view(session, book().line_for(session, line_id, g.user), g.user))


@blueprint.post("/credit-lines/<line_id>/drawdowns")
@documented("Draw on a credit line (用信): checked against the line's state and available amount, risk "
            "interception and limits, then paid out through the ledger", ok=201, body="drawdown",
            idempotency="required")
@require("integrator", "customer_manager")
def draw(line_id: str):
    return command(lambda session, form, key: book().draw(session, line_id, g.user, form, key), status=201,
                   form="drawdown", idempotency="required", scope=f"drawdown:{line_id}")


@blueprint.post("/credit-lines/<line_id>/freeze")
@documented("Freeze a credit line (approver or risk officer): it refuses drawdowns until unfrozen",
            body="credit_line_action", idempotency="optional")
@require("approver", "risk_officer")
def freeze(line_id: str):
    return _act("freeze", line_id, "credit_line_action")


@blueprint.post("/credit-lines/<line_id>/unfreeze")
@documented("Unfreeze a credit line through the branch's credit_line_change process: at once by an approver, "
            "or asked for by a customer manager or risk officer and approved where the branch requires it "
            "(`change.status` applied | pending_approval)", body="credit_line_action", idempotency="optional")
@require("approver", "customer_manager", "risk_officer")
def unfreeze(line_id: str):
    return _act("unfreeze", line_id, "credit_line_action")


@blueprint.post("/credit-lines/<line_id>/reduce")
@documented("Reduce a credit line's limit, never below its outstanding, through the branch's credit_line_change "
            "process (as unfreeze)", body="credit_line_reduction", idempotency="optional")
@require("approver", "customer_manager", "risk_officer")
def reduce(line_id: str):
    return _act("reduce", line_id, "credit_line_reduction")


def _act(action: str, line_id: str, form: str):
    def act(session, body, _):
        done = getattr(book(), action)(session, line_id, g.user, body)
        return done if isinstance(done, dict) else book().view(session, done, g.user)
    return command(act, form=form, idempotency="optional", scope=f"credit_line_{action}:{line_id}")
