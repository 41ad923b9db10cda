"""Reading request bodies: malformed JSON is a 400 that says so, never a 500."""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from flask import request

from web.errors import ApiError


def json_body() -> dict:
    raw = request.get_data(cache=True, as_text=True)
    if not raw.strip():
        raise ApiError(400, "invalid_json", "The request body is empty; a JSON object is expected")
    try:
        # Numbers keep their exact decimal value: 0.1 must not become 0.1000000000000000055.
        body = json.loads(raw, parse_float=Decimal)
    except (ValueError, RecursionError) as err:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object")
    return body


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high]; 422 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(422, "validation_failed", f"{name} must be a whole number",
                       {name: ["not a whole number"]}) from None
    if not low <= value <= high:
        raise ApiError(422, "validation_failed", f"{name} must be between {low} and {high}",
                       {name: [f"must be between {low} and {high}"]})
    return value


def decimal_arg(name: str) -> Decimal | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ApiError(422, "validation_failed", f"{name} must be a number", {name: ["not a number"]}) from None
    if not value.is_finite():
        raise ApiError(422, "validation_failed", f"{name} must be a finite number", {name: ["not finite"]})
    return value


def bool_arg(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise ApiError(422, "validation_failed", f"{name} must be true or false", {name: ["must be true or false"]})


def choice_arg(name: str, choices) -> str | None:
    raw = request.args.get(name)
    if raw is not None and raw not in choices:
        raise ApiError(422, "validation_failed", f"{name} must be one of {', '.join(sorted(choices))}",
                       {name: [f"must be one of {', '.join(sorted(choices))}"]})
    return raw
