"""Risk lists and batch rating as staff drive them, through one service like every other use case.

Risk lists are group-wide: staff read them, approvers add and remove entries with a reason, and
every change is audited. Batch rating pre-rates applicants for one branch and product with the
branch's resolved rating files (its override, else HQ's). Runs inside the caller's unit of work.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from privacy import mask_id_number
from scoring import risk_lists
from scoring.batch import rate_rows
from scoring.rating import RATING_FILES
from workflows.deployments import resolve_files
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.models import HQ, Branch, User
from workflows.products import effective_product

MAX_BATCH = 1000
MAX_SEARCH = 500


def list_entries(session: Session, name: str, *, limit: int, offset: int) -> dict:
    entries, total = risk_lists.list_entries(session, name, limit=limit, offset=offset)
    return {"items": [entry.as_dict() for entry in entries], "total": total}


def search(session: Session, name: str, body: dict) -> dict:
    """One person's entries and changes, looked up by the exact ID number sent in the body."""
    id_number = body.get("id_number")
    if not isinstance(id_number, str) or not id_number.strip():
        raise InvalidInput("id_number is required", field="id_number")
    wanted = id_number.strip().upper()
    entries, total = risk_lists.list_entries(session, name, id_number=wanted, limit=MAX_SEARCH)
    return {"items": [entry.as_dict() for entry in entries], "total": total,
            "changes": [change.as_dict() for change in risk_lists.history(session, name, wanted)]}


def add_entry(session: Session, name: str, form: dict, actor: User) -> dict:
    entry = risk_lists.add_entry(session, name, form["id_number"].upper(), reason=form["reason"],
                                 actor=actor.username)
    return entry.as_dict()


def remove_entry(session: Session, name: str, entry_id: int, reason, actor: User) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason is required (query parameter or JSON body)", field="reason")
    risk_lists.remove_entry(session, name, entry_id, reason=reason, actor=actor.username)


def changes(session: Session, name: str) -> dict:
    return {"items": [change.as_dict() for change in risk_lists.history(session, name)]}


def rate_batch(session: Session, body: dict, actor: User) -> dict:
    """Rate every applicant of the body; a bad one is reported by its position, the rest go on."""
    applicants = body.get("applicants")
    if not isinstance(applicants, list) or not applicants:
        raise InvalidInput("applicants must be a non-empty list", field="applicants")
    if len(applicants) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} applicants per request; use `loanflow rate-batch` for files",
                           field="applicants")
    if not all(isinstance(item, dict) for item in applicants):
        raise InvalidInput("every applicant must be an object", field="applicants")
    branch_code = str(body.get("branch") or actor.branch_code)
    if actor.branch_code != HQ and branch_code != actor.branch_code:
        raise Forbidden("Branch staff rate for their own branch only", field="branch")
    product, files = rating_inputs(session, branch_code, str(body.get("product") or ""))
    items, failed = [], 0
    for index, applicant, result, problem in rate_rows(applicants, product, files):
        item = {"index": index, "id_number": mask_id_number(applicant.get("id_number")), "result": None,
                "error": None}
        if problem is None:
            item["result"] = result.as_dict()
        else:
            failed += 1
            item["error"] = {"error": "invalid_applicant", "message": problem.reason,
                             "fields": {problem.field: [problem.reason]} if problem.field else {}}
        items.append(item)
    return {"branch": branch_code, "product": product["code"], "rated": len(items) - failed, "failed": failed,
            "items": items}


def rating_inputs(session: Session, branch_code: str, product_code: str) -> tuple[dict, dict[str, str]]:
    """The product terms and the branch's resolved rating files (branch override, else HQ)."""
    if branch_code != HQ and session.get(Branch, branch_code) is None:
        raise NotFound(f"Unknown branch '{branch_code}'", field="branch")
    product = effective_product(session, branch_code, product_code)  # the branch's bounds and rates
    resolved = resolve_files(session, branch_code)
    missing = [name for name in RATING_FILES if name not in resolved]
    if missing:
        raise Conflict(f"Branch {branch_code} has no deployed {', '.join(missing)}", code="rating_files_missing",
                       field="branch")
    terms = {"code": product.code, "base_rate": product.base_rate, "max_amount": product.max_amount,
             "min_rate": product.rate_floor, "max_rate": product.rate_ceiling}
    return terms, {name: resolved[name].content for name in RATING_FILES}
