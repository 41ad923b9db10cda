"""Risk lists (/risk-lists/{name}/entries) and batch rating (/rating/batch).

Risk lists are group-wide. Staff read them; approvers (branch or HQ) add and remove entries,
always with a reason; every change is audited (/risk-lists/{name}/changes).
No ID number travels in a URL (they land in access logs): an entry is addressed by its `id`, and a
person is looked up with POST /risk-lists/{name}/search and the ID number in the body. Listings
show ID numbers masked (privacy.masking).
Batch rating pre-rates applicants for one branch and product with the branch's deployed rating
files; a bad applicant is reported by its position and does not stop the rest. All of it through
workflows.risk_administration.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only
from web.api_docs import Query, documented
from web.auth import require
from web.pipeline import command
from web.requests import int_arg, json_body, refuse_id_number_in_url
from workflows import risk_administration as risk

blueprint = Blueprint("scoring", __name__)

STAFF = ("customer_manager", "reviewer", "approver", "hq_approver", "analyst")
LIST_MANAGERS = ("approver", "hq_approver")
MAX_PAGE = 500


def _no_id_number_in_the_url(name: str) -> None:
    refuse_id_number_in_url(f"/api/v1/risk-lists/{name}/search")


@blueprint.get("/risk-lists/<name>/entries")
@documented("Entries of a risk list (blacklist, graylist, aml), ID numbers masked",
            query=(Query("limit", "integer"), Query("offset", "integer")))
@require(*STAFF)
def list_risk_entries(name: str):
    _no_id_number_in_the_url(name)
    with read_only() as session:
        return jsonify(risk.list_entries(session, name, limit=int_arg("limit", 100, 0, MAX_PAGE),
                                         offset=int_arg("offset", 0, 0, 10**9)))


@blueprint.post("/risk-lists/<name>/entries")
@documented("Add an entry (approvers), audited", ok=201, body="risk_list_entry")
@require(*LIST_MANAGERS)
def add_risk_entry(name: str):
    return command(lambda session, form, key: risk.add_entry(session, name, form, g.user),
                   status=201, form="risk_list_entry")


@blueprint.post("/risk-lists/<name>/search")
@documented("Exact look-up of one person: body {\"id_number\": ...}; entries and changes, ID numbers masked")
@require(*STAFF)
def search_risk_list(name: str):
    body = json_body()
    with read_only() as session:
        return jsonify(risk.search(session, name, body))


@blueprint.delete("/risk-lists/<name>/entries/<int:entry_id>")
@documented("Remove an entry (approvers) by its id, with a reason (query parameter or JSON body), audited",
            ok=204, query=("reason",))
@require(*LIST_MANAGERS)
def remove_risk_entry(name: str, entry_id: int):
    # The reason may come as a query parameter: some proxies drop DELETE bodies.
    reason = request.args.get("reason")
    if reason is None and request.get_data(cache=True):
        reason = json_body().get("reason")
    return command(lambda session, _, key: risk.remove_entry(session, name, entry_id, reason, g.user),
                   status=204, body=False)


@blueprint.get("/risk-lists/<name>/changes")
@documented("The audit trail of a risk list (ID numbers masked)")
@require(*STAFF)
def risk_list_changes(name: str):
    _no_id_number_in_the_url(name)
    with read_only() as session:
        return jsonify(risk.changes(session, name))


@blueprint.post("/rating/batch")
@documented("Pre-rate a list of applicants for one branch and product (nothing is stored)")
@require(*STAFF)
def rate_batch():
    body = json_body()
    with read_only() as session:
        return jsonify(risk.rate_batch(session, body, g.user))
