from __future__ import annotations

from flask import Blueprint, g, jsonify

from ledger.loans import loan_view
from web.api.context import read_only
from web.auth import require
from web.errors import ApiError
from workflows.models import HQ

blueprint = Blueprint("loans", __name__)


@blueprint.get("/loans/<loan_id>")
@require()
def show(loan_id: str):
    with read_only() as session:
        view = loan_view(session, loan_id)
        if g.user.branch_code not in (HQ, view["branch"]):
            raise ApiError(404, "not_found", f"Loan {loan_id} was not found")
        return jsonify(view)
