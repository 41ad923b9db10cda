"""Risk lists (/risk-lists/{name}/entries) and batch rating (/rating/batch).

Risk lists are group-wide. Staff read them; approvers (branch or HQ) add and remove entries,
always with a reason; every change is audited (/risk-lists/{name}/changes).
No ID number travels in a URL (they land in access logs): an entry is addressed by its `id`, and a
person is looked up with POST /risk-lists/{name}/search and the ID number in the body. Listings
show ID numbers masked (privacy.masking).
Batch rating pre-rates up to MAX_BATCH applicants for one branch and product with the branch's
deployed rating files; a bad applicant is reported by its position and does not stop the rest.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from forms.compiler import load_form
from privacy import mask_id_number
from scoring.batch import rate_rows
from scoring.risk_lists import add_entry, history, list_entries, remove_entry
from scoring.rating import RATING_FILES
from web.api.context import read_only, unit_of_work
from web.auth import require
from web.errors import ApiError
from web.requests import int_arg, json_body
from workflows.deployments import resolve_files
from workflows.models import HQ, Branch, Product

blueprint = Blueprint("scoring", __name__)

STAFF = ("customer_manager", "reviewer", "approver", "hq_approver", "analyst")
LIST_MANAGERS = ("approver", "hq_approver")
MAX_BATCH = 1000
MAX_PAGE = 500


@blueprint.get("/risk-lists/<name>/entries")
@require(*STAFF)
def list_risk_entries(name: str):
    _no_id_number_in_the_url(name)
    with read_only() as session:
        entries, total = list_entries(session, name,
                                      limit=int_arg("limit", 100, 0, MAX_PAGE),
                                      offset=int_arg("offset", 0, 0, 10**9))
        return jsonify({"items": [entry.as_dict() for entry in entries], "total": total})


@blueprint.post("/risk-lists/<name>/entries")
@require(*LIST_MANAGERS)
def add_risk_entry(name: str):
    form = load_form("risk_list_entry", json_body())
    with unit_of_work() as session:
        entry = add_entry(session, name, form["id_number"].upper(), reason=form["reason"], actor=g.user.username)
        view = entry.as_dict()
    return jsonify(view), 201


@blueprint.post("/risk-lists/<name>/search")
@require(*STAFF)
def search_risk_list(name: str):
    body = json_body()
    id_number = body.get("id_number")
    if not isinstance(id_number, str) or not id_number.strip():
        raise ApiError(422, "validation_failed", "id_number is required", {"id_number": ["is required"]})
    with read_only() as session:
        entries, total = list_entries(session, name, id_number=id_number.strip().upper(), limit=MAX_PAGE)
        changes = history(session, name, id_number.strip().upper())
        return jsonify({"items": [entry.as_dict() for entry in entries], "total": total,
                        "changes": [change.as_dict() for change in changes]})


def _no_id_number_in_the_url(name: str) -> None:
    if "id_number" in request.args:
        raise ApiError(400, "id_number_in_url", f"ID numbers do not go in URLs; POST /api/v1/risk-lists/{name}/search "
                       "with {\"id_number\": ...} in the body", {"id_number": ["send it in the body of a search"]})


@blueprint.delete("/risk-lists/<name>/entries/<int:entry_id>")
@require(*LIST_MANAGERS)
def remove_risk_entry(name: str, entry_id: int):
    # The reason may come as a query parameter: some proxies drop DELETE bodies.
    reason = request.args.get("reason")
    if reason is None and request.get_data(cache=True):
        reason = json_body().get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(422, "validation_failed", "reason is required (query parameter or JSON body)",
                       {"reason": ["must say why the entry is removed"]})
    with unit_of_work() as session:
        remove_entry(session, name, entry_id, reason=str(reason or ""), actor=g.user.username)
    return "", 204


@blueprint.get("/risk-lists/<name>/changes")
@require(*STAFF)
def risk_list_changes(name: str):
    _no_id_number_in_the_url(name)
    with read_only() as session:
        changes = history(session, name)
        return jsonify({"items": [c.as_dict() for c in changes]})


def _branch_for_request(body: dict) -> str:
    wanted = str(body.get("branch") or g.user.branch_code)
    if g.user.branch_code != HQ and wanted != g.user.branch_code:
        raise ApiError(403, "forbidden", "Branch staff rate for their own branch only", {"branch": ["not yours"]})
    return wanted


def rating_inputs(session, branch_code: str, product_code: str) -> tuple[dict, dict[str, str]]:
    """The product terms and the branch's resolved rating files (branch override, else HQ)."""
    if branch_code != HQ and session.get(Branch, branch_code) is None:
        raise ApiError(404, "not_found", f"Unknown branch '{branch_code}'", {"branch": ["unknown"]})
    product = session.get(Product, product_code)
    if product is None:
        raise ApiError(404, "not_found", f"Unknown product '{product_code}'", {"product": ["unknown"]})
    resolved = resolve_files(session, branch_code)
    missing = [name for name in RATING_FILES if name not in resolved]
    if missing:
        raise ApiError(409, "rating_files_missing", f"Branch {branch_code} has no deployed {', '.join(missing)}",
                       {"branch": [f"missing {', '.join(missing)}"]})
    terms = {"code": product.code, "base_rate": product.base_rate, "max_amount": product.max_amount}
    return terms, {name: resolved[name].content for name in RATING_FILES}


@blueprint.post("/rating/batch")
@require(*STAFF)
def rate_batch():
    body = json_body()
    applicants = body.get("applicants")
    if not isinstance(applicants, list) or not applicants:
        raise ApiError(422, "validation_failed", "applicants must be a non-empty list",
                       {"applicants": ["a non-empty list is required"]})
    if len(applicants) > MAX_BATCH:
        raise ApiError(422, "validation_failed", f"at most {MAX_BATCH} applicants per request; "
                       "use `loanflow rate-batch` for files", {"applicants": [f"at most {MAX_BATCH}"]})
    if not all(isinstance(item, dict) for item in applicants):
        raise ApiError(422, "validation_failed", "every applicant must be an object",
                       {"applicants": ["objects expected"]})
    branch_code = _branch_for_request(body)
    with read_only() as session:
        product, files = rating_inputs(session, branch_code, str(body.get("product") or ""))
    items, failed = [], 0
    for index, applicant, result, problem in rate_rows(applicants, product, files):
        item = {"index": index, "id_number": mask_id_number(applicant.get("id_number")), "result": None, "error": None}
        if problem is None:
            item["result"] = result.as_dict()
        else:
            failed += 1
            item["error"] = {"error": "invalid_applicant", "message": problem.reason,
                             "fields": {problem.field: [problem.reason]} if problem.field else {}}
        items.append(item)
    return jsonify({"branch": branch_code, "product": product["code"], "rated": len(items) - failed,
                    "failed": failed, "items": items})
