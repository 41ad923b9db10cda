"""The approvers' and head office's dashboard figures: applications by status this week, the
approval rate, SLA attainment of completed tasks, tasks waiting per role. One branch, or every
branch for head office."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from workflows.models import HQ, Application, HumanTask, User, utcnow

APPROVED = ("awaiting_signature", "disbursed", "signed", "line_active")
DECLINED = ("declined",)


def dashboard(session: Session, user: User, *, now: dt.datetime | None = None) -> dict:
    now = now or utcnow()
    week_ago = now - dt.timedelta(days=7)
    own = (lambda column: column == user.branch_code) if user.branch_code != HQ else (lambda column: True)
    by_status = dict(session.execute(
        select(Application.status, func.count()).where(own(Application.branch_code), Application.created_at >= week_ago)
        .group_by(Application.status).order_by(Application.status)).all())
    approved = sum(n for s, n in by_status.items() if s in APPROVED)
    declined = sum(n for s, n in by_status.items() if s in DECLINED)
    in_time, with_due = session.execute(
        select(func.coalesce(func.sum(case((HumanTask.completed_at <= HumanTask.due_at, 1), else_=0)), 0),
               func.count())
        .where(own(HumanTask.branch_code), HumanTask.status == "completed", HumanTask.due_at.is_not(None),
               HumanTask.completed_at >= week_ago)).one()
    waiting = dict(session.execute(
        select(HumanTask.role, func.count()).where(own(HumanTask.branch_code), HumanTask.status == "open")
        .group_by(HumanTask.role).order_by(HumanTask.role)).all())
    return {
        "branch": user.branch_code, "since": week_ago, "by_status": by_status,
        "approval_rate": approved / (approved + declined) if approved + declined else None,
        "approved": approved, "declined": declined,
        "sla_attainment": int(in_time) / with_due if with_due else None, "sla_in_time": int(in_time),
        "sla_counted": with_due, "waiting_by_role": waiting,
    }
