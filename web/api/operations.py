"""The operations console's API (role `operations`): what is stuck, and the two remedies — retry
incidents in bulk, redeliver failed webhooks. A branch's operations staff see their branch only."""
from __future__ import annotations

import os

from flask import Blueprint, g, jsonify, request

from forms.compiler import load_form
from web.api.context import read_only, services
from web.errors import ApiError
from web.requests import json_body
from web.api_docs import documented
from web.auth import require
from web.health import stale_after
from web.pipeline import command
from workflows import operations
from workflows.models import HQ
from workflows import reconciliation as reconciliation_service

blueprint = Blueprint("operations", __name__)
OPERATORS = ("operations",)


def now():
    return services().wall_clock()


@blueprint.get("/operations/overview")
@documented("Counts for the console: open incidents, failed and dead webhooks, overdue timers, workers, last EOD")
@require(*OPERATORS)
def overview():
    with read_only() as session:
        return jsonify(operations.overview(session, g.user, now=now(), stale_after=stale_after()))


@blueprint.get("/operations/incidents")
@documented("Instances stopped with an incident, across the branch (HQ: every branch)")
@require(*OPERATORS)
def incidents():
    with read_only() as session:
        return jsonify({"items": operations.incidents(session, g.user)})


@blueprint.post("/operations/incidents/retry")
@documented("Retry the failed step of each instance in `ids` (at most 100); each id gets its outcome: "
            "resumed, failed_again, refused or not_found")
@require(*OPERATORS)
def retry_incidents():
    return command(lambda session, body, key: operations.retry_incidents(
        session, services().processes, g.user, operations.checked_ids(body, str)))


@blueprint.get("/operations/webhooks")
@documented("Webhooks that failed and are not delivered: retrying (with the next attempt) or dead (given up)")
@require(*OPERATORS)
def failed_webhooks():
    with read_only() as session:
        return jsonify({"items": operations.failed_webhooks(session, g.user)})


@blueprint.post("/operations/webhooks/redeliver")
@documented("Send each webhook in `ids` (at most 100) again now; each id gets its outcome: delivered, failed "
            "(with the error), already_delivered, no_receiver or not_found")
@require(*OPERATORS)
def redeliver_webhooks():
    return command(lambda session, body, key: operations.redeliver_webhooks(
        session, g.user, operations.checked_ids(body, int), now=now()))


@blueprint.get("/operations/timers/overdue")
@documented("BPMN timers more than 5 minutes past due and not fired: no worker is firing them")
@require(*OPERATORS)
def overdue_timers():
    with read_only() as session:
        return jsonify({"items": operations.overdue_timers(session, g.user, now=now())})


@blueprint.get("/operations/eod-runs")
@documented("The last 30 end-of-day batches: business date, start, finish, duration and figures")
@require(*OPERATORS)
def eod_runs():
    with read_only() as session:
        return jsonify({"items": operations.eod_runs(session)})


@blueprint.get("/operations/workers")
@documented("The workers' heartbeats: when each last beat and whether that is fresh")
@require(*OPERATORS)
def workers():
    with read_only() as session:
        return jsonify({"items": operations.workers(session, now=now(), stale_after=stale_after())})


@blueprint.get("/operations/reconciliation")
@documented("Reconciliation work orders (default: the open ones; ?status=resolved or all) and the last runs",
            query=("status",))
@require(*OPERATORS)
def reconciliation():
    status = request.args.get("status", "open")
    with read_only() as session:
        return jsonify({"items": reconciliation_service.work_orders(session, g.user,
                                                                    status=None if status == "all" else status),
                        "runs": reconciliation_service.recent_runs(session, g.user)})


@blueprint.post("/operations/reconciliation/runs")
@documented("Reconcile a business date now: the payment channel's statement against our auto-debit bookings; "
            "each difference opens one work order", body="reconciliation_run", ok=201, errors=(422, 503))
@require(*OPERATORS)
def run_reconciliation():
    if g.user.branch_code != HQ:  # a day's statement is the whole bank's
        raise ApiError(403, "forbidden", "Head office's operations reconcile the payment channel's statement")
    body = load_form("reconciliation_run", json_body())
    # The statement is fetched before any transaction; the comparison is one unit of work.
    return jsonify(reconciliation_service.reconcile_day(services().db, payment_channel(), body["business_date"],
                                                        g.user.username, now())), 201


@blueprint.post("/operations/reconciliation/work-orders/<int:order_id>/resolve")
@documented("Resolve a reconciliation work order, saying how it was settled", body="work_order_resolution")
@require(*OPERATORS)
def resolve_work_order(order_id: int):
    return command(lambda session, body, key: reconciliation_service.resolve(session, g.user, order_id,
                                                                             body["note"], now()),
                   form="work_order_resolution")


def payment_channel():
    from workflows.collection import PaymentChannelClient

    url = os.environ.get("LOANFLOW_PAYMENT_CHANNEL_URL")
    if not url:
        raise ApiError(503, "unavailable", "No payment channel is configured (LOANFLOW_PAYMENT_CHANNEL_URL)")
    return PaymentChannelClient(url)
