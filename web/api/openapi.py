"""GET /api/v1/openapi.json: generated from the routes the app serves and the forms' schemas.

Nothing here lists an endpoint by hand. Each /api/v1 rule of the URL map contributes its path,
methods and path parameters; its view's `@documented` (web/api_docs.py) adds the summary, the
body form (converted from the marshmallow schema by apispec), query parameters and the
Idempotency-Key header; `@require` adds the roles. A served route without `@documented` is an
error here, and tests/web/test_openapi.py fails on it.
"""
from __future__ import annotations

from functools import lru_cache

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app, jsonify

from forms.compiler import ExactDecimal, form_names, schema_for
from web.api_docs import Operation, documented, operation_of, roles_of

blueprint = Blueprint("openapi", __name__)

PREFIX = "/api/v1"
ERROR = {"$ref": "#/components/schemas/Error"}
_PATH_PARAMETER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_STATUS_TEXT = {400: "Malformed request", 401: "Not signed in", 403: "Not allowed", 404: "Not found",
                409: "Conflict", 415: "Unsupported media type", 422: "Invalid fields (each named)",
                503: "A dependency is unavailable"}


class UndocumentedRoute(LookupError):
    """A route is served but has no @documented: the document would lie by omission."""


def schema_name(form: str) -> str:
    return "".join(part.title() for part in form.split("_")) + "Form"


@lru_cache(maxsize=None)
def form_json_schema(form: str) -> dict:
    """One form's JSON schema, whole (nested forms inlined), e.g. a process's start form."""
    plugin = MarshmallowPlugin()
    spec = APISpec(title="form", version="1", openapi_version="3.0.3", plugins=[plugin])
    plugin.map_to_openapi_type(ExactDecimal, "string", "decimal")
    spec.components.schema(schema_name(form), schema=schema_for(form))
    components = spec.to_dict()["components"]["schemas"]

    def inline(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                return inline(components[ref.rsplit("/", 1)[1]])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node
    return inline(components[schema_name(form)])


def build_document(app: Flask) -> dict:
    plugin = MarshmallowPlugin()
    spec = APISpec(title="loanflow API", version="1.0.0", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": "Loan origination on BPMN for a rural-credit group. "
                                        "Money is a decimal string."},
                   servers=[{"url": PREFIX}], security=[{"bearer": []}])
    plugin.map_to_openapi_type(ExactDecimal, "string", "decimal")
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", {
        "type": "object", "required": ["error", "message", "fields"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object", "additionalProperties": {
                           "type": "array", "items": {"type": "string"}}},
                       "request_id": {"type": "string", "description": "also the X-Request-Id header"}}})
    for form in sorted(form_names()):
        spec.components.schema(schema_name(form), schema=schema_for(form))
    paths: dict[str, dict] = {}
    at_root: dict[str, dict] = {}  # documented routes outside /api/v1: /healthz, /readyz, /metrics
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        operation = operation_of(view)
        if not rule.rule.startswith(PREFIX + "/"):
            if operation is not None:
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    at_root.setdefault(rule.rule, {})[method.lower()] = _operation(operation, rule.arguments,
                                                                                   roles_of(view))
            continue
        if operation is None:
            raise UndocumentedRoute(f"{rule.rule} ({rule.endpoint}) has no @documented")
        path = _PATH_PARAMETER.sub(r"{\1}", rule.rule[len(PREFIX):])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(operation, rule.arguments, roles_of(view))
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    document = spec.to_dict()
    for path, operations in at_root.items():
        # Served at the server's root, not under /api/v1: the path item names its own server.
        document["paths"][path] = {"servers": [{"url": "/", "description": "the server's root"}], **operations}
    return document


def _operation(op: Operation, path_parameters, roles) -> dict:
    document: dict = {"summary": op.summary, "responses": {str(op.ok): {"description": "OK"}}}
    if op.description:
        document["description"] = op.description
    for status in op.errors:
        document["responses"][str(status)] = {"description": _STATUS_TEXT.get(status, "Error"),
                                              "content": {"application/json": {"schema": ERROR}}}
    parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in sorted(path_parameters)]
    parameters += [{"name": q.name, "in": "query", "required": q.required, "schema": {"type": q.kind},
                    **({"description": q.description} if q.description else {})} for q in op.query]
    if op.idempotency:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": op.idempotency == "required",
                           "schema": {"type": "string", "maxLength": 200},
                           "description": "A retry with the same key and body returns the first answer"})
    if parameters:
        document["parameters"] = parameters
    if op.body:
        document["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{schema_name(op.body)}"}}}}
    if op.multipart:
        document["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "properties": op.multipart}}}}
    if roles is None:
        document["security"] = []
    elif roles:
        document["x-roles"] = list(roles)
    if op.tags:
        document["tags"] = list(op.tags)
    return document


@blueprint.get("/openapi.json")
@documented("This document (OpenAPI 3), generated from the routes and the form schemas", errors=())
def openapi():
    app = current_app._get_current_object()
    document = app.extensions.get("loanflow_openapi")
    if document is None:
        document = app.extensions["loanflow_openapi"] = build_document(app)
    return jsonify(document)

