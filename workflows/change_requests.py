"""Change requests (合同变更) for disbursed loans: asked for by a customer manager or the channel,
approved on one or two levels (change_request.bpmn, change_route.dmn), applied by the ledger."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.tables import LoanChange
from privacy import mask_account, mask_phone
from workflows.errors import InvalidInput
from workflows.loan_servicing import LoanServicing
from workflows.models import Application, CorrelationKey, ProcessInstance, User
from workflows.process_state import COMPLETED, INCIDENT
from workflows.process_views import iso
from workflows.processes import ProcessLayer, UseCase

CHANGE_REQUEST = "change_request"
# Which fields of the request carry the new values, by type.
CHANGE_FIELDS = {"rate_change": ("new_rate",), "repayment_account": ("deposit_account",),
                 "repayment_method": ("new_method",), "guarantee": ("guarantee_method", "guarantee_details"),
                 "customer_data": ("phone", "region"), "extension": ("extra_months",)}
# Changes to the borrower or the security, not to money: the ledger records them (no new
# schedule) and the application's record of the loan takes the new values.
RECORD_ONLY = frozenset({"guarantee", "customer_data"})


class ChangeRequests(UseCase):
    maker_checker = True  # whoever asked for the change cannot approve it

    def after_step(self, layer: ProcessLayer, session: Session, instance: ProcessInstance, step, actor: str) -> None:
        super().after_step(layer, session, instance, step, actor)
        if step.state.status == COMPLETED and step.before != COMPLETED and step.state.stage == "applied":
            apply_to_application(session, step.data)

    def business_status(self, session: Session, instance: ProcessInstance) -> str:
        if instance.status == COMPLETED:
            return "applied" if instance.stage == "applied" else "rejected"
        return "incident" if instance.status == INCIDENT else "pending"


def request_change(layer: ProcessLayer, servicing: LoanServicing, session: Session, loan_id: str, body: dict,
                   actor: User) -> ProcessInstance:
    loan = servicing.loan_for(session, loan_id, actor, for_update=True)
    kind, effective = body["type"], body["effective_date"]
    problems = {}
    if loan.status != "active":
        problems["loan_id"] = [f"the loan is {loan.status}; only an active loan can be changed"]
    if not loan.start_date <= effective <= loan.maturity_date:
        problems["effective_date"] = [f"must be within the loan's term, {loan.start_date} to {loan.maturity_date}"]
    own = CHANGE_FIELDS[kind]
    for name in {f for fields in CHANGE_FIELDS.values() for f in fields} - set(own):
        if body.get(name) not in (None, ""):
            problems[name] = [f"does not belong to a {kind} request"]
    if kind == "extension" and session.scalar(select(LoanChange.id).where(LoanChange.loan_id == loan.id,
                                                                          LoanChange.kind == "extension")):
        problems["type"] = ["the loan was extended already; a loan is extended once (贷款通则)"]
    application = session.scalar(select(Application).where(Application.loan_id == loan.loan_number))
    borrower = borrower_terms(application)
    if kind in RECORD_ONLY:
        problems.update(_record_only_problems(kind, body, application, borrower))
    if problems:
        raise InvalidInput("The change request cannot be made", fields=problems)
    change = {name: body[name] for name in own if body.get(name) not in (None, "")}
    data = {
        "loan_id": loan.loan_number, "change_type": kind, "change_reason": body["reason"],
        "change": {**change, "effective_date": effective.isoformat()},
        "current_terms": {"annual_rate": loan.annual_rate, "method": loan.method,
                          "deposit_account": mask_account(loan.deposit_account),
                          "maturity_date": loan.maturity_date.isoformat(),
                          **borrower, "phone": mask_phone(borrower.get("phone"))},
        "amount": loan.principal_outstanding, "product_code": loan.product_code,
        "customer_name": application.customer_name if application else "",
    }
    return layer.begin(session, CHANGE_REQUEST, loan.branch, data, actor.username,
                       correlation={"loan_id": loan.loan_number, "change_type": kind})


def borrower_terms(application: Application | None) -> dict:
    """What the bank holds of the borrower and the security, as a guarantee or customer-data
    change sees it (whole: the caller masks what it shows)."""
    if application is None:
        return {}
    applicant = (application.payload or {}).get("applicant") or {}
    return {"guarantee_method": application.guarantee_method, "phone": applicant.get("phone") or "",
            "region": application.region}


def _record_only_problems(kind: str, body: dict, application: Application | None, borrower: dict) -> dict:
    if application is None:
        return {"type": [f"the loan has no application on record, so its {kind.replace('_', ' ')} cannot be changed here"]}
    problems = {}
    if kind == "guarantee" and body.get("guarantee_method") == borrower["guarantee_method"]:
        problems["guarantee_method"] = [f"the loan is secured by {borrower['guarantee_method']} already"]
    if kind == "customer_data":
        given = [name for name in CHANGE_FIELDS[kind] if body.get(name) not in (None, "")]
        if not given:
            problems.update({name: ["give the new phone or the new region (or both)"] for name in CHANGE_FIELDS[kind]})
        problems.update({name: ["is what the bank holds already"] for name in given if body[name] == borrower[name]})
    return problems


def apply_to_application(session: Session, data: dict) -> None:
    """An applied guarantee or customer-data change: the application's record of the loan takes the
    new values, so limits (by guarantee method, by region) and the texts of reminders and
    collections follow it. Runs in the step that applied the change in the ledger."""
    if data.get("change_type") not in RECORD_ONLY:
        return
    application = session.scalar(select(Application).where(Application.loan_id == data["loan_id"]).with_for_update())
    change = data["change"]
    if "guarantee_method" in change:
        application.guarantee_method = change["guarantee_method"]
    if "region" in change:
        application.region = change["region"]
    if "phone" in change or "region" in change:
        payload = dict(application.payload)   # a new value, so the sealed column is written again
        applicant = dict(payload.get("applicant") or {})
        applicant.update({k: change[k] for k in ("phone", "region") if k in change})
        payload["applicant"] = applicant
        application.payload = payload


def change_requests_of(session: Session, layer: ProcessLayer, loan_number: str) -> list[dict]:
    """The loan's change requests, newest first, as GET /loans/{id} lists them."""
    rows = session.execute(
        select(ProcessInstance, CorrelationKey.value)
        .join(CorrelationKey, (CorrelationKey.instance_id == ProcessInstance.id) & (CorrelationKey.name == "change_type"))
        .where(ProcessInstance.process_id == CHANGE_REQUEST, ProcessInstance.id.in_(
            select(CorrelationKey.instance_id).where(CorrelationKey.name == "loan_id",
                                                     CorrelationKey.value == loan_number)))
        .order_by(ProcessInstance.created_at.desc())).all()
    use_case = layer.use_case(CHANGE_REQUEST)
    return [{"instance_id": instance.id, "type": kind, "status": use_case.business_status(session, instance),
             "stage": instance.stage, "requested_by": instance.started_by, "requested_at": iso(instance.created_at)}
            for instance, kind in rows]
