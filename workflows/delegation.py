"""Delegation: a reviewer on leave hands their tasks to a named colleague for a period.

Tasks are pooled by role and branch: an unclaimed task of a role is in the inbox of everyone of
the branch who holds it, the delegate included. What a delegation adds is the delegator's own
tasks — the ones they had claimed, and any claimed for or reassigned to them while the
delegation runs — of the roles delegated: the delegate sees them in their inbox (marked with
whose they are) and completes them in their own name; the task row, the decision trail and the
case history keep both names ("李四 on behalf of 张三"). Nothing is copied or moved, so when
the period ends (or the delegation is ended early) the tasks are simply the delegator's again.

Periods are given in China time and stored as naive UTC like every other moment; "now" is the
process layer's clock (`ProcessLayer.now`), which tests move.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from workflows.administration import audit, manages, refused
from workflows.clock import CHINA, in_china, to_stored
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.models import Delegation, HumanTask, User

DELEGABLE = frozenset({"customer_manager", "reviewer", "approver", "risk_officer"})
# Who may arrange a delegation for a colleague who cannot do it themselves (sudden illness).
ARRANGERS = frozenset({"approver"})


def _utc(value: dt.datetime) -> dt.datetime:
    """An aware moment, or a naive one read as China time, as naive UTC."""
    return to_stored(value if value.tzinfo else value.replace(tzinfo=CHINA))


def _china(value: dt.datetime) -> str:
    return in_china(value).isoformat()


def _is_running(now: dt.datetime):
    return and_(Delegation.starts_at <= now, Delegation.ends_at > now,
                or_(Delegation.ended_at.is_(None), Delegation.ended_at > now))


def status_of(delegation: Delegation, now: dt.datetime) -> str:
    end = min(delegation.ends_at, delegation.ended_at or delegation.ends_at)
    if now >= end:
        return "ended"
    return "active" if delegation.starts_at <= now else "scheduled"


def delegation_view(delegation: Delegation, now: dt.datetime) -> dict:
    return {"id": delegation.id, "delegator": delegation.delegator, "delegate": delegation.delegate,
            "branch": delegation.branch_code, "roles": sorted(delegation.role_set),
            "starts_at": _china(delegation.starts_at), "ends_at": _china(delegation.ends_at),
            "reason": delegation.reason, "created_by": delegation.created_by,
            "ended_at": _china(delegation.ended_at) if delegation.ended_at else None,
            "ended_by": delegation.ended_by, "status": status_of(delegation, now)}


def create_delegation(session: Session, actor: User, data: dict, now: dt.datetime) -> Delegation:
    """`data`: delegate, starts_at, ends_at (China time unless a zone is given), roles (default:
    every role of the delegator's inbox the delegate holds too), reason; `delegator` when an
    approver arranges it for a colleague of their branch (default: the caller)."""
    delegator = session.get(User, data.get("delegator") or actor.username)
    if delegator is None or delegator.branch_code != actor.branch_code:
        raise NotFound(f"User {data.get('delegator')} was not found", field="delegator")
    if delegator.username != actor.username and not (actor.role_set & ARRANGERS or manages(actor, delegator.branch_code)):
        raise Forbidden("Only approvers and administrators arrange a delegation for someone else", field="delegator")
    problems: dict[str, list[str]] = {}
    delegate = session.get(User, data.get("delegate") or "")
    if delegate is None or delegate.branch_code != delegator.branch_code or not delegate.enabled:
        problems["delegate"] = [f"a colleague of {delegator.branch_code} who can sign in"]
    elif delegate.username == delegator.username:
        problems["delegate"] = ["someone other than the delegator"]
    shared = delegator.role_set & DELEGABLE & (delegate.role_set if delegate else frozenset())
    roles = set(data.get("roles") or shared)
    if delegate is not None and "delegate" not in problems:
        missing = sorted(roles - shared)
        if missing:
            problems["roles"] = [f"{', '.join(missing)}: both must hold the role (and it must be an inbox role)"]
        elif not roles:
            problems["roles"] = ["the two share no role whose tasks can be delegated"]
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    starts, ends = (_utc(starts_at) if starts_at else None), (_utc(ends_at) if ends_at else None)
    if starts is None:
        problems["starts_at"] = ["when the delegation begins (China time), e.g. 2026-12-07T09:00"]
    if ends is None:
        problems["ends_at"] = ["when it ends (China time)"]
    elif starts is not None and ends <= starts:
        problems["ends_at"] = ["must be after starts_at"]
    elif ends <= now:
        problems["ends_at"] = ["must be in the future"]
    if problems:
        raise refused("The delegation cannot be made", problems)
    if any(d.role_set & roles for d in _overlapping(session, delegator.username, starts, ends)):
        raise Conflict(f"{delegator.username} already delegates these tasks for part of this period; end that "
                       "delegation first", field="starts_at")
    away = next(iter(_overlapping(session, delegate.username, starts, ends)), None)
    if away is not None:
        raise InvalidInput(f"{delegate.username} is away themselves for part of this period (delegating to "
                           f"{away.delegate})", field="delegate")
    delegation = Delegation(delegator=delegator.username, delegate=delegate.username, branch_code=delegator.branch_code,
                            roles=",".join(sorted(roles)), starts_at=starts, ends_at=ends,
                            reason=(data.get("reason") or "").strip()[:200], created_by=actor.username, created_at=now)
    session.add(delegation)
    session.flush()
    audit(session, actor, now, "delegation_created", "delegation", str(delegation.id), delegation.branch_code, {},
          delegation_view(delegation, now))
    return delegation


def _overlapping(session: Session, delegator: str, starts: dt.datetime, ends: dt.datetime) -> list[Delegation]:
    """The delegations `delegator` gives that are not ended before `starts` and begin before `ends`."""
    return list(session.scalars(select(Delegation).where(
        Delegation.delegator == delegator, Delegation.starts_at < ends, Delegation.ends_at > starts,
        or_(Delegation.ended_at.is_(None), Delegation.ended_at > starts))))


def _may_manage(actor: User, delegation: Delegation) -> bool:
    if actor.username in (delegation.delegator, delegation.created_by):
        return True
    return actor.branch_code == delegation.branch_code and bool(actor.role_set & ARRANGERS) or \
        manages(actor, delegation.branch_code)


def end_delegation(session: Session, actor: User, delegation_id: int, now: dt.datetime) -> Delegation:
    """End a delegation now (back early, or it was a mistake); one not begun is cancelled."""
    delegation = session.get(Delegation, delegation_id)
    if delegation is None or not (_may_manage(actor, delegation) or actor.username == delegation.delegate):
        raise NotFound(f"Delegation {delegation_id} was not found")
    if status_of(delegation, now) == "ended":
        raise Conflict(f"Delegation {delegation_id} has already ended")
    before = delegation_view(delegation, now)
    delegation.ended_at, delegation.ended_by = now, actor.username
    after = delegation_view(delegation, now)
    audit(session, actor, now, "delegation_ended", "delegation", str(delegation.id), delegation.branch_code,
          {"status": before["status"]}, {"status": after["status"], "ended_at": after["ended_at"]})
    return delegation


def delegations_of(session: Session, user: User, now: dt.datetime) -> dict:
    """The delegations a user gives or receives; for approvers, their branch's."""
    query = select(Delegation).order_by(Delegation.starts_at.desc())
    mine = or_(Delegation.delegator == user.username, Delegation.delegate == user.username)
    if user.role_set & ARRANGERS or manages(user, user.branch_code):
        mine = or_(mine, Delegation.branch_code == user.branch_code)
    return {"items": [delegation_view(d, now) for d in session.scalars(query.where(mine).limit(200))]}


def running_for(session: Session, delegate: User, now: dt.datetime) -> list[Delegation]:
    """The delegations `delegate` works under at `now`."""
    return list(session.scalars(select(Delegation).where(Delegation.delegate == delegate.username, _is_running(now))))


def delegated_tasks(delegations: list[Delegation]):
    """The clause for the tasks these delegations hand over: the delegator's, of the roles given."""
    if not delegations:
        return false()
    return or_(*[and_(HumanTask.assignee == d.delegator, HumanTask.branch_code == d.branch_code,
                      HumanTask.role.in_(sorted(d.role_set))) for d in delegations])


def acting_for(session: Session, row: HumanTask, actor: User, now: dt.datetime) -> str | None:
    """Whose task `actor` works when `row` is assigned to someone else: that person, if they
    delegate the task's role to the actor now; else None."""
    if not row.assignee or row.assignee == actor.username:
        return None
    for delegation in running_for(session, actor, now):
        if delegation.delegator == row.assignee and row.role in delegation.role_set \
                and delegation.branch_code == row.branch_code:
            return row.assignee
    return None
