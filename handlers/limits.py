"""Limits (限额) at application and at disbursement, against live exposure.

A block declines the application naming the dimension, the limit and the usage; a warning
(usage near a limit) travels with the application and rules out auto-approval.
"""
from __future__ import annotations

from dataclasses import dataclass

from decimal import Decimal

from handlers.context import HandlerContext
from scoring.limits import exposure_key, limit_usage, needed_exposures

LIMITS_FILE = "limits.json"


def _usage(ctx: HandlerContext, data: dict, checkpoint: str) -> list[dict]:
    """Every limit that applies, with its usage after this loan; the hits are those not `ok`."""
    exposure_service = ctx.services["exposure"]
    applicant = data["applicant"]
    application = {**exposure_service.dimensions(ctx.session, ctx.application_id),
                   "amount": Decimal(data.get("approved_amount") or data["amount"]),
                   "id_number": applicant["id_number"]}
    config = ctx.resource(LIMITS_FILE)
    exposure = exposure_service.live(ctx.session, branch=ctx.branch["code"], id_number=applicant["id_number"],
                                     needed=needed_exposures(application, config), key_of=exposure_key)
    return [dict(u.as_dict(), checkpoint=checkpoint) for u in limit_usage(application, config, exposure)]


def _hits(usage: list[dict]) -> list[dict]:
    return [u for u in usage if u["severity"] != "ok"]


def _reasons(hits: list[dict], checkpoint: str) -> list[dict]:
    return [{"code": f"LIMIT_{h['limit_id']}", "dimension": h["dimension"], "limit": h["limit"],
             "usage": h["usage"], "message": f"{h['message']} ({checkpoint} checkpoint)"}
            for h in hits if h["severity"] == "block"]


@dataclass(frozen=True)
class ApplicationLimitsChecked:
    limit_hits: list
    limit_usage: list          # every limit that applies, `ok` ones too: what the reviewer sees
    risk_warning_count: int
    decline_reasons: list
    rating_decision: str | None  # "decline" on a block, else what rating decided


@dataclass(frozen=True)
class DisbursementLimitsChecked:
    limit_hits: list
    limit_usage: list
    risk_blocked: bool
    decline_reasons: list


def check_application(ctx: HandlerContext, data: dict) -> ApplicationLimitsChecked:
    usage = _usage(ctx, data, "application")
    hits = _hits(usage)
    blocks = _reasons(hits, "application")
    return ApplicationLimitsChecked(
        limit_hits=hits, limit_usage=usage,
        risk_warning_count=int(data.get("risk_warning_count") or 0) + sum(1 for h in hits if h["severity"] == "warn"),
        decline_reasons=list(data.get("decline_reasons") or []) + blocks,
        rating_decision="decline" if blocks else data.get("rating_decision"))


def check_disbursement(ctx: HandlerContext, data: dict) -> DisbursementLimitsChecked:
    usage = _usage(ctx, data, "disbursement")
    hits = _hits(usage)
    blocks = _reasons(hits, "disbursement")
    earlier = [h for h in data.get("limit_hits") or [] if h.get("checkpoint") != "disbursement"]
    # At disbursement the figures are the latest: the usage shown is this checkpoint's.
    return DisbursementLimitsChecked(limit_hits=earlier + hits, limit_usage=usage,
                                     risk_blocked=bool(blocks) or bool(data.get("risk_blocked")),
                                     decline_reasons=list(data.get("decline_reasons") or []) + blocks)
