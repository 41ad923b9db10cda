from __future__ import annotations

from flask import Blueprint, jsonify

from forms.compiler import load_form
from web.api.context import read_only
from web.api_docs import documented
from web.auth import issue_token, token_lifetime_seconds
from web.errors import ApiError
from web.requests import json_body
from workflows.directory import authenticate

blueprint = Blueprint("auth", __name__)


@blueprint.post("/auth/token")
@documented("Exchange username and password for a bearer token", body="credentials", errors=(400, 401, 415, 422))
def token():
    body = load_form("credentials", json_body())
    with read_only() as session:
        user = authenticate(session, body["username"], body["password"])
        if user is None:
            raise ApiError(401, "invalid_credentials", "Unknown user or wrong password")
        return jsonify({"token": issue_token(user.username), "token_type": "Bearer",
                        "expires_in": token_lifetime_seconds(),
                        "user": {"username": user.username, "branch": user.branch_code,
                                 "roles": sorted(user.role_set)}})
