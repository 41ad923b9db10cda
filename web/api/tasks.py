from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services, unit_of_work
from web.auth import require
from web.errors import ApiError
from web.requests import decimal_arg, int_arg, json_body
from workflows.inbox import list_inbox, task_view

blueprint = Blueprint("tasks", __name__)

REVIEWERS = ("customer_manager", "reviewer", "approver", "hq_approver")
MAX_PER_PAGE = 100


@blueprint.get("/tasks")
@require(*REVIEWERS)
def inbox():
    status = request.args.get("status", "open")
    if status not in ("open", "completed", "cancelled"):
        raise ApiError(422, "validation_failed", "status must be open, completed or cancelled",
                       {"status": ["must be open, completed or cancelled"]})
    with read_only() as session:
        return jsonify(list_inbox(
            session, g.user, page=int_arg("page", 1, 1, 1_000_000),
            per_page=int_arg("per_page", 20, 1, MAX_PER_PAGE), status=status,
            role=request.args.get("role"), mine=request.args.get("mine") in ("1", "true"),
            application_id=request.args.get("application_id"), min_amount=decimal_arg("min_amount"),
            max_amount=decimal_arg("max_amount"), overdue=request.args.get("overdue") in ("1", "true")))


@blueprint.post("/tasks/<task_id>/claim")
@require(*REVIEWERS)
def claim(task_id: str):
    with unit_of_work() as session:
        view = task_view(services().origination.claim(session, task_id, g.user))
    return jsonify(view)


@blueprint.post("/tasks/<task_id>/unclaim")
@require(*REVIEWERS)
def unclaim(task_id: str):
    with unit_of_work() as session:
        view = task_view(services().origination.unclaim(session, task_id, g.user))
    return jsonify(view)


@blueprint.post("/tasks/<task_id>/complete")
@require(*REVIEWERS)
def complete(task_id: str):
    body = json_body()
    with unit_of_work() as session:
        view = task_view(services().origination.complete(session, task_id, g.user, body))
    return jsonify(view)
