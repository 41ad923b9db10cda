"""The reviewers' worklist for the pages: tabs (my tasks, my roles' unclaimed tasks, the whole
branch), filters, sorting and pages over the indexed human_task table.

The API's GET /tasks keeps its own documented contract (workflows.inbox.list_inbox); both read
the same rows and the same visibility rule (`inbox.visible_to`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer

from privacy import keyring_for, redact
from workflows import task_counts
from workflows.clock import CHINA
from workflows.delegation import delegated_tasks, running_for
from workflows.inbox import task_view, visible_to
from workflows.models import Application, HumanTask, User, utcnow
from workflows.task_pages import Cursor, keyset_page, offset_page, with_context

MINE, UNCLAIMED, BRANCH = "mine", "unclaimed", "branch"
# Who may look at the whole branch's open tasks, claimed by others included: the approvers (who
# reassign and chase them) and head office.
OVERSEERS = frozenset({"approver", "hq_approver", "hq_risk"})
SORTS = ("due", "amount_desc", "amount_asc")
ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")


@dataclass(frozen=True)
class WorklistFilters:
    process: str | None = None
    product: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    due_today: bool = False
    overdue: bool = False
    customer: str | None = None  # a name (or part of one), or a resident ID number


def tabs_for(user: User) -> tuple[str, ...]:
    return (MINE, UNCLAIMED, BRANCH) if user.role_set & OVERSEERS else (MINE, UNCLAIMED)


def _tab_query(user: User, tab: str, delegated=None, scoped: bool = True):
    """`delegated`: the tasks colleagues delegate to the user now, which are in their own tab.
    `scoped=False`: without the viewer's branches and roles (a keyset page adds them per group)."""
    query = select(HumanTask).where(HumanTask.status == "open")
    if scoped:
        query = query.where(visible_to(user))
    if tab == MINE:
        own = HumanTask.assignee == user.username
        return query.where(own if delegated is None else or_(own, delegated))
    if tab == UNCLAIMED:
        return query.where(HumanTask.assignee.is_(None))
    return query  # BRANCH: everyone's, claimed or not


def _tab_counted(user: User, tab: str, delegations):
    """Which count rows (workflows.task_counts) a tab's tasks are under: the same rule as _tab_query."""
    if tab == MINE:
        return task_counts.owned_by(user, delegations)
    if tab == UNCLAIMED:
        return task_counts.unclaimed
    return lambda _: True


def _china_day_in_utc(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Today in China as a naive UTC interval, as due_at is stored."""
    today = now.replace(tzinfo=dt.timezone.utc).astimezone(CHINA).date()
    start = dt.datetime.combine(today, dt.time(0), CHINA).astimezone(dt.timezone.utc).replace(tzinfo=None)
    return start, start + dt.timedelta(days=1)


def _filtered(session: Session, query, filters: WorklistFilters, now: dt.datetime):
    if filters.process:
        query = query.where(HumanTask.process_id == filters.process)
    if filters.product:
        query = query.where(HumanTask.product_code == filters.product)
    if filters.min_amount is not None:
        query = query.where(HumanTask.amount >= filters.min_amount)
    if filters.max_amount is not None:
        query = query.where(HumanTask.amount <= filters.max_amount)
    if filters.overdue:
        query = query.where(HumanTask.due_at < now)
    if filters.due_today:
        start, end = _china_day_in_utc(now)
        query = query.where(HumanTask.due_at >= start, HumanTask.due_at < end)
    customer = (filters.customer or "").strip()
    if customer and ID_NUMBER.match(customer):
        # ID numbers are sealed at rest: found by their keyed look-up hash, never by the text.
        by_hash = select(Application.id).where(Application.id_number_hash == keyring_for(session).lookup_hash(customer))
        query = query.where(HumanTask.application_id.in_(by_hash))
    elif customer:
        escaped = customer.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(HumanTask.customer_name.like(f"%{escaped}%", escape="\\"))
    return query


def _ordered(query, sort: str):
    if sort == "amount_desc":
        return query.order_by(HumanTask.amount.desc(), HumanTask.created_at, HumanTask.id)
    return query.order_by(HumanTask.amount, HumanTask.created_at, HumanTask.id)


def _count(session: Session, query) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def _countable(filters: WorklistFilters) -> bool:
    """Whether the maintained counts answer the total: they know process and product, not amounts,
    due times or customers."""
    return (filters.min_amount is None and filters.max_amount is None and not filters.due_today
            and not filters.overdue and not (filters.customer or "").strip())


def worklist(session: Session, user: User, *, tab: str = UNCLAIMED, filters: WorklistFilters = WorklistFilters(),
             sort: str = "due", page: int = 1, per_page: int = 20, now: dt.datetime | None = None,
             at: dt.datetime | None = None, after: str | None = None) -> dict:
    """One page of a tab, its total under the filters, and every tab's count (without filters).
    `after`: the `next` of an earlier page (the due order only): the page after it, by keyset;
    `page` then only labels it ("page 3 of 9").
    `at`: the moment whose delegations count (the process layer's now; default `now`)."""
    now = now or utcnow()
    tabs = tabs_for(user)
    tab = tab if tab in tabs else UNCLAIMED
    sort = sort if sort in SORTS else "due"
    cursor = Cursor.decode(after) if after and sort == "due" else None
    delegations = running_for(session, user, at or now)
    delegated = delegated_tasks(delegations)
    # Tab counts, the filter lists and (when they can) totals from the maintained counts: a few rows.
    counts = task_counts.visible_counts(session, user, "open")
    in_tab = _tab_counted(user, tab, delegations)
    if _countable(filters):
        total = task_counts.total(counts, lambda row: in_tab(row) and (
            not filters.process or row.process_id == filters.process) and (
            not filters.product or row.product_code == filters.product))
    else:
        total = _count(session, _filtered(session, _tab_query(user, tab, delegated), filters, now))
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    if cursor is not None:
        groups = sorted({(c.branch_code, c.role) for c in counts})
        query = _filtered(session, _tab_query(user, tab, delegated, scoped=False), filters, now)
        rows, following = keyset_page(session, query, groups, after=cursor, limit=per_page)
    else:
        query = _filtered(session, _tab_query(user, tab, delegated), filters, now)
        offset = (page - 1) * per_page
        if sort == "due":
            rows = offset_page(session, query, offset=offset, limit=per_page)
        else:
            rows = session.scalars(_ordered(query, sort).options(defer(HumanTask.context))
                                   .offset(offset).limit(per_page)).all()
            with_context(session, rows)
        more = offset + len(rows) < total
        following = Cursor.of(rows[-1]) if sort == "due" and rows and more else None
    delegators = {d.delegator for d in delegations}
    names = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(delegators))).all()) \
        if delegators else {}
    return {
        "tab": tab, "tabs": {name: task_counts.total(counts, _tab_counted(user, name, delegations)) for name in tabs},
        # A list shows personal data masked, as the API's inbox does (privacy.masking).
        "items": [_item(r, delegations, names, now) for r in rows],
        "total": total, "page": page, "pages": pages, "per_page": per_page,
        "next": following.encode() if following else None,
        "processes": sorted({c.process_id for c in counts}),
        "products": sorted({c.product_code for c in counts if c.product_code}),
    }


def _item(row: HumanTask, delegations, names: dict, now: dt.datetime) -> dict:
    item = dict(redact(task_view(row, delegations)), overdue=bool(row.due_at and row.due_at < now))
    if item.get("delegated_by"):
        item["delegated_by_name"] = names.get(item["delegated_by"], item["delegated_by"])
    return item


def task_for_viewer(session: Session, task_id: str, user: User) -> HumanTask:
    """A task as its page shows it: to those who may work it, and to the overseers of its branch
    (head office: of any branch). Anyone else is told it does not exist."""
    from workflows.errors import NotFound
    from workflows.inbox import may_work
    from workflows.models import HQ

    row = session.get(HumanTask, task_id)
    overseer = row is not None and bool(user.role_set & OVERSEERS) and user.branch_code in (HQ, row.branch_code)
    if row is None or not (may_work(user, row) or overseer):
        raise NotFound(f"Task {task_id} was not found")
    return row


def colleagues_for(session: Session, row: HumanTask) -> list[str]:
    """Who a task could be reassigned to: users holding its role in its branch (head-office
    roles: at head office)."""
    from workflows.inbox import may_work

    users = session.scalars(select(User).where(User.branch_code.in_((row.branch_code, "HQ"))).order_by(User.username))
    return [u.username for u in users if may_work(u, row) and u.username != row.assignee]
