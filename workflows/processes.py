"""The process layer: start, advance, complete, correlate and fire timers for any deployed process.

Loan origination, collections, change requests, post-loan checks and the rest are use cases on
top of it (`UseCase`): a use case says what its tasks are about (the inbox's subject), which
messages it checks, and what it records after a step (origination updates its application row).
Every public method is one step inside the caller's unit of work: the instance state, inbox rows,
due timers, audit trail, outbox and (through handlers) the ledger change together or not at all.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from forms.compiler import load_form, schema_for
from handlers.context import HandlerContext
from privacy import redact, redact_text
from workflows.access import reaches, within_reach
from workflows.catalogue import StartableProcess, declared_keys, startable_processes
from workflows.delegation import acting_for
from workflows.deployments import FileContents, ResolutionCache
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.exposure import Exposure
from workflows.inbox import TaskSubject, may_work, sync_inbox
from workflows.instances import InstanceRunner, new_instance_id
from workflows import products
from workflows.models import (HQ, AuditEvent, Branch, CorrelationKey, DueTimer, HumanTask, MessageLog,
                              ProcessInstance, Product, User, utcnow)
from workflows.process_views import instance_view, works_in
from workflows.process_state import COMPLETED, INCIDENT, InstanceState, current_data, derive_state
from workflows.sandbox.values import storage_problem
from workflows.timers import clock_at, moment_override, sync_due_timers

SYSTEM = "system"
# Jobs (timers, retries, the batch's messages) act as the system, which sees every branch and
# holds no role a task could be claimed with.
SYSTEM_USER = User(username=SYSTEM, full_name="loanflow", branch_code=HQ, roles="", password_hash="")
AUTOMATIC_RETRIES = 5
# Who may hand a task to a named colleague.
REASSIGNERS = frozenset({"approver", "hq_approver"})


@dataclass(frozen=True)
class Step:
    """What one advance of an instance ended with."""
    before: str                 # the instance's status before the step
    state: InstanceState
    data: dict                  # the task data it knows now (read it, do not keep it)
    incident: str | None


@dataclass(frozen=True)
class Message:
    name: str
    message_id: str
    correlation: dict[str, str]
    payload: dict


@dataclass(frozen=True)
class Delivery:
    instance_id: str
    answer: dict
    replayed: bool


class UseCase:
    """What a kind of process adds to the layer. This default serves any process: its tasks are
    about the loan or customer its start data names."""

    stages: frozenset[str] = frozenset()
    default_stage: str = ""
    maker_checker: bool = False  # True: the person who started the case cannot approve it

    def subject(self, session: Session, instance: ProcessInstance, data: dict) -> TaskSubject:
        return TaskSubject(branch_code=instance.branch_code, process_id=instance.process_id,
                           amount=_money(data.get("amount") or data.get("outstanding")),
                           customer_name=str(data.get("customer_name") or "")[:120],
                           product_code=str(data.get("product_code") or "")[:32],
                           application_id=instance.application_id,
                           loan_id=str(data["loan_id"])[:64] if data.get("loan_id") else None)

    def product_code(self, session: Session, instance: ProcessInstance, data: dict) -> str | None:
        return data.get("product_code")

    def check_message(self, session: Session, instance: ProcessInstance, name: str, payload: dict) -> dict:
        """The payload to deliver, or InvalidInput naming what is wrong with it."""
        return payload

    def after_step(self, layer: "ProcessLayer", session: Session, instance: ProcessInstance, step: Step,
                   actor: str) -> None:
        # No webhook: nobody gave a callback URL for a process the system started.
        if step.state.status != step.before:
            layer.audit(session, instance, SYSTEM, "status_changed",
                        {"from": step.before, "to": step.state.status, "stage": step.state.stage})

    def business_status(self, session: Session, instance: ProcessInstance) -> str:
        return instance.status

    def shows_whole(self, session: Session, instance: ProcessInstance, viewer: User | None) -> bool:
        """Whether `viewer` sees the personal data on this instance whole (else masked)."""
        return works_in(viewer, instance.branch_code)

    def start(self, layer: "ProcessLayer", session: Session, branch_code: str, form_data: dict,
              actor: User) -> ProcessInstance:
        """Start from the API's POST /processes/{key}/instances, with the validated start form."""
        return layer.begin(session, self.process_id, branch_code, form_data, actor.username)

    process_id: str = ""


class ProcessLayer:
    """One per process (the OS kind); holds no request state."""

    def __init__(self, runner: InstanceRunner, *, clock: Callable[[], dt.datetime] = utcnow,
                 services: dict | None = None) -> None:
        self.runner = runner
        self.clock = clock
        self.services = {"exposure": Exposure(), **(services or {})}
        self.resolution = ResolutionCache()
        self.file_contents = FileContents()
        self.products = products.EffectiveCache()  # effective catalogues by products.json file ids
        self.use_cases: dict[str, UseCase] = {}
        self.generic = UseCase()

    def register(self, process_id: str, use_case: UseCase) -> None:
        use_case.process_id = process_id
        self.use_cases[process_id] = use_case

    def use_case(self, process_id: str) -> UseCase:
        return self.use_cases.get(process_id, self.generic)

    def now(self) -> dt.datetime:
        """Now (naive UTC, as stored): the moment of a timer being fired (`clock_at`), else the
        clock. One step is one instant, so its audit rows, inbox rows and timers agree."""
        override = moment_override()
        return override.replace(tzinfo=None) if override is not None else self.clock()

    # -- what a branch can start ----------------------------------------------------------------
    def startable(self, session: Session, branch_code: str) -> list[StartableProcess]:
        if session.get(Branch, branch_code) is None:
            raise NotFound(f"Unknown branch '{branch_code}'", field="branch")
        files = self.resolution.resolve(session, branch_code)
        return startable_processes(session, self.runner.spec_cache.get(files), files)

    def start(self, session: Session, key: str, branch_code: str, data: dict, actor: User) -> ProcessInstance:
        """Start process `key` for a branch with its start form, as a person or integrator does."""
        branch = session.get(Branch, branch_code)
        if branch is None or branch.is_hq:
            raise InvalidInput(f"Unknown branch '{branch_code}'", field="branch")
        if not reaches(actor, branch.code):
            raise Forbidden(f"User {actor.username} may not start processes for branch {branch.code}", field="branch")
        found = {p.key: p for p in self.startable(session, branch.code)}.get(key)
        if found is None:
            raise NotFound(f"Branch {branch.code} has no process '{key}' that can be started", field="key")
        if not set(found.roles) & actor.role_set:
            raise Forbidden(f"Process '{key}' is started by {', '.join(found.roles)}; "
                            f"{actor.username} has none of these roles")
        if found.form and "branch" in schema_for(found.form).fields:
            data = {**data, "branch": branch.code}  # the form's branch is the one asked for, never another
        form_data = load_form(found.form, data) if found.form else _plain_data(data)
        use_case = self.use_cases.get(key)
        if use_case is None:
            return self.begin(session, key, branch.code, form_data, actor.username)
        return use_case.start(self, session, branch.code, form_data, actor)

    def begin(self, session: Session, process_id: str, branch_code: str, data: dict, actor_name: str, *,
              application_id: str | None = None, correlation: dict[str, str] | None = None) -> ProcessInstance:
        """Start an instance on the branch's newest files and run it to its first wait. Also how the
        system starts one (a collection for an overdue loan) and how origination starts its own."""
        files = self.resolution.resolve(session, branch_code)
        start_data = {**_engine_values(data), "branch_code": branch_code, "started_by": actor_name}
        if application_id:
            start_data.setdefault("application_id", application_id)
        workflow = self.runner.new_workflow(files, process_id, start_data)
        now = self.now()
        instance = ProcessInstance(
            id=new_instance_id(), application_id=application_id, process_id=process_id, branch_code=branch_code,
            pinned_files={**{f.name: f.id for f in files.values()},
                          **products.pinned_hq(files, lambda: self.resolution.resolve(session, HQ))},
            state="", status="running", stage="",
            started_by=actor_name, created_at=now, updated_at=now)
        session.add(instance)
        session.flush()
        keys = dict(correlation or {})
        for name in declared_keys(workflow.spec):
            if start_data.get(name) not in (None, ""):
                keys.setdefault(name, str(start_data[name]))
        if application_id:
            keys.setdefault("application_id", application_id)
        for name, value in keys.items():
            session.add(CorrelationKey(instance_id=instance.id, name=name[:64], value=str(value)[:200]))
        self.audit(session, instance, actor_name, "instance_started", {"process": process_id, "branch": branch_code})
        self.step(session, instance, workflow, actor_name)
        return instance

    # -- advancing ------------------------------------------------------------------------------
    def step(self, session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, actor_name: str) -> Step:
        """Run the engine to the next wait, then write what it did: row, inbox, timers, state."""
        use_case = self.use_case(instance.process_id)
        ctx = self.context(session, instance, current_data(workflow), actor_name)
        outcome = self.runner.advance(session, workflow, ctx)
        now = self.now()
        data = current_data(workflow)
        before = instance.status
        incident = redact_text(outcome.incident)
        _schedule_retry(instance, incident, now)
        state = derive_state(workflow, incident, use_case.stages, use_case.default_stage)
        instance.status, instance.stage = state.status, state.stage
        step = Step(before=before, state=state, data=data, incident=incident)
        use_case.after_step(self, session, instance, step, actor_name)
        with session.no_autoflush:  # one UPDATE of the instance (and one revision bump) per step
            sync_inbox(session, use_case.subject(session, instance, data), instance.id, workflow, now)
            sync_due_timers(session, instance.id, workflow)
        self.runner.save(session, instance, workflow)
        if incident:
            self.audit(session, instance, SYSTEM, "incident", {"message": instance.incident})
        return step

    def product_catalogue(self, session: Session, branch_code: str) -> dict[str, products.EffectiveProduct]:
        """What the branch offers by the files a new instance would pin (workflows/products.py)."""
        return products.layer_catalogue(self.products, self.resolution.resolve(session, branch_code),
                                        lambda: self.resolution.resolve(session, HQ), branch_code)

    def context(self, session: Session, instance: ProcessInstance, data: dict, actor_name: str) -> HandlerContext:
        # Reference rows nothing pending can change: reading them need not flush the step's audit
        # rows, which then go in one INSERT with the step's others (one round trip less per step).
        with session.no_autoflush:
            branch = session.get(Branch, instance.branch_code)
            code = self.use_case(instance.process_id).product_code(session, instance, data)
            product = product_terms(self, session, instance, code, data) if code else {}

        def resource(name: str) -> str:
            file_id = instance.pinned_files.get(name)
            if file_id is None:
                raise NotFound(f"No file '{name}' is deployed for branch {instance.branch_code}")
            return self.file_contents.get(session, file_id)

        return HandlerContext(
            session=session, application_id=instance.application_id, actor=actor_name, now=self.now(),
            branch={"code": branch.code, "name": branch.name, "region": branch.region,
                    "tier1_capital_net": branch.tier1_capital_net},
            product=product,
            resource=resource, services=self.services, instance_id=instance.id)

    # -- people ---------------------------------------------------------------------------------
    def claim(self, session: Session, task_id: str, actor: User) -> HumanTask:
        row = self._task_for_update(session, task_id, actor)
        if row.assignee == actor.username:
            return row  # claiming again changes nothing
        if row.assignee:
            raise Conflict(f"Task is claimed by {row.assignee}")
        self._check_separation_of_duties(session, row, actor)
        row.assignee = actor.username
        self.audit(session, session.get(ProcessInstance, row.instance_id), actor.username, "task_claimed",
                   {"task_id": row.id, "task": row.title})
        return row

    def unclaim(self, session: Session, task_id: str, actor: User) -> HumanTask:
        row = self._task_for_update(session, task_id, actor)
        if row.assignee != actor.username:
            raise Conflict("Only the person who claimed the task can release it")
        row.assignee = None
        self.audit(session, session.get(ProcessInstance, row.instance_id), actor.username, "task_unclaimed",
                   {"task_id": row.id, "task": row.title})
        return row

    def reassign(self, session: Session, task_id: str, actor: User, to_username: str) -> HumanTask:
        """An approver (or head office) hands an open task of their branch to a named colleague
        who may work it: the task's role, its branch, and not a second level of the same case."""
        if not actor.role_set & REASSIGNERS:
            raise Forbidden("Only approvers may reassign tasks")
        row = session.scalar(select(HumanTask).where(HumanTask.id == task_id).with_for_update())
        if row is None or not reaches(actor, row.branch_code):
            raise NotFound(f"Task {task_id} was not found")
        if row.status != "open":
            raise Conflict(f"Task {task_id} is already {row.status}")
        colleague = session.get(User, to_username)
        if colleague is None or not may_work(colleague, row):
            raise InvalidInput(f"{to_username} cannot work this task: it needs the role {row.role} in "
                               f"{row.branch_code}", field="assignee")
        self._check_separation_of_duties(session, row, colleague)
        previous, row.assignee = row.assignee, colleague.username
        self.audit(session, session.get(ProcessInstance, row.instance_id), actor.username, "task_reassigned",
                   {"task_id": row.id, "task": row.title, "from": previous, "to": colleague.username})
        return row

    def complete(self, session: Session, task_id: str, actor: User, payload) -> HumanTask:
        row = self._task_for_update(session, task_id, actor)
        # A delegate works the task of the colleague who delegates it to them, in their own name.
        on_behalf_of = acting_for(session, row, actor, self.now())
        if row.assignee and row.assignee != actor.username and on_behalf_of is None:
            raise Conflict(f"Task is claimed by {row.assignee}")
        form_data = load_form(row.form, payload)
        if form_data.get("decision") == "approve":
            self._check_separation_of_duties(session, row, actor)
        instance = self.lock(session, row.instance_id)
        workflow = self.runner.load(session, instance)
        task = workflow.get_task_from_id(uuid.UUID(row.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("This task is no longer open")
        now = self.now()
        trail = list(task.data.get("decision_trail", []))
        trail.append({"level": row.level, "task": row.title, "role": row.role, "by": actor.username,
                      "decision": form_data.get("decision"), "comment": form_data.get("comment"),
                      "at": now.isoformat() + "Z", **({"on_behalf_of": on_behalf_of} if on_behalf_of else {})})
        task.data.update(_engine_values(form_data))
        task.data["decision_trail"] = trail
        task.data["completed_by"] = actor.username
        task.run()
        row.status, row.assignee = "completed", actor.username
        row.completed_at, row.completed_by, row.decision = now, actor.username, form_data.get("decision")
        row.on_behalf_of = on_behalf_of
        self.audit(session, instance, actor.username, "task_completed",
                   {"task_id": row.id, "task": row.title, "level": row.level,
                    "decision": form_data.get("decision"), "comment": form_data.get("comment")},
                   on_behalf_of=on_behalf_of)
        self.step(session, instance, workflow, actor.username)
        return row

    # -- messages -------------------------------------------------------------------------------
    def deliver(self, session: Session, message: Message, actor: User) -> Delivery:
        """Deliver a message to the one instance waiting for it whose correlation keys all match.
        The same message_id again answers as the first time and changes nothing."""
        replay = self._replay(session, message)
        if replay is not None:
            return replay
        if not message.correlation:
            raise InvalidInput("correlation must name at least one key, e.g. {\"loan_id\": ...}", field="correlation")
        try:
            instance, workflow = self._waiting_for(session, message, actor)
        except NotFound:
            # A twin of this message may have been delivered while we waited for the instance's
            # lock: then it is a replay, not a 404 (a statement after the wait sees its commit).
            replay = self._replay(session, message)
            if replay is None:
                raise
            return replay
        use_case = self.use_case(instance.process_id)
        payload = use_case.check_message(session, instance, message.name, _plain_data(message.payload))
        workflow.catch(BpmnEvent(MessageEventDefinition(message.name), payload=payload))
        self.audit(session, instance, actor.username, "message_received",
                   {"name": message.name, "message_id": message.message_id})
        self.step(session, instance, workflow, actor.username)
        answer = {"message_id": message.message_id, "name": message.name, "instance_id": instance.id,
                  "process": instance.process_id, "application_id": instance.application_id,
                  "status": use_case.business_status(session, instance), "stage": instance.stage}
        session.add(MessageLog(message_id=message.message_id, name=message.name, correlation=message.correlation,
                               payload=payload, instance_id=instance.id, received_by=actor.username,
                               received_at=self.now(), answer=answer))
        session.flush()
        return Delivery(instance.id, answer, replayed=False)

    def _replay(self, session: Session, message: Message) -> Delivery | None:
        logged = session.scalar(select(MessageLog).where(MessageLog.message_id == message.message_id))
        if logged is None:
            return None
        if logged.name != message.name or logged.correlation != message.correlation:
            raise Conflict(f"message_id {message.message_id} was already used for another message",
                           field="message_id")
        return Delivery(logged.instance_id, logged.answer, replayed=True)

    def _waiting_for(self, session: Session, message: Message, actor: User):
        query = select(ProcessInstance).where(ProcessInstance.status != COMPLETED)
        for name, value in message.correlation.items():
            query = query.where(ProcessInstance.id.in_(select(CorrelationKey.instance_id).where(
                CorrelationKey.name == name, CorrelationKey.value == str(value))))
        query = within_reach(query, ProcessInstance.branch_code, actor)
        waiting = []
        for instance in session.scalars(query.order_by(ProcessInstance.created_at).with_for_update()):
            workflow = self.runner.load(session, instance)
            if message.name in derive_state(workflow, None).waiting_messages:
                waiting.append((instance, workflow))
        keys = ", ".join(f"{k}={v}" for k, v in message.correlation.items())
        if not waiting:
            raise NotFound(f"No instance is waiting for message '{message.name}' with {keys}", field="correlation")
        if len(waiting) > 1:
            raise Conflict(f"{len(waiting)} instances wait for message '{message.name}' with {keys}: "
                           "add a correlation key that tells them apart", field="correlation")
        return waiting[0]

    # -- timers and incidents -------------------------------------------------------------------
    def fire_timer(self, session: Session, timer: DueTimer, at: dt.datetime) -> ProcessInstance:
        """Advance the timer's instance at the moment `at` (aware): the timer fires, and whatever
        else is due by then. The caller has claimed the row."""
        instance = self.lock(session, timer.instance_id)
        with clock_at(lambda: at):
            workflow = self.runner.load(session, instance)
            self.audit(session, instance, SYSTEM, "timer_fired",
                       {"element": timer.element_id, "due_at": timer.due_at.isoformat() + "Z"})
            self.step(session, instance, workflow, SYSTEM)
        return instance

    def retry(self, session: Session, instance: ProcessInstance, actor_name: str) -> Step:
        if instance.status != INCIDENT:
            raise Conflict(f"Instance is {instance.status}; there is no incident to retry")
        workflow = self.runner.load(session, instance)
        self.runner.retry_failed_tasks(workflow)
        self.audit(session, instance, actor_name, "incident_retried", {"incident": instance.incident})
        return self.step(session, instance, workflow, actor_name)

    # -- reading and locking --------------------------------------------------------------------
    def view(self, session: Session, instance: ProcessInstance, viewer: User | None) -> dict:
        use_case = self.use_case(instance.process_id)
        return instance_view(session, instance, use_case.business_status(session, instance), viewer,
                             whole=use_case.shows_whole(session, instance, viewer))

    def instance_for(self, session: Session, instance_id: str, actor: User) -> ProcessInstance:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None or not reaches(actor, instance.branch_code):
            raise NotFound(f"Instance {instance_id} was not found")
        return instance

    def lock(self, session: Session, instance_id: str) -> ProcessInstance:
        """The instance, locked until the unit of work ends."""
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update())
        if instance is None:
            raise NotFound("Process instance not found")
        return instance

    def audit(self, session: Session, instance: ProcessInstance | None, actor: str, event: str, detail: dict,
              *, on_behalf_of: str | None = None) -> None:
        # The trail refers to the instance (and its application); free text in it is masked. A
        # delegator's username is not personal data: kept whole, so the history can name them.
        detail = redact(detail)
        if on_behalf_of:
            detail["on_behalf_of"] = on_behalf_of
        session.add(AuditEvent(application_id=instance.application_id if instance else None,
                               instance_id=instance.id if instance else None, actor=actor,
                               event=event, detail=detail, at=self.now()))

    def _task_for_update(self, session: Session, task_id: str, actor: User) -> HumanTask:
        row = session.scalar(select(HumanTask).where(HumanTask.id == task_id).with_for_update())
        if row is None or not may_work(actor, row):
            # Another branch's or role's task does not exist as far as this user can tell.
            raise NotFound(f"Task {task_id} was not found")
        if row.status != "open":
            raise Conflict(f"Task {task_id} is already {row.status}")
        return row

    def _check_separation_of_duties(self, session: Session, row: HumanTask, actor: User) -> None:
        """One person cannot approve two levels of one instance, nor (maker-checker processes)
        approve what they asked for."""
        instance = session.get(ProcessInstance, row.instance_id)
        if self.use_case(instance.process_id).maker_checker and instance.started_by == actor.username:
            raise Forbidden(f"{actor.username} started this case and cannot also approve it (maker-checker)")
        other_level = session.scalar(select(HumanTask).where(
            HumanTask.instance_id == row.instance_id, HumanTask.completed_by == actor.username,
            HumanTask.decision.in_(("approve", "propose")), HumanTask.level != row.level).limit(1))
        if other_level is not None:
            raise Forbidden(f"{actor.username} already decided level {other_level.level} "
                            f"('{other_level.title}') of this case; one person cannot decide two levels")


def product_terms(layer: "ProcessLayer", session: Session, instance: ProcessInstance, code: str, data: dict) -> dict:
    """The product as handlers read it: from the products.json files the instance pinned (HQ's,
    narrowed by its branch's), so a product changed later never changes a running loan; an
    instance older than the product files reads the product table as it did."""
    effective = products.pinned_product(instance.pinned_files, code, instance.branch_code, cache=layer.products,
                                        text=lambda file_id: layer.file_contents.get(session, file_id))
    if effective is not None:
        return effective.handler_terms(data.get("repayment_method"))
    row = session.get(Product, code)
    if row is None:
        return {}
    return {"code": row.code, "name": row.name, "base_rate": row.base_rate, "min_amount": row.min_amount,
            "max_amount": row.max_amount, "max_term_months": row.max_term_months,
            "repayment_method": row.repayment_method, "allows_large_amount": row.allows_large_amount,
            "holiday_rule": row.holiday_rule}


def _engine_values(data: dict) -> dict:
    """Form values as task data: dates and times as ISO text (the serializer stores JSON)."""
    out = {}
    for name, value in data.items():
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        elif isinstance(value, dict):
            value = _engine_values(value)
        out[name] = value
    return out


def _plain_data(data) -> dict:
    """A start form or message payload without a form: any storable JSON object, within bounds."""
    if not isinstance(data, dict):
        raise InvalidInput("data must be a JSON object", field="data")
    problem = storage_problem("data", data)
    if problem:
        raise InvalidInput(f"data cannot be stored: {problem}", field="data")
    return data


def _money(value) -> Decimal:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except (InvalidOperation, ValueError):
        return Decimal("0")
    return amount if amount.is_finite() and abs(amount) < Decimal("1e16") else Decimal("0")


def _schedule_retry(instance: ProcessInstance, incident: str | None, now: dt.datetime) -> None:
    """An incident is retried by the worker after 1, 2, 4, 8 and 16 minutes, then left to people."""
    instance.incident = incident
    if incident is None:
        instance.incident_attempts, instance.next_retry_at = 0, None
        return
    attempts = (instance.incident_attempts or 0) + 1
    instance.incident_attempts = attempts
    instance.next_retry_at = now + dt.timedelta(minutes=2 ** (attempts - 1)) if attempts <= AUTOMATIC_RETRIES else None
