"""Customers' authorisations for queries about them (数据查询授权).

No credit-bureau query runs without one: the risk check asks `ConsentBook.bureau_problem` (through
the handler context's services, so handlers never import workflows) and a missing, expired or
withdrawn authorisation stops the step with an incident naming why; recording one and retrying
continues. An authorisation is recorded for a customer of the register, by the API or with the
application that carries it; it names how it was given, through which channel, its reference,
when and until when.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.clock import in_china, to_stored
from workflows.errors import Conflict, InvalidInput, NotFound
from workflows.models import Application, Customer, CustomerConsent, utcnow
from workflows.process_views import iso

BUREAU = "credit_bureau"
CONSENT_DEFAULT_DAYS = 365      # an authorisation without an end holds a year
CONSENT_LONGEST_DAYS = 5 * 366  # and none longer than five (a loan's term at most, in practice)
CLOCK_SKEW = dt.timedelta(minutes=5)  # a channel's clock a little ahead is not "in the future"


@dataclass(frozen=True)
class ConsentTerms:
    """What an authorisation says, checked: typed across the boundary instead of the form's dict."""
    scope: str
    method: str
    channel: str
    reference: str
    granted_at: dt.datetime  # UTC, naive, as every stored time
    valid_until: dt.date     # China's calendar day


class ConsentBook:
    def __init__(self, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.now = clock

    def terms(self, form: dict, scope: str = BUREAU, *, under: str | None = None) -> ConsentTerms:
        """The form's authorisation with its defaults, or every reason it is not acceptable at once
        (named under `under` when it is part of a bigger form, as the application's `consent`)."""
        now = self.now()
        granted = form.get("granted_at")
        granted_at = now if granted is None else _utc(granted, under)
        valid_until = form.get("valid_until") or china_date(granted_at) + dt.timedelta(days=CONSENT_DEFAULT_DAYS)
        problems = {}
        if granted_at > now + CLOCK_SKEW:
            problems["granted_at"] = ["is in the future"]
        if valid_until < china_date(granted_at):
            problems["valid_until"] = ["is before the day it was given"]
        elif valid_until > china_date(granted_at) + dt.timedelta(days=CONSENT_LONGEST_DAYS):
            problems["valid_until"] = ["may be at most five years after it was given"]
        elif valid_until < china_date(now):
            problems["valid_until"] = ["has passed: the authorisation has expired"]
        if problems:
            raise InvalidInput("The authorisation cannot be recorded",
                               fields={under: problems} if under else problems)
        return ConsentTerms(scope=form.get("scope") or scope, method=form["method"], channel=form["channel"],
                            reference=form["reference"], granted_at=granted_at, valid_until=valid_until)

    def record(self, session: Session, customer: Customer, terms: ConsentTerms, actor: str,
               source: str) -> CustomerConsent:
        consent = CustomerConsent(customer_id=customer.id, scope=terms.scope, method=terms.method,
                                  channel=terms.channel, reference=terms.reference, granted_at=terms.granted_at,
                                  valid_until=terms.valid_until, source=source, recorded_by=actor,
                                  recorded_at=self.now())
        session.add(consent)
        session.flush()
        return consent

    def withdraw(self, session: Session, customer: Customer, consent_id: int, actor: str) -> CustomerConsent:
        consent = session.get(CustomerConsent, consent_id, with_for_update=True)
        if consent is None or consent.customer_id != customer.id:
            raise NotFound(f"Authorisation {consent_id} was not found")
        if consent.withdrawn_at is not None:
            raise Conflict(f"Authorisation {consent_id} was already withdrawn")
        consent.withdrawn_at, consent.withdrawn_by = self.now(), actor
        return consent

    def of(self, session: Session, customer: Customer) -> list[CustomerConsent]:
        return list(session.scalars(select(CustomerConsent).where(CustomerConsent.customer_id == customer.id)
                                    .order_by(CustomerConsent.id)))

    def bureau_problem(self, session: Session, application_id: str | None, at: dt.datetime) -> str | None:
        """Why the credit bureau may not be asked now (`at`, naive UTC) about this application's
        applicant, or None. Days are China's: an authorisation holds through its last day there."""
        today = china_date(at)
        customer_id = session.scalar(select(Application.customer_id).where(Application.id == application_id))
        if customer_id is None:
            return "the applicant is not in the customer register, so no authorisation can be on record"
        consents = session.scalars(select(CustomerConsent).where(CustomerConsent.customer_id == customer_id,
                                                                 CustomerConsent.scope == BUREAU)).all()
        if any(c.withdrawn_at is None and china_date(c.granted_at) <= today <= c.valid_until for c in consents):
            return None
        if not consents:
            return "no authorisation from the customer for credit bureau queries is on record"
        latest = max(consents, key=lambda c: c.granted_at)
        if latest.withdrawn_at is not None:
            return f"the customer withdrew the authorisation for credit bureau queries on {china_date(latest.withdrawn_at)}"
        return f"the customer's authorisation for credit bureau queries expired on {latest.valid_until}"


def consent_view(consent: CustomerConsent) -> dict:
    return {"id": consent.id, "scope": consent.scope, "method": consent.method, "channel": consent.channel,
            "reference": consent.reference, "granted_at": iso(consent.granted_at),
            "valid_until": consent.valid_until.isoformat(), "source": consent.source,
            "recorded_by": consent.recorded_by, "recorded_at": iso(consent.recorded_at),
            "withdrawn_at": iso(consent.withdrawn_at), "withdrawn_by": consent.withdrawn_by}


def china_date(value: dt.datetime) -> dt.date:
    """The day in China of a stored (naive UTC) time: the day the customer saw on their calendar."""
    return in_china(value).date()


def _utc(value: dt.datetime, under: str | None) -> dt.datetime:
    if value.tzinfo is None:
        problem = {"granted_at": ["must carry its UTC offset, e.g. 2026-12-01T09:30:00+08:00"]}
        raise InvalidInput("The authorisation's time needs its offset", fields={under: problem} if under else problem)
    return to_stored(value)
