"""Running a process instance: build, load, advance to its next wait state, and save.

The engine is advanced inside the caller's unit of work. Handlers that write run in a savepoint,
so a failing one leaves no half-written rows behind; any handler's error becomes an incident on
the instance (visible through the API, retried by the worker and by people) instead of a crash.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from privacy import redact_text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from handlers.context import HandlerContext
from handlers.registry import WRITING_OPERATIONS
from workflows.business_calendar import calendar_from, load_calendar
from workflows.deployments import ResolvedFile, SpecCache, load_files
from workflows.engine import LoanScriptEngine, deserialize, element_label, make_serializer
from workflows.errors import Conflict, HandlerFailed, ProcessBoundExceeded, ScriptFailed
from workflows.models import ProcessInstance, utcnow
from workflows.timers import clock_at

log = logging.getLogger(__name__)


@dataclass
class Advance:
    """What one run of the engine ended with."""
    incident: str | None


class InstanceRunner:
    def __init__(self, handlers: dict, spec_cache: SpecCache | None = None) -> None:
        self.handlers = handlers
        self.spec_cache = spec_cache or SpecCache()
        self.serializer = make_serializer()

    # -- building and persisting --------------------------------------------------------------
    def new_workflow(self, files: dict[str, ResolvedFile], process_id: str, data: dict) -> BpmnWorkflow:
        parsed = self.spec_cache.get(files)
        spec, subprocesses = parsed.specs_for(process_id)
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=LoanScriptEngine())
        workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
        return workflow

    def load(self, session: Session, instance: ProcessInstance) -> BpmnWorkflow:
        parsed = self.spec_cache.get_pinned(instance.pinned_files, lambda: load_files(session, instance.pinned_files))
        spec, subprocesses = parsed.specs_for(instance.process_id)
        workflow = deserialize(self.serializer, instance.state, spec, subprocesses)
        workflow.script_engine = LoanScriptEngine()
        return workflow

    def save(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        instance.state = self.serializer.serialize_json(workflow)
        instance.updated_at = utcnow()
        try:
            session.flush()
        except StaleDataError as err:
            raise Conflict("The application was changed by another request; reload and retry") from err

    # -- advancing ------------------------------------------------------------------------------
    def advance(self, session: Session, workflow: BpmnWorkflow, ctx: HandlerContext) -> Advance:
        """Run every engine task that can run now, stopping at user tasks, messages and timers."""
        engine = LoanScriptEngine(self._dispatcher(session, ctx))
        workflow.script_engine = engine
        try:
            # Timers read the step's own moment, so a step is one instant and tests move the clock.
            with clock_at(lambda: ctx.now), calendar_from(lambda: load_calendar(session)):
                workflow.refresh_waiting_tasks()
                engine.run_engine_steps(workflow)
        except Exception as err:  # noqa: BLE001 - any failure of a diagram or handler is an incident
            log.warning("instance of %s stopped with an incident: %s", ctx.application_id, redact_text(str(err)))
            return Advance(incident=_describe(err))
        finally:
            workflow.script_engine = LoanScriptEngine()
        return Advance(incident=None)

    def retry_failed_tasks(self, workflow: BpmnWorkflow) -> int:
        failed = workflow.get_tasks(state=TaskState.ERROR)
        for task in failed:
            task._set_state(TaskState.READY)  # SpiffWorkflow has no public "retry" transition
        return len(failed)

    def _dispatcher(self, session: Session, ctx: HandlerContext):
        def call(operation: str, params: dict, task) -> dict:
            handler = self.handlers.get(operation)
            if handler is None:
                raise HandlerFailed(f"No handler is registered for operation '{operation}'")
            data = dict(task.data)
            data.update(params)
            savepoint = session.begin_nested() if operation in WRITING_OPERATIONS else None
            try:
                result = handler(ctx, data)
            except Exception as err:  # noqa: BLE001 - handler errors become incidents
                if savepoint is not None:
                    savepoint.rollback()
                raise HandlerFailed(f"{operation}: {getattr(err, 'message', None) or err}") from err
            if savepoint is not None:
                savepoint.commit()
            return result
        return call


def _describe(err: Exception) -> str:
    script = _script_failure(err)
    if script is not None:
        # SpiffWorkflow's DMN engine wraps our error and notes the table row it was on.
        rows = [note for note in getattr(err, "notes", None) or [] if "row" in note]
        return script.message + (f" ({'; '.join(rows)})" if rows else "")
    message = getattr(err, "message", None) or str(err) or err.__class__.__name__
    task = getattr(err, "task", None)
    if task is not None and getattr(task, "task_spec", None) is not None:
        return f"{element_label(task)}: {message}"
    return message


def _script_failure(err: BaseException | None) -> ScriptFailed | ProcessBoundExceeded | None:
    """Our own error inside SpiffWorkflow's wrappers: it names the element already."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, (ScriptFailed, ProcessBoundExceeded)):
            return err
        err = getattr(err, "exception", None) or err.__cause__ or err.__context__
        seen += 1
    return None


def new_instance_id() -> str:
    return str(uuid.uuid4())
