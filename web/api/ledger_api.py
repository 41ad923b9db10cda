"""Ledger endpoints: the public loan calculator, repayments, draws, payoff, classification, books.

Every view is parse → one service call (workflows.loan_servicing) → render; postings go through
the request pipeline (web/pipeline.py), which owns the Idempotency-Key and the unit of work.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services
from web.api_docs import Query, documented
from web.auth import require
from web.pipeline import command
from workflows.change_requests import change_requests_of, request_change
from workflows.loan_servicing import preview_schedule

blueprint = Blueprint("ledger", __name__)

STAFF = ("customer_manager", "reviewer", "approver", "hq_approver", "analyst", "risk_officer", "hq_risk")
REPAYERS = ("customer_manager", "integrator")
APPROVERS = ("approver", "hq_approver")


def servicing():
    return services().servicing


@blueprint.get("/schedules/preview")
@documented("Loan calculator: installments and totals (public, no sign-in)", errors=(422,), query=(
    Query("principal", required=True), Query("annual_rate", required=True, description="a fraction: 0.0435 for 4.35 %"),
    Query("term_months", "integer", required=True),
    Query("method", required=True,
          description="equal_installment|equal_principal|bullet|interest_only|revolving|seasonal"),
    Query("start_date", required=True, description="YYYY-MM-DD"),
    Query("day_count", description="30/360 (default)|actual/365|actual/actual"),
    Query("frequency", description="monthly (default)|quarterly"),
    Query("harvest_months", description="seasonal: the months principal is repaid in, e.g. 7,10"),
    Query("grace_months", "integer", description="seasonal: no principal due this many months after the start")))
def preview():
    return jsonify(preview_schedule(request.args))


@blueprint.get("/loans/<loan_id>")
@documented("A loan: terms, schedule, balances, transactions, change requests")
@require()
def show_loan(loan_id: str):
    with read_only() as session:
        view = servicing().view(session, loan_id, g.user)
        return jsonify({**view, "change_requests": change_requests_of(session, services().processes,
                                                                      view["loan_number"])})


@blueprint.post("/loans/<loan_id>/change-requests")
@documented("Ask for a change to a loan (合同变更): rate_change (new_rate), repayment_account "
            "(deposit_account), repayment_method (new_method) or extension (extra_months, 展期), each with "
            "effective_date and reason; "
            "routed to one or two approval levels", ok=201, body="change_request", idempotency="required")
@require("customer_manager", "integrator")
def post_change_request(loan_id: str):
    def act(session, body, _):
        instance = request_change(services().processes, servicing(), session, loan_id, body, g.user)
        return services().processes.view(session, instance, g.user)
    return command(act, status=201, form="change_request", idempotency="required", scope=f"change:{loan_id}")


@blueprint.post("/loans/<loan_id>/repayments")
@documented("Post a repayment (amount, value_date, prepayment: reduce_installment|shorten_term)", ok=201,
            idempotency="required")
@require(*REPAYERS)
def post_repayment(loan_id: str):
    return command(lambda session, body, key: servicing().repay(session, loan_id, g.user, body, key),
                   status=201, idempotency="required", scope=f"repayment:{loan_id}")


@blueprint.post("/loans/<loan_id>/draws")
@documented("Draw on a revolving credit line (amount, business_date)", ok=201, idempotency="required")
@require(*REPAYERS)
def post_draw(loan_id: str):
    return command(lambda session, body, key: servicing().draw(session, loan_id, g.user, body, key),
                   status=201, idempotency="required", scope=f"draw:{loan_id}")


@blueprint.get("/loans/<loan_id>/payoff")
@documented("What closes the loan on a value date (default today in China)", query=("value_date",))
@require(*STAFF, "integrator")
def get_payoff(loan_id: str):
    with read_only() as session:
        return jsonify(servicing().payoff(session, loan_id, g.user, request.args.get("value_date")))


@blueprint.post("/loans/<loan_id>/classification")
@documented("Override the five-level classification (approvers), with a reason", idempotency="required")
@require(*APPROVERS)
def override_classification(loan_id: str):
    return command(lambda session, body, key: servicing().override_classification(session, loan_id, g.user, body, key),
                   idempotency="required", scope=f"override:{loan_id}")


@blueprint.get("/ledger/trial-balance")
@documented("Trial balance of a branch, or consolidated for HQ", query=("branch",))
@require(*STAFF)
def get_trial_balance():
    with read_only() as session:
        return jsonify(servicing().trial_balance(session, g.user, request.args.get("branch") or None))


@blueprint.get("/ledger/loan-book")
@documented("Loan book by branch, product and classification, with the NPL ratio", query=("branch", "product"))
@require(*STAFF)
def get_loan_book():
    with read_only() as session:
        return jsonify(servicing().loan_book(session, g.user, request.args.get("branch") or None,
                                             request.args.get("product")))
