"""Risk lists and batch rating as staff drive them, through one service like every other use case.

Risk lists are group-wide: staff read them, approvers add and remove entries with a reason, and
every change is audited. Batch rating pre-rates applicants for one branch and product with the
branch's resolved rating files (its override, else HQ's). Runs inside the caller's unit of work.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from scoring import risk_lists
from scoring.batch import rate_rows
from scoring.rating import RATING_FILES
from workflows.deployments import resolve_files
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.models import HQ, Branch, Product, User

MAX_BATCH = 1000


def list_entries(session: Session, name: str, *, id_number: str | None, limit: int, offset: int) -> dict:
    entries, total = risk_lists.list_entries(session, name, id_number=id_number, limit=limit, offset=offset)
    return {"items": [entry.as_dict() for entry in entries], "total": total}


def add_entry(session: Session, name: str, form: dict, actor: User) -> dict:
    entry = risk_lists.add_entry(session, name, form["id_number"].upper(), reason=form["reason"],
                                 actor=actor.username)
    return entry.as_dict()


def remove_entry(session: Session, name: str, id_number: str, reason, actor: User) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("reason is required (query parameter or JSON body)", field="reason")
    risk_lists.remove_entry(session, name, id_number, reason=reason, actor=actor.username)


def changes(session: Session, name: str, id_number: str | None) -> dict:
    return {"items": [{"list": c.list_name, "id_number": c.id_number, "action": c.action, "reason": c.reason,
                       "actor": c.actor, "at": c.at.isoformat()}
                      for c in risk_lists.history(session, name, id_number)]}


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
        item = {"index": index, "id_number": applicant.get("id_number"), "result": None, "error": None}
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
    product = session.get(Product, product_code)
    if product is None:
        raise NotFound(f"Unknown product '{product_code}'", field="product")
    resolved = resolve_files(session, branch_code)
    missing = [name for name in RATING_FILES if name not in resolved]
    if missing:
        raise Conflict(f"Branch {branch_code} has no deployed {', '.join(missing)}", code="rating_files_missing",
                       field="branch")
    terms = {"code": product.code, "base_rate": product.base_rate, "max_amount": product.max_amount}
    return terms, {name: resolved[name].content for name in RATING_FILES}
