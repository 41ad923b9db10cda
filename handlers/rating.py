"""Rating (评级授信): score, grade, credit line and price, and risk interception at application.

Adapter only: the scoring component decides; this module gathers its inputs from the task data,
the branch's resolved rating files, the risk lists and the credit bureau, and shapes the result
into task data the diagram's gateways and the reviewer's task read.
"""
from __future__ import annotations

from decimal import Decimal

from handlers.context import HandlerContext
from scoring.rating import rate_applicant as score_and_price
from scoring.risk import check_risk
from scoring.risk_lists import lists_for

RATING_FILES = ("scorecard.json", "grade.dmn", "credit_line.dmn", "pricing.dmn")
RISK_RULES_FILE = "risk_rules.json"
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
    facts = bureau_facts(ctx, applicant.get("id_number"))
    hits = [h.as_dict() for h in check_risk("application", applicant, facts,
                                             lists_for(ctx.session, [applicant.get("id_number", "")]),
                                             ctx.resource(RISK_RULES_FILE))]
    amount: Decimal = data["amount"]
    approved_amount = min(amount, rating.credit_line)
    if amount > rating.credit_line:
        # The customer may still get the loan: a reviewer decides, the contract says how much.
        hits.append({"code": LINE_EXCEEDED, "rule": "credit_line_exceeded", "severity": "warn",
                     "checkpoint": "application",
                     "message": f"requested {amount} exceeds the credit line of {rating.credit_line}"})
    blocked = any(h["severity"] == "block" for h in hits)
    too_small = approved_amount < Decimal(ctx.product["min_amount"])
    result = rating.as_dict()  # Decimals in task data for what later steps compute with
    result.update({
        "score": rating.score, "credit_line": rating.credit_line, "annual_rate": rating.annual_rate,
        "risk_hits": hits,
        "risk_warning_count": sum(1 for h in hits if h["severity"] == "warn"),
        "approved_amount": approved_amount,
        "is_large_amount": False,
        "rating_decision": "decline" if blocked or too_small else "approve",
        "decline_reasons": ([{"code": "RATING_LINE_TOO_SMALL",
                              "message": f"credit line {rating.credit_line} is below the product minimum"}]
                            if too_small and not blocked else []),
    })
    return result


def bureau_facts(ctx: HandlerContext, id_number: str | None) -> dict:
    """The credit-bureau report as risk facts; no bureau configured means no bureau facts."""
    client = ctx.services.get("bureau")
    if client is None or not id_number:
        return {}
    return {"bureau": client.report(id_number).as_facts()}
