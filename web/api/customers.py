"""The customer register (/customers): register, read, change with history, look up by ID number.

A customer is addressed by a surrogate id; the ID number never travels in a URL (a look-up is
POST /customers/search with it in the body). Branch users see their branch's customers, HQ all;
personal data is whole only to those who work the branch. All of it through workflows.customers.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from forms.compiler import load_form
from web.api.context import read_only, services
from web.api_docs import Query, documented
from web.auth import require
from web.pipeline import command
from web.requests import int_arg, json_body, refuse_id_number_in_url
from workflows.consents import consent_view
from workflows.customers import KEEPERS, customer_view, history_view, list_customers

blueprint = Blueprint("customers", __name__)

SEARCH = "/api/v1/customers/search"


def register():
    return services().origination.customers


def consents():
    return services().origination.consents


@blueprint.post("/customers")
@documented("Register a customer (a farm household or an individual) of a branch", ok=201, body="customer",
            idempotency="optional")
@require(*KEEPERS)
def register_customer():
    return command(lambda session, form, key: customer_view(session, register().register(session, form, g.user), g.user),
                   status=201, form="customer", idempotency="optional", scope="customer")


@blueprint.get("/customers")
@documented("A branch's customers, by name (ID numbers masked); `manager` narrows to one customer manager's",
            query=(Query("branch"), Query("manager"), Query("limit", "integer"), Query("offset", "integer")))
@require()
def list_branch_customers():
    refuse_id_number_in_url(SEARCH)
    with read_only() as session:
        return jsonify(list_customers(session, g.user, branch=request.args.get("branch"),
                                      manager=request.args.get("manager"),
                                      limit=int_arg("limit", 50, 1, 500), offset=int_arg("offset", 0, 0, 10**9)))


@blueprint.post("/customers/search")
@documented("Exact look-up by resident ID number: body {\"id_number\": ...}; one customer per branch at most",
            body="customer_search")
@require()
def search_customers():
    form = load_form("customer_search", json_body())
    with read_only() as session:
        found = register().find(session, form["id_number"], g.user)
        return jsonify({"customers": [customer_view(session, c, g.user) for c in found]})


@blueprint.get("/customers/<customer_id>")
@documented("A customer: household data, applications and loans")
@require()
def get_customer(customer_id: str):
    with read_only() as session:
        return jsonify(customer_view(session, register().customer_for(session, customer_id, g.user), g.user))


@blueprint.patch("/customers/<customer_id>")
@documented("Change a customer's data (the ID number and branch are the key and stay); a field set to null is "
            "cleared; every change is kept in the history", body="customer_change", idempotency="optional")
@require(*KEEPERS)
def change_customer(customer_id: str):
    return command(lambda session, form, key: customer_view(
        session, register().change(session, customer_id, form, g.user), g.user),
        form="customer_change", idempotency="optional", scope=f"customer:{customer_id}")


@blueprint.get("/customers/<customer_id>/history")
@documented("Who changed what in a customer's data, when, from where (api, register, application:<id>) and why")
@require()
def customer_history(customer_id: str):
    with read_only() as session:
        customer = register().customer_for(session, customer_id, g.user)
        return jsonify(history_view(session, register(), customer, g.user))


@blueprint.post("/customers/<customer_id>/consents")
@documented("Record the customer's authorisation for queries (数据查询授权): how, channel, reference, when, until "
            "when (a year if not said); no bureau query runs without a valid one", ok=201, body="consent",
            idempotency="optional")
@require(*KEEPERS)
def record_consent(customer_id: str):
    def act(session, form, key):
        customer = register().customer_for(session, customer_id, g.user, for_update=True)
        return consent_view(consents().record(session, customer, consents().terms(form), g.user.username, "api"))
    return command(act, status=201, form="consent", idempotency="optional", scope=f"consent:{customer_id}")


@blueprint.get("/customers/<customer_id>/consents")
@documented("The customer's authorisations, withdrawn and expired ones included")
@require()
def list_consents(customer_id: str):
    with read_only() as session:
        customer = register().customer_for(session, customer_id, g.user)
        return jsonify({"customer_id": customer.id, "consents": [consent_view(c) for c in consents().of(session, customer)]})


@blueprint.post("/customers/<customer_id>/consents/<int:consent_id>/withdraw")
@documented("The customer withdraws an authorisation: from now on no query runs on it")
@require(*KEEPERS)
def withdraw_consent(customer_id: str, consent_id: int):
    def act(session, _, key):
        customer = register().customer_for(session, customer_id, g.user, for_update=True)
        return consent_view(consents().withdraw(session, customer, consent_id, g.user.username))
    return command(act, body=False)
