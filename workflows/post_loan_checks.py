"""Post-loan checks (贷后检查): the first check, started when a loan is disbursed; periodic checks,
each started when the one before it is done, for as long as the loan is open; and ad-hoc checks
started by a customer manager or risk officer. The process (post_loan_check.bpmn) decides when
each is due (post_loan_check_days.dmn: a periodic check by the loan's classification, e.g. yearly
for 正常 and quarterly for 关注 and worse) and routes an adverse finding to the risk officer.

Each check is an instance of its own (one visit, one record, one history), not a loop in one
diagram: a branch that changes the check deploys a new version and the next check takes it."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import service as ledger
from workflows.clock import CHINA
from workflows.errors import NotFound
from workflows.models import HQ, Application, ProcessInstance, User
from workflows.process_state import COMPLETED
from workflows.processes import SYSTEM, ProcessLayer, Step, UseCase

POST_LOAN_CHECK = "post_loan_check"


def check_data(loan, *, kind: str, reason: str, start: dt.date, customer_name: str = "",
               at: dt.time = dt.time(9, 0)) -> dict:
    """The check appears `check_after_days` (the DMN) after `check_from`, at `check_time` China time:
    9:00 for planned checks, the moment it was asked for when an ad-hoc one is due at once."""
    return {"loan_id": loan.loan_number, "check_kind": kind, "check_reason": reason,
            "check_from": start.isoformat(), "check_time": at.strftime("%H:%M:%S"), "product_code": loan.product_code, "amount": loan.principal,
            "disbursed_on": loan.start_date.isoformat(), "customer_name": customer_name,
            "classification": loan.classification}


class PostLoanChecks(UseCase):
    def start(self, layer: ProcessLayer, session: Session, branch_code: str, form_data: dict,
              actor: User) -> ProcessInstance:
        """An ad-hoc check (e.g. after a warning signal), due at once."""
        loan = _loan_in(session, form_data["loan_id"], branch_code)
        now = layer.now().replace(tzinfo=dt.timezone.utc).astimezone(CHINA)
        application = session.scalar(select(Application).where(Application.loan_id == loan.loan_number))
        data = check_data(loan, kind="adhoc", reason=form_data["check_reason"], start=now.date(),
                          at=now.time().replace(microsecond=0),
                          customer_name=application.customer_name if application else "")
        return layer.begin(session, POST_LOAN_CHECK, branch_code, data, actor.username,
                           correlation={"loan_id": loan.loan_number})

    def after_step(self, layer: ProcessLayer, session: Session, instance: ProcessInstance, step: Step,
                   actor: str) -> None:
        super().after_step(layer, session, instance, step, actor)
        if step.state.status == COMPLETED and step.before != COMPLETED:
            start_periodic_check(layer, session, instance, step.data)


def start_first_check(layer: ProcessLayer, session: Session, *, branch_code: str, loan_id: str,
                      customer_name: str) -> ProcessInstance | None:
    """The first check of a loan just disbursed, unless the branch runs no post-loan check process."""
    files = layer.resolution.resolve(session, branch_code)
    if POST_LOAN_CHECK not in layer.runner.spec_cache.get(files).process_ids:
        return None
    loan = ledger.load_loan(session, loan_id)
    data = check_data(loan, kind="first", reason="first check after disbursement", start=loan.start_date,
                      customer_name=customer_name)
    return layer.begin(session, POST_LOAN_CHECK, branch_code, data, SYSTEM,
                       correlation={"loan_id": loan.loan_number})


def start_periodic_check(layer: ProcessLayer, session: Session, done: ProcessInstance,
                         data: dict) -> ProcessInstance | None:
    """The next periodic check, counted from the day this one was done, unless the loan is closed
    (repaid, written off): a closed loan has nothing left to check."""
    loan = ledger.load_loan(session, data["loan_id"])
    if loan.status != "active":
        return None
    today = layer.now().replace(tzinfo=dt.timezone.utc).astimezone(CHINA).date()
    next_data = check_data(loan, kind="periodic", reason=f"periodic check ({loan.classification})", start=today,
                           customer_name=str(data.get("customer_name") or ""))
    return layer.begin(session, POST_LOAN_CHECK, done.branch_code, next_data, SYSTEM,
                       correlation={"loan_id": loan.loan_number})


def _loan_in(session: Session, loan_id: str, branch_code: str):
    try:
        loan = ledger.load_loan(session, loan_id)
    except ledger.UnknownLoan:
        loan = None
    if loan is None or (branch_code != HQ and loan.branch != branch_code):
        raise NotFound(f"Loan {loan_id} was not found in branch {branch_code}", field="loan_id")
    return loan
