"""The analysts' studio: what a scope resolves to file by file, drafts kept per analyst, and
publishing a draft set as the scope's next deployment.

    files = scope_files(session, "BR002", analyst="analyst")   # each HQ default or branch override
    save_draft(session, "BR002", "review.bpmn", xml, analyst="analyst")
    problems = validate_drafts(session, "BR002", "analyst", operations=..., forms=...)
    deployment = publish_drafts(session, "BR002", "analyst", "a third level above 150,000", ...)
    rollback_drafts(session, "BR002", 1, analyst="analyst")   # then validate and publish them

A branch's override is removed by a withdrawal (`withdraw_override`): from that version the
branch runs HQ's file again. A rollback is a new version whose files are those of the old one.

A draft is the analyst's own until published; nothing runs it. Validation is the deployment's
own check (workflows.deployments.deployment_problems) on the drafts together with everything
else the scope resolves to, so "valid" here means "would deploy".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflows.deployments import (ResolvedFile, check_scope, deploy, deployment_problems, is_plain_file_name,
                                   resolve_files)
from workflows.diagrams import MAX_FILE_BYTES, Problem, file_kind
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.file_diff import Change, diff_files
from workflows.models import HQ, Deployment, DeploymentFile, StudioDraft, utcnow
from workflows.products import PRODUCTS_FILE, override_template

HQ_DEFAULT, BRANCH_OVERRIDE = "hq_default", "branch_override"


@dataclass(frozen=True)
class ScopeFile:
    """One file a scope resolves to, as the studio lists it."""
    name: str
    kind: str                 # bpmn | dmn | json
    origin: str               # hq_default | branch_override (HQ's own files are hq_default)
    file_id: int
    version: int              # the version of the deployment of its scope that holds it
    published_by: str
    published_at: dt.datetime  # naive UTC
    comment: str
    has_draft: bool           # the analyst has an unpublished edit of it


@dataclass(frozen=True)
class EditableFile:
    """What the editor opens: the analyst's draft if there is one, else the resolved file."""
    scope: str
    name: str
    kind: str
    content: str
    origin: str | None        # None: a new file, not deployed anywhere the scope resolves
    is_draft: bool
    withdraws: bool = False   # the draft removes the branch's override (its content is empty)


def scope_files(session: Session, scope: str, analyst: str) -> list[ScopeFile]:
    resolved = resolve_files(session, check_scope(session, scope))
    published = {file_id: (by, at, comment) for file_id, by, at, comment in session.execute(
        select(DeploymentFile.id, Deployment.created_by, Deployment.created_at, Deployment.comment)
        .join(Deployment, Deployment.id == DeploymentFile.deployment_id)
        .where(DeploymentFile.id.in_([f.id for f in resolved.values()])))}
    drafted = {d.name for d in drafts_of(session, scope, analyst)}
    return [ScopeFile(name=f.name, kind=file_kind(f.name) or "", origin=_origin(scope, f), file_id=f.id,
                      version=f.version, published_by=published[f.id][0], published_at=published[f.id][1],
                      comment=published[f.id][2], has_draft=f.name in drafted)
            for f in sorted(resolved.values(), key=lambda f: (file_kind(f.name) or "", f.name))]


def _origin(scope: str, resolved: ResolvedFile) -> str:
    return BRANCH_OVERRIDE if scope != HQ and resolved.scope == scope else HQ_DEFAULT


def file_for_editing(session: Session, scope: str, name: str, analyst: str) -> EditableFile:
    draft = _draft(session, check_scope(session, scope), name, analyst)
    resolved = resolve_files(session, scope).get(name)
    origin = _origin(scope, resolved) if resolved is not None else None
    if draft is not None:
        return EditableFile(scope, name, file_kind(name) or "", draft.content, origin, True, draft.withdraw)
    if resolved is None:
        raise NotFound(f"{name} is neither deployed for {scope} nor a draft of yours", field="name")
    if name == PRODUCTS_FILE and scope != HQ and resolved.scope == HQ:
        # A branch's products.json narrows HQ's rather than replacing it: a copy of HQ's would be
        # refused (a branch may not restate names or base rates), so the branch starts from none.
        return EditableFile(scope, name, "json", override_template(scope), origin, False)
    return EditableFile(scope, name, file_kind(name) or "", resolved.content, origin, False)


@dataclass(frozen=True)
class Comparison:
    """A file against what it departs from: a branch's override (or draft) against HQ's file, or
    the analyst's draft against the version the scope runs now."""
    scope: str
    name: str
    against: str               # hq | published
    before_label: str
    after_label: str
    after_content: str
    changes: list[Change]


def compare(session: Session, scope: str, name: str, analyst: str, against: str) -> Comparison:
    editable = file_for_editing(session, scope, name, analyst)
    if against == "hq":
        hq = resolve_files(session, HQ).get(name)
        if scope == HQ or hq is None:
            raise NotFound(f"Head office has no {name} to compare {scope}'s with", field="against")
        before, before_label = hq.content, f"HQ v{hq.version}"
    elif against == "published":
        current = resolve_files(session, scope).get(name)
        if not editable.is_draft or current is None:
            raise NotFound(f"There is no draft of {name} to compare with the version {scope} runs", field="against")
        before, before_label = current.content, f"{current.scope} v{current.version}"
    else:
        raise InvalidInput("against must be hq or published", field="against")
    after_label = "draft" if editable.is_draft else scope
    after = editable.content
    if editable.withdraws:   # the branch would run HQ's file again
        hq = resolve_files(session, HQ).get(name)
        after = hq.content if hq is not None else ""
    return Comparison(scope, name, against, before_label, after_label, after,
                      diff_files(name, before, after) if after else [])


def save_draft(session: Session, scope: str, name: str, content: str, analyst: str) -> StudioDraft:
    """Keep the analyst's edit of `name` for `scope` (a branch's first edit of an HQ file is the
    start of an override). Only the shape is checked here; validate checks the set."""
    check_scope(session, scope)
    problems = {}
    if not is_plain_file_name(name) or len(name) > 200:
        problems["name"] = ["must be a plain file name of at most 200 characters"]
    elif file_kind(name) is None:
        problems["name"] = ["only .bpmn, .dmn and .json files can be deployed"]
    if not content.strip():
        problems["content"] = ["is empty"]
    elif len(content.encode("utf-8")) > MAX_FILE_BYTES:
        problems["content"] = [f"is larger than {MAX_FILE_BYTES:,} bytes"]
    if problems:
        raise InvalidInput("The draft cannot be saved", fields=problems)
    draft = _draft(session, scope, name, analyst)
    if draft is None:
        # The base is what this scope itself had published; an HQ file a branch starts from is
        # not the branch's to be overtaken on.
        base = _own_file_id(resolve_files(session, scope).get(name), scope)
        draft = StudioDraft(author=analyst, scope=scope, name=name, content=content, base_file_id=base)
        session.add(draft)
    draft.content, draft.withdraw, draft.updated_at = content, False, utcnow()
    session.flush()
    return draft


def withdraw_override(session: Session, scope: str, name: str, analyst: str) -> StudioDraft:
    """A draft that removes the branch's override of `name`: once published, the branch runs HQ's
    file again."""
    resolved = resolve_files(session, check_scope(session, scope)).get(name)
    if scope == HQ or resolved is None or resolved.scope != scope:
        raise InvalidInput(f"{scope} has no override of {name} to remove", field="name")
    draft = _draft(session, scope, name, analyst)
    if draft is None:
        draft = StudioDraft(author=analyst, scope=scope, name=name, content="", base_file_id=resolved.id)
        session.add(draft)
    draft.content, draft.withdraw, draft.updated_at = "", True, utcnow()
    session.flush()
    return draft


def rollback_drafts(session: Session, scope: str, version: int, analyst: str) -> list[StudioDraft]:
    """Drafts that bring the scope's own files back to what they were at `version`: each file
    changed since as it was then, each file added since withdrawn. They replace the analyst's
    drafts for the scope; validate and publish them as any others (a rollback is a new version)."""
    check_scope(session, scope)
    rows = session.execute(
        select(DeploymentFile, Deployment.version).join(Deployment, Deployment.id == DeploymentFile.deployment_id)
        .where(DeploymentFile.scope == scope).order_by(Deployment.version)).all()
    if version not in {v for _, v in rows}:
        raise NotFound(f"{scope} has no version {version}", field="version")
    then: dict[str, DeploymentFile | None] = {}
    now: dict[str, DeploymentFile | None] = {}
    for stored, at in rows:
        if at <= version:
            then[stored.name] = None if stored.withdrawn else stored
        now[stored.name] = None if stored.withdrawn else stored
    changes = {name: then.get(name) for name in now if _sha(then.get(name)) != _sha(now[name])}
    if not changes:
        raise InvalidInput(f"{scope}'s files are the same as at version {version} already", field="version")
    session.execute(delete(StudioDraft).where(StudioDraft.author == analyst, StudioDraft.scope == scope))
    drafts = []
    for name, old in sorted(changes.items()):
        current = now[name]
        drafts.append(StudioDraft(author=analyst, scope=scope, name=name, content=old.content if old else "",
                                  withdraw=old is None, base_file_id=current.id if current else None))
    session.add_all(drafts)
    session.flush()
    return drafts


def _sha(stored: DeploymentFile | None) -> str | None:
    return stored.sha256 if stored is not None else None


def scope_history(session: Session, scope: str) -> list[dict]:
    """The scope's deployments, newest first: version, who, when, note, and the files each
    deployed or withdrew."""
    deployments = session.scalars(select(Deployment).where(Deployment.scope == check_scope(session, scope))
                                  .order_by(Deployment.version.desc())).all()
    files: dict[int, list[tuple[str, bool]]] = {}
    for deployment_id, name, withdrawn in session.execute(
            select(DeploymentFile.deployment_id, DeploymentFile.name, DeploymentFile.withdrawn)
            .where(DeploymentFile.scope == scope).order_by(DeploymentFile.name)):
        files.setdefault(deployment_id, []).append((name, withdrawn))
    return [{"version": d.version, "by": d.created_by, "at": d.created_at, "comment": d.comment,
             "files": [name for name, withdrawn in files.get(d.id, []) if not withdrawn],
             "withdrawn": [name for name, withdrawn in files.get(d.id, []) if withdrawn]} for d in deployments]


def discard_draft(session: Session, scope: str, name: str, analyst: str) -> None:
    draft = _draft(session, check_scope(session, scope), name, analyst)
    if draft is None:
        raise NotFound(f"You have no draft of {name} for {scope}", field="name")
    session.delete(draft)
    session.flush()


def drafts_of(session: Session, scope: str, analyst: str) -> list[StudioDraft]:
    return list(session.scalars(select(StudioDraft).where(StudioDraft.author == analyst, StudioDraft.scope == scope)
                                .order_by(StudioDraft.name)))


def validate_drafts(session: Session, scope: str, analyst: str, *, operations: set[str],
                    forms: set[str]) -> list[Problem]:
    """Every reason the analyst's drafts for `scope` would not deploy (all at once)."""
    drafts = drafts_of(session, check_scope(session, scope), analyst)
    if not drafts:
        raise InvalidInput(f"You have no drafts for {scope} to validate", field="drafts")
    files, withdraw = split_drafts(drafts)
    return deployment_problems(session, scope, files, operations=operations, forms=forms, withdraw=withdraw)


def split_drafts(drafts: list[StudioDraft]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Drafts as a deployment takes them: the files to deploy, the names to withdraw."""
    return ({d.name: d.content for d in drafts if not d.withdraw}, tuple(d.name for d in drafts if d.withdraw))


def publish_drafts(session: Session, scope: str, analyst: str, comment: str, *, operations: set[str],
                   forms: set[str]) -> Deployment:
    """The analyst's drafts for `scope` as its next deployment (new applications get them; running
    instances keep their version), then the drafts are gone. Refused whole — every reason at once —
    if the set would not deploy, or if one of the scope's files was published again since its draft
    began (publishing would undo that version unseen)."""
    drafts = ready_drafts(session, scope, analyst, comment)
    files, withdraw = split_drafts(drafts)
    deployment = deploy(session, scope, files, actor=analyst, comment=comment[:500], operations=operations,
                        forms=forms, withdraw=withdraw)
    session.execute(delete(StudioDraft).where(StudioDraft.author == analyst, StudioDraft.scope == scope))
    session.flush()
    return deployment


def ready_drafts(session: Session, scope: str, analyst: str, comment: str) -> list[StudioDraft]:
    """The analyst's drafts for `scope`, refused unless there are some, the note says what changes,
    and none of their files was published again since its draft began."""
    drafts = drafts_of(session, check_scope(session, scope), analyst)
    if not drafts:
        raise InvalidInput(f"You have no drafts for {scope} to publish", field="drafts")
    if not comment.strip():
        raise InvalidInput("Say what the new version changes", field="comment")
    check_not_overtaken(session, scope, {d.name: d.base_file_id for d in drafts})
    return drafts


def check_not_overtaken(session: Session, scope: str, bases: dict[str, int | None]) -> None:
    """Conflict naming each file the scope published again since the edit of it began."""
    resolved = resolve_files(session, scope)
    overtaken = [name for name, base in bases.items() if _own_file_id(resolved.get(name), scope) != base]
    if overtaken:
        raise Conflict(f"Published again since your draft began: {', '.join(overtaken)}. Open the new version, "
                       "redo your change on it and publish again", fields={name: ["published again since your draft began"]
                                                                          for name in overtaken})


def _own_file_id(resolved: ResolvedFile | None, scope: str) -> int | None:
    return resolved.id if resolved is not None and resolved.scope == scope else None


def _draft(session: Session, scope: str, name: str, analyst: str) -> StudioDraft | None:
    return session.scalar(select(StudioDraft).where(StudioDraft.author == analyst, StudioDraft.scope == scope,
                                                    StudioDraft.name == name))
