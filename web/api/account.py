"""The caller's own account: who they are, and changing their own password (workflows/account.py)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from forms.compiler import load_form
from web.api.context import read_only, services, unit_of_work
from web.api_docs import documented
from web.auth import issue_token, require
from web.errors import ApiError
from web.requests import json_body
from workflows.account import account_view, change_own_password
from workflows.models import User

blueprint = Blueprint("account", __name__)


@blueprint.get("/account")
@documented("The caller's own account: name, branch, outlet, roles, whether a new password is due")
@require()
def account():
    if g.user.client_scope is not None:
        raise ApiError(403, "forbidden", "An integrator client has no account of its own: its administrators "
                                         "manage it (/api/v1/admin/integrators)")
    with read_only() as session:
        return jsonify(account_view(session.get(User, g.user.username)))


@blueprint.post("/account/password")
@documented("Change one's own password (the current one is asked for again; a wrong one counts towards "
            "the lockout)", body="password_change", errors=(400, 403, 415, 422))
@require()
def change_password():
    body = load_form("password_change", json_body())
    # Not web.pipeline.command: a wrong current password is counted and committed although the
    # request is refused, as at sign-in (web/api/auth_api.py), so the refusal is raised after the commit.
    with unit_of_work() as session:
        outcome = change_own_password(session, g.user.username, body["current_password"], body["new_password"],
                                      services().processes.now())
        me = session.get(User, g.user.username)
        answer = account_view(me) if not (outcome.problems or outcome.locked) else None
        new_hash = me.password_hash
    outcome.raise_if_refused()
    # The token that asked is now stale (it carries the old password's stamp): a new one comes back.
    return jsonify({**answer, "token": issue_token(g.user.username, password_hash=new_hash)})
