"""A credit-bureau simulator: a small Flask app serving deterministic credit reports.

    POST /v1/reports/query {"id_number": ...}   the report (200), 400 for a malformed ID number, 404 for
                                   "no file" (ID numbers ending in "X" have no bureau file),
                                   503 while down or while failing the next N requests
    POST /control                  {"down": bool, "delay": seconds, "fail_next": n,
                                    "reports": {id_number: {field: value}}, "reset": true}
    GET  /control                  the current switches and the number of report requests served

Reports are derived from a hash of the ID number, so the same person always gets the same report;
tests can script exact reports through /control. The state lives in the app (one per server).
"""
from __future__ import annotations

import hashlib
import re
import threading
import time
from datetime import date

from flask import Flask, jsonify, request

from web.simulators import apply_outage_switches

_ID_NUMBER = re.compile(r"[0-9]{15}([0-9]{2}[0-9Xx])?\Z")


def _fresh_state() -> dict:
    return {"down": False, "delay": 0.0, "fail_next": 0, "reports": {}, "requests": 0}


def simulated_report(id_number: str, today: date | None = None) -> dict:
    """The deterministic report for an ID number: most people clean, a few with many inquiries,
    many lenders or overdue accounts."""
    digest = hashlib.sha256(id_number.encode("ascii")).digest()
    overdue_accounts = 1 if digest[2] < 20 else 0  # about 8 % overdue somewhere
    return {
        "id_number": id_number,
        "report_date": (today or date.today()).isoformat(),
        "has_record": True,
        "inquiries_3m": digest[0] % 10,
        "lender_count": digest[1] % 7,
        "overdue_accounts": overdue_accounts,
        "overdue_amount": f"{(digest[3] * 97) if overdue_accounts else 0}.00",
        "outstanding_debt": f"{int.from_bytes(digest[4:6], 'big') * 5}.00",
    }


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    lock = threading.Lock()
    state = _fresh_state()

    @app.post("/v1/reports/query")
    def report():
        id_number = str((request.get_json(silent=True) or {}).get("id_number") or "")
        with lock:
            state["requests"] += 1
            down, delay = state["down"], state["delay"]
            failing = state["fail_next"] > 0
            if failing:
                state["fail_next"] -= 1
            scripted = state["reports"].get(id_number)
        if delay:
            time.sleep(delay)
        if down or failing:
            return jsonify(error="unavailable", message="bureau is down for maintenance"), 503
        if not _ID_NUMBER.match(id_number):
            return jsonify(error="invalid_id_number", message="not a resident ID number"), 400
        if id_number.upper().endswith("X") and scripted is None:
            return jsonify(error="no_record", message="no credit file for this person"), 404
        body = simulated_report(id_number)
        body.update(scripted or {})
        return jsonify(body)

    @app.post("/control")
    def control():
        switches = request.get_json(silent=True) or {}
        with lock:
            apply_outage_switches(state, switches, _fresh_state)
            if "fail_next" in switches:
                state["fail_next"] = int(switches["fail_next"])
            state["reports"].update(switches.get("reports") or {})
            return jsonify(_public(state))

    @app.get("/control")
    def show_control():
        with lock:
            return jsonify(_public(state))

    return app


def _public(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "reports"}
