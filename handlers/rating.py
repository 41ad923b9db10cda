"""Rating (评级授信): score, grade, credit line, price and the large-amount flag.

Adapter only: the scoring component decides; this module gathers its inputs from the task data and
the branch's resolved rating files, and shapes the result into task data that the diagram's
gateways and the reviewer's task read. Risk interception ran at intake (handlers.risk).
"""
from __future__ import annotations

from decimal import Decimal

from handlers.context import HandlerContext
from handlers.limits import LIMITS_FILE
from scoring.limits import is_large_amount
from scoring.rating import RATING_FILES
from scoring.rating import rate_applicant as score_and_price

LINE_EXCEEDED = "L001"


def scoring_applicant(data: dict) -> dict:
    """The applicant as the scoring component reads it (see scoring.applicant)."""
    applicant = dict(data.get("applicant") or {})
    applicant["age"] = data.get("applicant_age")
    for not_scored in ("phone", "deposit_account", "region", "industry"):
        applicant.pop(not_scored, None)
    return {k: v for k, v in applicant.items() if v is not None}


def rate_applicant(ctx: HandlerContext, data: dict) -> dict:
    applicant = scoring_applicant(data)
    rating = score_and_price(applicant, ctx.product, {name: ctx.resource(name) for name in RATING_FILES})
    hits = list(data.get("risk_hits") or [])
    amount: Decimal = data["amount"]
    approved_amount = min(amount, rating.credit_line)
    if amount > rating.credit_line:
        # The customer may still get the loan: a reviewer decides, the contract says how much.
        hits.append({"code": LINE_EXCEEDED, "rule": "credit_line_exceeded", "severity": "warn",
                     "checkpoint": "application",
                     "message": f"requested {amount} exceeds the credit line of {rating.credit_line}"})
    too_small = approved_amount < Decimal(ctx.product["min_amount"])
    result = rating.as_dict()  # Decimals in task data for what later steps compute with
    result.update({
        "score": rating.score, "credit_line": rating.credit_line, "annual_rate": rating.annual_rate,
        "risk_hits": hits,
        "risk_warning_count": sum(1 for h in hits if h["severity"] == "warn"),
        "approved_amount": approved_amount,
        "is_large_amount": is_large_amount(approved_amount, Decimal(ctx.branch["tier1_capital_net"]),
                                           ctx.resource(LIMITS_FILE)),
        "rating_decision": "decline" if too_small else "approve",
        "decline_reasons": list(data.get("decline_reasons") or []) + (
            [{"code": "RATING_LINE_TOO_SMALL",
              "message": f"credit line {rating.credit_line} is below the product minimum {ctx.product['min_amount']}"}]
            if too_small else []),
    })
    return result
