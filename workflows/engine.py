"""Our configuration of SpiffWorkflow: sandboxed scripts, handler dispatch, Decimal-safe state.

Everything SpiffWorkflow-specific that is not parsing lives here: the script engine (scripts,
conditions and DMN expressions run in workflows.sandbox), the service task that hands task data to
a handler and merges back a dict (no JSON round trip, so Decimals stay Decimals), and the
serializer with converters for Decimal and date.
"""
from __future__ import annotations

import datetime as dt
import decimal
from decimal import Decimal
from typing import Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from contextvars import ContextVar
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.spiff.serializer.task_spec import ServiceTaskConverter
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

from workflows.errors import HandlerFailed, ScriptFailed, WorkflowError
from workflows.sandbox import run_sandboxed


class SandboxedEnvironment(TaskDataEnvironment):
    """Task data is the only namespace; builtins are the sandbox's allow-list."""

    def evaluate(self, expression, context, external_context=None):
        namespace = dict(context)
        namespace.update(external_context or {})
        return run_sandboxed(expression, "eval", namespace)

    def execute(self, script, context, external_context=None):
        for name, value in (external_context or {}).items():
            context.setdefault(name, value)
        try:
            run_sandboxed(script, "exec", context)
        finally:
            for name in external_context or {}:
                context.pop(name, None)
        return True


ServiceCall = Callable[[str, dict, object], dict]


class LoanScriptEngine(PythonScriptEngine):
    """One per unit of work: it carries the handler dispatcher bound to that transaction.

    Every failure of an analyst's expression leaves here as ScriptFailed naming the element, so
    an incident says where and why instead of SpiffWorkflow's "Error evaluating expression".
    """

    def __init__(self, call_handler: ServiceCall | None = None):
        super().__init__(environment=SandboxedEnvironment())
        self._call_handler = call_handler

    def call_service(self, task, **kwargs):
        # Replaces SpiffWorkflow's version, whose error path raises NameError.
        if self._call_handler is None:
            raise HandlerFailed("No handler dispatcher is configured for service tasks")
        operation = kwargs["operation_name"]
        params = {name: p["value"] for name, p in kwargs.get("operation_params", {}).items()}
        return self._call_handler(operation, params, task)

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ScriptFailed:
            raise
        except Exception as err:  # noqa: BLE001 - an analyst's expression failing is an incident
            raise _script_failed(task, expression, err) from None

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except Exception as err:  # noqa: BLE001 - an analyst's script failing is an incident
            raise _script_failed(task, script, err) from None


def _script_failed(task, source: str, err: Exception) -> ScriptFailed:
    spec = getattr(task, "task_spec", None)
    element = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "expression")
    name = getattr(spec, "bpmn_name", None)
    label = f"{element} ({name})" if name and name != element else element
    return ScriptFailed(element=label, reason=plain_reason(err), expression=source)


def plain_reason(err: Exception) -> str:
    """What went wrong, in words an analyst can act on; Python's own text only where it names
    nothing but the script's own values."""
    if isinstance(err, WorkflowError):
        return err.message
    if isinstance(err, NameError):
        return f"unknown name '{getattr(err, 'name', None) or err}' (not in the task data)"
    if isinstance(err, ZeroDivisionError):
        return "division by zero"
    if isinstance(err, KeyError):
        return f"no key {err.args[0]!r}" if err.args else "no such key"
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
    """Hands the task data (plus evaluated parameters) to a handler and merges its result dict."""

    def _execute(self, task):
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        result = task.workflow.script_engine.call_service(
            task, operation_name=self.operation_name,
            operation_params={k: {"value": v} for k, v in params.items()})
        if not isinstance(result, dict):
            raise HandlerFailed(f"Handler '{self.operation_name}' returned {type(result).__name__}, not a dict")
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
