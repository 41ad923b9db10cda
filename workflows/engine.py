"""Our configuration of SpiffWorkflow: sandboxed scripts, handler dispatch, Decimal-safe state.

Everything SpiffWorkflow-specific that is not parsing lives here: the script engine (scripts,
conditions and DMN expressions run in workflows.sandbox), the service task that hands task data to
a handler and merges back a dict (no JSON round trip, so Decimals stay Decimals), and the
serializer with converters for Decimal and date.
"""
from __future__ import annotations

import dataclasses

import copy
import datetime as dt
import decimal
import re
import time
from contextlib import contextmanager
from decimal import Decimal
from typing import Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from contextvars import ContextVar
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition, TimeDateEventDefinition,
                                                              TimerEventDefinition)
from SpiffWorkflow.dmn.specs.business_rule_task_mixin import BusinessRuleTaskMixin
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from handlers.results import task_data_of
from workflows import timers
from workflows.errors import HandlerFailed, ProcessBoundExceeded, ScriptFailed, WorkflowError
from workflows.sandbox import run_sandboxed
from workflows.sandbox.guards import kind
from workflows.sandbox.limits import MAX_INSTANCES, MAX_PROCESS_SECONDS, MAX_PROCESS_STEPS, MAX_TIMER_CHARS
from workflows.sandbox.values import storage_problem


OUTSIDE_A_TASK = "message correlation or completion condition"


class SandboxedEnvironment(TaskDataEnvironment):
    """Task data is the only namespace; builtins are the sandbox's allow-list."""

    def evaluate(self, expression, context, external_context=None):
        """What SpiffWorkflow calls without a task: message correlations, and the completion
        condition of an ad-hoc subprocess. Its errors would leave as Python's own text, or as a 500
        when the channel's signature is caught outside an advance, so they become ScriptFailed."""
        try:
            return self.evaluate_in_task(expression, context, external_context)
        except Exception as err:  # noqa: BLE001 - an analyst's expression failing is an incident
            raise ScriptFailed(element=OUTSIDE_A_TASK, reason=plain_reason(err), expression=expression) from None

    def evaluate_in_task(self, expression, context, external_context=None):
        namespace = dict(context)
        namespace.update(external_context or {})
        return run_sandboxed(expression, "eval", namespace)

    def execute(self, script, context, external_context=None):
        # A failing script leaves the task data as it was. It runs on a copy that replaces the data
        # only when the whole script ran and what it left is storable: otherwise the incident would
        # be saved with whatever the script built before it failed (say 100,000 references to one
        # long text, 10 GB as JSON) and the save itself would fail, or a retry would see half a run.
        namespace = copy.deepcopy(context)
        added = [name for name in external_context or {} if name not in namespace]
        for name in added:
            namespace[name] = external_context[name]
        run_sandboxed(script, "exec", namespace)
        for name in added:
            namespace.pop(name, None)
        context.clear()
        context.update(namespace)
        return True


class ProcessBudget:
    """What one advance of an instance may run before it waits (limits.py, MAX_PROCESS_*).

    Deterministic first: a count of engine tasks. The clock is the backstop, for SpiffWorkflow's
    own cost per task, which grows with the number of tasks, and for the evaluations inside one
    task: each has its own budget, but a gateway with 300 conditions or a DMN table with 200 rows
    of costly cells ran for seconds in one step. Time in handlers does not count."""

    def __init__(self, started: float | None = None) -> None:
        self.steps = 0
        self.started = started  # None outside run_engine_steps: a lone task.run() is one task
        self.in_handlers = 0.0

    def before_task(self, task) -> None:
        self.steps += 1
        if self.steps > MAX_PROCESS_STEPS:
            raise ProcessBoundExceeded(
                f"{element_label(task)}: the process ran {MAX_PROCESS_STEPS:,} tasks without waiting for a person, "
                "a message or a timer; does a loop in the diagram never end?")
        self.check_clock(task)

    def check_clock(self, task) -> None:
        """Before each task, and before each evaluation inside one."""
        if self.started is not None and time.monotonic() - self.started - self.in_handlers > MAX_PROCESS_SECONDS:
            raise ProcessBoundExceeded(
                f"{element_label(task)}: the process ran longer than {MAX_PROCESS_SECONDS:g} s without waiting "
                "for a person, a message or a timer; does a loop in the diagram never end, or does one "
                "step evaluate too much?")

    @contextmanager
    def in_handler(self):
        started = time.monotonic()
        try:
            yield
        finally:
            self.in_handlers += time.monotonic() - started


ServiceCall = Callable[[str, dict, object], dict]


class LoanScriptEngine(PythonScriptEngine):
    """One per unit of work: it carries the handler dispatcher bound to that transaction.

    Every failure of an analyst's expression leaves here as ScriptFailed naming the element, so
    an incident says where and why instead of SpiffWorkflow's "Error evaluating expression".
    """

    def __init__(self, call_handler: ServiceCall | None = None):
        super().__init__(environment=SandboxedEnvironment())
        self._call_handler = call_handler
        self.budget = ProcessBudget()

    def run_engine_steps(self, workflow) -> None:
        """workflow.do_engine_steps() within the process bounds of one advance."""
        self.budget = ProcessBudget(started=time.monotonic())
        workflow.do_engine_steps(will_complete_task=self.budget.before_task)

    def call_service(self, task, **kwargs):
        # Replaces SpiffWorkflow's version, whose error path raises NameError.
        if self._call_handler is None:
            raise HandlerFailed("No handler dispatcher is configured for service tasks")
        operation = kwargs["operation_name"]
        params = {name: p["value"] for name, p in kwargs.get("operation_params", {}).items()}
        with self.budget.in_handler():
            return self._call_handler(operation, params, task)

    def evaluate(self, task, expression, external_context=None):
        self.budget.check_clock(task)
        try:
            value = self.environment.evaluate_in_task(expression, task.data, external_context)
            problem = result_problem(task, expression, value)
        except Exception as err:  # noqa: BLE001 - an analyst's expression failing is an incident
            raise _script_failed(task, expression, err) from None
        if problem:
            raise ScriptFailed(element=element_label(task), reason=problem, expression=expression)
        return value

    def execute(self, task, script, external_context=None):
        self.budget.check_clock(task)
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except Exception as err:  # noqa: BLE001 - an analyst's script failing is an incident
            raise _script_failed(task, script, err) from None


def element_label(task) -> str:
    spec = getattr(task, "task_spec", None)
    element = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "expression")
    name = getattr(spec, "bpmn_name", None)
    return f"{element} ({name})" if name and name != element else element


def _script_failed(task, source: str, err: Exception) -> ScriptFailed:
    if isinstance(err, ScriptFailed):
        return err
    # SpiffWorkflow's DMN engine writes a cell's '?' as `dmninputexpr`; show the cell as written.
    shown = source.replace("dmninputexpr", "?") if isinstance(task.task_spec, BusinessRuleTaskMixin) else source
    return ScriptFailed(element=element_label(task), reason=plain_reason(err), expression=shown)


# -- what SpiffWorkflow does with an expression's value ------------------------------------------
def result_problem(task, expression: str, value) -> str | None:
    """Why SpiffWorkflow must not be handed this value; None when it may.

    The sandbox bounds the evaluation; some values then drive work of their own: a cardinality is
    a number of task instances, a timer's text is walked month by month ('P999999999M' never
    ends), and a payload or a DMN output is stored in task data."""
    spec = task.task_spec
    definition = getattr(spec, "event_definition", None)
    definitions = [definition, *getattr(definition, "event_definitions", ())]
    for each in definitions:
        if isinstance(each, TimerEventDefinition) and expression == each.expression:
            return timer_problem(timer_kind(each), value)
    if expression == getattr(spec, "cardinality", None):
        return cardinality_problem(value)
    for each in definitions:
        if each is not None and not isinstance(each, (TimerEventDefinition, ConditionalEventDefinition)) \
                and expression == getattr(each, "expression", None):
            return storage_problem("the payload", value)
    if isinstance(spec, BusinessRuleTaskMixin):
        return storage_problem("the value", value)
    return None


def cardinality_problem(value) -> str | None:
    if type(value) is int and 0 <= value <= MAX_INSTANCES:
        return None
    shown = f"{value:,}" if type(value) is int and value.bit_length() < 64 else f"a {kind(value)}"
    return f"a multi-instance task runs 0 to {MAX_INSTANCES} instances; its loopCardinality gave {shown}"


# A duration SpiffWorkflow can walk quickly: it adds up every month one by one, so the numbers are
# bounded (999 years at most) before it sees them. Fractions only of seconds.
_DURATION = re.compile(r"P(?=\d|T\d)(\d{1,3}Y)?(\d{1,4}M)?(\d{1,5}W)?(\d{1,5}D)?"
                       r"(T(?=\d)(\d{1,6}H)?(\d{1,6}M)?(\d{1,6}([.,]\d{1,6})?S)?)?", re.IGNORECASE)
_CYCLE = re.compile(r"R(\d{0,6})/([^/]+)(/[^/]+)?", re.IGNORECASE)
TIMER_HINTS = {"timeDuration": "a duration such as 'P1D' or 'PT4H', of at most 999 years, or working time "
                               "such as 'working_days(2)' or 'working_hours(4)'",
               "timeDate": "a date such as '2026-12-31T09:00:00'",
               "timeCycle": "a cycle such as 'R3/PT1H'"}


TIMER_KINDS = {TimeDateEventDefinition: "timeDate", DurationTimerEventDefinition: "timeDuration",
               CycleTimerEventDefinition: "timeCycle"}


def timer_kind(definition) -> str:
    # isinstance, not type(): the parser builds our clocked subclasses (workflows/timers.py).
    return next(kind for base, kind in TIMER_KINDS.items() if isinstance(definition, base))


def timer_problem(timer: str, value) -> str | None:
    """Why the value of a timer (`timeDate`, `timeDuration` or `timeCycle`) is not one SpiffWorkflow
    can use, in the analyst's words; None if it is."""
    hint = TIMER_HINTS[timer]
    if not isinstance(value, str):
        return f"a timer expression must give text ({hint}), not a {kind(value)}"
    if len(value) > MAX_TIMER_CHARS:
        return f"a timer's text is at most {MAX_TIMER_CHARS} characters ({hint})"
    text = value.strip()
    # Parsed as the clocked timers will (workflows/timers.py: China time, our clock), and one
    # step further: '0001-01-01T00:00:00' is valid for SpiffWorkflow's parser in a UTC server but
    # before year 1 in UTC from China, and failed only when reached, as "date value out of range".
    if timer == "timeCycle":
        cycle = _CYCLE.fullmatch(text)
        parts = [cycle.group(2), (cycle.group(3) or "/")[1:]] if cycle else []
        ok = cycle is not None and all(_DURATION.fullmatch(p) or not p.upper().startswith("P") for p in parts) \
            and any(_DURATION.fullmatch(p) for p in parts)
        parse = _next_cycle
    elif timer == "timeDate":
        ok = not text.upper().startswith("P")
        parse = timers.moment
    else:
        if timers.WORKING_TIME.fullmatch(text):  # the bank's working time (workflows/timers.py)
            return timers.working_time_problem(text)
        ok = _DURATION.fullmatch(text) is not None
        parse = _duration_end
    try:
        if ok:
            parse(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises plain Exception, ValueError, OverflowError...
        ok = False
    return None if ok else f"'{text}' is not a valid ISO-8601 timer ({hint})"


def _duration_end(text: str) -> dt.datetime:
    parsed = TimerEventDefinition.parse_iso_duration(text)
    start = timers.engine_now()
    return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)


def _next_cycle(text: str) -> dt.datetime:
    _cycles, start, duration = timers._recurring(text)  # noqa: SLF001 - the parser the cycle runs with
    return start + duration + duration  # the first two firings can be computed


def plain_reason(err: Exception) -> str:
    """What went wrong, in words an analyst can act on; Python's own text only where it names
    nothing but the script's own values."""
    if isinstance(err, WorkflowError):
        return err.message
    if isinstance(err, NameError):
        return f"unknown name '{str(getattr(err, 'name', None) or err)[:100]}' (not in the task data)"
    if isinstance(err, ZeroDivisionError):
        return "division by zero"
    if isinstance(err, KeyError):  # the key may be a 100,000-character text
        return f"no key {repr(err.args[0])[:100]}" if err.args else "no such key"
    if isinstance(err, IndexError):
        return "index out of range"
    if isinstance(err, decimal.DecimalException):
        return "invalid decimal operation (result out of range or undefined)"
    if isinstance(err, RecursionError):
        return "values nested too deeply"
    if isinstance(err, MemoryError):
        return "out of memory"
    if isinstance(err, (TypeError, ValueError, OverflowError)):
        return f"{err.__class__.__name__}: {str(err)[:200]}"
    return err.__class__.__name__


class LoanServiceTask(ServiceTask):
    """Hands the task data (plus evaluated parameters) to a handler and merges its result: a typed
    result (handlers/results.py) field by field, or a dict from the handlers not yet converted."""

    def _execute(self, task):
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        result = task.workflow.script_engine.call_service(
            task, operation_name=self.operation_name,
            operation_params={k: {"value": v} for k, v in params.items()})
        if dataclasses.is_dataclass(result) and not isinstance(result, type):
            result = task_data_of(result)
        if not isinstance(result, dict):
            raise HandlerFailed(f"Handler '{self.operation_name}' returned {type(result).__name__}, not a result")
        if self.result_variable and not self.result_variable.startswith("spiff__"):
            task.data[self.result_variable] = result
        else:
            task.data.update(result)
        return True


# The specs an instance runs on, set by whoever deserializes it (see PinnedSpecWorkflowConverter).
pinned_specs: ContextVar[tuple] = ContextVar("pinned_specs")


class PinnedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Stores only the instance's state, not its specs.

    SpiffWorkflow's default writes the whole parsed diagram set into every saved state and rebuilds
    it on every load. Our instances are pinned to immutable deployment files, so the specs are
    parsed once per file set (workflows.deployments.SpecCache) and handed in at load time; the
    saved state shrinks to the tasks and their data.
    """

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = pinned_specs.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _serializer_registry():
    config = dict(SPIFF_CONFIG)
    config.pop(ServiceTask, None)
    config[LoanServiceTask] = ServiceTaskConverter
    config[BpmnWorkflow] = PinnedSpecWorkflowConverter
    # An event-based gateway keeps the events it saw (a fired timer among them) in its task's
    # data, so our clocked timer definitions must serialize as SpiffWorkflow's own do.
    for ours in timers.CLOCKED.values():
        config[ours] = TimerConditionalEventDefinitionConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    registry.register(dt.date, lambda v: {"value": v.isoformat()}, lambda v: dt.date.fromisoformat(v["value"]))
    return registry


def make_serializer() -> BpmnWorkflowSerializer:
    return BpmnWorkflowSerializer(_serializer_registry())


def deserialize(serializer: BpmnWorkflowSerializer, state: str, spec, subprocess_specs) -> BpmnWorkflow:
    token = pinned_specs.set((spec, subprocess_specs))
    try:
        return serializer.deserialize_json(state)
    finally:
        pinned_specs.reset(token)
