"""Post-loan checks (贷后检查): the first check, started when a loan is disbursed, and ad-hoc checks
started by a customer manager or risk officer. The process (post_loan_check.bpmn) decides when
each is due (post_loan_check_days.dmn) and routes an adverse finding to the risk officer."""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ledger import service as ledger
from workflows.errors import NotFound
from workflows.models import HQ, ProcessInstance, User
from workflows.processes import SYSTEM, ProcessLayer, UseCase

POST_LOAN_CHECK = "post_loan_check"


def check_data(loan, *, kind: str, reason: str, start: dt.date, customer_name: str = "") -> dict:
    return {"loan_id": loan.loan_number, "check_kind": kind, "check_reason": reason,
            "check_from": start.isoformat(), "product_code": loan.product_code, "amount": loan.principal,
            "disbursed_on": loan.start_date.isoformat(), "customer_name": customer_name}


class PostLoanChecks(UseCase):
    def start(self, layer: ProcessLayer, session: Session, branch_code: str, form_data: dict,
              actor: User) -> ProcessInstance:
        """An ad-hoc check (e.g. after a warning signal), due at once."""
        loan = _loan_in(session, form_data["loan_id"], branch_code)
        data = check_data(loan, kind="adhoc", reason=form_data["check_reason"], start=layer.now().date())
        return layer.begin(session, POST_LOAN_CHECK, branch_code, data, actor.username,
                           correlation={"loan_id": loan.loan_number})


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


def _loan_in(session: Session, loan_id: str, branch_code: str):
    try:
        loan = ledger.load_loan(session, loan_id)
    except ledger.UnknownLoan:
        loan = None
    if loan is None or (branch_code != HQ and loan.branch != branch_code):
        raise NotFound(f"Loan {loan_id} was not found in branch {branch_code}", field="loan_id")
    return loan
