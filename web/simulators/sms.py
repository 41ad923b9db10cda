"""An SMS-gateway simulator: records the texts it is asked to send.

    POST /v1/messages {"to", "text", "reference"}  200 {"id", "status": "accepted"}; the same
                                   reference again answers with the first message (sent once);
                                   400 for a malformed request; 503 while down
    GET  /v1/messages              every message accepted, oldest first (the tests read this)
    POST /control                  {"down": bool, "delay": seconds, "reset": true}
"""
from __future__ import annotations

import re
import threading
import time

from flask import Flask, jsonify, request

from web.simulators import apply_outage_switches

_PHONE = re.compile(r"1[0-9]{10}\Z")


def _fresh_state() -> dict:
    return {"down": False, "delay": 0.0, "messages": [], "by_reference": {}}


def create_app() -> Flask:
    app = Flask(__name__)
    lock = threading.Lock()
    state = _fresh_state()

    @app.post("/v1/messages")
    def send():
        body = request.get_json(silent=True) or {}
        with lock:
            down, delay = state["down"], state["delay"]
        if delay:
            time.sleep(delay)
        if down:
            return jsonify(error="unavailable", message="SMS gateway is down"), 503
        phone, text, reference = (str(body.get(k) or "") for k in ("to", "text", "reference"))
        if not _PHONE.match(phone) or not text or not reference or len(text) > 500:
            return jsonify(error="invalid_message", message="to (a mobile number), text and reference are required"), 400
        with lock:
            known = state["by_reference"].get(reference)
            if known is None:
                known = {"id": f"SMS{len(state['messages']) + 1:08d}", "to": phone, "text": text,
                         "reference": reference}
                state["messages"].append(known)
                state["by_reference"][reference] = known
        return jsonify(id=known["id"], status="accepted")

    @app.get("/v1/messages")
    def sent():
        with lock:
            return jsonify(items=list(state["messages"]))

    @app.post("/control")
    def control():
        with lock:
            apply_outage_switches(state, request.get_json(silent=True) or {}, _fresh_state)
            return jsonify(down=state["down"], delay=state["delay"], messages=len(state["messages"]))

    return app
