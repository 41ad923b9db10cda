from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services, unit_of_work
from web.auth import require
from web.requests import bool_arg, choice_arg, decimal_arg, int_arg, json_body
from workflows.inbox import list_inbox, task_view

blueprint = Blueprint("tasks", __name__)

REVIEWERS = ("customer_manager", "reviewer", "approver", "hq_approver")
MAX_PER_PAGE = 100


@blueprint.get("/tasks")
@require(*REVIEWERS)
def inbox():
    status = choice_arg("status", ("open", "completed", "cancelled")) or "open"
    with read_only() as session:
        return jsonify(list_inbox(
            session, g.user, page=int_arg("page", 1, 1, 1_000_000),
            per_page=int_arg("per_page", 20, 1, MAX_PER_PAGE), status=status,
            role=choice_arg("role", REVIEWERS), mine=bool_arg("mine"),
            application_id=request.args.get("application_id"), min_amount=decimal_arg("min_amount"),
            max_amount=decimal_arg("max_amount"), overdue=bool_arg("overdue")))


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
