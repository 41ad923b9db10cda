"""Which processes a branch can start: those whose start event names a start form and lies in a
lane (the role that may start it). Read from the files the branch resolves to, so a branch's
override and a new HQ version show up as soon as they are deployed."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from workflows.deployments import ResolvedFile
from workflows.diagrams import ParsedSet, task_property
from workflows.models import DeployedDefinition


@dataclass(frozen=True)
class StartableProcess:
    key: str
    name: str
    version: int                  # the process's own version in its scope
    scope: str                    # HQ, or the branch whose override it is
    form: str | None              # the start form (forms/definitions.py); None: any JSON object
    roles: tuple[str, ...]        # who may start it: the start event's lane, plus property 'started_by'
    correlation_keys: tuple[str, ...]


def start_event(spec) -> StartEvent | None:
    """The start event people start the process at; a timer start event is the worker's."""
    return next((t for t in spec.task_specs.values() if isinstance(t, StartEvent)
                 and not isinstance(t.event_definition, TimerEventDefinition)), None)


def declared_keys(spec) -> tuple[str, ...]:
    """The correlation keys the start event declares (property 'correlation_keys', comma-separated)."""
    event = start_event(spec)
    declared = task_property(event, "correlation_keys") if event is not None else None
    return tuple(k.strip() for k in (declared or "").split(",") if k.strip())


# The lane of steps nobody works: a start event there is started by the system (a batch, a caller).
SYSTEM_LANE = "system"


def start_roles(event) -> tuple[str, ...]:
    extra = [r.strip() for r in (task_property(event, "started_by") or "").split(",") if r.strip()]
    lane = [event.lane] if event.lane and event.lane != SYSTEM_LANE else []
    return tuple(dict.fromkeys(lane + extra))


def startable_processes(session: Session, parsed: ParsedSet, files: dict[str, ResolvedFile]) -> list[StartableProcess]:
    by_file_id = {f.id: f for f in files.values()}
    versions = {d.definition_id: (d.version, by_file_id[d.file_id].scope)
                for d in session.scalars(select(DeployedDefinition).where(
                    DeployedDefinition.file_id.in_(list(by_file_id)), DeployedDefinition.kind == "process"))}
    found = []
    for process_id in sorted(parsed.process_ids):
        spec, _ = parsed.specs_for(process_id)
        event = start_event(spec)
        if event is None or not start_roles(event):
            continue  # a called process (review, signing): started by its caller, not by people
        version, scope = versions.get(process_id, (0, ""))
        found.append(StartableProcess(key=process_id, name=parsed.process_names.get(process_id, process_id),
                                      version=version, scope=scope, form=task_property(event, "form"),
                                      roles=start_roles(event), correlation_keys=declared_keys(spec)))
    return found
