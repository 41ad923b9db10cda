"""Risk interception (风险拦截) at the three checkpoints: application, contract, disbursement.

A block ends the application with a decline naming the rule; a warning travels with the
application (it shows on the reviewer's task and rules out auto-approval). The credit bureau is
asked at the application checkpoint; later checkpoints reuse its report from the task data, so a
blacklist entry added after submission is still caught before money moves.
"""
from __future__ import annotations

from dataclasses import dataclass

from handlers.context import HandlerContext
from handlers.errors import HandlerError
from scoring.risk import check_risk
from scoring.risk_lists import lists_for

RISK_RULES_FILE = "risk_rules.json"


@dataclass(frozen=True)
class RiskChecked:
    """Risk interception at one checkpoint; `bureau_report` is asked for at the application only."""
    risk_hits: list
    risk_warning_count: int
    risk_blocked: bool
    decline_reasons: list


@dataclass(frozen=True)
class ApplicationRiskChecked(RiskChecked):
    bureau_report: dict | None


def _check(ctx: HandlerContext, data: dict, checkpoint: str, facts: dict) -> RiskChecked:
    applicant = dict(data.get("applicant") or {})
    hits = [h.as_dict() for h in check_risk(checkpoint, applicant, facts,
                                             lists_for(ctx.session, [applicant.get("id_number", "")]),
                                             ctx.resource(RISK_RULES_FILE))]
    earlier = [h for h in data.get("risk_hits") or [] if h.get("checkpoint") != checkpoint]
    blocks = [h for h in hits if h["severity"] == "block"]
    return RiskChecked(
        risk_hits=earlier + hits,
        risk_warning_count=sum(1 for h in earlier + hits if h["severity"] == "warn"),
        risk_blocked=bool(blocks),
        decline_reasons=list(data.get("decline_reasons") or []) + [
            {"code": h["code"], "message": f"{h['message']} ({checkpoint} checkpoint)"} for h in blocks])


def check_application(ctx: HandlerContext, data: dict) -> ApplicationRiskChecked:
    applicant = data.get("applicant") or {}
    facts = bureau_facts(ctx, applicant.get("id_number"))
    checked = _check(ctx, data, "application", facts)
    return ApplicationRiskChecked(**vars(checked), bureau_report=facts.get("bureau"))


def check_contract(ctx: HandlerContext, data: dict) -> RiskChecked:
    return _check(ctx, data, "contract", _facts_from(data))


def check_disbursement(ctx: HandlerContext, data: dict) -> RiskChecked:
    return _check(ctx, data, "disbursement", _facts_from(data))


def _facts_from(data: dict) -> dict:
    return {"bureau": data["bureau_report"]} if data.get("bureau_report") else {}


def bureau_facts(ctx: HandlerContext, id_number: str | None) -> dict:
    """The credit-bureau report as risk facts. No bureau configured means no bureau facts (the
    rules then warn that the bureau was not checked); a bureau that is down raises, and the
    instance shows an incident that can be retried."""
    client = ctx.services.get("bureau")
    if client is None or not id_number:
        return {}
    # No query about a person without their recorded authorisation (数据查询授权); without the
    # book that holds them, no query at all.
    consents = ctx.services.get("consents")
    problem = (consents.bureau_problem(ctx.session, ctx.application_id, ctx.now) if consents is not None
               else "no register of customers' authorisations is configured")
    if problem:
        raise ConsentMissing(f"credit bureau not queried: {problem}")
    return {"bureau": client.report(id_number).as_facts()}


class ConsentMissing(HandlerError):
    """The step stops (an incident) until the authorisation is recorded; then a retry continues."""
    code = "consent_missing"
