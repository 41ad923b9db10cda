"""One pipeline for every request that changes something: body, actor, Idempotency-Key, unit of work.

    return command(lambda session, body, key: ..., status=201, idempotency="required")

1. The body is read and validated before any transaction (against a form, when one is named).
2. One unit of work runs `act(session, body, key)`; the actor is `flask.g.user`.
3. With a key, the first answer is stored in the same transaction as the change it made, and a
   retry with the same key and body replays it (another body under the key is a 422).
4. Two requests with one key racing: the loser's commit hits the stored answer's primary key;
   it is then answered from that answer, never a 500 and never a second change.
Views stay three to six lines; no view opens its own transaction or handles keys itself.
"""
from __future__ import annotations

from typing import Callable

from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.compiler import load_form
from web.api.context import unit_of_work
from web.idempotency import body_hash, remember, replay, required_key
from web.requests import json_body

Act = Callable[[Session, dict | None, str | None], dict | None]


def command(act: Act, *, status: int = 200, idempotency: str | None = None, scope: str = "",
            form: str | None = None, body: bool = True, replays_itself: bool = False, secret: bool = False):
    """Run `act` once per request (and once per Idempotency-Key); answer with its dict as JSON.

    idempotency: None (no key), "optional" (a key if sent) or "required" (400 without one).
    scope: prefixes the stored key, so one key used on two loans or kinds stays two requests.
    form: validate the JSON body against forms/<form>; body=False: the request has no body.
    replays_itself: `act` answers a repeat from its own record (a message's message_id), so a
    concurrent twin that committed first is answered by running `act` again.
    secret: the answer shows a secret once: no cache (or proxy) may keep it.
    """
    data = _body(form) if body else None  # a body of the wrong media type is a 415 before anything else
    key = _key(idempotency)
    request_hash = body_hash() if key else ""
    stored = f"{scope}:{key}" if scope and key else key
    try:
        answer = _once(act, data, key, stored, request_hash, status)
    except IntegrityError:
        if key is None and not replays_itself:
            raise
        # A concurrent request with the same key committed first: answer as it did.
        answer = _once(act, data, key, stored, request_hash, status)
    return never_cached(answer) if secret else answer


def never_cached(answer):
    """A Flask answer (a response, or a (response, status) pair) marked for no cache to keep."""
    response = answer[0] if isinstance(answer, tuple) else answer
    if not isinstance(response, str):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return answer


def _key(idempotency: str | None) -> str | None:
    if idempotency == "required":
        return required_key()
    if idempotency == "optional" and request.headers.get("Idempotency-Key", "").strip():
        return required_key()
    return None


def _body(form: str | None) -> dict:
    raw = json_body()
    return load_form(form, raw) if form else raw


def _once(act: Act, data, key, stored, request_hash, status):
    with unit_of_work() as session:
        if key is not None:
            previous = replay(session, g.user.username, stored, request_hash)
            if previous is not None:
                return _respond(previous[1], previous[0])
        answer = act(session, data, key)
        if key is not None:
            remember(session, g.user.username, stored, request_hash, status, answer)
    return _respond(answer, status)


def _respond(answer: dict | None, status: int):
    if answer is None:
        return "", status
    return jsonify(answer), status
