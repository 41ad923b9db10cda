"""How any process instance looks through the API and the pages: status, stage, open tasks, due
timers, history, and the deployment each of its files came from."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from privacy import redact
from workflows.access import reaches
from workflows.inbox import task_view
from workflows.models import (AuditEvent, CorrelationKey, Deployment, DeploymentFile, DueTimer, HumanTask,
                              ProcessInstance, User)

# Staff who work cases see the personal data on them whole; everyone else sees it masked.
WORKING_ROLES = frozenset({"customer_manager", "reviewer", "approver", "hq_approver", "risk_officer", "hq_risk"})


def works_in(user: User | None, branch_code: str) -> bool:
    if user is None or not user.role_set & WORKING_ROLES:
        return False
    return reaches(user, branch_code)


def iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def file_versions(session: Session, pinned_files: dict) -> dict:
    # By the pinned name, not the stored one: an instance of a branch with its own products.json
    # pins HQ's too (as products.json@HQ, workflows/products.py), and both are named products.json.
    rows = session.execute(select(DeploymentFile.id, DeploymentFile.scope, Deployment.version)
                           .join(Deployment, Deployment.id == DeploymentFile.deployment_id)
                           .where(DeploymentFile.id.in_(list(pinned_files.values())))).all()
    by_id = {file_id: (scope, version) for file_id, scope, version in rows}
    return {name: {"scope": by_id[file_id][0], "deployment_version": by_id[file_id][1]}
            for name, file_id in sorted(pinned_files.items()) if file_id in by_id}


def instance_view(session: Session, instance: ProcessInstance, business_status: str, viewer: User | None,
                  *, whole: bool | None = None) -> dict:
    """The instance as `viewer` may see it. `business_status` is its use case's word for it (an
    application's status for an origination, else the instance's own)."""
    whole = works_in(viewer, instance.branch_code) if whole is None else whole
    shown = (lambda view: view) if whole else redact
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                            .order_by(HumanTask.created_at)).all()
    timers = session.scalars(select(DueTimer).where(DueTimer.instance_id == instance.id, DueTimer.fired_at.is_(None))
                             .order_by(DueTimer.due_at)).all()
    about = AuditEvent.instance_id == instance.id
    if instance.application_id:  # the application's own rows (submitted) came before its instance
        about = or_(about, AuditEvent.application_id == instance.application_id)
    history = session.scalars(select(AuditEvent).where(about).order_by(AuditEvent.id)).all()
    keys = session.scalars(select(CorrelationKey).where(CorrelationKey.instance_id == instance.id)
                           .order_by(CorrelationKey.name)).all()
    return {
        "id": instance.id, "process": instance.process_id, "branch": instance.branch_code,
        "status": business_status, "instance_status": instance.status, "stage": instance.stage,
        "application_id": instance.application_id,
        "correlation": {k.name: k.value for k in keys},
        "incident": instance.incident, "started_by": instance.started_by,
        "open_tasks": [shown(task_view(t)) for t in tasks if t.status == "open"],
        "tasks": [shown(task_view(t)) for t in tasks],
        "due_timers": [{"element": t.element_id, "due_at": iso(t.due_at)} for t in timers],
        "history": history_entries(session, history, whole),
        "process_files": file_versions(session, instance.pinned_files),
        "created_at": iso(instance.created_at), "updated_at": iso(instance.updated_at),
    }


def history_entries(session: Session, events, whole: bool) -> list[dict]:
    """The audit trail as the API and the case page show it; a delegate's act names both people
    (`actor`, `on_behalf_of`, and their full names)."""
    people = {e.actor for e in events} | {e.detail.get("on_behalf_of") for e in events if e.detail.get("on_behalf_of")}
    names = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(people))).all()) \
        if people else {}
    entries = []
    for e in events:
        entry = {"at": iso(e.at), "actor": e.actor, "actor_name": names.get(e.actor, e.actor), "event": e.event,
                 "detail": e.detail if whole else redact(e.detail)}
        if e.detail.get("on_behalf_of"):
            entry["on_behalf_of"] = e.detail["on_behalf_of"]
            entry["on_behalf_of_name"] = names.get(entry["on_behalf_of"], entry["on_behalf_of"])
        entries.append(entry)
    return entries
