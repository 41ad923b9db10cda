"""Simulation (模拟): a draft set run on sample applications beside the published version.

    result = simulate(db, origination, "BR002", {"review_route.dmn": text}, sample=50, actor=analyst,
                      operations=handlers, forms=form_names)
    result.published, result.draft     # ArmSummary: shares auto-approved / in review / declined, ...
    result.changed                     # the applications whose outcome differs

Each sample application (the scope's most recent real ones, their submitted inputs) is submitted
again on each arm in a session that is rolled back: no application, instance, task, timer,
posting or webhook of a simulated run stays, and nothing is sent (webhooks leave only from
committed outbox rows; a run stops at its first wait, before signing or disbursement). The credit
bureau is asked as for a real application (the simulator in the demo and tests).

Each arm is its own Origination with its own caches: draft files get negative ids that no stored
file has, and they never reach the product's shared caches, so a simulated file can never be
taken for a deployed one.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.compiler import load_form
from workflows.db import Database
from workflows.deployments import (FileContents, ResolvedFile, SpecCache, check_scope, deployment_problems,
                                   resolve_files)
from workflows.errors import DeploymentRejected, InvalidInput, WorkflowError
from workflows.instances import InstanceRunner
from workflows.models import HQ, Application, User
from workflows.origination import Origination

MAX_SAMPLE = 1000
# The whole simulation answers within a minute: a draft whose runs are slow (each advance is
# bounded by the sandbox's engine limits, but a thousand of them are not) stops early, saying so.
TIME_BUDGET_SECONDS = 50.0
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Outcome:
    """Where one application got to on one arm, at its first wait."""
    status: str                     # in_review | awaiting_signature | declined | incident | refused
    review_levels: int | None
    annual_rate: Decimal | None
    limit_hits: int
    reason: str = ""                # why a run was refused (the input no longer passes), else ""

    def key(self) -> tuple:
        return self.status, self.review_levels, self.annual_rate


@dataclass(frozen=True)
class ArmSummary:
    applications: int
    by_status: dict[str, int]
    by_review_levels: dict[int, int]
    average_rate: Decimal | None
    limit_hits: int

    def share(self, status: str) -> Decimal:
        return (Decimal(self.by_status.get(status, 0)) / self.applications).quantize(RATE_PLACES) \
            if self.applications else Decimal("0")

    def as_dict(self) -> dict:
        return {"applications": self.applications, "by_status": dict(self.by_status),
                "shares": {status: str(self.share(status)) for status in self.by_status},
                "by_review_levels": {str(k): v for k, v in sorted(self.by_review_levels.items())},
                "average_rate": None if self.average_rate is None else str(self.average_rate),
                "limit_hits": self.limit_hits}


@dataclass(frozen=True)
class ChangedOutcome:
    application_id: str
    customer: str                   # masked: analysts do not see applicants' names whole
    branch: str
    amount: Decimal
    published: Outcome
    draft: Outcome

    def as_dict(self) -> dict:
        return {"application_id": self.application_id, "customer": self.customer, "branch": self.branch,
                "amount": str(self.amount), "published": _outcome_dict(self.published),
                "draft": _outcome_dict(self.draft)}


@dataclass(frozen=True)
class SimulationResult:
    scope: str
    published: ArmSummary
    draft: ArmSummary
    changed: list[ChangedOutcome] = field(default_factory=list)
    stopped_early: bool = False     # the time budget ran out: the figures cover the runs done

    def as_dict(self) -> dict:
        return {"scope": self.scope, "published": self.published.as_dict(), "draft": self.draft.as_dict(),
                "changed": [c.as_dict() for c in self.changed], "stopped_early": self.stopped_early}


def simulate(db: Database, origination: Origination, scope: str, drafts: dict[str, str], *, sample: int,
             actor: User, operations: set[str], forms: set[str], withdraw: tuple[str, ...] = (),
             budget_seconds: float = TIME_BUDGET_SECONDS) -> SimulationResult:
    """`drafts` by file name, and the names of the branch overrides the drafts `withdraw`. Drafts
    that would not deploy are not run: DeploymentRejected with every reason."""
    if not drafts and not withdraw:
        raise InvalidInput("Give the draft files to simulate", field="files")
    if not 1 <= sample <= MAX_SAMPLE:
        raise InvalidInput(f"sample must be between 1 and {MAX_SAMPLE}", field="sample")
    with db.sessions() as session:
        problems = deployment_problems(session, check_scope(session, scope), drafts, operations=operations,
                                       forms=forms, withdraw=withdraw)
        if problems:
            raise DeploymentRejected([p.as_dict() for p in problems])
        applications = _recent_applications(session, scope, sample)
    if not applications:
        raise InvalidInput(f"{scope} has no applications to simulate on yet", field="sample")
    published_arm = _arm(origination, _Published())
    draft_arm = _arm(origination, _Overlaid(scope, drafts, withdraw))
    published, drafted, changed = [], [], []
    deadline = time.monotonic() + budget_seconds
    for application in applications:
        before = _run(db, published_arm, application, actor)
        after = _run(db, draft_arm, application, actor)
        published.append(before)
        drafted.append(after)
        if before.key() != after.key():
            changed.append(ChangedOutcome(application.id, _mask_name(application.customer_name),
                                          application.branch_code, application.amount, before, after))
        if time.monotonic() > deadline:
            break
    return SimulationResult(scope, _summary(published), _summary(drafted), changed,
                            stopped_early=len(published) < len(applications))


# ---------------------------------------------------------------------------- the arms

class _Published:
    """What the branch runs today."""
    drafts: dict[str, ResolvedFile] = {}

    def resolve(self, session: Session, branch_code: str) -> dict[str, ResolvedFile]:
        return resolve_files(session, branch_code)


class _Overlaid:
    """What the branch would run with the drafts published: a branch's drafts replace its files
    (and a withdrawn override gives way to HQ's file); head office's drafts replace HQ's files, not
    a branch's own override of them."""

    def __init__(self, scope: str, drafts: dict[str, str], withdraw: tuple[str, ...]) -> None:
        self.scope = scope
        self.withdraw = withdraw
        self.drafts = {name: ResolvedFile(-(index + 1), name, scope, 0, content)
                       for index, (name, content) in enumerate(sorted(drafts.items()))}

    def resolve(self, session: Session, branch_code: str) -> dict[str, ResolvedFile]:
        files = dict(resolve_files(session, branch_code))
        if self.withdraw and self.scope != HQ:
            head_office = resolve_files(session, HQ)
            for name in self.withdraw:
                files.pop(name, None)
                if name in head_office:
                    files[name] = head_office[name]
        if self.scope != HQ and branch_code != self.scope:
            return files  # a branch's drafts are not HQ's (the products of a branch ask for HQ's too)
        for name, draft in self.drafts.items():
            current = files.get(name)
            if self.scope == HQ and current is not None and current.scope != HQ:
                continue
            files[name] = draft
        return files


class _ArmContents(FileContents):
    """Deployed texts, and the drafts' by their negative ids."""

    def __init__(self, drafts: dict[int, str]) -> None:
        super().__init__()
        self.drafts = drafts

    def get(self, session: Session, file_id: int) -> str:
        return self.drafts[file_id] if file_id in self.drafts else super().get(session, file_id)


def _arm(origination: Origination, resolution: _Published | _Overlaid) -> Origination:
    """An Origination like the product's (its handlers, clock and external clients) that resolves
    files through `resolution`, with fresh caches and its own exposure and SLA services."""
    arm = Origination(InstanceRunner(origination.runner.handlers, SpecCache()), clock=origination.layer.clock,
                      services={k: v for k, v in origination.services.items() if k not in ("exposure", "review_sla")},
                      callback_hosts=origination.callback_hosts)
    arm.layer.resolution = resolution
    arm.layer.file_contents = _ArmContents({f.id: f.content for f in resolution.drafts.values()})
    return arm


def _run(db: Database, arm: Origination, application: Application, actor: User) -> Outcome:
    stored = dict(application.payload)
    stored.pop("callback_url", None)  # nothing is announced; and the rolled-back run has no webhook anyway
    with db.sessions() as session:
        try:
            # As submitted (the stored form is its JSON), checked and typed again by today's form.
            submitted = arm.submit(session, load_form("application", _plain(stored)), actor)
            summary = dict(submitted.summary or {})
            rate = summary.get("annual_rate")
            return Outcome(status=submitted.status, review_levels=summary.get("review_levels"),
                           annual_rate=Decimal(str(rate)).quantize(Decimal("0.000001")) if rate is not None else None,
                           limit_hits=len(summary.get("limit_hits") or []))
        except WorkflowError as err:
            return Outcome(status="refused", review_levels=None, annual_rate=None, limit_hits=0, reason=err.message)
        except ValidationError as err:
            return Outcome(status="refused", review_levels=None, annual_rate=None, limit_hits=0,
                           reason=f"the stored application no longer passes the form: {sorted(err.messages)}")
        finally:
            session.rollback()  # nothing of a simulated run stays


def _plain(value):
    """The stored form's values as JSON gives them (its money was stored as Decimal text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


def _recent_applications(session: Session, scope: str, sample: int) -> list[Application]:
    query = select(Application).order_by(Application.created_at.desc(), Application.id).limit(sample)
    if scope != HQ:
        query = query.where(Application.branch_code == scope)
    rows = list(session.scalars(query))
    for row in rows:
        session.expunge(row)
    return rows


def _summary(outcomes: list[Outcome]) -> ArmSummary:
    rates = [o.annual_rate for o in outcomes if o.annual_rate is not None]
    return ArmSummary(
        applications=len(outcomes), by_status=dict(Counter(o.status for o in outcomes)),
        by_review_levels=dict(Counter(o.review_levels for o in outcomes if o.review_levels is not None)),
        average_rate=(sum(rates) / len(rates)).quantize(RATE_PLACES) if rates else None,
        limit_hits=sum(o.limit_hits for o in outcomes))


def _outcome_dict(outcome: Outcome) -> dict:
    return {"status": outcome.status, "review_levels": outcome.review_levels,
            "annual_rate": None if outcome.annual_rate is None else str(outcome.annual_rate),
            "limit_hits": outcome.limit_hits, **({"reason": outcome.reason} if outcome.reason else {})}


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
