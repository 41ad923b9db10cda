"""Service-task operation names (as written in the BPMN) to handler functions."""
from __future__ import annotations

from typing import Callable

from handlers.context import HandlerContext

Handler = Callable[[HandlerContext, dict], dict]


def build_registry() -> dict[str, Handler]:
    # Imported here, not at module import, so importing the registry costs nothing.
    from handlers import (classification, collections, contract, credit_line, disbursement, intake, large_amount,
                          limits, rating, review_sla, risk, servicing, sms)

    return {
        "intake.precheck": intake.precheck,
        "risk.check_application": risk.check_application,
        "risk.check_contract": risk.check_contract,
        "risk.check_disbursement": risk.check_disbursement,
        "rating.rate_applicant": rating.rate_applicant,
        "limits.check_application": limits.check_application,
        "limits.check_disbursement": limits.check_disbursement,
        "large_amount.report": large_amount.report_to_head_office,
        "contract.create": contract.create_contract,
        "contract.record_signature": contract.record_signature,
        "disbursement.disburse": disbursement.disburse,
        "credit_line.activate": credit_line.activate,
        "credit_line.apply_change": credit_line.apply_change,
        "collections.check_loan": collections.check_loan,
        "collections.assign_agency": collections.assign_agency,
        "collections.write_off": collections.write_off,
        "sms.overdue_reminder": sms.overdue_reminder,
        "servicing.apply_change": servicing.apply_change,
        "classification.record_decision": classification.record_decision,
        "review.remind": review_sla.remind,
        "review.escalate": review_sla.escalate,
    }


# Handlers that write to the database. Only their calls are wrapped in a savepoint (so a failure
# leaves none of their rows behind); the others only read, and a savepoint would be two wasted
# statements per step.
WRITING_OPERATIONS = frozenset({"disbursement.disburse", "credit_line.activate", "credit_line.apply_change",
                                "collections.write_off",
                                "servicing.apply_change",
                                "classification.record_decision",
                                "review.remind", "review.escalate"})


def operation_names() -> set[str]:
    return set(build_registry())
