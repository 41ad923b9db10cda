"""Activating a credit line (授信生效): the last step of the credit_line process, in place of
origination's disbursement. The line book (`ctx.services["credit_lines"]`, workflows/credit_lines.py)
writes the line; this adapter only reads the signed line contract out of the task data."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handlers.context import HandlerContext


@dataclass(frozen=True)
class LineGrant:
    """What the activation step knows when the signed line contract activates the line."""
    application_id: str
    branch_code: str
    product_code: str
    contract_number: str
    limit: Decimal
    annual_rate: Decimal
    term_months: int
    revolving: bool
    renews_line_id: str | None
    actor: str


@dataclass(frozen=True)
class LineActivated:
    credit_line_id: str
    line_expires_on: str


def activate(ctx: HandlerContext, data: dict) -> LineActivated:
    contract = data["contract"]
    terms = contract["terms"]
    line = ctx.services["credit_lines"].activate(ctx.session, LineGrant(
        application_id=ctx.application_id, branch_code=ctx.branch["code"], product_code=terms["product"],
        contract_number=contract["number"], limit=Decimal(terms["principal"]),
        annual_rate=Decimal(terms["annual_rate"]), term_months=int(terms["term_months"]),
        revolving=bool(data.get("revolving")), renews_line_id=data.get("renews_line_id") or None,
        actor=ctx.actor))
    return LineActivated(credit_line_id=line.id, line_expires_on=line.expires_on.isoformat())


@dataclass(frozen=True)
class LineChangeApplied:
    line_change_outcome: str   # applied | refused (the line no longer allows it: see the problem)
    line_change_problem: str


def apply_change(ctx: HandlerContext, data: dict) -> LineChangeApplied:
    """The credit_line_change process's last step: unfreeze or reduce, checked again now (what
    is drawn may have grown while the approval waited)."""
    problem = ctx.services["credit_lines"].apply_change(
        ctx.session, data["line_id"], data["line_action"], data.get("new_limit"), data["change_reason"],
        requested_by=data["started_by"], approved_by=data.get("completed_by"))
    return LineChangeApplied(line_change_outcome="refused" if problem else "applied", line_change_problem=problem)
