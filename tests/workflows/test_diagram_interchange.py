"""Every shipped BPMN file carries diagram interchange (DI) a viewer can draw, and still deploys.

The DI is written by `python -m workflows.layout`; these tests hold what any DI in bpmn/ must
satisfy, however it was made (the layout tool, or an analyst's modeler).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from lxml import etree

from forms.compiler import form_names
from handlers.registry import build_registry
from workflows.diagrams import BPMN_NS, check_files, parse_set, parse_xml
from workflows.layout import BPMNDI_NS, DC_NS, DI_NS, LayoutError, layout_text

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
FILES = sorted([*BPMN_DIR.glob("default/*.bpmn"), *BPMN_DIR.glob("branches/*/*.bpmn")])
FLOW_NODES = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
              "manualTask", "callActivity", "subProcess", "startEvent", "endEvent", "intermediateCatchEvent",
              "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway", "eventBasedGateway", "complexGateway"}
SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}


def _id(path: Path) -> str:
    return str(path.relative_to(BPMN_DIR))


def _bounds(el):
    b = el.find(f"{{{DC_NS}}}Bounds")
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def _diagram(path: Path):
    root = parse_xml(path.read_bytes(), path.name)
    model = {el.get("id"): el for el in root.iter()
             if isinstance(el.tag, str) and etree.QName(el).namespace == BPMN_NS and el.get("id")}
    shapes, edges = {}, {}
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        assert shape.get("bpmnElement") not in shapes, f"two shapes for {shape.get('bpmnElement')}"
        shapes[shape.get("bpmnElement")] = shape
    for edge in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge"):
        assert edge.get("bpmnElement") not in edges, f"two edges for {edge.get('bpmnElement')}"
        edges[edge.get("bpmnElement")] = edge
    return root, model, shapes, edges


def _local(el) -> str:
    return etree.QName(el).localname


def test_every_shipped_bpmn_file_is_checked():
    assert len(FILES) >= 7
    assert BPMN_DIR / "branches" / "BR002" / "review.bpmn" in FILES


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_one_shape_per_flow_node_lane_and_participant_and_one_edge_per_flow(path):
    root, model, shapes, edges = _diagram(path)
    assert len(list(root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram"))) == 1
    plane = root.find(f"{{{BPMNDI_NS}}}BPMNDiagram/{{{BPMNDI_NS}}}BPMNPlane")
    assert plane.get("bpmnElement") in model
    wanted_shapes = {i for i, el in model.items() if _local(el) in FLOW_NODES | {"lane", "participant"}}
    wanted_edges = {i for i, el in model.items() if _local(el) == "sequenceFlow"}
    assert set(shapes) == wanted_shapes
    assert set(edges) == wanted_edges
    for element_id, shape in shapes.items():
        kind = _local(model[element_id])
        x, y, w, h = _bounds(shape)
        for size_kind, tags in (("task", "Task"), ("event", "Event"), ("gateway", "Gateway")):
            if kind.endswith(tags) or (size_kind == "task" and kind == "callActivity"):
                assert (w, h) == SIZES[size_kind], f"{element_id} is {w}x{h}"
        if kind == "exclusiveGateway":
            assert shape.get("isMarkerVisible") == "true"
        if kind in ("lane", "participant"):
            assert shape.get("isHorizontal") == "true"
        if model[element_id].get("name") and (kind.endswith("Event") or kind.endswith("Gateway")):
            assert shape.find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds") is not None, element_id
    for flow_id in wanted_edges:
        if model[flow_id].get("name"):
            assert edges[flow_id].find(f"{{{BPMNDI_NS}}}BPMNLabel/{{{DC_NS}}}Bounds") is not None, flow_id


def _on_border(point, box) -> bool:
    (px, py), (x, y, w, h) = point, box
    inside = x - 0.5 <= px <= x + w + 0.5 and y - 0.5 <= py <= y + h + 0.5
    return inside and min(abs(px - x), abs(px - x - w), abs(py - y), abs(py - y - h)) <= 0.5


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_edges_start_and_end_on_their_shapes_borders_and_are_orthogonal(path):
    _, model, shapes, edges = _diagram(path)
    for flow_id, edge in edges.items():
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.findall(f"{{{DI_NS}}}waypoint")]
        assert len(points) >= 2, flow_id
        source, target = model[flow_id].get("sourceRef"), model[flow_id].get("targetRef")
        assert _on_border(points[0], _bounds(shapes[source])), f"{flow_id} does not start on {source}"
        assert _on_border(points[-1], _bounds(shapes[target])), f"{flow_id} does not end on {target}"
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            assert x1 == x2 or y1 == y2, f"{flow_id} has a slanted segment"


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_no_two_shapes_overlap_and_each_sits_in_its_lane_and_pool(path):
    root, model, shapes, _ = _diagram(path)
    nodes = {i: _bounds(s) for i, s in shapes.items() if _local(model[i]) in FLOW_NODES}
    ids = sorted(nodes)
    attached = {(i, model[i].get("attachedToRef")) for i in ids if _local(model[i]) == "boundaryEvent"}
    for n, a in enumerate(ids):
        for b in ids[n + 1:]:
            if (a, b) in attached or (b, a) in attached:
                continue  # a boundary event sits on its task's border, so it overlaps the task by design
            assert not _overlap(nodes[a], nodes[b]), f"{a} and {b} overlap"

    def inside(inner, outer):
        return (outer[0] <= inner[0] and inner[0] + inner[2] <= outer[0] + outer[2]
                and outer[1] <= inner[1] and inner[1] + inner[3] <= outer[1] + outer[3])

    lanes = [el for el in model.values() if _local(el) == "lane"]
    for lane in lanes:
        for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
            assert inside(nodes[ref.text.strip()], _bounds(shapes[lane.get("id")])), \
                f"{ref.text} is outside its lane {lane.get('id')}"
    for n, a in enumerate(lanes):
        for b in lanes[n + 1:]:
            assert not _overlap(_bounds(shapes[a.get("id")]), _bounds(shapes[b.get("id")]))
    for participant in (el for el in model.values() if _local(el) == "participant"):
        process = model[participant.get("processRef")]
        pool = _bounds(shapes[participant.get("id")])
        for el in process:
            if isinstance(el.tag, str) and el.get("id") in shapes:
                assert inside(_bounds(shapes[el.get("id")]), pool), f"{el.get('id')} is outside its pool"
        for lane in process.iter(f"{{{BPMN_NS}}}lane"):
            assert inside(_bounds(shapes[lane.get("id")]), pool)
    # bpmn.io draws lanes only inside a participant
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.find(f"{{{BPMN_NS}}}laneSet") is not None:
            assert any(p.get("processRef") == process.get("id") for p in root.iter(f"{{{BPMN_NS}}}participant"))


def test_the_shipped_files_still_deploy_together():
    default = {p.name: p.read_text() for p in BPMN_DIR.glob("default/*") if p.is_file()}
    default.update({f"{p.name}": p.read_text() for p in BPMN_DIR.glob("default/scoring/*") if p.is_file()})
    operations, forms = set(build_registry()), form_names()
    assert check_files(default, operations=operations, forms=forms) == []
    for branch in (p for p in BPMN_DIR.glob("branches/*") if p.is_dir()):
        files = dict(default)
        files.update({p.name: p.read_text() for p in branch.glob("*") if p.is_file()})
        files.update({p.name: p.read_text() for p in branch.glob("scoring/*") if p.is_file()})
        assert check_files(files, operations=operations, forms=forms) == [], branch.name


_DI_BLOCK = re.compile(r"\s*<bpmndi:BPMNDiagram\b.*?</bpmndi:BPMNDiagram>", re.S)
_COLLABORATION = re.compile(r"\s*<bpmn:collaboration\b.*?</bpmn:collaboration>", re.S)


_DI_NAMESPACES = re.compile(r'\s+xmlns:(bpmndi|dc|di)="[^"]*"')


def _without_di(text: str) -> str:
    return _DI_NAMESPACES.sub("", _COLLABORATION.sub("", _DI_BLOCK.sub("", text)))


def _conditional(task_spec) -> list[tuple[str, str]]:
    """(condition, target) in the order the engine tries them; the default (None) is tried last."""
    return [(_condition_text(c), t) for c, t in getattr(task_spec, "cond_task_specs", []) if c is not None]


def _condition_text(condition) -> str:
    return str(condition.args[0]) if getattr(condition, "args", None) else str(condition)


def _graph(parsed):
    """Per process: each task spec's class, lane, and outputs with their conditions and default."""
    graph = {}
    for process_id in parsed.process_ids:
        spec, _ = parsed.specs_for(process_id)
        for name, ts in spec.task_specs.items():
            conditions = sorted((_condition_text(c), t)
                                for c, t in getattr(ts, "cond_task_specs", []))
            graph[(process_id, name)] = (type(ts).__name__, getattr(ts, "lane", None),
                                         sorted(o.name for o in ts.outputs), conditions,
                                         getattr(ts, "default_task_spec", None))
    return graph


def _exclusive(conditions: list[str]) -> bool:
    """True when every pair of conditions tests one variable against two different constants
    (`decision == "reject"` vs `decision == "approve" and ...`), so at most one holds."""
    def equalities(source):
        tree = ast.parse(source, mode="eval").body
        parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
        found = {}
        for part in parts:
            if isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.ops[0], ast.Eq) \
                    and isinstance(part.left, ast.Name) and isinstance(part.comparators[0], ast.Constant):
                found[part.left.id] = part.comparators[0].value
        return found
    tests = [equalities(c) for c in conditions]
    return all(any(k in b and a[k] != b[k] for k in a)
               for n, a in enumerate(tests) for b in tests[n + 1:])


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_the_di_changes_no_process_semantics(path):
    """The engine reads the same graph with or without DI. SpiffWorkflow orders a gateway's
    outgoing flows by their targets' y coordinate, and an exclusive gateway takes the first
    condition that holds: so where DI changes the order, the conditions must exclude each other."""
    files = {p.name: p.read_text() for p in BPMN_DIR.glob("default/*") if p.suffix in (".bpmn", ".dmn")}
    files.update({p.name: p.read_text() for p in path.parent.glob("*") if p.suffix in (".bpmn", ".dmn")})
    with_di = parse_set(files)
    without = parse_set({name: _without_di(text) for name, text in files.items()})
    assert _graph(with_di) == _graph(without)
    for process_id in with_di.process_ids:
        spec, _ = with_di.specs_for(process_id)
        plain, _ = without.specs_for(process_id)
        for name, ts in spec.task_specs.items():
            ordered = _conditional(ts)
            if ordered != _conditional(plain.task_specs[name]):
                sources = [source for source, _ in ordered]
                assert _exclusive(sources), f"{name}: DI reorders conditions that may overlap: {sources}"


def test_the_layout_keeps_the_text_outside_the_di_and_is_idempotent():
    text = (BPMN_DIR / "default" / "review.bpmn").read_text()
    original = _without_di(text)
    assert "<!--" in original and "<bpmndi:" not in original
    laid_out = layout_text(original, "review.bpmn")
    assert _without_di(laid_out) == original
    assert layout_text(laid_out, "review.bpmn") == laid_out


SLA_IN_LANES = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="sla" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_reviewer" name="reviewer">
        <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>remind_at</bpmn:flowNodeRef><bpmn:flowNodeRef>escalate_at</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef><bpmn:flowNodeRef>reminded</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>remind</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_approver" name="approver"><bpmn:flowNodeRef>escalated</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="remind_at" name="Reminder" attachedToRef="review" cancelActivity="false">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>'PT24H'</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:boundaryEvent id="escalate_at" name="Escalation" attachedToRef="review">
      <bpmn:outgoing>f5</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>'PT48H'</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="remind" name="Remind"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>reminded = True</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="escalated" name="Review (escalated)"><bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="reminded"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="remind_at" targetRef="remind"/>
    <bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="reminded"/>
    <bpmn:sequenceFlow id="f5" sourceRef="escalate_at" targetRef="escalated"/>
    <bpmn:sequenceFlow id="f6" sourceRef="escalated" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_boundary_events_sit_on_their_tasks_border_and_their_flows_leave_from_the_outer_side(tmp_path):
    path = tmp_path / "sla.bpmn"
    path.write_text(layout_text(SLA_IN_LANES, "sla.bpmn"))
    _, model, shapes, edges = _diagram(path)
    host = _bounds(shapes["review"])
    boundaries = [_bounds(shapes[i]) for i in ("remind_at", "escalate_at")]
    for x, y, w, h in boundaries:
        assert (w, h) == SIZES["event"]
        assert y + h / 2 == host[1] + host[3], "centred on the task's bottom edge"
        assert host[0] <= x + w / 2 <= host[0] + host[2]
    assert not _overlap(*boundaries)
    # Each boundary event's flow leaves from its outer side (the bottom), away from the task.
    for flow_id, source in (("f3", "remind_at"), ("f5", "escalate_at")):
        points = [(float(p.get("x")), float(p.get("y"))) for p in edges[flow_id].findall(f"{{{DI_NS}}}waypoint")]
        x, y, w, h = _bounds(shapes[source])
        assert points[0] == (x + w / 2, y + h), f"{flow_id} leaves from the bottom of {source}"
        assert points[1][1] > points[0][1]
    for boundary_id in ("remind_at", "escalate_at"):  # the label beside the event, outside the task
        label = _bounds(shapes[boundary_id].find(f"{{{BPMNDI_NS}}}BPMNLabel"))
        assert not _overlap(label, host)
    assert layout_text(path.read_text(), "sla.bpmn") == path.read_text()
    parse_set({"sla.bpmn": path.read_text()}).specs_for("sla")   # still what the engine reads


def test_the_shipped_review_files_carry_the_sla_timers_with_di():
    for path in (BPMN_DIR / "default" / "review.bpmn", BPMN_DIR / "branches" / "BR002" / "review.bpmn"):
        _, model, shapes, _ = _diagram(path)
        boundaries = {i: el for i, el in model.items() if _local(el) == "boundaryEvent"}
        assert {el.get("attachedToRef") for el in boundaries.values()} == {"first_review", "branch_approval",
                                                                           "hq_approval"}
        assert set(boundaries) <= set(shapes)
        assert layout_text(path.read_text(), path.name) == path.read_text()   # what --check holds


def test_a_boundary_event_on_something_that_is_not_a_task_is_refused_by_name():
    text = SLA_IN_LANES.replace('attachedToRef="review" cancelActivity="false"', 'attachedToRef="done" cancelActivity="false"')
    with pytest.raises(LayoutError, match="boundary event remind_at is attached to 'done', which is not a task"):
        layout_text(text, "sla.bpmn")


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_no_edge_runs_through_a_shape_other_than_its_own_ends(path):
    _, model, shapes, edges = _diagram(path)
    nodes = {i: _bounds(s) for i, s in shapes.items() if _local(model[i]) in FLOW_NODES}
    for flow_id, edge in edges.items():
        ends = {model[flow_id].get("sourceRef"), model[flow_id].get("targetRef")}
        ends.add(model[model[flow_id].get("sourceRef")].get("attachedToRef"))  # a boundary event's task
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.findall(f"{{{DI_NS}}}waypoint")]
        for (x1, y1), (x2, y2) in zip(points, points[1:]):
            segment = (min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1))
            for node_id, box in nodes.items():
                assert node_id in ends or not _overlap(segment, box), f"{flow_id} runs through {node_id}"


def test_a_deployed_file_without_di_is_laid_out_on_the_fly_for_the_page():
    from workflows.diagram_marks import _with_layout

    plain = _without_di((BPMN_DIR / "default" / "post_loan_check.bpmn").read_text())
    drawn = _with_layout(plain, parse_xml(plain, "post_loan_check.bpmn"), "post_loan_check.bpmn")
    root = parse_xml(drawn, "post_loan_check.bpmn")
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    nodes = {e.get("id") for e in root.iter() if e.tag in (f"{{{BPMN_NS}}}userTask", f"{{{BPMN_NS}}}startEvent")}
    assert nodes and nodes <= shapes
