"""/ops: the operations console — what is stuck across the branch (HQ: every branch) and the two
remedies, retrying incidents and redelivering failed webhooks, several at once. The same service
functions as /api/v1/operations (workflows/operations.py)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from web.api.context import read_only, services
from web.health import stale_after
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from workflows import operations
from workflows.errors import InvalidInput

blueprint = Blueprint("pages_operations", __name__)
errors.install_on(blueprint)
OPERATORS = ("operations",)


@blueprint.get("/ops")
@page(*OPERATORS)
def console():
    now = services().wall_clock()
    with read_only() as session:
        figures = dict(
            overview=operations.overview(session, g.user, now=now, stale_after=stale_after()),
            incidents=operations.incidents(session, g.user),
            webhooks=operations.failed_webhooks(session, g.user),
            timers=operations.overdue_timers(session, g.user, now=now),
            eod_runs=operations.eod_runs(session),
            workers=operations.workers(session, now=now, stale_after=stale_after()))
    return render_template("operations.html", **figures)


def _chosen(kind: type) -> list:
    ids = request.form.getlist("ids")
    if kind is int:
        ids = [int(i) for i in ids if i.isdigit()]
    return operations.checked_ids({"ids": ids}, kind)


@blueprint.post("/ops/incidents/retry")
@page(*OPERATORS)
def retry_incidents():
    try:
        with services().db.unit_of_work() as session:
            result = operations.retry_incidents(session, services().processes, g.user, _chosen(str))
    except InvalidInput:
        flash(_("Choose the incidents to retry"), "error")
        return redirect(url_for(".console"))
    flash(_("%(count)s retried: %(resumed)s carried on", count=len(result["results"]), resumed=result["resumed"]),
          "ok" if result["resumed"] == len(result["results"]) else "error")
    return redirect(url_for(".console"))


@blueprint.post("/ops/webhooks/redeliver")
@page(*OPERATORS)
def redeliver_webhooks():
    try:
        with services().db.unit_of_work() as session:
            result = operations.redeliver_webhooks(session, g.user, _chosen(int), now=services().wall_clock())
    except InvalidInput:
        flash(_("Choose the webhooks to redeliver"), "error")
        return redirect(url_for(".console"))
    flash(_("%(count)s sent again: %(delivered)s delivered", count=len(result["results"]),
            delivered=result["delivered"]), "ok" if result["delivered"] == len(result["results"]) else "error")
    return redirect(url_for(".console"))
