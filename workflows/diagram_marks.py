"""What an instance's diagrams show: per process (the main one and each called one), the elements
it has completed, those it is at now, and the one an incident stopped at.

Read from the engine's own task tree, so a call activity's inside is marked in the called
process's diagram; the page draws each pinned BPMN file and puts these marks on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy.orm import Session
from SpiffWorkflow.util.task import TaskState

from workflows.deployments import load_files
from workflows.diagrams import parse_xml
from workflows.layout import LayoutError, layout_text
from workflows.models import ProcessInstance

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
# Engine-internal task specs that have no shape of their own in the diagram.
_NOT_DRAWN = ("Start", "End", "Root")


@dataclass
class ProcessMarks:
    completed: set[str] = field(default_factory=set)
    current: set[str] = field(default_factory=set)
    incident: set[str] = field(default_factory=set)
    taken: set[tuple[str, str]] = field(default_factory=set)  # (source, target) of flows the instance took

    def as_dict(self) -> dict:
        return {"completed": sorted(self.completed - self.current - self.incident),
                "current": sorted(self.current), "incident": sorted(self.incident),
                "taken": sorted([list(pair) for pair in self.taken])}


def diagram_marks(workflow) -> dict[str, dict]:
    """{process id: {completed, current, incident}} over the instance and its call activities."""
    marks: dict[str, ProcessMarks] = {}
    for task in workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id or task.task_spec.name in _NOT_DRAWN:
            continue
        process = marks.setdefault(task.workflow.spec.name, ProcessMarks())
        if task.state == TaskState.COMPLETED:
            process.completed.add(bpmn_id)
        elif task.state == TaskState.ERROR:
            process.incident.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            process.current.add(bpmn_id)
        else:
            continue  # a path not (yet) taken: no flow leads into it
        source = _drawn_parent(task)
        if source is not None:
            process.taken.add((source, bpmn_id))
    return {name: m.as_dict() for name, m in marks.items()}


def _drawn_parent(task) -> str | None:
    """The element the engine came from to reach `task` in the same process: its nearest ancestor
    with a shape (a boundary event's split and the joins have none)."""
    parent = task.parent
    while parent is not None and parent.workflow is task.workflow:
        bpmn_id = getattr(parent.task_spec, "bpmn_id", None)
        if bpmn_id and parent.task_spec.name not in _NOT_DRAWN:
            return bpmn_id
        parent = parent.parent
    return None


def instance_marks(runner, session: Session, instance: ProcessInstance) -> dict[str, dict]:
    return diagram_marks(runner.load(session, instance))


def process_diagrams(session: Session, instance: ProcessInstance) -> list[dict]:
    """The instance's pinned BPMN files, each with the process ids it defines, the instance's own
    process first: {"file", "scope", "processes", "xml"}."""
    files = load_files(session, instance.pinned_files)
    diagrams = []
    for name, resolved in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        root = parse_xml(resolved.content.encode("utf-8"), name)
        processes = [p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")]
        diagrams.append({"file": name, "scope": resolved.scope, "processes": processes,
                         "xml": _with_layout(resolved.content, root, name)})
    diagrams.sort(key=lambda d: instance.process_id not in d["processes"])
    return diagrams


def _with_layout(text: str, root, name: str) -> str:
    """A deployed file without DI still deploys (the engine does not need it); the viewer does,
    so it is laid out here on the fly, as `python -m workflows.layout` would."""
    if next(root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram"), None) is not None:
        return text
    try:
        return layout_text(text, name)
    except LayoutError:
        return text  # the page then says the diagram cannot be drawn
