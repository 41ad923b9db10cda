"""The customer register (客户档案): farm households and individuals, one per branch and resident ID
number, editable any time with history.

A branch is a separate legal entity, so a person who banks with two branches is two customers;
HQ sees them all. The register is written here only: registering through the API, changing
through the API, and each application, whose applicant data updates the register (the channel
holds the freshest data the customer gave). Every write is a customer_change row naming who,
when, from where and what changed (before and after), sealed like the data itself.
"""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.resident_id import id_number_problem
from privacy import mask_applicant, mask_id_number
from privacy.columns import keyring_for
from workflows.access import reaches, within_reach
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.consents import consent_view
from workflows.models import (HQ, Application, Branch, CreditLine, Customer, CustomerChange, CustomerConsent, User,
                              utcnow)
from workflows.process_views import iso, works_in

# Columns of their own (shown in lists and looked up); everything else of the form is `details`.
COLUMNS = ("name", "customer_type", "manager")
# What the application form's applicant says, under the register's names.
FROM_APPLICANT = {
    "name": "name", "phone": "phone", "customer_type": "customer_type", "industry": "industry",
    "region": "region", "family_members": "household_size", "labourers": "labourers", "land_mu": "land_mu",
    "livestock_head": "livestock_head", "existing_debt": "debts", "monthly_income": "monthly_income",
    "income_sources": "income_sources", "credit_village": "credit_village",
    "credit_household": "credit_household",
}
MANAGER_ROLE = "customer_manager"
# Those who keep the register: the channels' integrators and the branch's customer managers.
KEEPERS = ("integrator", MANAGER_ROLE)


def id_number_is_valid(id_number: str) -> bool:
    return id_number_problem(id_number) is None


def _plain(value):
    """The JSON form a value is stored in, so a change is compared as it will be read back."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def details_from_applicant(applicant: dict) -> dict:
    """The register's fields an application's applicant carries (those it gives a value for)."""
    return {ours: _plain(applicant[theirs]) for theirs, ours in FROM_APPLICANT.items()
            if applicant.get(theirs) not in (None, "")}


class CustomerRegister:
    def __init__(self, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.now = clock

    # -- registering and changing ---------------------------------------------------------------
    def register(self, session: Session, form: dict, actor: User) -> Customer:
        branch = self._branch(session, form["branch"], actor)
        id_hash = keyring_for(session).lookup_hash(form["id_number"])
        values = {k: _plain(v) for k, v in form.items() if k not in ("branch", "id_number") and v is not None}
        self._check_manager(session, branch.code, values.get("manager"))
        customer, inserted = self._insert_once(session, self._new(branch.code, form["id_number"], id_hash,
                                                                  actor.username))
        if not inserted:
            raise Conflict(f"A customer with this ID number is already registered in branch {branch.code}: "
                           f"{customer.id}", code="customer_exists", field="id_number")
        self._apply(session, customer, values, actor.username, "register")
        return customer

    def change(self, session: Session, customer_id: str, form: dict, actor: User) -> Customer:
        customer = self.customer_for(session, customer_id, actor, for_update=True)
        values = {k: _plain(v) for k, v in form.items() if k != "reason"}
        removed = [k for k in ("name", "customer_type") if k in values and values[k] is None]
        if removed:
            raise InvalidInput("A customer keeps a name and a customer type",
                               fields={k: ["cannot be removed"] for k in removed})
        if values.get("manager"):
            self._check_manager(session, customer.branch_code, values["manager"])
        # The same values again change nothing and write no history: a repeated PATCH is harmless.
        self._apply(session, customer, values, actor.username, "api", reason=form.get("reason"))
        return customer

    def record_from_application(self, session: Session, application: Application, applicant: dict,
                                actor: User) -> Customer | None:
        """Find or register the application's customer and bring the register up to the applicant
        data. None for an ID number that fails its check (intake declines that application)."""
        if not id_number_is_valid(application.id_number):
            return None
        values = details_from_applicant(applicant)
        if MANAGER_ROLE in actor.role_set and actor.branch_code == application.branch_code:
            values.setdefault("manager", actor.username)
        customer = self._by_hash(session, application.branch_code, application.id_number_hash, for_update=True)
        source = f"application:{application.id}"
        if customer is None:
            customer, _ = self._insert_once(session, self._new(application.branch_code, application.id_number,
                                                               application.id_number_hash, actor.username))
        if customer.manager:
            values.pop("manager", None)  # the responsible manager changes only by a deliberate change
        self._apply(session, customer, values, actor.username, source)
        application.customer_id = customer.id
        return customer

    # -- reading --------------------------------------------------------------------------------
    def customer_for(self, session: Session, customer_id: str, actor: User, *, for_update: bool = False) -> Customer:
        query = select(Customer).where(Customer.id == customer_id)
        customer = session.scalars(query.with_for_update() if for_update else query).first()
        if customer is None or not reaches(actor, customer.branch_code):
            raise NotFound(f"Customer {customer_id} was not found")
        return customer

    def find(self, session: Session, id_number: str, actor: User) -> list[Customer]:
        """The customers with exactly this ID number: one per branch at most; a branch sees its own."""
        query = select(Customer).where(Customer.id_number_hash == keyring_for(session).lookup_hash(id_number))
        query = within_reach(query, Customer.branch_code, actor)
        return list(session.scalars(query.order_by(Customer.branch_code)))

    def history(self, session: Session, customer: Customer) -> list[CustomerChange]:
        return list(session.scalars(select(CustomerChange).where(CustomerChange.customer_id == customer.id)
                                    .order_by(CustomerChange.id)))

    # -- inside ---------------------------------------------------------------------------------
    def _new(self, branch_code: str, id_number: str, id_hash: str, actor: str) -> Customer:
        now = self.now()
        return Customer(id=str(uuid.uuid4()), branch_code=branch_code, id_number=id_number, id_number_hash=id_hash,
                        name="", customer_type="", manager="", details={}, version=0,
                        created_by=actor, created_at=now, updated_by=actor, updated_at=now)

    def _insert_once(self, session: Session, customer: Customer) -> tuple[Customer, bool]:
        """The new row, or the one already there for its branch and ID number (registered before,
        or by a concurrent request that committed first: the unique key decides, and the savepoint
        keeps our transaction usable). The flag says whether ours was inserted."""
        existing = self._by_hash(session, customer.branch_code, customer.id_number_hash, for_update=True)
        if existing is not None:
            return existing, False
        try:
            with session.begin_nested():
                session.add(customer)
        except IntegrityError:
            return self._by_hash(session, customer.branch_code, customer.id_number_hash, for_update=True), False
        return customer, True

    def _apply(self, session: Session, customer: Customer, values: dict, actor: str, source: str,
               reason: str | None = None) -> dict:
        changes = {k: {"from": self._value(customer, k), "to": v} for k, v in values.items()
                   if v != self._value(customer, k)}
        if not changes and customer.version > 0:
            return {}
        details = dict(customer.details or {})
        for key, change in changes.items():
            if key in COLUMNS:
                setattr(customer, key, change["to"] or "")
            elif change["to"] is None:
                details.pop(key, None)
            else:
                details[key] = change["to"]
        customer.details = details
        customer.version += 1
        customer.updated_by, customer.updated_at = actor, self.now()
        session.flush()
        record = {"fields": changes}
        if reason:
            record["reason"] = reason
        session.add(CustomerChange(customer_id=customer.id, version=customer.version, at=customer.updated_at,
                                   actor=actor, source=source, changes=record))
        return changes

    @staticmethod
    def _value(customer: Customer, key: str):
        if key in COLUMNS:
            return getattr(customer, key) or None
        return (customer.details or {}).get(key)

    @staticmethod
    def _by_hash(session: Session, branch_code: str, id_hash: str, *, for_update: bool = False) -> Customer | None:
        query = select(Customer).where(Customer.branch_code == branch_code, Customer.id_number_hash == id_hash)
        return session.scalars(query.with_for_update() if for_update else query).first()

    @staticmethod
    def _branch(session: Session, code: str, actor: User) -> Branch:
        branch = session.get(Branch, code)
        if branch is None or branch.is_hq:
            raise InvalidInput(f"Unknown branch '{code}'", field="branch")
        if not reaches(actor, branch.code):
            raise Forbidden(f"User {actor.username} may not register customers of branch {branch.code}", field="branch")
        return branch

    @staticmethod
    def _check_manager(session: Session, branch_code: str, username: str | None) -> None:
        if not username:
            return
        user = session.get(User, username)
        if user is None or user.branch_code != branch_code or MANAGER_ROLE not in user.role_set:
            raise InvalidInput(f"'{username}' is not a customer manager of branch {branch_code}", field="manager")


# -- how a customer looks --------------------------------------------------------------------------
def customer_lines(session: Session, customer_id: str) -> list[dict]:
    """The customer's credit lines as a list shows them (GET /credit-lines/{id} has the figures)."""
    rows = session.execute(select(CreditLine.id, CreditLine.status, CreditLine.limit_amount, CreditLine.expires_on,
                                  CreditLine.revolving)
                           .where(CreditLine.customer_id == customer_id).order_by(CreditLine.created_at)).all()
    return [{"id": r.id, "status": r.status, "limit": str(r.limit_amount), "expires_on": r.expires_on.isoformat(),
             "revolving": r.revolving} for r in rows]


def customer_view(session: Session, customer: Customer, viewer: User | None) -> dict:
    """The customer as `viewer` may see them: personal data whole to those who work the branch."""
    whole = works_in(viewer, customer.branch_code)
    details = dict(customer.details or {})
    if not whole:
        details = _masked_details(details)
    applications = session.execute(
        select(Application.id, Application.status, Application.product_code, Application.amount,
               Application.loan_id, Application.created_at)
        .where(Application.customer_id == customer.id).order_by(Application.created_at)).all()
    return {
        "id": customer.id, "branch": customer.branch_code,
        "id_number": customer.id_number if whole else mask_id_number(customer.id_number),
        "name": customer.name, "customer_type": customer.customer_type, "manager": customer.manager or None,
        **details,
        "version": customer.version,
        "applications": [{"id": a.id, "status": a.status, "product": a.product_code, "amount": str(a.amount),
                          "loan_id": a.loan_id, "created_at": iso(a.created_at)} for a in applications],
        "loans": [a.loan_id for a in applications if a.loan_id],
        "credit_lines": customer_lines(session, customer.id),
        "consents": [consent_view(c) for c in session.scalars(
            select(CustomerConsent).where(CustomerConsent.customer_id == customer.id).order_by(CustomerConsent.id))],
        "created_at": iso(customer.created_at), "created_by": customer.created_by,
        "updated_at": iso(customer.updated_at), "updated_by": customer.updated_by,
    }


def list_customers(session: Session, viewer: User, *, branch: str | None, manager: str | None,
                   limit: int, offset: int) -> dict:
    """A page of customers by name. A branch user sees only their branch (asking for another is an
    empty page, not someone else's customers); ID numbers are masked in lists, always."""
    query = select(Customer)
    query = within_reach(query, Customer.branch_code, viewer)
    if branch:
        query = query.where(Customer.branch_code == branch)
    if manager:
        query = query.where(Customer.manager == manager)
    rows = session.scalars(query.order_by(Customer.name, Customer.id).limit(limit + 1).offset(offset)).all()
    return {"customers": [{"id": c.id, "branch": c.branch_code, "name": c.name, "customer_type": c.customer_type,
                           "id_number": mask_id_number(c.id_number), "manager": c.manager or None,
                           "updated_at": iso(c.updated_at)} for c in rows[:limit]],
            "next_offset": offset + limit if len(rows) > limit else None}


def change_view(change: CustomerChange, whole: bool) -> dict:
    fields = change.changes.get("fields") or {}
    if not whole:
        fields = {k: {"from": _masked_value(k, v["from"]), "to": _masked_value(k, v["to"])} for k, v in fields.items()}
    return {"version": change.version, "at": iso(change.at), "actor": change.actor, "source": change.source,
            "changes": fields, "reason": change.changes.get("reason")}


def history_view(session: Session, register: CustomerRegister, customer: Customer, viewer: User) -> dict:
    whole = works_in(viewer, customer.branch_code)
    return {"customer_id": customer.id,
            "changes": [change_view(c, whole) for c in register.history(session, customer)]}


def _masked_value(key: str, value):
    if value is None:
        return None
    return _masked_details({key: value})[key]


def _masked_details(details: dict) -> dict:
    masked = mask_applicant(details)
    if masked.get("family_members"):
        masked["family_members"] = [mask_applicant(member) for member in masked["family_members"]]
    return masked
