"""Loan origination as integrators and reviewers drive it: submit, work tasks, sign, retry — one
use case of the process layer (workflows/processes.py).

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

from forms.compiler import load_form
from privacy import keyring_for, mask_account, mask_applicant, redact
from workflows.access import reaches
from workflows.callbacks import CallbackHosts
from workflows.deployments import MAIN_PROCESS
from workflows.business_calendar import load_calendar
from workflows.review_sla import ReviewSla
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.integrators import intake_channel
from workflows.inbox import TaskSubject, task_view
from workflows.consents import ConsentBook
from workflows.credit_lines import LINE_CHANGE_PROCESS, LINE_PROCESS, CreditLines, LineChanges
from workflows.customers import CustomerRegister
from workflows.instances import InstanceRunner
from workflows import products
from workflows.models import (HQ, Application, AuditEvent, Branch, DueTimer, HumanTask,
                              OutboxMessage, ProcessInstance, User, utcnow)
from workflows.process_state import COMPLETED, INCIDENT, InstanceState
from workflows.process_views import file_versions, history_entries
from workflows.post_loan_checks import start_first_check
from workflows.processes import Message, ProcessLayer, Step, UseCase

SIGNATURE_MESSAGE = "customer_signed"
SUMMARY_KEYS = ("score", "grade", "credit_line", "annual_rate", "approved_amount", "reason_codes",
                "review_levels", "review_route_reason", "is_large_amount", "risk_hits", "limit_hits",
                "contract", "applicant_age", "large_amount_report", "credit_line_id")
# The called processes of loan_origination; the innermost one running is the application's stage.
STAGES = frozenset({"intake", "rating", "review", "signing", "disbursement"})


class Origination(UseCase):
    """The origination service, and the loan_origination use case of the process layer: the
    layer runs the instance; this keeps the application row, its status and its webhook. One per
    process, shared by requests (it holds no request state)."""

    stages = STAGES
    default_stage = "intake"

    def __init__(self, runner: InstanceRunner, *, clock: Callable[[], dt.datetime] = utcnow,
                 services: dict | None = None, callback_hosts: CallbackHosts | None = None) -> None:
        self.layer = ProcessLayer(runner, clock=clock, services={
            "review_sla": ReviewSla(), "business_calendar": load_calendar, **(services or {})})
        self.layer.register(MAIN_PROCESS, self)
        self.runner = runner
        # Nobody may set a callback URL unless the settings allow their hosts (see workflows/callbacks.py).
        self.callback_hosts = callback_hosts or CallbackHosts()
        # Each application finds or registers its customer, and brings the register up to date.
        self.customers = CustomerRegister(clock=self.now)
        # The customers' authorisations: the risk check asks it before any bureau query.
        self.consents = ConsentBook(clock=self.now)
        self.layer.services.setdefault("consents", self.consents)
        # Credit lines (授信) run the same stages as a loan on the credit_line process; the book
        # keeps the lines and decides drawdowns (workflows/credit_lines.py).
        self.credit_lines = CreditLines(self.layer, clock=self.now)
        self.layer.services.setdefault("credit_lines", self.credit_lines)
        self.layer.register(LINE_PROCESS, LineApplications(self))
        self.layer.register(LINE_CHANGE_PROCESS, LineChanges())

    @property
    def services(self) -> dict:
        return self.layer.services

    def now(self) -> dt.datetime:
        return self.layer.now()

    # -- submitting ---------------------------------------------------------------------------
    def submit(self, session: Session, form: dict, actor: User, *, process_id: str = MAIN_PROCESS) -> Application:
        """An application for a loan (loan_origination) or, with process_id credit_line, for a
        credit line: the same row, the same checks and stages; the line's own fields (revolving,
        renews_line_id) travel in the task data to the activation step."""
        if form.get("callback_url"):
            self.callback_hosts.check(actor.username, form["callback_url"])
        branch = session.get(Branch, form["branch"])
        if branch is None or branch.is_hq:
            raise InvalidInput(f"Unknown branch '{form['branch']}'", field="branch")
        if not reaches(actor, branch.code):
            raise Forbidden(f"User {actor.username} may not submit applications for branch {branch.code}",
                            field="branch")
        channel, partner_id = intake_channel(actor, form)
        # The product as this branch offers it now (HQ's products.json narrowed by the branch's).
        product = self.layer.product_catalogue(session, branch.code).get(form["product"])
        if product is None:
            raise InvalidInput(f"Unknown product '{form['product']}'", field="product")
        products.check_application(product, branch.code, {**form, "channel": channel})
        consent = self.consents.terms(form["consent"], under="consent") if form.get("consent") else None
        if consent is not None:  # the payload is stored as JSON: its times and dates as ISO text
            form = {**form, "consent": {k: v.isoformat() if hasattr(v, "isoformat") else v
                                        for k, v in form["consent"].items()}}
        now = self.now()
        application = Application(
            id=str(uuid.uuid4()), branch_code=branch.code, product_code=product.code,
            customer_name=form["applicant"]["name"], id_number=form["applicant"]["id_number"],
            id_number_hash=keyring_for(session).lookup_hash(form["applicant"]["id_number"]),
            amount=form["amount"], term_months=form["term_months"], payload=form,
            region=form["applicant"].get("region") or branch.region, industry=form["applicant"].get("industry") or "",
            purpose=form["purpose"], guarantee_method=form["guarantee_method"],
            customer_type=form["applicant"].get("customer_type") or "",
            channel=channel, partner_id=partner_id,
            status="submitted", stage="intake", reasons=[], created_by=actor.username,
            created_at=now, updated_at=now)
        session.add(application)
        session.flush()
        customer = self.customers.record_from_application(session, application, form["applicant"], actor)
        if consent is not None and customer is not None:
            self.consents.record(session, customer, consent, actor.username, f"application:{application.id}")
        session.add(AuditEvent(application_id=application.id, actor=actor.username, event="application_submitted",
                               detail=redact({"amount": form["amount"], "product": product.code,
                                              "branch": branch.code}), at=now))
        data = {
            "product_code": product.code, "amount": form["amount"], "term_months": form["term_months"],
            "purpose": form["purpose"], "guarantee_method": form["guarantee_method"],
            "repayment_method": form.get("repayment_method") or product.repayment_methods[0],
            "required_documents": product.documents_for(form["amount"], form["guarantee_method"]),
            "applicant": form["applicant"], "decision_trail": [],
        }
        if process_id == LINE_PROCESS:
            data["revolving"] = bool(form.get("revolving"))
            data["renews_line_id"] = self._renewed_line(session, form.get("renews_line_id"), branch.code, actor)
        self.layer.begin(session, process_id, branch.code, data, actor.username, application_id=application.id)
        return application

    def _renewed_line(self, session: Session, line_id: str | None, branch_code: str, actor: User) -> str:
        """A renewal (续贷) names a line of the same branch; it is rated and reviewed as any."""
        if not line_id:
            return ""
        line = self.credit_lines.line_for(session, line_id, actor)
        if line.branch_code != branch_code:
            raise InvalidInput("A renewal is for a line of the same branch", field="renews_line_id")
        return line.id

    # -- reviewers: tasks of any process are the layer's ----------------------------------------
    def claim(self, session: Session, task_id: str, actor: User) -> HumanTask:
        return self.layer.claim(session, task_id, actor)

    def unclaim(self, session: Session, task_id: str, actor: User) -> HumanTask:
        return self.layer.unclaim(session, task_id, actor)

    def complete(self, session: Session, task_id: str, actor: User, payload) -> HumanTask:
        return self.layer.complete(session, task_id, actor, payload)

    # -- the channel: the signature is a message ------------------------------------------------
    def record_signature(self, session: Session, application_id: str, actor: User, payload) -> Application:
        """The e-sign callback, kept as an alias of `POST /messages`: the `customer_signed` message
        for this application, its id derived from the signature's reference, so a repeated
        callback is one message."""
        application = self._application_for(session, application_id, actor)
        form_data = load_form("signature", payload)
        message = Message(name=SIGNATURE_MESSAGE,
                          message_id=f"esign:{application.id}:{form_data['signature_reference']}",
                          correlation={"application_id": application.id}, payload=payload)
        try:
            self.layer.deliver(session, message, actor)
        except NotFound:
            raise Conflict(f"Application is {application.status}; it is not waiting for a signature") from None
        return application

    def retry(self, session: Session, application_id: str, actor: User) -> Application:
        application = self._application_for(session, application_id, actor)
        instance = self._instance_for_update(session, application.id)
        if instance.status != "incident":
            raise Conflict(f"Application is {application.status}; there is no incident to retry")
        self.layer.retry(session, instance, actor.username)
        return application

    def fire_timer(self, session: Session, timer: DueTimer, at: dt.datetime) -> ProcessInstance:
        return self.layer.fire_timer(session, timer, at)

    # -- reading ------------------------------------------------------------------------------
    def application_for(self, session: Session, application_id: str, actor: User) -> Application:
        return self._application_for(session, application_id, actor)

    # -- the use case: what the process layer asks of origination ------------------------------
    def subject(self, session: Session, instance: ProcessInstance, data: dict) -> TaskSubject:
        application = session.get(Application, instance.application_id)
        return TaskSubject(branch_code=application.branch_code, process_id=instance.process_id,
                           amount=application.amount, customer_name=application.customer_name,
                           product_code=application.product_code, application_id=application.id,
                           loan_id=application.loan_id)

    def product_code(self, session: Session, instance: ProcessInstance, data: dict) -> str | None:
        return session.get(Application, instance.application_id).product_code

    def check_message(self, session: Session, instance: ProcessInstance, name: str, payload: dict) -> dict:
        if name != SIGNATURE_MESSAGE:
            return payload
        form_data = load_form("signature", payload)
        application = session.get(Application, instance.application_id)
        _check_signature_matches(application.summary.get("contract") or {}, form_data)
        form_data["signed_at"] = form_data["signed_at"].isoformat()
        self.layer.audit(session, instance, "system", "signature_received",
                         {"contract_number": form_data["contract_number"], "channel": form_data["channel"]})
        return form_data

    def business_status(self, session: Session, instance: ProcessInstance) -> str:
        return session.get(Application, instance.application_id).status

    def shows_whole(self, session: Session, instance: ProcessInstance, viewer: User | None) -> bool:
        return works_on(viewer, session.get(Application, instance.application_id))

    def start(self, layer: ProcessLayer, session: Session, branch_code: str, form_data: dict,
              actor: User) -> ProcessInstance:
        """POST /processes/loan_origination/instances is POST /applications under another name."""
        application = self.submit(session, {**form_data, "branch": branch_code}, actor)
        return self._instance_for_update(session, application.id)

    def after_step(self, layer: ProcessLayer, session: Session, instance: ProcessInstance, step: Step,
                   actor: str) -> None:
        """Denormalise the step onto the application row; announce a status change."""
        application = session.get(Application, instance.application_id)
        before = application.status
        application.status = application_status(step.state, step.data)
        application.stage = step.state.stage
        _copy_outcome(application, step.data)
        application.updated_at = layer.now()
        if application.status == "disbursed" and before != "disbursed" and application.loan_id:
            start_first_check(layer, session, branch_code=application.branch_code, loan_id=application.loan_id,
                              customer_name=application.customer_name)
        if application.status != before:
            layer.audit(session, instance, "system", "status_changed",
                        {"from": before, "to": application.status, "stage": application.stage})
            session.add(OutboxMessage(topic="application.status_changed", application_id=application.id,
                                      payload={"application_id": application.id, "status": application.status,
                                               "previous_status": before,
                                               # masked: a webhook is a copy outside the bank's systems
                                               "applicant": _masked_identity(application),
                                               "callback_url": application.payload.get("callback_url")}))

    # -- internals ----------------------------------------------------------------------------
    def _instance_for_update(self, session: Session, application_id: str) -> ProcessInstance:
        """The application's one process instance, locked until the unit of work ends."""
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.application_id == application_id)
                                  .with_for_update())
        if instance is None:
            raise NotFound("Process instance not found")
        return instance

    def _application_for(self, session: Session, application_id: str, actor: User) -> Application:
        application = session.get(Application, application_id)
        if application is None or not reaches(actor, application.branch_code):
            raise NotFound(f"Application {application_id} was not found")
        return application


class LineApplications(UseCase):
    """The credit_line process's use case: a line application is an application row like a loan's
    (same inbox subject, signature, status and webhook), so everything is origination's but the
    start, which begins the credit_line process."""

    stages = STAGES
    default_stage = "intake"

    def __init__(self, origination: Origination) -> None:
        self.origination = origination

    def start(self, layer: ProcessLayer, session: Session, branch_code: str, form_data: dict,
              actor: User) -> ProcessInstance:
        application = self.origination.submit(session, {**form_data, "branch": branch_code}, actor,
                                              process_id=LINE_PROCESS)
        return self.origination._instance_for_update(session, application.id)

    def subject(self, session, instance, data):
        return self.origination.subject(session, instance, data)

    def product_code(self, session, instance, data):
        return self.origination.product_code(session, instance, data)

    def check_message(self, session, instance, name, payload):
        return self.origination.check_message(session, instance, name, payload)

    def business_status(self, session, instance):
        return self.origination.business_status(session, instance)

    def shows_whole(self, session, instance, viewer):
        return self.origination.shows_whole(session, instance, viewer)

    def after_step(self, layer, session, instance, step, actor):
        self.origination.after_step(layer, session, instance, step, actor)


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


def application_status(state: InstanceState, data: dict) -> str:
    """An application's status, from its instance's state and what the process decided."""
    if state.status == INCIDENT:
        return "incident"
    if state.status == COMPLETED:
        if data.get("final_decision") == "declined":
            return "declined"
        return "line_active" if data.get("credit_line_id") else "disbursed"
    if state.waits_for_people:
        return "in_review"
    if SIGNATURE_MESSAGE in state.waiting_messages:
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
    # Only the columns shown: the instance's sealed state would be read and decrypted for nothing.
    instance = session.execute(select(ProcessInstance.id, ProcessInstance.incident, ProcessInstance.pinned_files)
                               .where(ProcessInstance.application_id == application.id)).first()
    tasks = session.scalars(select(HumanTask).where(HumanTask.application_id == application.id)
                            .order_by(HumanTask.created_at)).all()
    history = session.scalars(select(AuditEvent).where(AuditEvent.application_id == application.id)
                              .order_by(AuditEvent.id)).all()
    versions = file_versions(session, instance.pinned_files) if instance is not None else {}
    data = application.summary or {}
    whole = works_on(viewer, application)
    shown = (lambda view: view) if whole else redact
    # reviewers' comments are free text: masked (redact) for whoever does not work the application
    task_views = [shown(task_view(t)) for t in tasks]
    return {
        "id": application.id, "branch": application.branch_code, "product": application.product_code,
        "channel": application.channel, "partner_id": application.partner_id,
        "customer_name": application.customer_name, "customer_id": application.customer_id,
        "applicant": applicant_view(application, viewer),
        "amount": str(application.amount),
        "term_months": application.term_months, "status": application.status, "stage": application.stage,
        "decision": application.decision, "reasons": application.reasons, "loan_id": application.loan_id,
        "credit_line_id": data.get("credit_line_id"),
        "instance_id": instance.id if instance else None,
        "incident": instance.incident if instance else None,
        "rating": {k: data.get(k) for k in ("score", "grade", "credit_line", "annual_rate", "approved_amount",
                                            "reason_codes", "review_levels", "review_route_reason",
                                            "is_large_amount") if k in data},
        "risk_hits": data.get("risk_hits", []),
        "contract": contract_view(data.get("contract"), whole),
        "open_tasks": [view for view, t in zip(task_views, tasks) if t.status == "open"],
        "tasks": task_views,
        "history": history_entries(session, history, whole=True),  # stored masked (ProcessLayer.audit)
        "process_files": versions,
        "created_at": application.created_at.isoformat() + "Z",
        "updated_at": application.updated_at.isoformat() + "Z",
    }
