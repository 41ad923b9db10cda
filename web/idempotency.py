"""Idempotency-Key handling: the first answer to a key is stored with the change it made, in the
same transaction, and replayed for every retry with the same key and body."""
from __future__ import annotations

import hashlib

from flask import request
from sqlalchemy.orm import Session

from web.errors import ApiError
from workflows.models import IdempotentRequest

MAX_KEY_LENGTH = 200


def required_key() -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise ApiError(400, "idempotency_key_required",
                       "Send an Idempotency-Key header, so a retried request cannot take effect twice",
                       {"Idempotency-Key": ["is required"]})
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(400, "invalid_idempotency_key", f"Idempotency-Key is longer than {MAX_KEY_LENGTH}",
                       {"Idempotency-Key": [f"at most {MAX_KEY_LENGTH} characters"]})
    return key


def body_hash() -> str:
    return hashlib.sha256(request.get_data(cache=True)).hexdigest()


def replay(session: Session, username: str, key: str, request_hash: str):
    """(status, body) of the first request with this key, or None if there was none."""
    record = session.get(IdempotentRequest, (username, key))
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise ApiError(422, "idempotency_key_reused",
                       "This Idempotency-Key was already used with a different request body",
                       {"Idempotency-Key": ["was used with a different body"]})
    return record.status_code, record.response


def remember(session: Session, username: str, key: str, request_hash: str, status: int, body: dict) -> None:
    session.add(IdempotentRequest(username=username, key=key, request_hash=request_hash,
                                  status_code=status, response=body))
