"""The reviewers' inbox and the task commands: claim, unclaim, complete (with the task's form)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services
from web.api_docs import Query, documented
from web.auth import require
from web.pipeline import command
from web.errors import ApiError
from web.requests import bool_arg, choice_arg, decimal_arg, int_arg
from workflows.inbox import list_inbox, task_view

blueprint = Blueprint("tasks", __name__)

REVIEWERS = ("customer_manager", "reviewer", "approver", "hq_approver", "risk_officer", "hq_risk")
MAX_PER_PAGE = 100


@blueprint.get("/tasks")
@documented("The caller's inbox: own branch and roles, claimed by the caller or unclaimed", query=(
    Query("status", description="open (default), completed or cancelled"), "role", Query("mine", "boolean"),
    "application_id", Query("process", description="a process key, e.g. collections"),
    Query("loan_id", description="a loan number: the tasks of its servicing processes"), "min_amount", "max_amount", Query("overdue", "boolean"),
    Query("page", "integer", "a page by position (OFFSET: slower deep in a long list); not with after"),
    Query("per_page", "integer"),
    Query("after", description="the `next` of an earlier answer with the same filters: the page after it "
                               "(keyset, as fast deep in the list as on page 1); not with page. Every "
                               "answer carries `next`, null on the last page")))
@require(*REVIEWERS)
def inbox():
    status = choice_arg("status", ("open", "completed", "cancelled")) or "open"
    after = request.args.get("after")
    if after is not None and "page" in request.args:
        raise ApiError(422, "validation_failed", "page and after cannot be used together",
                       {"page": ["not with after"], "after": ["not with page"]})
    with read_only() as session:
        return jsonify(list_inbox(
            session, g.user, after=after, page=int_arg("page", 1, 1, 1_000_000),
            per_page=int_arg("per_page", 20, 1, MAX_PER_PAGE), status=status,
            role=choice_arg("role", REVIEWERS), mine=bool_arg("mine"),
            application_id=request.args.get("application_id"), process=request.args.get("process"),
            loan_id=request.args.get("loan_id"), min_amount=decimal_arg("min_amount"),
            max_amount=decimal_arg("max_amount"), overdue=bool_arg("overdue"), at=services().processes.now()))


@blueprint.post("/tasks/<task_id>/claim")
@documented("Claim a task")
@require(*REVIEWERS)
def claim(task_id: str):
    return command(lambda session, _, key: task_view(services().origination.claim(session, task_id, g.user)),
                   body=False)


@blueprint.post("/tasks/<task_id>/unclaim")
@documented("Release a claimed task")
@require(*REVIEWERS)
def unclaim(task_id: str):
    return command(lambda session, _, key: task_view(services().origination.unclaim(session, task_id, g.user)),
                   body=False)


@blueprint.post("/tasks/<task_id>/complete")
@documented("Complete a task with its form (review: decision approve|reject|return and comment)",
            body="review", idempotency="optional")
@require(*REVIEWERS)
def complete(task_id: str):
    return command(lambda session, body, key: task_view(services().origination.complete(session, task_id, g.user, body)),
                   idempotency="optional", scope=f"task:{task_id}")


@blueprint.post("/tasks/<task_id>/reassign")
@documented("Hand an open task of the caller's branch to a named colleague who may work it (approvers)",
            body="reassignment")
@require("approver", "hq_approver")
def reassign(task_id: str):
    return command(lambda session, body, key: task_view(
        services().processes.reassign(session, task_id, g.user, body["assignee"])), form="reassignment")
