from __future__ import annotations

from flask import Blueprint, jsonify

from forms.compiler import load_form
from web.api.context import services, unit_of_work
from web.api_docs import documented
from web.auth import issue_token, token_lifetime_seconds
from web.errors import ApiError
from web.requests import json_body

blueprint = Blueprint("auth", __name__)


@blueprint.post("/auth/token")
@documented("Exchange username and password for a bearer token", body="credentials", errors=(400, 401, 415, 422))
def token():
    body = load_form("credentials", json_body())
    with unit_of_work() as session:  # a failed attempt is counted (and locks the account at the fifth)
        outcome = services().directory.sign_in(session, body["username"], body["password"], services().processes.now())
        user = outcome.user
        answer = None if user is None else {
            "token": issue_token(user.username), "token_type": "Bearer", "expires_in": token_lifetime_seconds(),
            "user": {"username": user.username, "branch": user.branch_code, "roles": sorted(user.role_set)}}
    if answer is None:
        code = "invalid_credentials" if outcome.refusal == "unknown" else f"account_{outcome.refusal}"
        raise ApiError(401, code, outcome.message)
    return jsonify(answer)
