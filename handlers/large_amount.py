"""Large-amount loans (大额贷款): the report to head office that precedes its approval.

Above 2.5 % of the branch's net tier-1 capital, or above 50 million yuan, a loan needs an extra
report to HQ and HQ's approval (the review route sends it to the hq_approver level). The report
is the figures HQ judges by; it travels in the task data to the head-office approval task.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from handlers.context import HandlerContext


@dataclass(frozen=True)
class ReportedToHeadOffice:
    large_amount_report: dict  # the figures HQ judges by, as text


def report_to_head_office(ctx: HandlerContext, data: dict) -> ReportedToHeadOffice:
    amount = Decimal(data["approved_amount"])
    capital = Decimal(ctx.branch["tier1_capital_net"])
    share = (amount / capital).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP) if capital else None
    return ReportedToHeadOffice(large_amount_report={
        "branch": ctx.branch["code"],
        "amount": str(amount),
        "branch_tier1_capital_net": str(capital),
        "share_of_capital": None if share is None else str(share),
        "grade": data.get("grade"),
        "score": str(data.get("score")),
        "reported_on": ctx.business_date.isoformat(),
        "reported_by": ctx.actor,
    })
