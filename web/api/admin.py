"""Administration: users (`/admin/users`) and the org tree (`/admin/org-units`: HQ, branches,
outlets), for head office's administrators and, within their branch, a branch's."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services
from web.api_docs import Query, documented
from web.auth import require
from web.pipeline import command
from workflows import administration

blueprint = Blueprint("admin", __name__)


def _now():
    return services().processes.now()


@blueprint.get("/admin/users")
@documented("Users the caller administers (a branch administrator: their branch's)", query=(
    Query("branch", description="head office: one branch's users only"),))
@require("admin")
def users():
    with read_only() as session:
        return jsonify(administration.list_users(session, g.user, branch=request.args.get("branch")))


@blueprint.post("/admin/users")
@documented("Create a user: branch, outlet, roles, first password", body="admin_user", ok=201)
@require("admin")
def create_user():
    return command(lambda session, body, key: administration.user_view(
        administration.create_user(session, g.user, body, _now())), status=201, form="admin_user")


@blueprint.patch("/admin/users/<username>")
@documented("Change a user: full name, roles, outlet, branch (head office), enabled, a new password, unlock",
            body="admin_user_change")
@require("admin")
def change_user(username: str):
    return command(lambda session, body, key: administration.user_view(
        administration.change_user(session, g.user, username, body, _now())), form="admin_user_change")


@blueprint.get("/admin/org-units")
@documented("The org tree: head office, its branches and each branch's outlets")
@require("admin")
def org_units():
    with read_only() as session:
        return jsonify(administration.org_tree(session, g.user))


@blueprint.post("/admin/org-units")
@documented("Add a branch (head office) or an outlet of a branch", body="org_unit", ok=201)
@require("admin")
def create_org_unit():
    return command(lambda session, body, key: administration.create_org_unit(session, g.user, body, _now()),
                   status=201, form="org_unit")


@blueprint.patch("/admin/org-units/<code>")
@documented("Change a branch (name, region, tier-1 capital; head office) or an outlet (name, enabled)",
            body="org_unit_change")
@require("admin")
def change_org_unit(code: str):
    return command(lambda session, body, key: administration.change_org_unit(session, g.user, code, body, _now()),
                   form="org_unit_change")


@blueprint.get("/admin/audit")
@documented("The administration audit trail, newest first: who changed what, before and after",
            query=(Query("target", description="a username, branch or outlet code, or delegation id"),))
@require("admin")
def audit_trail():
    with read_only() as session:
        return jsonify(administration.audit_trail(session, g.user, target=request.args.get("target")))
