"""A payment-channel simulator: the core banking system's debit API, as a small Flask app.

    POST /v1/debits   {"account", "amount" (decimal string), "reference"}
                      200 {"status": "debited", "account", "amount", "reference"}  the balance covered it
                      402 {"status": "insufficient_funds", ...}                    it did not; nothing moved
                      400 {"status": "rejected", "error", "message"}               malformed request
                      503 {"status": "unavailable"}                                while down
    POST /control     {"balances": {account: "amount"}, "down": bool, "delay": seconds, "reset": true}
    GET  /control     the switches, every balance set or touched, and the number of debits made

Idempotent per reference, like a real core: the first final answer (debited or insufficient
funds) is stored and every later request with that reference gets it back without moving money,
whatever amount it names, so a caller that lost an answer can ask again safely. A 503 is not an
answer about the debit and is not stored. Accounts nobody set have DEFAULT_BALANCE.
"""
from __future__ import annotations

import threading
import time
from decimal import Decimal, InvalidOperation

from flask import Flask, jsonify, request

from web.simulators import apply_outage_switches

DEFAULT_BALANCE = Decimal("1000000.00")
FEN = Decimal("0.01")


def _fresh_state() -> dict:
    return {"down": False, "delay": 0.0, "balances": {}, "answers": {}, "debits": 0}


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
            return jsonify(_public(state))

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
