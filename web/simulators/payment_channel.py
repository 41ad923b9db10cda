"""A payment-channel simulator: the core banking system's debit API, as a small Flask app.

    POST /v1/debits   {"account", "amount" (decimal string), "reference"}
                      200 {"status": "debited", "account", "amount", "reference"}  the balance covered it
                      402 {"status": "insufficient_funds", ...}                    it did not; nothing moved
                      400 {"status": "rejected", "error", "message"}               malformed request
                      503 {"status": "unavailable"}                                while down
    GET  /v1/statements/<YYYY-MM-DD>   the day's statement file (text/csv: reference,account,amount),
                      every debit made with that value_date (sent with the debit, else today)
    POST /control     {"balances": {account: "amount"}, "down": bool, "delay": seconds, "reset": true,
                       "statement_amounts": {reference: "amount"}, "statement_extra": [{reference,
                       account, amount, value_date}]}  (the last two make a statement differ, for tests)
    GET  /control     the switches, every balance set or touched, and the number of debits made

Idempotent per reference, like a real core: the first final answer (debited or insufficient
funds) is stored and every later request with that reference gets it back without moving money,
whatever amount it names, so a caller that lost an answer can ask again safely. A 503 is not an
answer about the debit and is not stored. Accounts nobody set have DEFAULT_BALANCE.
"""
from __future__ import annotations

import csv
import io
import threading
import time
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Flask, jsonify, request

from web.simulators import apply_outage_switches

DEFAULT_BALANCE = Decimal("1000000.00")
FEN = Decimal("0.01")


def _fresh_state() -> dict:
    return {"down": False, "delay": 0.0, "balances": {}, "answers": {}, "debits": 0, "booked": [],
            "statement_amounts": {}, "statement_extra": []}


def _amount(value) -> Decimal | None:
    """A positive amount in yuan with at most two places, from a string (floats are not money)."""
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(FEN):
        return None
    return amount.quantize(FEN)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    lock = threading.Lock()
    state = _fresh_state()

    @app.post("/v1/debits")
    def debit():
        with lock:
            down, delay = state["down"], state["delay"]
        if delay:
            time.sleep(delay)
        if down:
            return jsonify(status="unavailable", message="core banking is down for maintenance"), 503
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _rejected("malformed_body", "the body must be a JSON object")
        account, reference, amount = body.get("account"), body.get("reference"), _amount(body.get("amount"))
        if not isinstance(account, str) or not account.strip():
            return _rejected("invalid_account", "account is required")
        if not isinstance(reference, str) or not reference.strip():
            return _rejected("invalid_reference", "reference is required")
        if amount is None:
            return _rejected("invalid_amount", "amount must be a positive decimal string with at most 2 places")
        with lock:
            # The lock covers look-up, balance check and debit: two requests with one reference
            # (or on one account) must not both debit.
            stored = state["answers"].get(reference)
            if stored is not None:
                return jsonify(stored[1]), stored[0]
            balance = state["balances"].get(account, DEFAULT_BALANCE)
            if balance >= amount:
                state["balances"][account] = balance - amount
                state["debits"] += 1
                state["booked"].append({"reference": reference, "account": account, "amount": str(amount),
                                        "value_date": str(body.get("value_date") or date.today().isoformat())})
                answer = (200, {"status": "debited", "account": account, "amount": str(amount),
                                "reference": reference})
            else:
                state["balances"].setdefault(account, balance)
                answer = (402, {"status": "insufficient_funds", "account": account, "amount": str(amount),
                                "reference": reference})
            state["answers"][reference] = answer
            return jsonify(answer[1]), answer[0]

    @app.post("/control")
    def control():
        switches = request.get_json(silent=True) or {}
        balances = {}
        for account, value in (switches.get("balances") or {}).items():
            amount = _amount(value) if value not in ("0", "0.00") else Decimal("0.00")
            if amount is None:
                return _rejected("invalid_amount", f"balance of {account} must be a decimal string")
            balances[account] = amount
        with lock:
            apply_outage_switches(state, switches, _fresh_state)
            state["balances"].update(balances)
            state["statement_amounts"].update(switches.get("statement_amounts") or {})
            state["statement_extra"].extend(switches.get("statement_extra") or [])
            return jsonify(_public(state))

    @app.get("/v1/statements/<day>")
    def statement(day: str):
        with lock:
            lines = [dict(line) for line in state["booked"] + state["statement_extra"] if line["value_date"] == day]
            for line in lines:
                line["amount"] = state["statement_amounts"].get(line["reference"], line["amount"])
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["reference", "account", "amount"])
        for line in lines:
            writer.writerow([line["reference"], line["account"], line["amount"]])
        return out.getvalue(), 200, {"Content-Type": "text/csv; charset=utf-8"}

    @app.get("/control")
    def show_control():
        with lock:
            return jsonify(_public(state))

    return app


def _rejected(error: str, message: str):
    return jsonify(status="rejected", error=error, message=message), 400


def _public(state: dict) -> dict:
    return {"down": state["down"], "delay": state["delay"], "debits": state["debits"],
            "balances": {account: str(amount) for account, amount in state["balances"].items()}}
