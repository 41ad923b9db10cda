"""Reading request bodies: malformed JSON is a 400 that says so, never a 500."""
from __future__ import annotations

import json
from decimal import Decimal

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
