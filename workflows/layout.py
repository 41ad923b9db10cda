"""Deterministic auto-layout: writes BPMN diagram interchange (DI) into a BPMN file's text.

    python -m workflows.layout bpmn/default/review.bpmn [more files ...]

rewrites each file in place. Only three things in the text change: the root element gains the
bpmndi/dc/di namespace declarations, a process with lanes gets a participant in a
`bpmn:collaboration` (bpmn.io draws lanes only inside a pool), and the `bpmndi:BPMNDiagram`
block is replaced (or added before `</bpmn:definitions>`). Everything else — comments, element
order, attributes, extension elements — stays byte for byte. Running it twice gives the same file.

The layout: flow nodes are layered left to right by the longest path over sequence flows from the
start events (back edges, found by a depth-first search, are left out of the layering); nodes of
one layer are stacked vertically, each in the horizontal band of its lane; shapes are bpmn.io's
sizes (tasks 100x80, events 36x36, gateways 50x50). Edges are routed orthogonally: for each flow
a set of candidate routes (straight, L, Z, and detours through the free horizontal channels
between rows and lanes) is scored for passing through shapes and labels, crossing or running
along other edges, bends and length, and the cheapest is kept; each starts and ends in the middle
of a side of its shapes' bounds.

Boundary events sit on their task's border: up to two on the bottom edge, then up to two on the
top (near the corners, so the task's own flows leave from the middle of a side between them), with
their labels beside them, outside the task. For the layering a boundary event stands in its task's
column and its outgoing flows start from its outer side; it takes no row of its own.

Not handled (refused with a message): embedded sub-processes, more than four boundary events on one
task. Data objects, data stores, text annotations and message flows are left without DI.

The file is parsed with `workflows.diagrams.parse_xml` (no entities, no DTD, no network), so the
tool reads exactly what the engine reads.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from workflows.diagrams import BPMN_NS, parse_xml

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

TASKS = {"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
         "manualTask", "callActivity"}
EVENTS = {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
UNSUPPORTED = {"subProcess", "transaction", "adHocSubProcess"}
# Where the boundary events of one task go, in order: (side, centre as a fraction of the width).
# Near the corners, so the middle of the side stays free for the task's own flows.
BOUNDARY_SLOTS = (("bottom", 0.2), ("bottom", 0.8), ("top", 0.2), ("top", 0.8))

SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
COLUMN_GAP = 70          # between the widest shapes of two neighbouring layers
ROW_HEIGHT = 130         # from one row's centre to the next one's in a band
BAND_MARGIN = 50         # above the first and below the last row of a band
LEFT = 60                # from the band's left border to the first column
POOL_X, POOL_Y, POOL_HEADER = 150, 80, 30
CHAR_WIDTH, LINE_HEIGHT = 6.5, 14   # bpmn.io's 11px Arial, roughly


class LayoutError(ValueError):
    pass


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self):
        return self.x + self.w / 2

    @property
    def cy(self):
        return self.y + self.h / 2

    @property
    def right(self):
        return self.x + self.w

    @property
    def bottom(self):
        return self.y + self.h

    def port(self, side: str) -> tuple[float, float]:
        return {"left": (self.x, self.cy), "right": (self.right, self.cy),
                "top": (self.cx, self.y), "bottom": (self.cx, self.bottom)}[side]


@dataclass
class Node:
    id: str
    kind: str            # task, event, gateway
    tag: str
    name: str
    lane: str | None
    order: int
    layer: int = 0
    row: int = 0
    box: Box | None = None
    label: Box | None = None
    attached_to: str | None = None     # a boundary event's task
    slot: int = 0                      # a boundary event's place on it: an index into BOUNDARY_SLOTS

    @property
    def is_boundary(self) -> bool:
        return self.attached_to is not None

    @property
    def side(self) -> str:
        """The side of its task a boundary event sits on, and so the side its flows leave from."""
        return BOUNDARY_SLOTS[self.slot][0]


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str
    back: bool = False
    virtual: bool = False    # task -> its boundary event: for the layering only, never drawn
    points: list = field(default_factory=list)
    label: Box | None = None


@dataclass
class ProcessLayout:
    process_id: str
    name: str
    participant_id: str | None
    nodes: dict
    flows: list
    lanes: list            # [(lane id, Box)]
    pool: Box | None
    width: float = 0
    height: float = 0


def _local(el) -> str:
    return etree.QName(el).localname


def _kind(tag: str) -> str:
    if tag in TASKS:
        return "task"
    if tag in EVENTS:
        return "event"
    if tag in GATEWAYS:
        return "gateway"
    raise LayoutError(f"no layout for <{tag}>")


def _text_box(text: str, width: float) -> tuple[float, float]:
    """(width, height) of a label wrapped to at most `width` pixels."""
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if line and len(candidate) * CHAR_WIDTH > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    longest = max((len(l) for l in lines), default=0) * CHAR_WIDTH
    return math.ceil(min(max(longest, 20), width)), len(lines) * LINE_HEIGHT


# --- reading the model ------------------------------------------------------------------------

def _read_process(process, participant_id: str | None) -> ProcessLayout:
    nodes: dict[str, Node] = {}
    lane_of: dict[str, str] = {}
    lane_ids: list[str] = []
    for lane_set in process.findall(f"{{{BPMN_NS}}}laneSet"):
        for lane in lane_set.findall(f"{{{BPMN_NS}}}lane"):
            if lane.find(f"{{{BPMN_NS}}}childLaneSet") is not None:
                raise LayoutError(f"lane {lane.get('id')}: nested lanes are not handled")
            lane_ids.append(lane.get("id"))
            for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef"):
                lane_of[(ref.text or "").strip()] = lane.get("id")
    flows = []
    for el in process:
        if not isinstance(el.tag, str) or etree.QName(el).namespace != BPMN_NS:
            continue
        tag = _local(el)
        if tag in UNSUPPORTED:
            raise LayoutError(f"{el.get('id')}: <{tag}> is not handled by the layout")
        if tag == "sequenceFlow":
            flows.append(Flow(el.get("id"), el.get("sourceRef"), el.get("targetRef"), el.get("name") or ""))
        elif tag in TASKS or tag in EVENTS or tag in GATEWAYS:
            nodes[el.get("id")] = Node(el.get("id"), _kind(tag), tag, el.get("name") or "",
                                       lane_of.get(el.get("id")), len(nodes), attached_to=el.get("attachedToRef"))
    for f in flows:
        if f.source not in nodes or f.target not in nodes:
            raise LayoutError(f"sequence flow {f.id} joins an element the layout does not know")
    _attach_boundaries(nodes)
    lanes = [(lane_id, None) for lane_id in lane_ids]
    if lanes and any(n.lane is None for n in nodes.values()):
        lanes.append((None, None))     # a band inside the pool for nodes in no lane
    return ProcessLayout(process.get("id"), process.get("name") or process.get("id"), participant_id,
                         nodes, flows, lanes, None)


def _attach_boundaries(nodes: dict[str, Node]) -> None:
    """Give each boundary event its task's lane and a slot on the task's border."""
    taken: dict[str, int] = {}
    for node in sorted(nodes.values(), key=lambda n: n.order):
        if not node.is_boundary:
            continue
        host = nodes.get(node.attached_to)
        if host is None or host.kind != "task":
            raise LayoutError(f"boundary event {node.id} is attached to {node.attached_to!r}, which is not a task here")
        slot = taken.get(host.id, 0)
        if slot >= len(BOUNDARY_SLOTS):
            raise LayoutError(f"task {host.id}: more than {len(BOUNDARY_SLOTS)} boundary events are not handled")
        taken[host.id] = slot + 1
        node.lane, node.slot = host.lane, slot


def _place_boundary(node: Node, host: Node) -> None:
    """On the host's border, centred on it; the label beside it, away from the host's middle."""
    side, fraction = BOUNDARY_SLOTS[node.slot]
    w, h = SIZES["event"]
    cx = host.box.x + host.box.w * fraction
    cy = host.box.bottom if side == "bottom" else host.box.y
    node.box = Box(cx - w / 2, cy - h / 2, w, h)
    if node.name:
        lw, lh = _text_box(node.name, 90)
        # Outside the host, beside the half of the event that sticks out of it.
        y = host.box.bottom + 2 if side == "bottom" else host.box.y - 2 - lh
        x = node.box.right + 2 if fraction > 0.5 else node.box.x - 2 - lw
        node.label = Box(x, y, lw, lh)


# --- layering and placement -------------------------------------------------------------------

def _layer(p: ProcessLayout) -> None:
    out: dict[str, list[Flow]] = {n: [] for n in p.nodes}
    incoming: dict[str, list[Flow]] = {n: [] for n in p.nodes}
    # A boundary event is reached through its task: it stands in the task's column, what follows
    # it in the columns after.
    attachments = [Flow(f"{n.attached_to}->{n.id}", n.attached_to, n.id, "", virtual=True)
                   for n in p.nodes.values() if n.is_boundary]
    for f in p.flows + attachments:
        out[f.source].append(f)
        incoming[f.target].append(f)
    starts = [n for n in p.nodes.values() if n.tag == "startEvent"]
    roots = starts + [n for n in p.nodes.values() if not incoming[n.id] and n not in starts] + list(p.nodes.values())
    state: dict[str, int] = {}          # 1 on the stack, 2 done
    finished: list[str] = []
    for root in roots:
        if root.id in state:
            continue
        stack = [(root.id, iter(out[root.id]))]
        state[root.id] = 1
        while stack:
            node_id, it = stack[-1]
            f = next(it, None)
            if f is None:
                state[node_id] = 2
                finished.append(node_id)
                stack.pop()
            elif state.get(f.target) == 1:
                f.back = True
            elif f.target not in state:
                state[f.target] = 1
                stack.append((f.target, iter(out[f.target])))
    for node_id in reversed(finished):          # a topological order of the forward edges
        for f in out[node_id]:
            if not f.back:
                step = 0 if f.virtual else 1
                p.nodes[f.target].layer = max(p.nodes[f.target].layer, p.nodes[node_id].layer + step)


def _place(p: ProcessLayout) -> None:
    """Rows within each lane's band, then coordinates."""
    preds: dict[str, list[str]] = {n: [] for n in p.nodes}
    for f in p.flows:
        if not f.back:
            preds[f.target].append(f.source)
    taken: dict[str | None, dict[tuple[int, int], str]] = {}
    for node in sorted(p.nodes.values(), key=lambda n: (n.layer, n.order)):
        if node.is_boundary:
            continue                    # on its task's border, not in a row of its own
        grid = taken.setdefault(node.lane, {})
        same_lane = [p.nodes[s] for s in preds[node.id] if p.nodes[s].lane == node.lane]
        if same_lane:
            pred = max(same_lane, key=lambda s: (s.layer, -s.order))
            # What follows a boundary event goes a row below its task, where the event hangs.
            preferred = p.nodes[pred.attached_to].row + 1 if pred.is_boundary else pred.row
        else:
            preferred = 0
        row = preferred
        while (node.layer, row) in grid:
            row += 1
        node.row = row
        grid[(node.layer, row)] = node.id

    layers = max((n.layer for n in p.nodes.values()), default=0) + 1
    col_width = [0.0] * layers
    for n in p.nodes.values():
        if not n.is_boundary:
            col_width[n.layer] = max(col_width[n.layer], SIZES[n.kind][0])
    col_x, x = [], (POOL_X + POOL_HEADER + LEFT) if p.lanes else POOL_X
    for w in col_width:
        col_x.append(x)
        x += w + COLUMN_GAP
    content_right = x - COLUMN_GAP + LEFT

    bands = [lane for lane, _ in p.lanes] or [None]
    y = POOL_Y
    band_boxes = {}
    for lane in bands:
        rows = max((n.row for n in p.nodes.values() if n.lane == lane and not n.is_boundary), default=0) + 1
        height = 2 * BAND_MARGIN + (rows - 1) * ROW_HEIGHT + 80
        band_boxes[lane] = Box(POOL_X + POOL_HEADER, y, content_right - POOL_X - POOL_HEADER, height)
        y += height
    for n in p.nodes.values():
        if n.is_boundary:
            continue
        band = band_boxes[n.lane if p.lanes else None]
        w, h = SIZES[n.kind]
        cx = col_x[n.layer] + col_width[n.layer] / 2
        cy = band.y + BAND_MARGIN + 40 + n.row * ROW_HEIGHT
        n.box = Box(cx - w / 2, cy - h / 2, w, h)
        if n.name and n.kind != "task":
            lw, lh = _text_box(n.name, 90 if n.kind == "event" else 120)
            if n.kind == "event":
                n.label = Box(cx - lw / 2, n.box.bottom + 7, lw, lh)
            else:
                n.label = Box(cx - lw / 2, n.box.y - 7 - lh, lw, lh)
    for n in p.nodes.values():
        if n.is_boundary:
            _place_boundary(n, p.nodes[n.attached_to])
    if p.lanes:
        p.lanes = [(lane, band_boxes[lane]) for lane, _ in p.lanes]
        p.pool = Box(POOL_X, POOL_Y, content_right - POOL_X, y - POOL_Y)
    p.col_x, p.col_width = col_x, col_width
    p.bands = list(band_boxes.values())


# --- routing ----------------------------------------------------------------------------------

def _segments(points):
    return list(zip(points, points[1:]))


def _simplify(points):
    out = []
    for pt in points:
        pt = (round(pt[0]), round(pt[1]))
        if out and out[-1] == pt:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == pt[0] or out[-2][1] == out[-1][1] == pt[1]):
            out[-1] = pt
            continue
        out.append(pt)
    return out


def _hits_box(a, b, box: Box, pad: float = 0) -> bool:
    """Does the segment a-b pass through the open interior of `box` (grown by pad)?"""
    x1, x2 = sorted((a[0], b[0]))
    y1, y2 = sorted((a[1], b[1]))
    return (x1 < box.right + pad and x2 > box.x - pad and y1 < box.bottom + pad and y2 > box.y - pad)


def _crossings(points, other) -> tuple[int, float]:
    """(perpendicular crossings, length run along) between two orthogonal polylines."""
    crossings, along = 0, 0.0
    for a, b in _segments(points):
        for c, d in _segments(other):
            if a[0] == b[0] and c[0] == d[0]:
                if abs(a[0] - c[0]) < 6:
                    lo = max(min(a[1], b[1]), min(c[1], d[1]))
                    hi = min(max(a[1], b[1]), max(c[1], d[1]))
                    along += max(0.0, hi - lo)
            elif a[1] == b[1] and c[1] == d[1]:
                if abs(a[1] - c[1]) < 6:
                    lo = max(min(a[0], b[0]), min(c[0], d[0]))
                    hi = min(max(a[0], b[0]), max(c[0], d[0]))
                    along += max(0.0, hi - lo)
            else:
                v, h = ((a, b), (c, d)) if a[0] == b[0] else ((c, d), (a, b))
                x, y = v[0][0], h[0][1]
                if min(h[0][0], h[1][0]) < x < max(h[0][0], h[1][0]) and \
                        min(v[0][1], v[1][1]) < y < max(v[0][1], v[1][1]):
                    crossings += 1
    return crossings, along


def _channels(p: ProcessLayout) -> list[float]:
    """Horizontal lines no shape stands on: above, between and below the rows of each band."""
    ys = []
    for band in p.bands:
        rows = round((band.h - 2 * BAND_MARGIN - 80) / ROW_HEIGHT) + 1
        first = band.y + BAND_MARGIN + 40
        ys.append(band.y + 22)
        ys.extend(first + r * ROW_HEIGHT + ROW_HEIGHT / 2 for r in range(rows - 1))
        ys.append(band.bottom - 22)
    return sorted(set(ys))


def _gaps(p: ProcessLayout, layer: int, after: bool) -> list[float]:
    """Vertical lines in the gap after (or before) a layer's column."""
    if after:
        edge = p.col_x[layer] + p.col_width[layer]
    else:
        edge = p.col_x[layer] - COLUMN_GAP
    mid = edge + COLUMN_GAP / 2
    return [mid, mid - 14, mid + 14]


def _candidates(p: ProcessLayout, s: Node, t: Node):
    S, T = s.box, t.box
    routes = []
    # A boundary event's flows leave from its outer side: the other sides are on or in its task.
    sides_out = [s.side] if s.is_boundary else ["right", "top", "bottom"]
    sides_in = ["left", "top", "bottom"]
    # straight, L and Z shapes
    if abs(S.cy - T.cy) < 1 and T.x > S.right and not s.is_boundary:
        routes.append([S.port("right"), T.port("left")])
    if T.x > S.right and not s.is_boundary:
        for gx in _gaps(p, s.layer, True) + _gaps(p, t.layer, False):
            if S.right < gx < T.x:
                routes.append([S.port("right"), (gx, S.cy), (gx, T.cy), T.port("left")])
    if T.x > S.cx:
        side = "top" if T.cy < S.y else "bottom" if T.cy > S.bottom else None
        if side in sides_out:
            routes.append([S.port(side), (S.cx, T.cy), T.port("left")])
    if T.cx > S.right and not s.is_boundary:
        side = "bottom" if T.y > S.cy else "top"
        if T.bottom < S.cy or T.y > S.cy:
            routes.append([S.port("right"), (T.cx, S.cy), T.port(side)])
    # detours through a channel
    for c in _channels(p):
        starts = []
        for side in sides_out:
            if side == "top" and c < S.y:
                starts.append([S.port("top"), (S.cx, c)])
            elif side == "bottom" and c > S.bottom:
                starts.append([S.port("bottom"), (S.cx, c)])
            elif side == "right":
                for gx in _gaps(p, s.layer, True):
                    starts.append([S.port("right"), (gx, S.cy), (gx, c)])
        ends = []
        for side in sides_in:
            if side == "top" and c < T.y:
                ends.append([(T.cx, c), T.port("top")])
            elif side == "bottom" and c > T.bottom:
                ends.append([(T.cx, c), T.port("bottom")])
            elif side == "left":
                for gx in _gaps(p, t.layer, False):
                    ends.append([(gx, c), (gx, T.cy), T.port("left")])
        for a in starts:
            for b in ends:
                routes.append(a + b)
    return [_simplify(r) for r in routes]


def _cost(p, points, s: Node, t: Node, routed: list[Flow]) -> float:
    cost = 0.0
    for a, b in _segments(points):
        for n in p.nodes.values():
            pad = 0 if n.id in (s.id, t.id) else 8
            if _hits_box(a, b, n.box, pad):
                cost += 10000
            if n.label is not None and _hits_box(a, b, n.label, 2):
                cost += 400
        cost += abs(a[0] - b[0]) + abs(a[1] - b[1])
        if a[0] > b[0] and not (s.layer >= t.layer):
            cost += 2 * abs(a[0] - b[0])       # a forward flow running backwards
    for f in routed:
        crossings, along = _crossings(points, f.points)
        # flows into one target may merge into one line; flows out of one source split early
        weight = 0.3 if f.target == t.id else 3 if f.source == s.id else 12
        cost += 150 * crossings + along * weight
    cost += 40 * (len(points) - 2)
    if s.layer >= t.layer and not (points[-2][0] == points[-1][0] and points[-2][1] < points[-1][1]):
        cost += 300                             # a loop goes back over the top of its target
    return cost


def _lower_bound(points) -> float:
    return sum(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in _segments(points)) + 40 * (len(points) - 2)


def _route(p: ProcessLayout) -> None:
    routed: list[Flow] = []
    forward = [f for f in p.flows if not f.back]
    order = sorted(forward, key=lambda f: (p.nodes[f.target].layer - p.nodes[f.source].layer,
                                           p.flows.index(f)))
    for f in order + [f for f in p.flows if f.back]:
        s, t = p.nodes[f.source], p.nodes[f.target]
        best, best_cost = None, math.inf
        for pts in sorted(_candidates(p, s, t), key=_lower_bound):
            if _lower_bound(pts) >= best_cost:
                break                    # the rest cost at least this much even if nothing is in the way
            cost = _cost(p, pts, s, t, routed)
            if cost < best_cost:
                best, best_cost = pts, cost
        f.points = best
        routed.append(f)
        if f.name:
            (a, b) = max(_segments(best), key=lambda seg: abs(seg[0][0] - seg[1][0]) + abs(seg[0][1] - seg[1][1]))
            lw, lh = _text_box(f.name, 90)
            mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
            f.label = Box(mx - lw / 2, my - lh - 4, lw, lh) if a[1] == b[1] else Box(mx + 6, my - lh / 2, lw, lh)


def layout_process(process, participant_id: str | None) -> ProcessLayout:
    p = _read_process(process, participant_id)
    _layer(p)
    _place(p)
    _route(p)
    return p


# --- writing the DI into the text -------------------------------------------------------------

def _num(v: float) -> str:
    return str(int(round(v)))


def _bounds(box: Box, indent: str) -> str:
    return f'{indent}<dc:Bounds x="{_num(box.x)}" y="{_num(box.y)}" width="{_num(box.w)}" height="{_num(box.h)}" />\n'


def _shape(element_id: str, box: Box, indent: str, label: Box | None = None, **attributes) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attributes.items())
    text = f'{indent}<bpmndi:BPMNShape id="{element_id}_di" bpmnElement="{element_id}"{extra}>\n'
    text += _bounds(box, indent + "  ")
    if label is not None:
        text += f"{indent}  <bpmndi:BPMNLabel>\n{_bounds(label, indent + '    ')}{indent}  </bpmndi:BPMNLabel>\n"
    return text + f"{indent}</bpmndi:BPMNShape>\n"


def _edge(flow: Flow, indent: str) -> str:
    text = f'{indent}<bpmndi:BPMNEdge id="{flow.id}_di" bpmnElement="{flow.id}">\n'
    for x, y in flow.points:
        text += f'{indent}  <di:waypoint x="{_num(x)}" y="{_num(y)}" />\n'
    if flow.label is not None:
        text += f"{indent}  <bpmndi:BPMNLabel>\n{_bounds(flow.label, indent + '    ')}{indent}  </bpmndi:BPMNLabel>\n"
    return text + f"{indent}</bpmndi:BPMNEdge>\n"


def diagram_text(definitions_id: str, plane_element: str, layouts: list[ProcessLayout], indent: str = "  ") -> str:
    i2, i3 = indent * 2, indent * 3
    text = f'{indent}<bpmndi:BPMNDiagram id="{definitions_id}_diagram">\n'
    text += f'{i2}<bpmndi:BPMNPlane id="{definitions_id}_plane" bpmnElement="{plane_element}">\n'
    for p in layouts:
        if p.participant_id:
            text += _shape(p.participant_id, p.pool, i3, isHorizontal="true")
            for lane, box in p.lanes:
                if lane is not None:
                    text += _shape(lane, box, i3, isHorizontal="true")
        for n in sorted(p.nodes.values(), key=lambda n: n.order):
            extra = {"isMarkerVisible": "true"} if n.tag == "exclusiveGateway" else {}
            text += _shape(n.id, n.box, i3, n.label, **extra)
        for f in p.flows:
            text += _edge(f, i3)
    text += f"{i2}</bpmndi:BPMNPlane>\n{indent}</bpmndi:BPMNDiagram>\n"
    return text


_DIAGRAM = re.compile(r"[ \t]*<bpmndi:BPMNDiagram\b.*?</bpmndi:BPMNDiagram>[ \t]*\n?", re.S)


def layout_text(text: str, filename: str = "diagram.bpmn") -> str:
    """The file's text with fresh DI (and a collaboration when a process has lanes)."""
    root = parse_xml(text, filename)
    if etree.QName(root).namespace != BPMN_NS:
        raise LayoutError(f"{filename}: not a BPMN document")
    prefix = next((k for k, v in root.nsmap.items() if v == BPMN_NS), None)
    if prefix != "bpmn":
        raise LayoutError(f"{filename}: the layout expects the BPMN namespace as prefix 'bpmn:'")
    for pfx, ns in (("bpmndi", BPMNDI_NS), ("dc", DC_NS), ("di", DI_NS)):
        if root.nsmap.get(pfx) not in (None, ns):
            raise LayoutError(f"{filename}: prefix '{pfx}' is bound to {root.nsmap[pfx]}, not {ns}")
    foreign = [d for d in root.iter(f"{{{BPMNDI_NS}}}BPMNDiagram") if d.prefix != "bpmndi"]
    if foreign:
        raise LayoutError(f"{filename}: existing DI uses a prefix other than 'bpmndi:'")
    processes = root.findall(f"{{{BPMN_NS}}}process")
    collaborations = root.findall(f"{{{BPMN_NS}}}collaboration")
    if len(collaborations) > 1:
        raise LayoutError(f"{filename}: more than one collaboration")
    participants = {}
    if collaborations:
        for part in collaborations[0].findall(f"{{{BPMN_NS}}}participant"):
            if part.get("processRef"):
                participants[part.get("processRef")] = part.get("id")
    needs_pool = bool(collaborations) or len(processes) > 1 or any(
        pr.find(f"{{{BPMN_NS}}}laneSet") is not None for pr in processes)
    definitions_id = root.get("id") or Path(filename).stem
    ids = {el.get("id") for el in root.iter()
           if isinstance(el.tag, str) and el.get("id") and etree.QName(el).namespace not in (BPMNDI_NS, DC_NS, DI_NS)}
    new_participants = []
    if needs_pool:
        for pr in processes:
            if pr.get("id") not in participants:
                pid = f"{pr.get('id')}_participant"
                if pid in ids:
                    raise LayoutError(f"{filename}: id {pid} is taken")
                participants[pr.get("id")] = pid
                new_participants.append((pid, pr.get("name") or pr.get("id"), pr.get("id")))
    layouts = []
    y_offset = 0.0
    for pr in processes:
        p = layout_process(pr, participants.get(pr.get("id")) if needs_pool else None)
        if not p.pool and needs_pool:           # a process without lanes still gets a pool
            _pool_without_lanes(p)
        _shift(p, y_offset)
        y_offset += (p.pool.bottom if p.pool else max(n.box.bottom for n in p.nodes.values())) - POOL_Y + 60
        layouts.append(p)
    taken = [f"{i}_di" for i in ids if f"{i}_di" in ids]
    if taken:
        raise LayoutError(f"{filename}: ids ending in _di are taken: {', '.join(sorted(taken))}")

    # 1. namespaces on the root element
    out = _DIAGRAM.sub("", text)
    start = re.search(r"<bpmn:definitions\b[^>]*>", out)
    declarations = "".join(f' xmlns:{pfx}="{ns}"' for pfx, ns in (("bpmndi", BPMNDI_NS), ("dc", DC_NS), ("di", DI_NS))
                           if f"xmlns:{pfx}=" not in start.group(0))
    if declarations:
        tag = start.group(0)
        at = re.search(r'xmlns:bpmn="[^"]*"', tag).end()
        line_start = out.rfind("\n", 0, start.start()) + 1
        continuation = re.search(r"\n([ \t]*)\S", tag)
        joiner = ("\n" + continuation.group(1)) if continuation else " "
        new = "".join(f'{joiner}xmlns:{pfx}="{ns}"' for pfx, ns in
                      (("bpmndi", BPMNDI_NS), ("dc", DC_NS), ("di", DI_NS)) if f"xmlns:{pfx}=" not in tag)
        del line_start
        tag = tag[:at] + new + tag[at:]
        out = out[:start.start()] + tag + out[start.end():]
    # 2. participants for processes that need a pool
    if new_participants:
        indent = "  "
        lines = "".join(f'{indent * 2}<bpmn:participant id="{pid}" name="{_attr(name)}" processRef="{ref}"/>\n'
                        for pid, name, ref in new_participants)
        if collaborations:
            close = re.search(r"[ \t]*</bpmn:collaboration>", out)
            if close is None:
                raise LayoutError(f"{filename}: cannot add a participant to an empty collaboration element")
            out = out[:close.start()] + lines + out[close.start():]
        else:
            first = re.search(r"[ \t]*<bpmn:process\b", out)
            block = f'{indent}<bpmn:collaboration id="{definitions_id}_collaboration">\n{lines}{indent}</bpmn:collaboration>\n'
            out = out[:first.start()] + block + out[first.start():]
            collaboration_id = f"{definitions_id}_collaboration"
    if needs_pool:
        plane = collaborations[0].get("id") if collaborations else collaboration_id
    else:
        plane = processes[0].get("id")
    # 3. the diagram, before </bpmn:definitions>
    end = out.rfind("</bpmn:definitions>")
    if end < 0:
        raise LayoutError(f"{filename}: no </bpmn:definitions>")
    line_start = out.rfind("\n", 0, end) + 1
    before = out[:line_start] if out[line_start:end].strip() == "" else out[:end] + "\n"
    out = before + diagram_text(definitions_id, plane, layouts) + out[end:]
    parse_xml(out, filename)            # still well-formed
    return out


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _pool_without_lanes(p: ProcessLayout) -> None:
    """Shift a lane-less process right by the pool header and put a pool around it."""
    for n in p.nodes.values():
        for box in (n.box, n.label):
            if box is not None:
                box.x += POOL_HEADER + LEFT
    for f in p.flows:
        f.points = [(x + POOL_HEADER + LEFT, y) for x, y in f.points]
        if f.label is not None:
            f.label.x += POOL_HEADER + LEFT
    right = max(n.box.right for n in p.nodes.values()) + LEFT
    top = min(min(n.box.y for n in p.nodes.values()), min(y for f in p.flows for _, y in f.points) if p.flows else 1e9)
    bottom = max(max(n.box.bottom for n in p.nodes.values()),
                 max((y for f in p.flows for _, y in f.points), default=0))
    p.pool = Box(POOL_X, min(POOL_Y, top - BAND_MARGIN), right - POOL_X, bottom + BAND_MARGIN - min(POOL_Y, top - BAND_MARGIN))


def _shift(p: ProcessLayout, dy: float) -> None:
    if not dy:
        return
    for n in p.nodes.values():
        for box in (n.box, n.label):
            if box is not None:
                box.y += dy
    for f in p.flows:
        f.points = [(x, y + dy) for x, y in f.points]
        if f.label is not None:
            f.label.y += dy
    if p.pool:
        p.pool.y += dy
    for _, box in p.lanes:
        if box is not None:
            box.y += dy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workflows.layout", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 when a file's DI is not what the layout would write")
    args = parser.parse_args(argv)
    stale = []
    for path in args.files:
        text = path.read_text(encoding="utf-8")
        try:
            new = layout_text(text, str(path))
        except LayoutError as err:
            print(f"{path}: {err}", file=sys.stderr)
            return 2
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
