"""The operations console's API (role `operations`): what is stuck, and the two remedies — retry
incidents in bulk, redeliver failed webhooks. A branch's operations staff see their branch only."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api_docs import documented
from web.auth import require
from web.health import stale_after
from web.pipeline import command
from workflows import operations

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
