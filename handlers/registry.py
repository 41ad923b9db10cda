"""Service-task operation names (as written in the BPMN) to handler functions."""
from __future__ import annotations

from typing import Callable

from handlers.context import HandlerContext

Handler = Callable[[HandlerContext, dict], dict]


def build_registry() -> dict[str, Handler]:
    # Imported here, not at module import, so importing the registry costs nothing.
    from handlers import contract, disbursement, intake, rating

    return {
        "intake.precheck": intake.precheck,
        "rating.rate_applicant": rating.rate_applicant,
        "contract.create": contract.create_contract,
        "contract.record_signature": contract.record_signature,
        "disbursement.disburse": disbursement.disburse,
    }


def operation_names() -> set[str]:
    return set(build_registry())
