"""Loan origination as integrators and reviewers drive it: submit, work tasks, sign, retry.

Each public function is one step inside the caller's unit of work: it changes the instance state,
the inbox rows, the audit trail, the outbox and (through handlers) the ledger, and the caller
commits all of it at once or none of it.
"""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from forms.compiler import load_form
from privacy import keyring_for, mask_account, mask_applicant, redact, redact_text
from handlers.context import HandlerContext
from workflows.callbacks import CallbackHosts
from workflows.deployments import MAIN_PROCESS, FileContents, ResolutionCache
from workflows.exposure import Exposure
from workflows.review_sla import ReviewSla
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.inbox import may_work, sync_inbox, task_view
from workflows.instances import InstanceRunner, new_instance_id
from workflows.timers import clock_at, moment_override, sync_due_timers
from workflows.models import (HQ, Application, AuditEvent, Branch, Deployment, DeploymentFile, DueTimer, HumanTask,
                              OutboxMessage, ProcessInstance, Product, User, utcnow)

SIGNATURE_MESSAGE = "customer_signed"
SUMMARY_KEYS = ("score", "grade", "credit_line", "annual_rate", "approved_amount", "reason_codes",
                "review_levels", "review_route_reason", "is_large_amount", "risk_hits", "limit_hits",
                "contract", "applicant_age", "large_amount_report")
# The called processes of loan_origination; the innermost one running is the application's stage.
STAGES = frozenset({"intake", "rating", "review", "signing", "disbursement"})


class Origination:
    """The origination service; one per process, shared by requests (it holds no request state)."""

    def __init__(self, runner: InstanceRunner, *, clock: Callable[[], dt.datetime] = utcnow,
                 services: dict | None = None, callback_hosts: CallbackHosts | None = None) -> None:
        self.runner = runner
        # Nobody may set a callback URL unless the settings allow their hosts (see workflows/callbacks.py).
        self.callback_hosts = callback_hosts or CallbackHosts()
        self.clock = clock
        self.services = {"exposure": Exposure(), "review_sla": ReviewSla(), **(services or {})}
        self.resolution = ResolutionCache()
        self.file_contents = FileContents()

    def now(self) -> dt.datetime:
        """Now (naive UTC, as stored): the moment of a timer being fired (`clock_at`), else the
        clock. One step is one instant, so its audit rows, inbox rows and timers agree."""
        override = moment_override()
        return override.replace(tzinfo=None) if override is not None else self.clock()

    # -- submitting ---------------------------------------------------------------------------
    def submit(self, session: Session, form: dict, actor: User) -> Application:
        if form.get("callback_url"):
            self.callback_hosts.check(actor.username, form["callback_url"])
        branch = session.get(Branch, form["branch"])
        if branch is None or branch.is_hq:
            raise InvalidInput(f"Unknown branch '{form['branch']}'", field="branch")
        if actor.branch_code not in (HQ, branch.code):
            raise Forbidden(f"User {actor.username} may not submit applications for branch {branch.code}",
                            field="branch")
        product = session.get(Product, form["product"])
        if product is None:
            raise InvalidInput(f"Unknown product '{form['product']}'", field="product")
        _check_product_terms(product, form)
        now = self.now()
        application = Application(
            id=str(uuid.uuid4()), branch_code=branch.code, product_code=product.code,
            customer_name=form["applicant"]["name"], id_number=form["applicant"]["id_number"],
            id_number_hash=keyring_for(session).lookup_hash(form["applicant"]["id_number"]),
            amount=form["amount"], term_months=form["term_months"], payload=form,
            region=form["applicant"].get("region") or branch.region, industry=form["applicant"].get("industry") or "",
            purpose=form["purpose"], guarantee_method=form["guarantee_method"],
            customer_type=form["applicant"].get("customer_type") or "",
            status="submitted", stage="intake", reasons=[], created_by=actor.username,
            created_at=now, updated_at=now)
        session.add(application)
        files = self.resolution.resolve(session, branch.code)
        data = {
            "application_id": application.id, "branch_code": branch.code, "product_code": product.code,
            "amount": form["amount"], "term_months": form["term_months"], "purpose": form["purpose"],
            "guarantee_method": form["guarantee_method"], "applicant": form["applicant"],
            "decision_trail": [],
        }
        workflow = self.runner.new_workflow(files, MAIN_PROCESS, data)
        instance = ProcessInstance(
            id=new_instance_id(), application_id=application.id, process_id=MAIN_PROCESS,
            pinned_files={f.name: f.id for f in files.values()}, state="", status="running",
            created_at=now, updated_at=now)
        session.add(instance)
        session.flush()
        self._audit(session, application, actor.username, "application_submitted",
                    {"amount": form["amount"], "product": product.code, "branch": branch.code})
        self._advance(session, application, instance, workflow, actor.username)
        return application

    # -- reviewers ----------------------------------------------------------------------------
    def claim(self, session: Session, task_id: str, actor: User) -> HumanTask:
        row = self._task_for_update(session, task_id, actor)
        if row.assignee == actor.username:
            return row  # claiming again changes nothing
        if row.assignee:
            raise Conflict(f"Task is claimed by {row.assignee}")
        self._check_separation_of_duties(session, row, actor)
        row.assignee = actor.username
        self._audit(session, session.get(Application, row.application_id), actor.username, "task_claimed",
                    {"task_id": row.id, "task": row.title})
        return row

    def unclaim(self, session: Session, task_id: str, actor: User) -> HumanTask:
        row = self._task_for_update(session, task_id, actor)
        if row.assignee != actor.username:
            raise Conflict("Only the reviewer who claimed the task can release it")
        row.assignee = None
        self._audit(session, session.get(Application, row.application_id), actor.username, "task_unclaimed",
                    {"task_id": row.id, "task": row.title})
        return row

    def complete(self, session: Session, task_id: str, actor: User, payload) -> HumanTask:
        row = self._task_for_update(session, task_id, actor)
        if row.assignee and row.assignee != actor.username:
            raise Conflict(f"Task is claimed by {row.assignee}")
        form_data = load_form(row.form, payload)
        if form_data.get("decision") == "approve":
            self._check_separation_of_duties(session, row, actor)
        application = session.get(Application, row.application_id)
        instance = self._instance_for_update(session, row.application_id)
        workflow = self.runner.load(session, instance)
        task = workflow.get_task_from_id(uuid.UUID(row.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("This task is no longer open")
        now = self.now()
        trail = list(task.data.get("decision_trail", []))
        trail.append({"level": row.level, "task": row.title, "role": row.role, "by": actor.username,
                      "decision": form_data.get("decision"), "comment": form_data.get("comment"),
                      "at": now.isoformat() + "Z"})
        task.data.update(form_data)
        task.data["decision_trail"] = trail
        task.run()
        row.status, row.assignee = "completed", actor.username
        row.completed_at, row.completed_by, row.decision = now, actor.username, form_data.get("decision")
        self._audit(session, application, actor.username, "task_completed",
                    {"task_id": row.id, "task": row.title, "level": row.level,
                     "decision": form_data.get("decision"), "comment": form_data.get("comment")})
        self._advance(session, application, instance, workflow, actor.username)
        return row

    # -- the channel --------------------------------------------------------------------------
    def record_signature(self, session: Session, application_id: str, actor: User, payload) -> Application:
        form_data = load_form("signature", payload)
        application = self._application_for(session, application_id, actor)
        instance = self._instance_for_update(session, application.id)
        workflow = self.runner.load(session, instance)
        waiting = [t for t in workflow.get_tasks(state=TaskState.WAITING)
                   if getattr(t.task_spec, "event_definition", None) is not None
                   and getattr(t.task_spec.event_definition, "name", None) == SIGNATURE_MESSAGE]
        if not waiting:
            raise Conflict(f"Application is {application.status}; it is not waiting for a signature")
        _check_signature_matches(application.summary.get("contract") or {}, form_data)
        form_data["signed_at"] = form_data["signed_at"].isoformat()
        workflow.catch(BpmnEvent(MessageEventDefinition(SIGNATURE_MESSAGE), payload=form_data))
        self._audit(session, application, actor.username, "signature_received",
                    {"contract_number": form_data["contract_number"], "channel": form_data["channel"]})
        self._advance(session, application, instance, workflow, actor.username)
        return application

    def retry(self, session: Session, application_id: str, actor: User) -> Application:
        application = self._application_for(session, application_id, actor)
        instance = self._instance_for_update(session, application.id)
        if instance.status != "incident":
            raise Conflict(f"Application is {application.status}; there is no incident to retry")
        workflow = self.runner.load(session, instance)
        self.runner.retry_failed_tasks(workflow)
        self._audit(session, application, actor.username, "incident_retried", {"incident": instance.incident})
        self._advance(session, application, instance, workflow, actor.username)
        return application

    # -- timers ---------------------------------------------------------------------------------
    def fire_timer(self, session: Session, timer: DueTimer, at: dt.datetime) -> Application:
        """Advance the timer's instance at the moment `at` (aware): the timer fires, and whatever
        else is due by then. The caller has claimed the row."""
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == timer.instance_id)
                                  .with_for_update())
        application = session.get(Application, instance.application_id)
        with clock_at(lambda: at):
            workflow = self.runner.load(session, instance)
            self._audit(session, application, "system", "timer_fired",
                        {"element": timer.element_id, "due_at": timer.due_at.isoformat() + "Z"})
            self._advance(session, application, instance, workflow, "system")
        return application

    # -- reading ------------------------------------------------------------------------------
    def application_for(self, session: Session, application_id: str, actor: User) -> Application:
        return self._application_for(session, application_id, actor)

    # -- internals ----------------------------------------------------------------------------
    def _advance(self, session, application, instance, workflow: BpmnWorkflow, actor_name: str) -> None:
        ctx = self._context(session, application, instance, actor_name)
        outcome = self.runner.advance(session, workflow, ctx)
        now = self.now()
        data = current_data(workflow)
        before = application.status
        _schedule_retry(instance, redact_text(outcome.incident), now)
        application.status = derive_status(workflow, outcome.incident, data)
        application.stage = current_stage(workflow)
        instance.status = "incident" if outcome.incident else ("completed" if workflow.completed else "waiting")
        _copy_outcome(application, data)
        application.updated_at = now
        with session.no_autoflush:  # one UPDATE of the instance (and one revision bump) per step
            sync_inbox(session, application, instance.id, workflow, now)
            sync_due_timers(session, instance.id, workflow)
        self.runner.save(session, instance, workflow)
        if outcome.incident:
            self._audit(session, application, "system", "incident", {"message": instance.incident})
        if application.status != before:
            self._audit(session, application, "system", "status_changed",
                        {"from": before, "to": application.status, "stage": application.stage})
            session.add(OutboxMessage(topic="application.status_changed", application_id=application.id,
                                      payload={"application_id": application.id, "status": application.status,
                                               "previous_status": before,
                                               # masked: a webhook is a copy outside the bank's systems
                                               "applicant": _masked_identity(application),
                                               "callback_url": application.payload.get("callback_url")}))

    def _context(self, session, application: Application, instance: ProcessInstance,
                 actor_name: str) -> HandlerContext:
        branch = session.get(Branch, application.branch_code)
        product = session.get(Product, application.product_code)

        def resource(name: str) -> str:
            file_id = instance.pinned_files.get(name)
            if file_id is None:
                raise NotFound(f"No file '{name}' is deployed for branch {application.branch_code}")
            return self.file_contents.get(session, file_id)

        return HandlerContext(
            session=session, application_id=application.id, actor=actor_name, now=self.now(),
            branch={"code": branch.code, "name": branch.name, "region": branch.region,
                    "tier1_capital_net": branch.tier1_capital_net},
            product={"code": product.code, "name": product.name, "base_rate": product.base_rate,
                     "min_amount": product.min_amount, "max_amount": product.max_amount,
                     "max_term_months": product.max_term_months, "repayment_method": product.repayment_method,
                     "allows_large_amount": product.allows_large_amount},
            resource=resource, services=self.services)

    def _audit(self, session, application: Application | None, actor: str, event: str, detail: dict) -> None:
        # The trail refers to the application (its id); free text in it is masked, never copied whole.
        session.add(AuditEvent(application_id=application.id if application else None, actor=actor,
                               event=event, detail=redact(detail), at=self.now()))

    def _task_for_update(self, session: Session, task_id: str, actor: User) -> HumanTask:
        row = session.scalar(select(HumanTask).where(HumanTask.id == task_id).with_for_update())
        if row is None or not may_work(actor, row):
            # Another branch's or role's task does not exist as far as this user can tell.
            raise NotFound(f"Task {task_id} was not found")
        if row.status != "open":
            raise Conflict(f"Task {task_id} is already {row.status}")
        return row

    def _check_separation_of_duties(self, session: Session, row: HumanTask, actor: User) -> None:
        other_level = session.scalar(select(HumanTask).where(
            HumanTask.application_id == row.application_id, HumanTask.completed_by == actor.username,
            HumanTask.decision == "approve", HumanTask.level != row.level).limit(1))
        if other_level is not None:
            raise Forbidden(f"{actor.username} already approved level {other_level.level} "
                            f"('{other_level.title}') of this application; one person cannot approve two levels")

    def _instance_for_update(self, session: Session, application_id: str) -> ProcessInstance:
        """The application's one process instance, locked until the unit of work ends."""
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.application_id == application_id)
                                  .with_for_update())
        if instance is None:
            raise NotFound("Process instance not found")
        return instance

    def _application_for(self, session: Session, application_id: str, actor: User) -> Application:
        application = session.get(Application, application_id)
        if application is None or actor.branch_code not in (HQ, application.branch_code):
            raise NotFound(f"Application {application_id} was not found")
        return application


AUTOMATIC_RETRIES = 5


def _schedule_retry(instance: ProcessInstance, incident: str | None, now: dt.datetime) -> None:
    """An incident is retried by the worker after 1, 2, 4, 8 and 16 minutes, then left to people."""
    instance.incident = incident
    if incident is None:
        instance.incident_attempts, instance.next_retry_at = 0, None
        return
    attempts = (instance.incident_attempts or 0) + 1
    instance.incident_attempts = attempts
    instance.next_retry_at = now + dt.timedelta(minutes=2 ** (attempts - 1)) if attempts <= AUTOMATIC_RETRIES else None


def _check_signature_matches(contract: dict, signature: dict) -> None:
    """A signature must be for exactly the contract the customer was shown; a mismatch is refused
    before it reaches the process, so the application keeps waiting for the right one."""
    problems = {}
    if signature["contract_number"] != contract.get("number"):
        problems["contract_number"] = ["does not match the application's contract"]
    if signature["content_hash"] != contract.get("content_hash"):
        problems["content_hash"] = ["does not match the contract's content (was it changed after signing?)"]
    if problems:
        raise InvalidInput("The signature is not for this application's contract", fields=problems)


def _check_product_terms(product: Product, form: dict) -> None:
    amount: Decimal = form["amount"]
    problems = {}
    if amount < product.min_amount or amount > product.max_amount:
        problems["amount"] = [f"must be between {product.min_amount} and {product.max_amount} "
                              f"for product {product.code}"]
    if not product.min_term_months <= form["term_months"] <= product.max_term_months:
        problems["term_months"] = [f"must be between {product.min_term_months} and "
                                   f"{product.max_term_months} months for product {product.code}"]
    if problems:
        raise InvalidInput("The application does not fit the product's terms", fields=problems)


def current_data(workflow: BpmnWorkflow) -> dict:
    if workflow.completed:
        return workflow.data
    live = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
    deepest = max(live, key=lambda t: t.depth, default=None) if live else None
    return deepest.data if deepest is not None else workflow.last_task.data if workflow.last_task else {}


def current_stage(workflow: BpmnWorkflow) -> str:
    if workflow.completed:
        return "closed"
    for sub in sorted(workflow.get_active_subprocesses(), key=lambda s: s.depth, reverse=True):
        if sub.spec.name in STAGES:
            return sub.spec.name
    return "intake"


def derive_status(workflow: BpmnWorkflow, incident: str | None, data: dict) -> str:
    if incident:
        return "incident"
    if workflow.completed:
        return "declined" if data.get("final_decision") == "declined" else "disbursed"
    if any(t.task_spec.manual for t in workflow.get_tasks(state=TaskState.READY)):
        return "in_review"
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if getattr(definition, "name", None) == SIGNATURE_MESSAGE:
            return "awaiting_signature"
    return "running"


def _copy_outcome(application: Application, data: dict) -> None:
    """Denormalise the decision and its reasons onto the application row for the API."""
    reasons = list(data.get("decline_reasons") or [])
    if data.get("final_decision") == "declined":
        application.decision = "declined"
        if data.get("review_outcome") == "rejected":
            last = (data.get("decision_trail") or [{}])[-1]
            reasons.append({"code": "REVIEW_REJECTED",
                            "message": f"rejected at {last.get('task')} by {last.get('by')}: {last.get('comment')}"})
    elif data.get("review_outcome") == "approved" or (
            data.get("review_levels") == 0 and data.get("rating_decision") == "approve"):
        application.decision = "approved"
    application.reasons = redact(reasons)
    application.summary = {k: data[k] for k in SUMMARY_KEYS if k in data}
    if data.get("loan_id"):
        application.loan_id = data["loan_id"]


WORKING_ROLES = frozenset({"customer_manager", "reviewer", "approver", "hq_approver"})


def works_on(user: User | None, application: Application) -> bool:
    """Whether a user works this application and so sees its personal data whole: a reviewing role
    in the application's branch, or a head-office approver. Everyone else (integrators, analysts,
    another branch) sees it masked."""
    if user is None:
        return False
    roles = user.role_set
    if user.branch_code == HQ:
        return "hq_approver" in roles
    return user.branch_code == application.branch_code and bool(roles & WORKING_ROLES)


def _masked_identity(application: Application) -> dict:
    masked = mask_applicant(application.payload.get("applicant") or {})
    return {"id_number": masked.get("id_number"), "phone": masked.get("phone")}


def applicant_view(application: Application, viewer: User | None) -> dict:
    applicant = application.payload.get("applicant") or {}
    shown = {k: applicant.get(k) for k in ("name", "id_number", "phone", "deposit_account")}
    return shown if works_on(viewer, application) else mask_applicant(shown)


def contract_view(contract: dict | None, whole: bool) -> dict | None:
    if not contract or whole:
        return contract
    terms = dict(contract.get("terms") or {})
    if terms.get("borrower"):
        terms["borrower"] = mask_applicant(terms["borrower"])
    if terms.get("deposit_account"):
        terms["deposit_account"] = mask_account(terms["deposit_account"])
    return {**contract, "terms": terms} if "terms" in contract else contract


def application_view(session: Session, application: Application, viewer: User | None = None) -> dict:
    """The application as `viewer` may see it: personal data whole only to those who work it (works_on)."""
    # Only the two columns shown: the instance's sealed state would be read and decrypted for nothing.
    instance = session.execute(select(ProcessInstance.incident, ProcessInstance.pinned_files)
                               .where(ProcessInstance.application_id == application.id)).first()
    tasks = session.scalars(select(HumanTask).where(HumanTask.application_id == application.id)
                            .order_by(HumanTask.created_at)).all()
    history = session.scalars(select(AuditEvent).where(AuditEvent.application_id == application.id)
                              .order_by(AuditEvent.id)).all()
    versions = {}
    if instance is not None:
        rows = session.execute(select(DeploymentFile.name, DeploymentFile.scope, Deployment.version)
                               .join(Deployment, Deployment.id == DeploymentFile.deployment_id)
                               .where(DeploymentFile.id.in_(list(instance.pinned_files.values())))).all()
        versions = {name: {"scope": scope, "deployment_version": version} for name, scope, version in sorted(rows)}
    data = application.summary or {}
    whole = works_on(viewer, application)
    shown = (lambda view: view) if whole else redact
    # reviewers' comments are free text: masked (redact) for whoever does not work the application
    task_views = [shown(task_view(t)) for t in tasks]
    return {
        "id": application.id, "branch": application.branch_code, "product": application.product_code,
        "customer_name": application.customer_name, "applicant": applicant_view(application, viewer),
        "amount": str(application.amount),
        "term_months": application.term_months, "status": application.status, "stage": application.stage,
        "decision": application.decision, "reasons": application.reasons, "loan_id": application.loan_id,
        "incident": instance.incident if instance else None,
        "rating": {k: data.get(k) for k in ("score", "grade", "credit_line", "annual_rate", "approved_amount",
                                            "reason_codes", "review_levels", "review_route_reason",
                                            "is_large_amount") if k in data},
        "risk_hits": data.get("risk_hits", []),
        "contract": contract_view(data.get("contract"), whole),
        "open_tasks": [view for view, t in zip(task_views, tasks) if t.status == "open"],
        "tasks": task_views,
        "history": [{"at": e.at.isoformat() + "Z", "actor": e.actor, "event": e.event, "detail": e.detail}
                    for e in history],
        "process_files": versions,
        "created_at": application.created_at.isoformat() + "Z",
        "updated_at": application.updated_at.isoformat() + "Z",
    }
