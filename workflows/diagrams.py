"""Reading analysts' BPMN and DMN files into SpiffWorkflow specs, and refusing bad ones.

XML is parsed here, and only here, with entity resolution, DTD loading and network access off.
`check_files` lists every reason a set of files must not be deployed, without running anything:
unparseable XML, invalid BPMN, a service task naming an unknown handler operation, a user task
naming an unknown form or no lane, a call activity to a missing process, or a script, condition or
DMN cell the sandbox refuses.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from threading import Lock
from typing import Iterable

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from handlers.data_files import data_file_problem, is_data_file
from workflows.engine import LoanServiceTask, cardinality_problem, timer_problem
from workflows.sandbox import problems_in
from workflows.sandbox.limits import MAX_CELL_PLACEHOLDERS, MAX_DEPLOYMENT_CODE, MAX_INSTANCES
from workflows import timers
from workflows.timers import clocked

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "https://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
XINCLUDE_NS = "http://www.w3.org/2001/XInclude"
MAX_FILE_BYTES = 2_000_000

# The text is read as UTF-8 whatever the document declares: a declared encoding="UTF-7" made
# '+ADw-!DOCTYPE' a DOCTYPE that the byte check below never saw.
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                            dtd_validation=False, huge_tree=False, remove_comments=True, remove_pis=True,
                            encoding="utf-8")


class _ClockedTimers:
    """Timer events read our clock and China time (workflows/timers.py), not the server's."""

    def parse_timer_event(self, event):
        return clocked(super().parse_timer_event(event))


class LoanBpmnParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = dict(SpiffBpmnParser.OVERRIDE_PARSER_CLASSES)
    OVERRIDE_PARSER_CLASSES[full_tag("serviceTask")] = (ServiceTaskParser, LoanServiceTask)
    for _tag in ("startEvent", "boundaryEvent", "intermediateCatchEvent"):
        _parser, _spec = OVERRIDE_PARSER_CLASSES[full_tag(_tag)]
        OVERRIDE_PARSER_CLASSES[full_tag(_tag)] = (type(f"Clocked{_parser.__name__}", (_ClockedTimers, _parser), {}),
                                                   _spec)
    del _tag, _parser, _spec


@dataclass
class Problem:
    file: str
    reason: str

    def as_dict(self) -> dict:
        return {"file": self.file, "reason": self.reason}


def parse_xml(text: str | bytes, filename: str):
    """The root element of a BPMN/DMN document; entities are never expanded."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"file is larger than {MAX_FILE_BYTES} bytes")
    if b"<!ENTITY" in data or b"<!DOCTYPE" in data:
        raise ValueError("DOCTYPE and ENTITY declarations are not accepted")
    root = etree.fromstring(data, parser=_SAFE_XML)
    if root.getroottree().docinfo.doctype:
        raise ValueError("DOCTYPE and ENTITY declarations are not accepted")
    if next(root.iter(f"{{{XINCLUDE_NS}}}*"), None) is not None:
        raise ValueError("XInclude is not accepted; every file is deployed whole")
    return root


def engine_files(files: dict) -> dict:
    """The files SpiffWorkflow executes: BPMN, and DMN that is not a component's data file."""
    return {name: f for name, f in files.items()
            if file_kind(name) in ("bpmn", "dmn") and not is_data_file(name)}


def file_kind(filename: str) -> str | None:
    for suffix in ("bpmn", "dmn", "json"):
        if filename.endswith("." + suffix):
            return suffix
    return None


@dataclass
class ParsedSet:
    """The specs a set of diagrams defines; built once per distinct set and cached."""
    parser: LoanBpmnParser
    process_ids: list[str]
    decision_ids: list[str]
    process_names: dict[str, str] = field(default_factory=dict)
    _specs: dict = field(default_factory=dict, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)

    def specs_for(self, process_id: str):
        # SpiffWorkflow's parser builds specs lazily and mutates its dicts while it does: two
        # requests of one cached set must not build at once ("dictionary changed size during
        # iteration" was a 500). Built once per process under the lock, then shared read-only.
        with self._lock:
            if process_id not in self._specs:
                self._specs[process_id] = (self.parser.get_spec(process_id),
                                           self.parser.get_subprocess_specs(process_id))
            return self._specs[process_id]


def parse_set(files: dict[str, str]) -> ParsedSet:
    """Parse BPMN and DMN files together (call activities and decisions resolve across files)."""
    parser = LoanBpmnParser(validator=VALIDATOR)
    decisions: list[str] = []
    names: dict[str, str] = {}
    for name in sorted(n for n in files if file_kind(n) == "dmn"):
        root = parse_xml(files[name], name)
        parser.add_dmn_xml(root, filename=name)
        decisions.extend(d.get("id") for d in root.iter() if etree.QName(d).localname == "decision")
    for name in sorted(n for n in files if file_kind(n) == "bpmn"):
        root = parse_xml(files[name], name)
        parser.add_bpmn_xml(etree.ElementTree(root), filename=name)
        for proc in root.iter(f"{{{BPMN_NS}}}process"):
            names[proc.get("id")] = proc.get("name") or proc.get("id")
    return ParsedSet(parser, parser.get_process_ids(), decisions, names)


# Elements whose text SpiffWorkflow evaluates (mode "exec" for scripts, "eval" for expressions).
EXPRESSION_ELEMENTS = {
    "script": "exec", "preScript": "exec", "postScript": "exec",
    "conditionExpression": "eval", "timeDate": "eval", "timeDuration": "eval", "timeCycle": "eval",
    "loopCardinality": "eval", "completionCondition": "eval", "loopCondition": "eval",
    "messagePayload": "eval",
    # A conditional event's condition, and the payload of a signal, error or escalation (SpiffWorkflow
    # evaluates both; they were only refused when they ran).
    "condition": "eval", "payloadExpression": "eval",
}
TIMER_ELEMENTS = ("timeDate", "timeDuration", "timeCycle")
# Elements and attributes that name a task-data variable the engine writes.
VARIABLE_ELEMENTS = ("messageVariable", "loopDataOutputRef", "variableName")
# Elements whose id names a task-data variable (data objects, multi-instance items, task inputs and
# outputs): '__sb__' as a data object would be a global beside the sandbox's guards.
VARIABLE_IDS = ("dataObject", "dataInput", "dataOutput", "inputDataItem", "outputDataItem")


def _expressions(root) -> Iterable[tuple[str, str, str]]:
    """(where, source, mode) for every piece of code a diagram carries."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        owner = el.getparent()
        where = _element_id(el)
        text = (el.text or "").strip()
        if local in EXPRESSION_ELEMENTS and text:
            yield where, text, EXPRESSION_ELEMENTS[local] if local not in TIMER_ELEMENTS else local
            if local == "loopCardinality":
                yield where, text, "cardinality"
        elif local == "expression" and etree.QName(el).namespace == SPIFF_NS and text:
            yield where, text, "eval"
        elif local == "parameter" and el.get("value"):
            yield el.get("id") or where, el.get("value"), "eval"
        elif local == "inputExpression":
            for t in el:
                if isinstance(t.tag, str) and (t.text or "").strip():
                    yield where, t.text.strip(), "eval"
        elif local in ("inputEntry", "outputEntry"):
            for t in el:
                if isinstance(t.tag, str) and (t.text or "").strip() not in ("", "-"):
                    yield where, t.text.strip(), local
        elif local == "correlationPropertyRetrievalExpression":
            # SpiffWorkflow evaluates the text of its FIRST child, whatever that child is called.
            first = next((c for c in el if isinstance(c.tag, str)), None)
            if first is not None and (first.text or "").strip():
                yield _element_id(first), first.text.strip(), "eval"
        elif local.endswith("script") and owner is not None and etree.QName(owner).localname == "scriptTask":
            # ... and a script task's script is any child whose tag ends with 'script'.
            if text:
                yield where, text, "exec"
        elif local in VARIABLE_ELEMENTS and text:
            yield where, text, "variable"
        elif local == "loopDataInputRef":
            yield where, text, "collection"
        elif local == "output" and etree.QName(el).namespace in DMN_NAMESPACES:
            # A DMN output is stored under its name (or, without one, its label; dots make nesting).
            yield where, el.get("name") or el.get("label") or "", "variable"
        if local in VARIABLE_IDS and el.get("id", "").startswith("_"):
            yield _element_id(owner), el.get("id"), "variable"
        for attribute in ("resultVariable", "messageVariable"):
            if el.get(attribute):
                yield where, el.get(attribute), "variable"


def _element_id(el) -> str:
    """The id of the nearest element that has one: the task, flow, event or DMN cell. (SpiffWorkflow's
    extension elements use `id` for other things: a serviceTaskOperator's id is its operation. An
    event definition's id, which modelers generate as `TimerEventDefinition_0x1`, names nothing an
    analyst sees: its event is named instead.)"""
    node = el
    while node is not None:
        if isinstance(node.tag, str) and node.get("id") and etree.QName(node).namespace != SPIFF_NS \
                and not etree.QName(node).localname.endswith("EventDefinition"):
            return node.get("id")
        node = node.getparent()
    return etree.QName(el).localname


_BARE_TIMER = re.compile(r"^(R\d*/)?P|^\d{4}-\d{2}-\d{2}")


def _constant(source: str):
    """The constant a one-expression source is (a quoted timer, a number), with its line; else None."""
    try:
        body = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return (body.value, body.lineno) if isinstance(body, ast.Constant) else None


def _script_problems(source: str, mode: str) -> list[str]:
    if mode in TIMER_ELEMENTS:
        # SpiffWorkflow evaluates timer text as an expression: P1D is a name, 'P1D' is the text.
        if _BARE_TIMER.match(source) or timers.WORKING_TIME.fullmatch(source.strip()):
            return [f"timer expressions are evaluated, so a fixed duration or date must be quoted: "
                    f"'{source}'"]
        problems = problems_in(source, "eval")
        constant = None if problems else _constant(source)
        if constant is not None:  # a fixed timer is checked as it will run ('P999999999M' never ends)
            problem = timer_problem(mode, constant[0])
            problems = [f"line {constant[1]}: {problem}"] if problem else []
        return problems
    if mode == "cardinality":
        constant = _constant(source)
        problem = cardinality_problem(constant[0]) if constant is not None else None
        return [f"line {constant[1]}: {problem}"] if problem else []
    if mode == "collection":
        return [f"multi-instance over a collection (loopDataInputRef) is not part of the language: each "
                f"instance copies all the task data; use loopCardinality, such as len({source}), at most "
                f"{MAX_INSTANCES}"]
    if mode == "variable":
        if not source.isidentifier() or source.startswith("_"):
            return [f"'{source}' is not a usable variable name (letters, digits and '_', not starting with '_')"]
        return []
    if mode == "inputEntry":
        # SpiffWorkflow's DMN turns a cell into `(input) == (cell)` or `input cell`, or, when the
        # cell holds `?`, replaces `?` with the input's value. It finds each '?' with a regular
        # expression that reads the rest of the cell again, so their number is bounded.
        if source.count("?") > MAX_CELL_PLACEHOLDERS:
            return [f"line 1: a cell may use '?' at most {MAX_CELL_PLACEHOLDERS} times"]
        if "?" in source:
            return problems_in(source.replace("?", "dmn_input"), "eval")
        as_value = problems_in(f"dmn_input == ({source})", "eval")
        as_test = problems_in(f"dmn_input {source}", "eval")
        return [] if not as_value or not as_test else (as_value if "syntax" not in " ".join(as_value) else as_test)
    if mode == "outputEntry":
        return problems_in(source, "eval")
    return problems_in(source, mode)


PRODUCTS_FILE = "products.json"  # workflows.products.PRODUCTS_FILE (which imports this module's callers)


def check_files(files: dict[str, str], *, operations: set[str], forms: set[str]) -> list[Problem]:
    """Every reason this complete set of files cannot run; empty when it can."""
    problems: list[Problem] = []
    roots = {}
    for name, text in files.items():
        if file_kind(name) is None:
            problems.append(Problem(name, "only .bpmn, .dmn and .json files can be deployed"))
            continue
        if is_data_file(name):
            reason = data_file_problem(name, text)
            if reason:
                problems.append(Problem(name, reason))
            continue
        if name == PRODUCTS_FILE:
            continue  # read by intake; checked against the other scope's at deployment (workflows/products.py)
        if file_kind(name) == "json":
            problems.append(Problem(name, "no component reads this data file"))
            continue
        try:
            roots[name] = parse_xml(text, name)
        except (etree.XMLSyntaxError, ValueError) as err:
            problems.append(Problem(name, f"not well-formed XML: {err}"))
    code = 0
    for name, root in roots.items():
        if file_kind(name) == "dmn" and etree.QName(root).namespace not in DMN_NAMESPACES:
            problems.append(Problem(name, "not a DMN document (root element must be dmn:definitions)"))
        if file_kind(name) == "bpmn" and etree.QName(root).namespace != BPMN_NS:
            problems.append(Problem(name, "not a BPMN 2.0 document (root element must be bpmn:definitions)"))
        for where, source, mode in _expressions(root):
            code += len(source)
            if code > MAX_DEPLOYMENT_CODE:  # 10 MB of 20,000-character scripts took a minute to check
                problems.append(Problem(name, f"{where}: the deployment carries more than {MAX_DEPLOYMENT_CODE:,} "
                                              "characters of code; split it, or move the logic into a handler"))
                return problems
            for reason in _script_problems(source, mode):
                problems.append(Problem(name, f"{where}: {reason}"))
    if problems:
        return problems
    try:
        parsed = parse_set({n: files[n] for n in roots})
    except (ValidationException, SpiffWorkflowException, etree.LxmlError) as err:
        return [Problem(getattr(err, "file_name", None) or "diagram", _spiff_message(err))]
    for process_id in parsed.process_ids:
        try:
            spec, subprocesses = parsed.specs_for(process_id)
        except (ValidationException, SpiffWorkflowException) as err:
            problems.append(Problem(getattr(err, "file_name", None) or process_id, _spiff_message(err)))
            continue
        problems.extend(_task_problems(spec, operations, forms))
    return problems


def _spiff_message(err: Exception) -> str:
    message = str(err).splitlines()[0] if str(err) else err.__class__.__name__
    line = getattr(err, "sourceline", None) or getattr(err, "line_number", None)
    return f"{message} (line {line})" if line else message


def _task_problems(spec, operations: set[str], forms: set[str]) -> list[Problem]:
    problems = []
    file = getattr(spec, "file", None) or spec.name
    for task_spec in spec.task_specs.values():
        label = f"{task_spec.bpmn_id or task_spec.name}"
        if isinstance(task_spec, LoanServiceTask) and task_spec.operation_name not in operations:
            problems.append(Problem(file, f"{label}: service task calls unknown handler "
                                          f"'{task_spec.operation_name}'"))
        if isinstance(task_spec, StartEvent):
            form = task_property(task_spec, "form")
            if form and form not in forms:
                problems.append(Problem(file, f"{label}: start event names unknown form '{form}'"))
            for key in (task_property(task_spec, "correlation_keys") or "").split(","):
                if key.strip() and not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", key.strip()):
                    problems.append(Problem(file, f"{label}: correlation key '{key.strip()}' must be a name "
                                                  "such as loan_id"))
        if isinstance(task_spec, LoanServiceTask) and task_spec.operation_name in BOUNDARY_TASK_OPERATIONS:
            reason = _boundary_task_problem(task_spec)
            if reason:
                problems.append(Problem(file, f"{label}: {reason}"))
        if isinstance(task_spec, UserTaskMixin):
            form = (getattr(task_spec, "extensions", {}) or {}).get("properties", {}).get("form")
            if not form:
                problems.append(Problem(file, f"{label}: user task names no form (property 'form')"))
            elif form not in forms:
                problems.append(Problem(file, f"{label}: user task names unknown form '{form}'"))
            if not task_spec.lane:
                problems.append(Problem(file, f"{label}: user task is in no lane, so no role can work it"))
            # The inbox reads these as numbers when the task opens: text there was a 500 then.
            for name, lowest, highest in USER_TASK_NUMBERS:
                value = task_property(task_spec, name)
                if value is not None and not (value.isascii() and value.isdigit() and lowest <= int(value) <= highest):
                    problems.append(Problem(file, f"{label}: property '{name}' must be a whole number from "
                                                  f"{lowest} to {highest}"))
    return problems


USER_TASK_NUMBERS = (("level", 0, 9), ("due_hours", 1, 24 * 366), ("due_working_hours", 1, 9 * 366))

# The review SLA's service tasks act on the task whose boundary timer leads to them, named by their
# `task_key` parameter (handlers/review_sla.py). A slip there would remind or escalate nobody, and
# only show in a log, so it is refused here.
BOUNDARY_TASK_OPERATIONS = frozenset({"review.remind", "review.escalate"})


def _boundary_task_problem(task_spec) -> str | None:
    events = [i for i in task_spec.inputs if isinstance(i, BoundaryEvent)]
    if len(events) != 1 or len(task_spec.inputs) != 1:
        return f"'{task_spec.operation_name}' must come straight after one boundary event on the task it acts on"
    hosts = [o.bpmn_id for split in events[0].inputs if isinstance(split, BoundaryEventSplit)
             for o in split.outputs if not isinstance(o, BoundaryEvent)]
    source = (task_spec.operation_params.get("task_key") or {}).get("value")
    named = _constant(source) if source else None
    if named is None or named[0] not in hosts:
        return (f"parameter task_key must name the task its boundary event {events[0].bpmn_id} is attached to: "
                f"'{hosts[0] if hosts else '?'}'")
    return None


def user_task_form(task_spec) -> str | None:
    return (getattr(task_spec, "extensions", {}) or {}).get("properties", {}).get("form")


def task_property(task_spec, name: str, default=None):
    return (getattr(task_spec, "extensions", {}) or {}).get("properties", {}).get(name, default)
