"""Rating (评级授信): score, grade, credit line, price and the large-amount flag.

Adapter only: the scoring component decides; this module gathers its inputs from the task data and
the branch's resolved rating files, and shapes the result into task data that the diagram's
gateways and the reviewer's task read. Risk interception ran at intake (handlers.risk).
"""
from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Rated:
    """The rating as task data: the scorecard's figures (as text, for the reviewer and the record),
    and the Decimals later steps compute with (score, credit line, rate, approved amount)."""
    score: Decimal
    statistical_score: str
    expert_score: str | None
    expert_weight: str
    grade: str
    credit_line: Decimal
    annual_rate: Decimal
    pricing_tier: str | None
    reason_codes: list
    scorecard: str
    risk_hits: list
    risk_warning_count: int
    approved_amount: Decimal
    is_large_amount: bool
    rating_decision: str          # approve | decline (the line is below the product's minimum)
    decline_reasons: list


def rate_applicant(ctx: HandlerContext, data: dict) -> Rated:
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
    figures = rating.as_dict()
    return Rated(
        score=rating.score, statistical_score=figures["statistical_score"], expert_score=figures["expert_score"],
        expert_weight=figures["expert_weight"], grade=rating.grade, credit_line=rating.credit_line,
        annual_rate=rating.annual_rate, pricing_tier=figures["pricing_tier"], reason_codes=figures["reason_codes"],
        scorecard=figures["scorecard"], risk_hits=hits,
        risk_warning_count=sum(1 for h in hits if h["severity"] == "warn"),
        approved_amount=approved_amount,
        is_large_amount=is_large_amount(approved_amount, Decimal(ctx.branch["tier1_capital_net"]),
                                        ctx.resource(LIMITS_FILE)),
        rating_decision="decline" if too_small else "approve",
        decline_reasons=list(data.get("decline_reasons") or []) + (
            [{"code": "RATING_LINE_TOO_SMALL",
              "message": f"credit line {rating.credit_line} is below the product minimum {ctx.product['min_amount']}"}]
            if too_small else []))
