"""Tokens: a person's (username and password) or an integrator client's (client credentials, in
the body or as HTTP Basic, as OAuth 2's client_credentials grant sends them)."""
from __future__ import annotations

import base64
import binascii

from flask import Blueprint, jsonify, request

from forms.compiler import load_form
from web.api.context import services, unit_of_work
from web.api_docs import documented
from web.auth import issue_token, token_lifetime_seconds
from web.errors import ApiError
from web.pipeline import never_cached
from web.requests import json_body
from workflows import integrators

blueprint = Blueprint("auth", __name__)
CLIENT_CREDENTIALS = "client_credentials"


@blueprint.post("/auth/token")
@documented("Exchange username and password for a bearer token; an integrator client sends "
            '{"grant_type": "client_credentials", "client_id", "client_secret"} (or HTTP Basic) instead',
            body="credentials", errors=(400, 401, 415, 422))
def token():
    basic = _basic_credentials()
    if basic is not None:
        return _client_token(*basic)
    body = json_body()
    if body.get("grant_type") == CLIENT_CREDENTIALS:
        body = load_form("client_credentials", body)
        return _client_token(body["client_id"], body["client_secret"])
    body = load_form("credentials", body)
    with unit_of_work() as session:  # a failed attempt is counted (and locks the account at the fifth)
        outcome = services().directory.sign_in(session, body["username"], body["password"], services().processes.now())
        user = outcome.user
        answer = None if user is None else {
            "token": issue_token(user.username, password_hash=user.password_hash), "token_type": "Bearer", "expires_in": token_lifetime_seconds(),
            "user": {"username": user.username, "branch": user.branch_code, "roles": sorted(user.role_set)}}
    if answer is None:
        code = "invalid_credentials" if outcome.refusal == "unknown" else f"account_{outcome.refusal}"
        raise ApiError(401, code, outcome.message)
    return never_cached(jsonify(answer))  # a bearer token (RFC 6749 5.1: no-store)


def _basic_credentials() -> tuple[str, str] | None:
    """(client_id, client_secret) from `Authorization: Basic ...`; a body, if any, may only say the grant."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        client_id, colon, secret = base64.b64decode(header[len("Basic "):].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        colon = ""
    if not colon or not client_id or not secret:
        raise ApiError(401, "invalid_client", "HTTP Basic credentials must be base64 of 'client_id:client_secret'")
    if request.get_data(cache=True).strip():
        grant = json_body().get("grant_type", CLIENT_CREDENTIALS)
        if grant != CLIENT_CREDENTIALS:
            raise ApiError(422, "validation_failed", "With HTTP Basic the grant is client_credentials",
                           {"grant_type": ["must be client_credentials"]})
    return client_id, secret


def _client_token(client_id: str, secret: str):
    with unit_of_work() as session:  # the client's last use is recorded
        client = integrators.authenticate(session, client_id, secret, services().processes.now())
        answer = None if client is None else {
            "token": issue_token(client.client_id, generation=client.generation), "token_type": "Bearer",
            "expires_in": token_lifetime_seconds(),
            "client": {"client_id": client.client_id, "branches": sorted(client.branch_set),
                       "channels": client.channel_list, "partner_id": client.partner_id}}
    if answer is None:
        raise ApiError(401, "invalid_client", "Unknown client, wrong secret or a disabled client")
    return never_cached(jsonify(answer))
