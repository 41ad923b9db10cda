"""The webhook event catalogue (/webhooks/events): what an integrator's callback URL receives."""
from __future__ import annotations

from flask import Blueprint, jsonify

from web.api_docs import documented
from web.auth import require
from workflows.events import catalogue_view

blueprint = Blueprint("webhook_events", __name__)


@blueprint.get("/webhooks/events")
@documented("The webhook event catalogue: the envelope, the headers, and each event type with its fields, "
            "their values and an example")
@require()
def webhook_events():
    return jsonify(catalogue_view())
