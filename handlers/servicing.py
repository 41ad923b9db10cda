"""Contract changes (合同变更) an approved change request makes in the ledger.

The change key derives from the instance, so a retried step never changes the loan twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from handlers.context import HandlerContext
from handlers.errors import HandlerError
from ledger import service as ledger
from privacy import mask_phone


@dataclass(frozen=True)
class ChangeApplied:
    schedule_version: int
    applied_on: str
    applied_by: str


def apply_change(ctx: HandlerContext, data: dict) -> ChangeApplied:
    change, kind = data["change"], data["change_type"]
    approver = data.get("completed_by")
    if not approver:
        raise HandlerError("an approved change names its approver", field="completed_by")
    common = dict(effective_date=change["effective_date"], change_key=f"change:{ctx.instance_id}",
                  reason=data.get("change_reason") or "", approved_by=approver)
    if kind == "rate_change":
        version = ledger.change_rate(ctx.session, data["loan_id"], change["new_rate"], **common)
    elif kind == "repayment_method":
        version = ledger.change_method(ctx.session, data["loan_id"], change["new_method"], **common)
    elif kind == "extension":
        version = ledger.extend_term(ctx.session, data["loan_id"], int(change["extra_months"]), **common)
    elif kind == "repayment_account":
        version = ledger.change_repayment_account(ctx.session, data["loan_id"], change["deposit_account"], **common)
    elif kind in ("guarantee", "customer_data"):
        old, new = _recorded_values(kind, data.get("current_terms") or {}, change)
        version = ledger.record_non_financial_change(ctx.session, data["loan_id"], kind, old, new, **common)
    else:
        raise HandlerError(f"unknown change type '{kind}'", field="change_type")
    return ChangeApplied(schedule_version=version, applied_on=ctx.business_date.isoformat(), applied_by=approver)


def _recorded_values(kind: str, current: dict, change: dict) -> tuple[str, str]:
    """What the ledger's change history says was changed, from what to what. The history is not
    sealed, so a phone goes in masked; the guarantee's details stay in the case (sealed)."""
    if kind == "guarantee":
        return current.get("guarantee_method") or "", change["guarantee_method"]
    parts = [(name, mask_phone(change[name]) if name == "phone" else change[name], current.get(name) or "")
             for name in ("phone", "region") if name in change]
    return ("; ".join(f"{name}={old}" for name, _, old in parts),
            "; ".join(f"{name}={new}" for name, new, _ in parts))
