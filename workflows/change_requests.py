"""Change requests (合同变更) for disbursed loans: asked for by a customer manager or the channel,
approved on one or two levels (change_request.bpmn, change_route.dmn), applied by the ledger."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.tables import LoanChange
from privacy import mask_account
from workflows.errors import InvalidInput
from workflows.loan_servicing import LoanServicing
from workflows.models import Application, CorrelationKey, ProcessInstance, User
from workflows.process_state import COMPLETED, INCIDENT
from workflows.process_views import iso
from workflows.processes import ProcessLayer, UseCase

CHANGE_REQUEST = "change_request"
# Which field of the request carries the new value, by type.
NEW_VALUE = {"rate_change": "new_rate", "repayment_account": "deposit_account", "repayment_method": "new_method",
             "extension": "extra_months"}


class ChangeRequests(UseCase):
    maker_checker = True  # whoever asked for the change cannot approve it

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
    unrelated = [name for field, name in ((f, NEW_VALUE[f]) for f in NEW_VALUE) if field != kind and body.get(name)]
    for name in unrelated:
        problems[name] = [f"does not belong to a {kind} request"]
    if kind == "extension" and session.scalar(select(LoanChange.id).where(LoanChange.loan_id == loan.id,
                                                                          LoanChange.kind == "extension")):
        problems["type"] = ["the loan was extended already; a loan is extended once (贷款通则)"]
    if problems:
        raise InvalidInput("The change request cannot be made", fields=problems)
    value = body[NEW_VALUE[kind]]
    application = session.scalar(select(Application).where(Application.loan_id == loan.loan_number))
    data = {
        "loan_id": loan.loan_number, "change_type": kind, "change_reason": body["reason"],
        "change": {NEW_VALUE[kind]: value, "effective_date": effective.isoformat()},
        "current_terms": {"annual_rate": loan.annual_rate, "method": loan.method,
                          "deposit_account": mask_account(loan.deposit_account),
                          "maturity_date": loan.maturity_date.isoformat()},
        "amount": loan.principal_outstanding, "product_code": loan.product_code,
        "customer_name": application.customer_name if application else "",
    }
    return layer.begin(session, CHANGE_REQUEST, loan.branch, data, actor.username,
                       correlation={"loan_id": loan.loan_number, "change_type": kind})


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
