"""Every error leaves the API as {"error": code, "message": ..., "fields": {...}, "request_id": ...}.

Packages raise their own typed errors; this module alone decides the HTTP status.
"""
from __future__ import annotations

import traceback

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from privacy import redact_text


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}
        self.headers = headers or {}  # e.g. Retry-After on a 429


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   details: dict | None = None):
    from web.request_log import current_request_id

    # The request id lets the caller quote the answer and operations find its log lines.
    body = {"error": code, "message": message, "fields": fields or {}, "request_id": current_request_id()}
    # What the caller can do next (an expired credit line's `renewal`), never replacing the above.
    body.update({k: v for k, v in (details or {}).items() if k not in body})
    return jsonify(body), status


# Typed errors of the packages, by the `kind` they declare, to HTTP statuses.
STATUS_BY_KIND = {
    "not_found": 404,
    "conflict": 409,
    "forbidden": 403,
    "invalid": 422,
    "unavailable": 503,
}


def _package_error_types():
    from ledger.errors import LedgerError
    from scoring.errors import ScoringError
    from workflows.errors import WorkflowError

    return (WorkflowError, LedgerError, ScoringError)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(err: ApiError):
        body, status = error_response(err.status, err.code, err.message, err.fields)
        return body, status, err.headers

    @app.errorhandler(ValidationError)
    def _validation_error(err: ValidationError):
        messages = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        return error_response(422, "validation_failed", "The request has invalid fields.", messages)

    for error_type in _package_error_types():
        app.register_error_handler(error_type, _package_error)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        # An address outside the API (e.g. a mistyped page) gets the pages' HTML error page.
        html_page = app.extensions.get("loanflow_html_error")
        if html_page is not None and not request.path.startswith("/api/"):
            return html_page(err.code or 500)
        return error_response(err.code or 500, (err.name or "error").lower().replace(" ", "_"),
                              err.description or err.name)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        # The traceback's text can quote values (an ID number in an exception's message): masked.
        app.logger.error("unhandled error: %s", redact_text(traceback.format_exc()))
        return error_response(500, "internal_error", "An unexpected error occurred; nothing was saved.")


def _package_error(err):
    kind = getattr(err, "kind", "invalid")
    status = STATUS_BY_KIND.get(kind, 422)
    field = getattr(err, "field", None)
    fields = dict(getattr(err, "fields", None) or {})
    message = getattr(err, "message", None) or str(err)
    if field and field not in fields:
        fields[field] = [message]
    return error_response(status, getattr(err, "code", kind), message, fields, getattr(err, "details", None))
