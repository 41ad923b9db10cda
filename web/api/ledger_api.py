"""Ledger endpoints: the public loan calculator, repayments, trial balance and the loan book.

GET  /schedules/preview                 public, no sign-in (a calculator on the bank's site)
POST /loans/{id}/repayments             customer managers and integrators, Idempotency-Key required
POST /loans/{id}/draws                  customer managers and integrators: draw on a revolving line
GET  /loans/{id}/payoff?value_date=     staff and integrators: what closes the loan on a date
POST /loans/{id}/classification         approvers: override the five-level class with a reason
GET  /ledger/trial-balance?branch=      staff; HQ may omit branch for the consolidated balance
GET  /ledger/loan-book?branch=&product= staff; outstanding by branch, product and class, NPL ratio
GET  /loans/{id}                        anyone signed in, own branch (HQ: all): terms, schedule, postings
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify, request

from ledger import service
from web.api.context import read_only, unit_of_work
from web.auth import require
from web.errors import ApiError
from web.idempotency import body_hash, remember, replay, required_key
from web.requests import json_body
from workflows.models import HQ, Branch

blueprint = Blueprint("ledger", __name__)

STAFF = ("customer_manager", "reviewer", "approver", "hq_approver", "analyst")
REPAYERS = ("customer_manager", "integrator")
APPROVERS = ("approver", "hq_approver")
PREVIEW_FIELDS = ("principal", "annual_rate", "term_months", "method", "start_date")


@blueprint.get("/schedules/preview")
def preview_schedule():
    args = request.args
    missing = [name for name in PREVIEW_FIELDS if not args.get(name)]
    if missing:
        raise ApiError(422, "validation_failed", f"missing query parameters: {', '.join(missing)}",
                       {name: ["is required"] for name in missing})
    schedule = service.build_schedule(
        args["principal"], args["annual_rate"], args["term_months"], args["method"], args["start_date"],
        day_count=args.get("day_count", "30/360"), frequency=args.get("frequency", "monthly"),
    )
    return jsonify(schedule.to_dict())


def _own_loan(session, loan_id: str):
    loan = service.load_loan(session, loan_id)
    if g.user.branch_code not in (HQ, loan.branch):
        raise ApiError(404, "not_found", f"Loan {loan_id} was not found")
    return loan


@blueprint.get("/loans/<loan_id>")
@require()
def show_loan(loan_id: str):
    with read_only() as session:
        return jsonify(service.loan_view(session, _own_loan(session, loan_id).id))


def _day(body: dict, name: str) -> str:
    """A value or business date from the body: today when absent, never in the future."""
    value = body.get(name)
    if value is None:
        return date.today().isoformat()
    if not isinstance(value, str):
        raise ApiError(422, "validation_failed", f"{name} must be a date as YYYY-MM-DD", {name: ["not a date"]})
    if value > date.today().isoformat():
        raise ApiError(422, "validation_failed", f"{name} cannot be in the future",
                       {name: ["cannot be in the future"]})
    return value


def _posting(kind: str, loan_id: str, act):
    """One posting per Idempotency-Key: `act(session, loan, body, posting_key)` runs once; a
    retry with the same key and body replays the first answer; another body under it is refused."""
    key = required_key()
    body = json_body()
    request_hash = body_hash()
    scope = f"{kind}:{loan_id}:{key}"
    with unit_of_work() as session:
        previous = replay(session, g.user.username, scope, request_hash)
        if previous is not None:
            return jsonify(previous[1]), previous[0]
        loan = _own_loan(session, loan_id)
        answer, status = act(session, loan, body, f"api:{kind}:{loan.id}:{key}")
        remember(session, g.user.username, scope, request_hash, status, answer)
    return jsonify(answer), status


@blueprint.post("/loans/<loan_id>/repayments")
@require(*REPAYERS)
def post_repayment(loan_id: str):
    def act(session, loan, body, posting_key):
        result = service.repay(session, loan.id, body.get("amount"), posting_key=posting_key,
                               value_date=_day(body, "value_date"),
                               prepayment=body.get("prepayment", "reduce_installment"))
        answer = result.to_dict()
        answer["loan"] = service.loan_view(session, loan.id)["balances"]
        return answer, 201
    return _posting("repayment", loan_id, act)


@blueprint.post("/loans/<loan_id>/draws")
@require(*REPAYERS)
def post_draw(loan_id: str):
    def act(session, loan, body, posting_key):
        entry = service.draw(session, loan.id, body.get("amount"), posting_key=posting_key,
                             business_date=_day(body, "business_date"))
        return {"entry_id": entry.id, "loan": service.loan_view(session, loan.id)["balances"]}, 201
    return _posting("draw", loan_id, act)


@blueprint.get("/loans/<loan_id>/payoff")
@require(*STAFF, "integrator")
def get_payoff(loan_id: str):
    with read_only() as session:
        loan = _own_loan(session, loan_id)
        quote = service.payoff_quote(session, loan.id, request.args.get("value_date") or date.today().isoformat())
        return jsonify({name: str(amount) for name, amount in quote.items()})


@blueprint.post("/loans/<loan_id>/classification")
@require(*APPROVERS)
def override_classification(loan_id: str):
    def act(session, loan, body, posting_key):
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 400:
            raise ApiError(422, "validation_failed", "reason is required: why the class is overridden",
                           {"reason": ["must say why, in at most 400 characters"]})
        service.override_classification(session, loan.id, body.get("classification"), reason=reason,
                                        approver=g.user.username, posting_key=posting_key,
                                        business_date=_day(body, "business_date"))
        return service.loan_view(session, loan.id), 200
    return _posting("override", loan_id, act)


def _branch_scope(session) -> str | None:
    branch = request.args.get("branch") or None
    if branch is not None and session.get(Branch, branch) is None:
        raise ApiError(404, "not_found", f"Unknown branch '{branch}'", {"branch": ["unknown branch"]})
    if g.user.branch_code == HQ:
        return branch
    if branch not in (None, g.user.branch_code):
        raise ApiError(403, "forbidden", "A branch user sees only the branch's own books",
                       {"branch": ["not your branch"]})
    return g.user.branch_code


@blueprint.get("/ledger/trial-balance")
@require(*STAFF)
def get_trial_balance():
    with read_only() as session:
        return jsonify(service.trial_balance(session, _branch_scope(session)).to_dict())


@blueprint.get("/ledger/loan-book")
@require(*STAFF)
def get_loan_book():
    with read_only() as session:
        return jsonify(service.loan_book(session, branch=_branch_scope(session), product=request.args.get("product")))
