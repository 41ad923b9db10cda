"""The OpenAPI document is generated from the routes served and the forms' schemas: it cannot drift."""
from __future__ import annotations

import re

import pytest
from flask import Blueprint

from web.api.openapi import PREFIX, UndocumentedRoute, build_document


def test_every_route_the_app_serves_is_in_the_document_with_its_methods(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    served = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len(PREFIX):])
            served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    # Health and metrics live at the server's root, each path naming that server.
    for path in ("/healthz", "/readyz", "/metrics"):
        assert document["paths"][path]["servers"] == [{"url": "/", "description": "the server's root"}]
        assert document["paths"][path]["get"]["security"] == []
        served[path] = {"get", "servers"}
    assert {path: set(ops) for path, ops in document["paths"].items()} == served
    assert "post" in document["paths"]["/loans/{loan_id}/draws"]
    assert "get" in document["paths"]["/loans/{loan_id}/payoff"]


def test_bodies_come_from_the_form_definitions(client):
    document = client.get("/api/v1/openapi.json").get_json()
    form = document["components"]["schemas"]["ApplicationForm"]
    assert {"branch", "product", "amount", "applicant"} <= set(form["required"])
    assert form["properties"]["amount"]["format"] == "decimal"
    body = document["paths"]["/applications"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ApplicationForm"}
    review = document["paths"]["/tasks/{task_id}/complete"]["post"]["requestBody"]
    assert review["content"]["application/json"]["schema"]["$ref"].endswith("/ReviewForm")


def test_headers_roles_and_public_routes_are_described(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    submit = paths["/applications"]["post"]
    key = next(p for p in submit["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True
    assert submit["x-roles"] == ["integrator", "customer_manager"]
    assert paths["/auth/token"]["post"]["security"] == []
    assert paths["/schedules/preview"]["get"]["security"] == []
    assert "security" not in paths["/loans/{loan_id}"]["get"]  # signed in, any role
    assert {p["name"] for p in paths["/loans/{loan_id}"]["get"]["parameters"]} == {"loan_id"}


def test_a_served_route_without_documentation_is_refused(app):
    extra = Blueprint("undocumented", __name__)
    extra.add_url_rule("/secret-report", "secret_report", lambda: "x")
    app.register_blueprint(extra, url_prefix=PREFIX)
    with pytest.raises(UndocumentedRoute, match="/api/v1/secret-report"):
        build_document(app)
