"""Contract signing (合同签约): draw up the contract, then record the customer's signature.

The contract's content hash covers its terms snapshot, so the signature from the channel can be
checked against exactly what the customer was shown.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
import json
from decimal import Decimal

from handlers.context import HandlerContext
from handlers.errors import HandlerError


def contract_number(branch_code: str, application_id: str, day) -> str:
    """LC-<branch>-<date>-<10 characters of the application id>. About 1 in 100 ids start with ten
    decimal digits, which the personal-data masking takes for an account or phone number and
    masks; such a part starts with a letter outside hex instead (0 → G … 9 → P), still one number
    per application."""
    part = application_id.replace("-", "")[:10].upper()
    if part.isdigit():
        part = chr(ord("G") + int(part[0])) + part[1:]
    return f"LC-{branch_code}-{day:%Y%m%d}-{part}"


def content_hash(terms: dict) -> str:
    canonical = json.dumps(terms, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ContractDrawnUp:
    contract: dict  # number, terms, content_hash, status (and once signed: signed_at, signed_via, ...)


def create_contract(ctx: HandlerContext, data: dict) -> ContractDrawnUp:
    applicant = data["applicant"]
    terms = {
        "borrower": {"name": applicant["name"], "id_number": applicant["id_number"]},
        "lender_branch": ctx.branch["code"],
        "product": ctx.product["code"],
        "principal": str(Decimal(data["approved_amount"])),
        "annual_rate": str(Decimal(data["annual_rate"])),
        "term_months": int(data["term_months"]),
        "repayment_method": ctx.product["repayment_method"],
        "purpose": data["purpose"],
        "guarantee_method": data["guarantee_method"],
        "deposit_account": applicant["deposit_account"],
        "drawn_up_on": ctx.business_date.isoformat(),
    }
    number = contract_number(ctx.branch["code"], ctx.application_id, ctx.business_date)
    return ContractDrawnUp({"number": number, "terms": terms, "content_hash": content_hash(terms),
                            "status": "awaiting_signature"})


def record_signature(ctx: HandlerContext, data: dict) -> ContractDrawnUp:
    contract = dict(data["contract"])
    signature = data.get("signature") or {}
    if signature.get("contract_number") != contract["number"] or \
            signature.get("content_hash") != contract["content_hash"]:
        # The API checks this before the message is delivered; reaching here is a modelling error.
        raise HandlerError("signature does not match the contract", field="signature")
    contract.update({"status": "signed", "signed_at": signature["signed_at"],
                     "signed_via": signature.get("channel"),
                     "signature_reference": signature.get("signature_reference")})
    return ContractDrawnUp(contract)
