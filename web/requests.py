"""Reading request bodies: every JSON endpoint reads its body through `json_body`, so what a
body must be is checked here once, for every endpoint and form alike:

- a body is sent as `Content-Type: application/json` (415 otherwise), in UTF-8;
- it is a JSON object (400 for malformed JSON, never a 500);
- no string in it, value or field name, holds a NUL or an unpaired surrogate (422 naming every
  such field by its path, e.g. `applicant.name` or `applicants.3.name`). Python accepts both in a
  str, but PostgreSQL refuses NUL in text and UTF-8 cannot encode a lone surrogate, so they would
  otherwise fail late, as a 500, at the database or the JSON encoder.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from flask import request

from web.errors import ApiError

JSON_MEDIA_TYPE = "application/json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def json_body() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "invalid_json", "The request body is empty; a JSON object is expected")
    _require_json_content_type()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ApiError(400, "invalid_json", f"The request body is not UTF-8 text (byte {err.start})") from None
    try:
        # Numbers keep their exact decimal value: 0.1 must not become 0.1000000000000000055.
        body = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError) as err:
        raise ApiError(400, "invalid_json", f"The request body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object")
    problems = text_problems(body)
    if problems:
        named = ", ".join(sorted(problems)[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ApiError(422, "validation_failed", f"Text with a NUL or an unpaired surrogate in: {named}", problems)
    return body


def multipart_form():
    """For the endpoints that take files: 415 unless the body is multipart/form-data, 422 naming
    each form field or file name that holds a NUL or an unpaired surrogate. Returns request.form."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type",
                       f"Send this request as multipart/form-data, not {_sent_type()}")
    problems = _named_text_problems(request.form.items(multi=True))
    problems.update(_named_text_problems((name, upload.filename or "")
                                         for name, upload in request.files.items(multi=True)))
    if problems:
        raise ApiError(422, "validation_failed", f"Text with a NUL or an unpaired surrogate in: "
                       f"{', '.join(sorted(problems))}", problems)
    return request.form


def refuse_bad_text_in_url() -> None:
    """Registered to run before every request: a NUL in the path or the query string would reach
    PostgreSQL, which refuses it in text, as a 500. No resource has one in its address (404); a
    query parameter with one is a 422 naming it."""
    if _NOT_TEXT.search(request.path):
        raise ApiError(404, "not_found", "No resource has a NUL character in its address")
    problems = _named_text_problems(request.args.items(multi=True))
    if problems:
        raise ApiError(422, "validation_failed", f"Text with a NUL or an unpaired surrogate in: "
                       f"{', '.join(sorted(problems))}", problems)


def _named_text_problems(pairs) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for name, value in pairs:
        name_problem = _text_problem(name)
        if name_problem:
            problems.setdefault(_printable(name), []).append(f"the name {name_problem}")
        value_problem = _text_problem(value)
        if value_problem:
            problems.setdefault(_printable(name), []).append(value_problem)
    return problems


def _require_json_content_type() -> None:
    charset = request.mimetype_params.get("charset")
    if request.mimetype != JSON_MEDIA_TYPE or (charset is not None and charset.lower() not in UTF8_NAMES):
        raise ApiError(415, "unsupported_media_type",
                       f"Send the body as Content-Type: {JSON_MEDIA_TYPE} (UTF-8), not {_sent_type()}")


def _sent_type() -> str:
    return repr(request.content_type) if request.content_type else "without a Content-Type"


def text_problems(body: dict) -> dict[str, list[str]]:
    """Every string in the body (values and field names) holding a NUL or an unpaired surrogate,
    by dotted path. Walked with a stack, not recursion: the body may nest as deep as JSON allows."""
    problems: dict[str, list[str]] = {}
    pending: list[tuple[str, object]] = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            reason = _text_problem(value)
            if reason:
                problems.setdefault(path, []).append(reason)
        elif isinstance(value, dict):
            for key, item in value.items():
                item_path = _joined(path, _printable(key))
                reason = _text_problem(key)
                if reason:
                    problems.setdefault(item_path, []).append(f"the field name {reason}")
                pending.append((item_path, item))
        elif isinstance(value, list):
            pending.extend((_joined(path, str(index)), item) for index, item in enumerate(value))
    return problems


def _text_problem(text: str) -> str | None:
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000)"
    return f"contains an unpaired surrogate (\\u{ord(found.group()):04x}), which is not valid Unicode"


def _printable(key: str) -> str:
    """The key as it can be shown back: the offending characters as \\uXXXX escapes."""
    return _NOT_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", key)


def _joined(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


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


def refuse_id_number_in_url(search_path: str) -> None:
    """ID numbers never travel in a URL (URLs land in access logs and browser histories): a look-up
    by ID number is a POST with it in the body. 400 naming the search to use instead."""
    if "id_number" in request.args:
        raise ApiError(400, "id_number_in_url", f"ID numbers do not go in URLs; POST {search_path} "
                       "with {\"id_number\": ...} in the body", {"id_number": ["send it in the body of a search"]})
