"""The processes that need more from the process layer than its defaults, registered once when
the services are built. A process not named here runs on the layer's defaults (UseCase)."""
from __future__ import annotations

from workflows.change_requests import CHANGE_REQUEST, ChangeRequests
from workflows.post_loan_checks import POST_LOAN_CHECK, PostLoanChecks
from workflows.processes import ProcessLayer


def register_use_cases(layer: ProcessLayer) -> None:
    layer.register(POST_LOAN_CHECK, PostLoanChecks())
    layer.register(CHANGE_REQUEST, ChangeRequests())
