from __future__ import annotations

from flask import Blueprint, jsonify

from web.api.context import read_only
from web.auth import issue_token, token_lifetime_seconds
from web.errors import ApiError
from web.requests import json_body
from workflows.directory import authenticate

blueprint = Blueprint("auth", __name__)


@blueprint.post("/auth/token")
def token():
    body = json_body()
    missing = {f: ["is required"] for f in ("username", "password") if not isinstance(body.get(f), str)}
    if missing:
        raise ApiError(422, "validation_failed", "username and password are required", missing)
    with read_only() as session:
        user = authenticate(session, body["username"], body["password"])
        if user is None:
            raise ApiError(401, "invalid_credentials", "Unknown user or wrong password")
        return jsonify({"token": issue_token(user.username), "token_type": "Bearer",
                        "expires_in": token_lifetime_seconds(),
                        "user": {"username": user.username, "branch": user.branch_code,
                                 "roles": sorted(user.role_set)}})
