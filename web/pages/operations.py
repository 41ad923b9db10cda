"""/ops: the operations console — what is stuck across the branch (HQ: every branch) and the
remedies: retrying incidents and redelivering failed webhooks, several at once, and resolving the
reconciliation work orders (workflows/reconciliation.py). The same service
functions as /api/v1/operations (workflows/operations.py)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from web.api.context import read_only, services
from web.health import stale_after
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from workflows import operations, reconciliation
from workflows.errors import InvalidInput, WorkflowError

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
            workers=operations.workers(session, now=now, stale_after=stale_after()),
            work_orders=reconciliation.work_orders(session, g.user),
            reconciliation_runs=reconciliation.recent_runs(session, g.user, limit=5))
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


@blueprint.post("/ops/reconciliation/<int:order_id>/resolve")
@page(*OPERATORS)
def resolve_work_order(order_id: int):
    note = request.form.get("note", "").strip()[:500]
    if not note:
        flash(_("Say how the difference was settled"), "error")
        return redirect(url_for(".console") + "#ops-reconciliation")
    try:
        with services().db.unit_of_work() as session:
            reconciliation.resolve(session, g.user, order_id, note, services().wall_clock())
    except WorkflowError as err:
        flash(_(err.message), "error")
        return redirect(url_for(".console") + "#ops-reconciliation")
    flash(_("Work order %(id)s resolved", id=order_id), "ok")
    return redirect(url_for(".console") + "#ops-reconciliation")
