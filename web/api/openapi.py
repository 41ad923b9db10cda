"""GET /api/v1/openapi.json: the API described; request bodies come from the form definitions."""
from __future__ import annotations

from flask import Blueprint, jsonify

from forms.json_schema import form_schemas

blueprint = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, *, body: str | None = None, ok: int = 200, params: list | None = None,
        errors: tuple = (401, 403, 404, 409, 422), multipart: bool = False, secure: bool = True) -> dict:
    op: dict = {"summary": summary, "responses": {str(ok): {"description": "OK"}}}
    for status in errors:
        op["responses"][str(status)] = {"description": "Error",
                                        "content": {"application/json": {"schema": ERROR}}}
    if body or multipart:
        op["responses"]["415"] = {"description": "The body is not of the media type below",
                                  "content": {"application/json": {"schema": ERROR}}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if multipart:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["scope", "files"],
            "properties": {"scope": {"type": "string", "description": "HQ or a branch code"},
                           "comment": {"type": "string"},
                           "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}
    if params:
        op["parameters"] = params
    if not secure:
        op["security"] = []
    return op


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, kind: str = "string", description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": description}


def build_document() -> dict:
    review_body = "ReviewForm"
    return {
        "openapi": "3.0.3",
        "info": {"title": "loanflow API", "version": "1.0.0",
                 "description": "Loan origination on BPMN for a rural-credit group. Money is a decimal string."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                **form_schemas(),
                "Credentials": {"type": "object", "required": ["username", "password"],
                                "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
                "Error": {"type": "object", "required": ["error", "message", "fields"],
                          "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                         "fields": {"type": "object"}}},
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/auth/token": {"post": _op("Exchange username and password for a bearer token",
                                        body="Credentials", errors=(400, 401, 422), secure=False)},
            "/applications": {"post": _op(
                "Submit a loan application", body="ApplicationForm", ok=201, errors=(400, 401, 403, 422),
                params=[{"name": "Idempotency-Key", "in": "header", "required": True,
                         "schema": {"type": "string", "maxLength": 200}}])},
            "/applications/{application_id}": {"get": _op("An application: status, stage, decision, tasks, history",
                                                          params=[_path_param("application_id")])},
            "/applications/{application_id}/signature": {"post": _op(
                "The channel's signing callback", body="SignatureForm", params=[_path_param("application_id")])},
            "/applications/{application_id}/retry": {"post": _op(
                "Retry the step that stopped with an incident", params=[_path_param("application_id")])},
            "/tasks": {"get": _op("The caller's inbox", params=[
                _query("status", description="open (default), completed or cancelled"),
                _query("role"), _query("mine", "boolean"), _query("application_id"),
                _query("min_amount"), _query("max_amount"), _query("overdue", "boolean"),
                _query("page", "integer"), _query("per_page", "integer")])},
            "/tasks/{task_id}/claim": {"post": _op("Claim a task", params=[_path_param("task_id")])},
            "/tasks/{task_id}/unclaim": {"post": _op("Release a claimed task", params=[_path_param("task_id")])},
            "/tasks/{task_id}/complete": {"post": _op(
                "Complete a task with its form (review: decision approve|reject|return and comment)",
                body=review_body, params=[_path_param("task_id")])},
            "/deployments": {
                "get": _op("Deployments, newest first", params=[_query("scope")]),
                "post": _op("Deploy BPMN/DMN/data files for a scope", multipart=True, ok=201),
            },
            "/deployments/resolved": {"get": _op("Which scope and version each process comes from for a branch",
                                                 params=[_query("branch")])},
            "/loans/{loan_id}": {"get": _op("A loan: terms, schedule, balances, transactions",
                                            params=[_path_param("loan_id")])},
            "/loans/{loan_id}/repayments": {"post": _op(
                "Post a repayment (amount, value_date, prepayment: reduce_installment|shorten_term)", ok=201,
                params=[_path_param("loan_id"), {"name": "Idempotency-Key", "in": "header", "required": True,
                                                 "schema": {"type": "string"}}])},
            "/loans/{loan_id}/classification": {"post": _op(
                "Override the five-level classification (approvers), with a reason",
                params=[_path_param("loan_id"), {"name": "Idempotency-Key", "in": "header", "required": True,
                                                 "schema": {"type": "string"}}])},
            "/schedules/preview": {"get": _op(
                "Loan calculator: installments and totals", errors=(422,), secure=False,
                params=[_query("principal"), _query("annual_rate", description="a fraction: 0.0435 for 4.35 %"),
                        _query("term_months", "integer"),
                        _query("method", description="equal_installment|equal_principal|bullet|interest_only|revolving"),
                        _query("start_date", description="YYYY-MM-DD"),
                        _query("day_count", description="30/360|actual/365|actual/actual")])},
            "/ledger/trial-balance": {"get": _op("Trial balance of a branch, or consolidated for HQ",
                                                 params=[_query("branch")])},
            "/ledger/loan-book": {"get": _op("Loan book by branch, product and classification, with the NPL ratio",
                                             params=[_query("branch"), _query("product")])},
            "/risk-lists/{name}/entries": {
                "get": _op("Entries of a risk list (blacklist, graylist, aml)",
                           params=[_path_param("name"), _query("limit", "integer"),
                                   _query("offset", "integer")]),
                "post": _op("Add an entry (approvers), audited", body="RiskListEntryForm", ok=201,
                            params=[_path_param("name")]),
            },
            "/risk-lists/{name}/entries/{entry_id}": {"delete": _op(
                "Remove an entry (approvers) by its id, with a reason, audited", ok=204,
                params=[_path_param("name"), _path_param("entry_id"), _query("reason")])},
            "/risk-lists/{name}/search": {"post": _op(
                "Exact look-up of one person: body {\"id_number\": ...}; entries and changes, ID numbers masked",
                params=[_path_param("name")])},
            "/risk-lists/{name}/changes": {"get": _op("The audit trail of a risk list (ID numbers masked)",
                                                      params=[_path_param("name")])},
            "/rating/batch": {"post": _op("Pre-rate a list of applicants for one branch and product")},
        },
    }


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(build_document())
