"""What an instance is doing, read once from its workflow after each step: the one derivation
the instance row, the inbox, the API answer, the page and the webhook all take their status from.
"""
from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from workflows.engine import element_label
from workflows.timers import waiting_definitions

WAITING, INCIDENT, COMPLETED = "waiting", "incident", "completed"


@dataclass(frozen=True)
class InstanceState:
    status: str                          # waiting | incident | completed
    stage: str                           # the innermost named stage, or what the instance waits at
    open_tasks: tuple[str, ...]          # element ids of the user tasks people can work now
    waiting_messages: tuple[str, ...]    # names of the messages it can receive now
    waiting_timers: tuple[str, ...]      # element ids of the timers it waits for

    @property
    def waits_for_people(self) -> bool:
        return bool(self.open_tasks)


def derive_state(workflow: BpmnWorkflow, incident: str | None, stages: frozenset[str] = frozenset(),
                 default_stage: str = "") -> InstanceState:
    """The instance's state after a step. `stages` are the called processes that name a stage (an
    origination is in 'review' while review.bpmn runs); without them the stage is where it waits."""
    ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    waiting = workflow.get_tasks(state=TaskState.WAITING)
    messages, timers = [], []
    for task in waiting:
        for element, definition in waiting_definitions(task.task_spec):
            if isinstance(definition, MessageEventDefinition) and definition.name:
                messages.append(definition.name)
            elif isinstance(definition, TimerEventDefinition):
                timers.append(element)
    if incident:
        status = INCIDENT
    elif workflow.completed:
        status = COMPLETED
    else:
        status = WAITING
    return InstanceState(status=status, stage=_stage(workflow, stages, default_stage, ready, waiting),
                         open_tasks=tuple(t.task_spec.bpmn_id or t.task_spec.name for t in ready),
                         waiting_messages=tuple(dict.fromkeys(messages)), waiting_timers=tuple(timers))


def _stage(workflow: BpmnWorkflow, stages: frozenset[str], default_stage: str, ready, waiting) -> str:
    if workflow.completed:
        # A process of named stages is closed; any other says which end it reached (a change
        # request 'applied' or 'rejected', a collection 'current_end'), which is its outcome.
        return "closed" if stages else (_end_reached(workflow) or "closed")
    if stages:
        for sub in sorted(workflow.get_active_subprocesses(), key=lambda s: s.depth, reverse=True):
            if sub.spec.name in stages:
                return sub.spec.name
        return default_stage
    for task in ready + [t for t in waiting if getattr(t.task_spec, "event_definition", None) is not None]:
        return element_label(task)[:64]
    return default_stage


def _end_reached(workflow: BpmnWorkflow) -> str | None:
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if t.workflow is workflow and isinstance(t.task_spec, EndEvent) and t.task_spec.bpmn_id]
    return max(ends, key=lambda t: t.last_state_change).task_spec.bpmn_id if ends else None


def current_data(workflow: BpmnWorkflow) -> dict:
    """The task data of the deepest live task: what the instance knows now."""
    if workflow.completed:
        return workflow.data
    live = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
    deepest = max(live, key=lambda t: t.depth, default=None) if live else None
    return deepest.data if deepest is not None else workflow.last_task.data if workflow.last_task else {}
