"""/customers: the branch's customer register for its staff — a list by name (a customer manager's
own first), the exact look-up by ID number (a POST: ID numbers stay out of URLs and histories),
and a customer's page: household data, family, applications and loans, and the change history.
Through workflows.customers, as the API."""
from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from forms.compiler import load_form
from web.api.context import read_only, services
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from workflows.customers import customer_view, history_view, list_customers

blueprint = Blueprint("pages_customers", __name__)
errors.install_on(blueprint)

READERS = ("customer_manager", "reviewer", "approver", "hq_approver", "risk_officer", "hq_risk")
PAGE_SIZE = 50
# The household's figures in the order a customer manager reads them, with their labels.
HOUSEHOLD = (("customer_type", "Customer type"), ("industry", "Industry"), ("region", "Region"),
             ("phone", "Mobile phone"), ("household_size", "Household size"), ("labourers", "Labourers"),
             ("land_mu", "Farmland (mu)"), ("livestock_head", "Livestock (head)"), ("assets", "Household assets"),
             ("debts", "Household debts"), ("monthly_income", "Monthly income"), ("income_sources", "Income sources"),
             ("credit_village", "From a credit village"), ("credit_household", "Credit household"))
ADDRESS = ("province", "city", "county", "township", "village", "village_group")
MONEY = frozenset({"assets", "debts", "monthly_income"})
# Every field a change in the history may name, by its label.
LABELS = {**dict(HOUSEHOLD), "name": "Full name", "address": "Address", "family_members": "Family members",
          "manager": "Customer manager"}


def _offset() -> int:
    raw = request.args.get("offset", "0")
    return int(raw) if raw.isdigit() and len(raw) < 10 else 0


def _list_page(problem: str | None = None, status: int = 200):
    mine = request.args.get("mine") == "1" and "customer_manager" in g.user.role_set
    with read_only() as session:
        listing = list_customers(session, g.user, branch=None, manager=g.user.username if mine else None,
                                 limit=PAGE_SIZE, offset=_offset())
    return render_template("customers.html", listing=listing, mine=mine, problem=problem,
                           may_filter_mine="customer_manager" in g.user.role_set), status


@blueprint.get("/customers")
@page(*READERS)
def customers():
    return _list_page()


@blueprint.post("/customers/search")
@page(*READERS)
def search():
    try:
        form = load_form("customer_search", {"id_number": request.form.get("id_number", "").strip()})
    except ValidationError as err:
        return _list_page(_("ID number") + "：" + _(err.messages["id_number"][0]), status=422)
    with read_only() as session:
        found = [{"id": c.id, "branch": c.branch_code, "name": c.name, "customer_type": c.customer_type,
                  "manager": c.manager or None}
                 for c in services().origination.customers.find(session, form["id_number"], g.user)]
    if not found:
        return _list_page(_("No customer with this ID number in the register"), status=404)
    # HQ may find one per branch: the list of them; a branch finds at most its own one.
    if len(found) == 1:
        return redirect(url_for("pages_customers.customer", customer_id=found[0]["id"]))
    return render_template("customers.html", listing={"customers": found, "next_offset": None},
                           mine=False, problem=None, may_filter_mine=False)


@blueprint.get("/customers/<customer_id>")
@page(*READERS)
def customer(customer_id: str):
    register = services().origination.customers
    with read_only() as session:
        row = register.customer_for(session, customer_id, g.user)
        view = customer_view(session, row, g.user)
        history = history_view(session, register, row, g.user)
        # with what each line has available now (its drawdowns' outstanding in the ledger)
        lines = services().origination.credit_lines.lines_of_customer(session, row.id)
    return render_template("customer.html", customer=view, history=history["changes"], household=HOUSEHOLD,
                           address_parts=ADDRESS, money_keys=MONEY, labels=LABELS, credit_lines=lines)
