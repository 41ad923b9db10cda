"""Four-eyes publishing (四眼原则) for the scopes whose policy asks for it: an analyst's drafts become
a release request, and only a second analyst's approval deploys them.

    if four_eyes(session, "HQ"):
        request = request_release(session, "HQ", "analyst", "pricing tier B at 4.35 %", ...)
        approve_release(session, "HQ", request.id, "analyst2", "checked the simulation", ...)

A request keeps the files as they were asked for and the file ids their drafts began from, so a
version published meanwhile is noticed at approval, as at publishing. A rejected request gives
its drafts back to the author. Deploying through the API is refused for a four-eyes scope: the
release is the only way in.
"""
from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows.deployments import check_scope, deploy, deployment_problems
from workflows.errors import Conflict, DeploymentRejected, Forbidden, NotFound
from workflows.models import Deployment, PublishPolicy, ReleaseRequest, StudioDraft, utcnow
from workflows.studio import check_not_overtaken, ready_drafts, split_drafts

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"


def four_eyes(session: Session, scope: str) -> bool:
    policy = session.get(PublishPolicy, scope)
    return bool(policy and policy.four_eyes)


def set_policy(session: Session, scope: str, *, four_eyes: bool, actor: str) -> PublishPolicy:
    policy = session.get(PublishPolicy, check_scope(session, scope))
    if policy is None:
        policy = PublishPolicy(scope=scope, set_by=actor)
        session.add(policy)
    policy.four_eyes, policy.set_by, policy.set_at = four_eyes, actor, utcnow()
    session.flush()
    return policy


def refuse_direct_deployment(session: Session, scope: str) -> None:
    if four_eyes(session, scope):
        raise Conflict(f"{scope} publishes with four eyes: make a release in the studio and have a second analyst "
                       "approve it", field="scope")


def request_release(session: Session, scope: str, analyst: str, comment: str, *, operations: set[str],
                    forms: set[str]) -> ReleaseRequest:
    """The analyst's drafts, checked as a deployment would be, waiting for a second analyst."""
    drafts = ready_drafts(session, scope, analyst, comment)
    files, withdraw = split_drafts(drafts)
    problems = deployment_problems(session, scope, files, operations=operations, forms=forms, withdraw=withdraw)
    if problems:
        raise DeploymentRejected([p.as_dict() for p in problems])
    request = ReleaseRequest(scope=scope, author=analyst, comment=comment.strip()[:500], files=files,
                             withdraw=list(withdraw), base_file_ids={d.name: d.base_file_id for d in drafts},
                             status=PENDING, decision_comment="")
    session.add(request)
    session.execute(delete(StudioDraft).where(StudioDraft.author == analyst, StudioDraft.scope == scope))
    session.flush()
    return request


def pending_releases(session: Session, scope: str) -> list[ReleaseRequest]:
    return list(session.scalars(select(ReleaseRequest).where(ReleaseRequest.scope == scope,
                                                             ReleaseRequest.status == PENDING)
                                .order_by(ReleaseRequest.created_at)))


def approve_release(session: Session, scope: str, request_id: int, approver: str, comment: str, *,
                    operations: set[str], forms: set[str]) -> Deployment:
    request = _pending(session, scope, request_id)
    if approver == request.author:
        raise Forbidden("Four eyes: another analyst approves this release, not the one who asked for it")
    check_not_overtaken(session, request.scope, request.base_file_ids)
    note = f"{request.comment} (approved by {approver}{': ' + comment.strip() if comment.strip() else ''})"
    deployment = deploy(session, request.scope, dict(request.files), actor=request.author, comment=note[:500],
                        operations=operations, forms=forms, withdraw=tuple(request.withdraw))
    _decide(request, APPROVED, approver, comment)
    request.deployment_version = deployment.version
    session.flush()
    return deployment


def reject_release(session: Session, scope: str, request_id: int, approver: str, comment: str) -> ReleaseRequest:
    """Rejected by another analyst, or withdrawn by its author: the drafts go back to the author
    (where they have not begun a new draft of the same file)."""
    request = _pending(session, scope, request_id)
    _decide(request, WITHDRAWN if approver == request.author else REJECTED, approver, comment)
    mine = {d.name for d in session.scalars(select(StudioDraft).where(StudioDraft.author == request.author,
                                                                     StudioDraft.scope == request.scope))}
    for name in [*request.files, *request.withdraw]:
        if name not in mine:
            session.add(StudioDraft(author=request.author, scope=request.scope, name=name,
                                    content=request.files.get(name, ""), withdraw=name in request.withdraw,
                                    base_file_id=request.base_file_ids.get(name)))
    session.flush()
    return request


def _pending(session: Session, scope: str, request_id: int) -> ReleaseRequest:
    """The scope's release, locked; a release of another scope is not found (the analyst may not
    work there)."""
    request = session.scalar(select(ReleaseRequest).where(ReleaseRequest.id == request_id,
                                                          ReleaseRequest.scope == scope).with_for_update())
    if request is None:
        raise NotFound(f"{scope} has no release {request_id}", field="release")
    if request.status != PENDING:
        raise Conflict(f"Release {request_id} is {request.status} already ({request.decided_by})", field="release")
    return request


def _decide(request: ReleaseRequest, status: str, by: str, comment: str) -> None:
    request.status, request.decided_by, request.decided_at = status, by, utcnow()
    request.decision_comment = comment.strip()[:500]
