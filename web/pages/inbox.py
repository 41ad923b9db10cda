"""/inbox: the worklist's tabs, filters, sorting and pages; claim, unclaim and bulk claim.

The list part (`/inbox/list`) is what htmx polls every few seconds, so a task someone else
claimed or completed drops out without a reload.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from web.api.context import read_only, services
from web.pages import errors
from web.pages.guard import local_target, page
from web.pages.i18n import _
from workflows.errors import InvalidInput, WorkflowError
from workflows.task_pages import Cursor
from workflows.worklist import SORTS, WorklistFilters, worklist

blueprint = Blueprint("pages_inbox", __name__)
errors.install_on(blueprint)

WORKERS = ("customer_manager", "reviewer", "approver", "hq_approver", "risk_officer", "hq_risk")
PER_PAGE = 20


def _amount(name: str, label: str, problems: list[str]) -> Decimal | None:
    raw = request.args.get(name, "").strip().replace(",", "").lstrip("¥")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        problems.append(_("%(field)s: must be an amount in yuan, e.g. 200000", field=label))
        return None
    return value


def _read_filters() -> tuple[WorklistFilters, list[str]]:
    problems: list[str] = []
    filters = WorklistFilters(
        process=request.args.get("process") or None, product=request.args.get("product") or None,
        min_amount=_amount("min_amount", _("Amount from"), problems),
        max_amount=_amount("max_amount", _("Amount to"), problems),
        due_today=request.args.get("due_today") == "1", overdue=request.args.get("overdue") == "1",
        customer=(request.args.get("customer") or "").strip()[:60] or None)
    if filters.min_amount is not None and filters.max_amount is not None and filters.min_amount > filters.max_amount:
        problems.append(_("Amount to: must not be below the amount from"))
    return filters, problems


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def _worklist_context() -> dict:
    filters, problems = _read_filters()
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "due"
    after = request.args.get("after") or None
    if after is not None:
        try:
            Cursor.decode(after)
        except InvalidInput:
            after = None  # a mangled "next" link: the page by its number instead
    with read_only() as session:
        listing = worklist(session, g.user, tab=request.args.get("tab", "unclaimed"), filters=filters, sort=sort,
                           page=_page_number(), per_page=PER_PAGE, at=services().processes.now(), after=after)
    query = {k: v for k, v in request.args.items() if k not in ("page", "after") and v}
    # "Next" follows the keyset cursor (cheap deep in a long list); the page number only labels it.
    here = dict(query, page=listing["page"], **({"after": after} if after else {}))
    return {"listing": listing, "filters": filters, "problems": problems, "sort": sort, "query": query,
            "here_args": here}


@blueprint.get("/inbox")
@page(*WORKERS)
def inbox():
    return render_template("inbox.html", **_worklist_context())


@blueprint.get("/inbox/list")
@page(*WORKERS)
def inbox_list():
    return render_template("_worklist.html", **_worklist_context())


def _back() -> str:
    return local_target(request.form.get("next"), url_for("pages_inbox.inbox"))


@blueprint.post("/inbox/claim")
@page(*WORKERS)
def claim():
    """Claim one or several tasks: each in its own unit of work, so one taken by someone else
    does not undo the others; the message says which."""
    # A row's own button names its task alone; "Claim selected" sends the ticked ones.
    one = request.form.get("one_task")
    task_ids = [one] if one else request.form.getlist("task_id")[:100]
    if not task_ids:
        flash(_("Tick at least one task to claim"), "error")
        return redirect(_back())
    claimed, refused = 0, []
    for task_id in task_ids:
        try:
            with services().db.unit_of_work() as session:
                services().processes.claim(session, task_id, g.user)
            claimed += 1
        except WorkflowError as err:
            refused.append(err.message if hasattr(err, "message") else str(err))
    if claimed:
        flash(_("Claimed %(count)s task(s)", count=claimed), "ok")
    for reason in refused:
        flash(_("Not claimed: %(reason)s", reason=_(reason)), "error")
    return redirect(_back())


@blueprint.post("/inbox/unclaim")
@page(*WORKERS)
def unclaim():
    task_id = request.form.get("one_task", "")
    try:
        with services().db.unit_of_work() as session:
            services().processes.unclaim(session, task_id, g.user)
        flash(_("Released the task"), "ok")
    except WorkflowError as err:
        flash(_("Not released: %(reason)s", reason=_(getattr(err, "message", str(err)))), "error")
    return redirect(_back())
