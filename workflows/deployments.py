"""Per-scope, versioned deployments of diagrams and decision tables, and per-branch resolution.

HQ publishes defaults; a branch deploys only the files it changes. A file a branch deploys
replaces HQ's file of the same name for that branch, until a later deployment of the branch
withdraws it (then HQ's applies again). Each deployment is immutable and numbered
per scope; each process or decision it defines also gets a version number per scope. A new
application runs the newest files resolved for its branch; a running instance keeps the files it
was started with (ProcessInstance.pinned_files).
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.diagrams import ParsedSet, Problem, check_files, engine_files, file_kind, parse_set, parse_xml
from handlers.data_files import is_data_file
from workflows.errors import DeploymentRejected, InvalidInput, NotFound
from workflows.models import HQ, Branch, DeployedDefinition, Deployment, DeploymentFile
from workflows import products

MAIN_PROCESS = "loan_origination"


@dataclass(frozen=True)
class ResolvedFile:
    id: int
    name: str
    scope: str
    version: int
    content: str


def scopes_for(branch_code: str) -> list[str]:
    """Where a branch's files come from, most specific first."""
    return [branch_code, HQ] if branch_code != HQ else [HQ]


def resolve_files(session: Session, branch_code: str) -> dict[str, ResolvedFile]:
    """The newest file of each name for this branch: its own if it deployed one, else HQ's."""
    rows = session.execute(
        select(DeploymentFile, Deployment.version)
        .join(Deployment, Deployment.id == DeploymentFile.deployment_id)
        .where(DeploymentFile.scope.in_(scopes_for(branch_code)))
        .order_by(Deployment.version)
    ).all()
    newest: dict[tuple[str, str], ResolvedFile | None] = {}
    for f, version in rows:  # ordered by version, so later rows win; a withdrawal wins as None
        newest[(f.scope, f.name)] = None if f.withdrawn else ResolvedFile(f.id, f.name, f.scope, version, f.content)
    resolved: dict[str, ResolvedFile] = {}
    for scope in reversed(scopes_for(branch_code)):  # HQ first, the branch overrides
        for (s, name), rf in newest.items():
            if s == scope and rf is not None:
                resolved[name] = rf
    return resolved


class ResolutionCache:
    """resolve_files per branch, recomputed only when a new deployment exists anywhere.

    Deployments are immutable and numbered, so the newest deployment id says whether anything a
    branch resolves to could have changed; asking for it is one indexed query.
    """

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int, dict[str, ResolvedFile]]] = {}
        self._lock = Lock()

    def resolve(self, session: Session, branch_code: str) -> dict[str, ResolvedFile]:
        newest = session.scalar(select(func.max(Deployment.id))) or 0
        with self._lock:
            cached = self._entries.get(branch_code)
        if cached and cached[0] == newest:
            return cached[1]
        files = resolve_files(session, branch_code)
        with self._lock:
            self._entries[branch_code] = (newest, files)
        return files


class FileContents:
    """Deployed file texts by id. Deployed files never change, so a cached text is never stale."""

    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[int, str] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, session: Session, file_id: int) -> str:
        with self._lock:
            if file_id in self._entries:
                self._entries.move_to_end(file_id)
                return self._entries[file_id]
        content = session.scalar(select(DeploymentFile.content).where(DeploymentFile.id == file_id))
        if content is None:
            raise NotFound(f"Deployed file {file_id} does not exist")
        with self._lock:
            self._entries[file_id] = content
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return content


def load_files(session: Session, pinned: dict[str, int]) -> dict[str, ResolvedFile]:
    rows = session.execute(select(DeploymentFile).where(DeploymentFile.id.in_(list(pinned.values())))).scalars()
    return {f.name: ResolvedFile(f.id, f.name, f.scope, 0, f.content) for f in rows}


class SpecCache:
    """Parsed diagram sets by the identity of their files. Files are immutable, so entries never
    go stale; the cache is bounded so many branches and versions do not grow memory without end."""

    def __init__(self, size: int = 64) -> None:
        self._entries: OrderedDict[tuple, ParsedSet] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, files: dict[str, ResolvedFile]) -> ParsedSet:
        return self.get_pinned({f.name: f.id for f in files.values()}, lambda: files)

    def get_pinned(self, pinned: dict[str, int], load: Callable[[], dict[str, ResolvedFile]]) -> ParsedSet:
        """The parsed set for these file ids; `load` fetches the contents only on a cache miss."""
        key = tuple(sorted(engine_files(pinned).values()))
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        executable = engine_files(load())
        parsed = parse_set({f.name: f.content for f in executable.values()})
        with self._lock:
            self._entries[key] = parsed
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return parsed


def _definitions_in(name: str, content: str) -> list[tuple[str, str]]:
    kind = file_kind(name)
    if kind == "json" or is_data_file(name):
        return [(name, "data")]
    root = parse_xml(content, name)
    wanted = "process" if kind == "bpmn" else "decision"
    return [(el.get("id"), wanted) for el in root.iter()
            if isinstance(el.tag, str) and el.tag.rsplit("}", 1)[-1] == wanted and el.get("id")]


def deploy(session: Session, scope: str, files: dict[str, str], *, actor: str, comment: str = "",
           operations: set[str], forms: set[str], withdraw: tuple[str, ...] = ()) -> Deployment:
    """Validate `files` together with what the scope already resolves to, then store them as the
    scope's next version. Nothing is stored unless every file passes. `withdraw` names files the
    scope stops providing from this version on (a branch then runs HQ's)."""
    problems = deployment_problems(session, scope, files, operations=operations, forms=forms, withdraw=withdraw)
    if problems:
        raise DeploymentRejected([p.as_dict() for p in problems])
    version = (session.scalar(select(func.max(Deployment.version)).where(Deployment.scope == scope)) or 0) + 1
    deployment = Deployment(scope=scope, version=version, created_by=actor, comment=comment)
    session.add(deployment)
    session.flush()
    for name in sorted(withdraw):
        session.add(DeploymentFile(deployment_id=deployment.id, scope=scope, name=name, content="", withdrawn=True,
                                   sha256=hashlib.sha256(b"").hexdigest()))
    for name, content in sorted(files.items()):
        stored = DeploymentFile(deployment_id=deployment.id, scope=scope, name=name, content=content,
                                sha256=hashlib.sha256(content.encode()).hexdigest())
        session.add(stored)
        session.flush()
        for definition_id, kind in _definitions_in(name, content):
            previous = session.scalar(select(func.max(DeployedDefinition.version)).where(
                DeployedDefinition.scope == scope, DeployedDefinition.definition_id == definition_id)) or 0
            session.add(DeployedDefinition(deployment_id=deployment.id, file_id=stored.id, scope=scope,
                                           definition_id=definition_id, kind=kind, version=previous + 1))
    if scope == HQ and products.PRODUCTS_FILE in files:  # the product table follows HQ's file
        products.sync_product_rows(session, files[products.PRODUCTS_FILE])
    session.flush()
    return deployment


def check_scope(session: Session, scope: str) -> str:
    """`scope` if it is HQ or a branch; NotFound otherwise."""
    if scope != HQ and session.get(Branch, scope) is None:
        raise NotFound(f"Unknown scope '{scope}': use HQ or a branch code", field="scope")
    return scope


def is_plain_file_name(name: str) -> bool:
    """A name a deployment may store: no folder, not hidden."""
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


def deployment_problems(session: Session, scope: str, files: dict[str, str], *, operations: set[str],
                        forms: set[str], withdraw: tuple[str, ...] = ()) -> list:
    """Every reason `files` (and the withdrawal of `withdraw`) cannot be deployed to `scope`,
    checked with what the scope resolves to after it (a set runs whole); empty when they can.
    Stores nothing (the studio's validate)."""
    if not files and not withdraw:
        raise InvalidInput("At least one file is required", field="files")
    if scope != HQ and session.get(Branch, scope) is None:
        raise InvalidInput(f"Unknown scope '{scope}': use HQ or a branch code", field="scope")
    for name in files:
        if not is_plain_file_name(name):
            raise InvalidInput(f"File name '{name}' must be a plain file name", field="files")
    resolved = resolve_files(session, scope)
    own = [name for name in withdraw if name in resolved and resolved[name].scope == scope]
    if len(own) != len(withdraw) or set(withdraw) & set(files):
        raise InvalidInput(f"{scope} can only withdraw a file it provides itself and does not deploy again: "
                           f"{', '.join(sorted(set(withdraw) - set(own) | set(withdraw) & set(files)))}", field="withdraw")
    current = {name: rf.content for name, rf in resolved.items()}
    if withdraw:  # what the scope runs once they are gone: the parent scope's files, if any
        parent = resolve_files(session, HQ) if scope != HQ else {}
        for name in withdraw:
            current.pop(name)
            if name in parent:
                current[name] = parent[name].content
    merged = {**current, **files}
    # products.json is not checked on its own like a rating file: a branch's narrows HQ's, and
    # HQ's bounds every branch's (workflows/products.py), so it is checked against the other scope.
    merged.pop(products.PRODUCTS_FILE, None)
    return check_files(merged, operations=operations, forms=forms) + [
        Problem(products.PRODUCTS_FILE, reason)
        for reason in products.deployment_problems(session, scope, files, withdraw)]


def files_in_folder(folder: Path) -> dict[str, str]:
    """The deployable files of a bpmn/ folder (subfolders hold data files such as scorecards)."""
    if not folder.is_dir():
        return {}
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
            if p.is_file() and file_kind(p.name)}


def describe_deployment(session: Session, deployment: Deployment) -> dict:
    files = session.scalars(select(DeploymentFile).where(DeploymentFile.deployment_id == deployment.id)
                            .order_by(DeploymentFile.name)).all()
    definitions = session.scalars(select(DeployedDefinition).where(
        DeployedDefinition.deployment_id == deployment.id).order_by(DeployedDefinition.definition_id)).all()
    return {
        "id": deployment.id, "scope": deployment.scope, "version": deployment.version,
        "created_at": deployment.created_at.isoformat() + "Z", "created_by": deployment.created_by,
        "comment": deployment.comment,
        "files": [{"name": f.name, "sha256": f.sha256, "withdrawn": f.withdrawn} for f in files],
        "definitions": [{"id": d.definition_id, "kind": d.kind, "version": d.version} for d in definitions],
    }


def list_deployments(session: Session, scope: str | None = None) -> list[dict]:
    query = select(Deployment).order_by(Deployment.scope, Deployment.version.desc())
    if scope:
        query = query.where(Deployment.scope == scope)
    return [describe_deployment(session, d) for d in session.scalars(query)]


def resolved_view(session: Session, branch_code: str) -> dict:
    """Which scope and version each process and decision comes from, for one branch."""
    if branch_code != HQ and session.get(Branch, branch_code) is None:
        raise NotFound(f"Unknown branch '{branch_code}'", field="branch")
    files = resolve_files(session, branch_code)
    by_file = {rf.id: rf for rf in files.values()}
    definitions = session.scalars(select(DeployedDefinition).where(
        DeployedDefinition.file_id.in_(list(by_file)))).all()
    return {
        "branch": branch_code,
        "definitions": sorted(
            ({"id": d.definition_id, "kind": d.kind, "scope": d.scope, "version": d.version,
              "file": by_file[d.file_id].name, "deployment_version": by_file[d.file_id].version}
             for d in definitions), key=lambda d: (d["kind"], d["id"])),
    }
