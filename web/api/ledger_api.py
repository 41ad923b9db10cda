"""Ledger endpoints: the public loan calculator, repayments, trial balance and the loan book.

GET  /schedules/preview                 public, no sign-in (a calculator on the bank's site)
POST /loans/{id}/repayments             customer managers and integrators, Idempotency-Key required
POST /loans/{id}/draws                  customer managers and integrators: draw on a revolving line
GET  /loans/{id}/payoff?value_date=     staff and integrators: what closes the loan on a date
POST /loans/{id}/classification         approvers: override the five-level class with a reason
GET  /ledger/trial-balance?branch=      staff; HQ may omit branch for the consolidated balance
GET  /ledger/loan-book?branch=&product= staff; outstanding by branch, product and class, NPL ratio
(GET /loans/{id} lives in web/api/loans.py.)
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify, request

from ledger import service
from web.api.context import read_only, unit_of_work
from web.auth import require
from web.errors import ApiError
from web.idempotency import required_key
from web.requests import json_body
from workflows.models import HQ

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


@blueprint.post("/loans/<loan_id>/repayments")
@require(*REPAYERS)
def post_repayment(loan_id: str):
    key = required_key()
    body = json_body()
    with unit_of_work() as session:
        loan = _own_loan(session, loan_id)
        result = service.repay(
            session, loan.id, body.get("amount"),
            posting_key=f"api:repayment:{loan.id}:{key}",
            value_date=body.get("value_date") or date.today().isoformat(),
            prepayment=body.get("prepayment", "reduce_installment"),
        )
        answer = result.to_dict()
        answer["loan"] = service.loan_view(session, loan.id)["balances"]
    return jsonify(answer), 201


@blueprint.post("/loans/<loan_id>/draws")
@require(*REPAYERS)
def post_draw(loan_id: str):
    key = required_key()
    body = json_body()
    with unit_of_work() as session:
        loan = _own_loan(session, loan_id)
        entry = service.draw(session, loan.id, body.get("amount"), posting_key=f"api:draw:{loan.id}:{key}",
                             business_date=body.get("business_date") or date.today().isoformat())
        answer = {"entry_id": entry.id, "loan": service.loan_view(session, loan.id)["balances"]}
    return jsonify(answer), 201


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
    key = required_key()
    body = json_body()
    with unit_of_work() as session:
        loan = _own_loan(session, loan_id)
        service.override_classification(
            session, loan.id, body.get("classification"), reason=str(body.get("reason") or ""),
            approver=g.user.username, posting_key=f"api:override:{loan.id}:{key}",
            business_date=body.get("business_date") or date.today().isoformat(),
        )
        return jsonify(service.loan_view(session, loan.id))


def _branch_scope() -> str | None:
    branch = request.args.get("branch") or None
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
        return jsonify(service.trial_balance(session, _branch_scope()).to_dict())


@blueprint.get("/ledger/loan-book")
@require(*STAFF)
def get_loan_book():
    with read_only() as session:
        return jsonify(service.loan_book(session, branch=_branch_scope(), product=request.args.get("product")))
