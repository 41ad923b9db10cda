"""Structured logs: one JSON object per line, each with the request id of the request it belongs to.

The request id is the caller's `X-Request-Id` when it is well formed (so a request can be followed
from the integrator's logs into ours), else a new one; it goes back as the `X-Request-Id` response
header, into every error answer (web/errors.py) and into every log line written while the request
runs. `serve` and `worker` call `log_json_lines()`; the app factory calls `install_request_ids`.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request

from privacy import redact_text

HEADER = "X-Request-Id"
# Letters, digits and - _ . : only, 8 to 128 of them: nothing that could forge a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
requests_log = logging.getLogger("loanflow.requests")


def current_request_id() -> str | None:
    if not has_request_context():
        return None
    if "request_id" not in g:
        g.request_id = _request_id_of(request.headers.get(HEADER, ""))
    return g.request_id


def _request_id_of(sent: str) -> str:
    return sent if WELL_FORMED.fullmatch(sent) else uuid.uuid4().hex


def install_request_ids(app: Flask) -> None:
    @app.before_request
    def _start():
        current_request_id()
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers[HEADER] = current_request_id()
        started = g.get("request_started")
        requests_log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "http": {"method": request.method, "path": request.path,
                     "route": request.url_rule.rule if request.url_rule else None,
                     "status": response.status_code,
                     "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                     "user": getattr(g.get("user"), "username", None)}})
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (on a handler, so it sees propagated records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class JsonLines(logging.Formatter):
    """A record as one JSON line: time (UTC), level, logger, message (masked), request_id, http."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name,
                "message": redact_text(record.getMessage()), "request_id": getattr(record, "request_id", None)}
        if getattr(record, "http", None):
            line["http"] = record.http
        if record.exc_info:
            line["error"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is written, not when the handler was made
    (a test capturing stderr replaces and closes it; logging must not write to the closed one)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def json_lines_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderr()
    handler.setFormatter(JsonLines())
    handler.addFilter(RequestIdFilter())
    return handler


def log_json_lines(level: int = logging.INFO) -> None:
    """The process's logs as JSON lines on stderr (once per process, whoever calls it again)."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonLines) for h in root.handlers):
        root.addHandler(json_lines_handler())
    root.setLevel(level)
    # werkzeug's own access log would say each request a second time, in its own format.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
