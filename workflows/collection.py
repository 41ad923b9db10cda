"""Auto-debit of due installments through the payment channel (到期自动扣款).

    result = collect_due(db, date(2024, 2, 15), PaymentChannelClient("http://core.internal"))

For each loan `ledger.collection.due_collections` lists, the channel is asked to debit the amount
from the loan's deposit account under the loan's reference for the date; what it debited is then
booked with `ledger.servicing.repay` in one unit of work per loan, the reference as posting key.

- Insufficient funds: nothing is booked; the installment stays unpaid and the end-of-day batch
  ages it as usual. All or nothing per loan (no partial debits).
- Channel unavailable (down, timeout, no usable answer): the run stops there. Whether money moved
  is unknown, and the next run asks again under the same reference, which the channel answers
  without debiting twice.
- Idempotent: a booked loan is no longer due, so a second run for the date debits and books
  nothing; if an answer was lost after a debit, the rerun gets the stored answer and books it once.
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import requests
from privacy import mask_account
from sqlalchemy.exc import SQLAlchemyError

from ledger.service import due_collections
from ledger.errors import LedgerError
from ledger.schedules import parse_date
from ledger.service import repay
from workflows.db import Database
from workflows.errors import WorkflowError

log = logging.getLogger(__name__)

DEBITED = "debited"
INSUFFICIENT_FUNDS = "insufficient_funds"


class PaymentChannelUnavailable(WorkflowError):
    """The channel gave no final answer (down, timeout, 5xx, unreadable reply): retry later with
    the same reference."""

    kind = "unavailable"
    code = "payment_channel_unavailable"


class PaymentChannelRejected(WorkflowError):
    """The channel refused the request itself (4xx other than insufficient funds): nothing was
    debited, and asking again will not help."""

    kind = "invalid"
    code = "payment_channel_rejected"


@dataclass(frozen=True)
class DebitOutcome:
    status: str  # DEBITED or INSUFFICIENT_FUNDS
    amount: Decimal
    reference: str


class PaymentChannel(Protocol):
    def debit(self, account: str, amount: Decimal, reference: str, value_date: date | None = None) -> DebitOutcome: ...

    def statement(self, business_date: date) -> list["StatementLine"]: ...


class PaymentChannelClient:
    """The core banking system's debit API over HTTP.

    Every request has a connect and a read timeout. There are no retries inside one run: a lost
    answer is settled by the next run re-sending the same reference, which is safe, whereas a
    retry loop here would hold the whole batch up behind one slow account.
    """

    def __init__(self, base_url: str, *, connect_timeout: float = 3.05, read_timeout: float = 10.0,
                 http: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self._http = http or requests.Session()

    def debit(self, account: str, amount: Decimal, reference: str, value_date: date | None = None) -> DebitOutcome:
        if not isinstance(amount, Decimal):
            raise PaymentChannelRejected("amount must be a Decimal", field="amount")
        body = {"account": account, "amount": str(amount), "reference": reference}
        if value_date is not None:  # the core books it on that day: the day's statement lists it
            body["value_date"] = value_date.isoformat()
        try:
            response = self._http.post(f"{self.base_url}/v1/debits", timeout=self.timeout, json=body)
        except requests.RequestException as error:
            raise PaymentChannelUnavailable(f"payment channel unreachable: {error.__class__.__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise PaymentChannelUnavailable(f"payment channel answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            # A 200 we cannot read may still have moved money: treat it as no answer.
            raise PaymentChannelUnavailable(f"payment channel sent an unreadable {response.status_code} reply")
        status = body.get("status")
        if response.status_code == 200 and status == DEBITED:
            return DebitOutcome(DEBITED, _debited_amount(body), reference)
        if status == INSUFFICIENT_FUNDS:
            return DebitOutcome(INSUFFICIENT_FUNDS, Decimal("0.00"), reference)
        if 400 <= response.status_code < 500:
            raise PaymentChannelRejected(
                f"payment channel refused the debit ({response.status_code}): {body.get('message') or status}")
        raise PaymentChannelUnavailable(f"payment channel sent status {status!r} with {response.status_code}")


    def statement(self, business_date: date) -> list["StatementLine"]:
        """The channel's statement file for a day: one line per debit it booked that day."""
        try:
            response = self._http.get(f"{self.base_url}/v1/statements/{business_date.isoformat()}", timeout=self.timeout)
        except requests.RequestException as error:
            raise PaymentChannelUnavailable(f"payment channel unreachable: {error.__class__.__name__}") from None
        if response.status_code != 200:
            raise PaymentChannelUnavailable(f"payment channel answered {response.status_code} for the statement")
        return parse_statement(response.text)


@dataclass(frozen=True)
class StatementLine:
    reference: str
    account: str
    amount: Decimal


def parse_statement(text: str) -> list[StatementLine]:
    """The statement file (CSV: reference,account,amount); a line that cannot be read stops the run,
    naming it: reconciling against half a statement would open false work orders."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or [c.strip() for c in rows[0]] != ["reference", "account", "amount"]:
        raise PaymentChannelUnavailable("the statement file has no reference,account,amount header")
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        try:
            reference, account, amount = row
            value = Decimal(amount)
        except (ValueError, InvalidOperation):
            raise PaymentChannelUnavailable(f"statement line {number} cannot be read") from None
        if not value.is_finite():
            raise PaymentChannelUnavailable(f"statement line {number} has no usable amount")
        lines.append(StatementLine(reference.strip(), account.strip(), value))
    return lines


def _debited_amount(body: dict) -> Decimal:
    try:
        amount = Decimal(str(body["amount"]))
    except (KeyError, InvalidOperation):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        raise PaymentChannelUnavailable("payment channel confirmed a debit without a usable amount")
    return amount


@dataclass
class CollectionResult:
    business_date: date
    due: int = 0  # loans with something due when the run started
    collected: int = 0
    collected_amount: Decimal = Decimal("0.00")
    insufficient_funds: int = 0
    rejected: int = 0  # the channel refused the request itself
    not_posted: list[dict[str, str]] = field(default_factory=list)  # debited, but the ledger refused
    channel_unavailable: bool = False
    not_attempted: int = 0  # left for the next run because the channel went away

    def to_dict(self) -> dict[str, Any]:
        return {
            "business_date": self.business_date.isoformat(), "due": self.due, "collected": self.collected,
            "collected_amount": str(self.collected_amount), "insufficient_funds": self.insufficient_funds,
            "rejected": self.rejected, "not_posted": list(self.not_posted),
            "channel_unavailable": self.channel_unavailable, "not_attempted": self.not_attempted,
        }


def collect_due(db: Database, business_date: Any, channel: PaymentChannel) -> CollectionResult:
    """Debit and book every due collection for `business_date` (a date or YYYY-MM-DD).

    Reading the list takes a read-only session; each booking is its own unit of work, so one
    loan the ledger refuses does not undo the others, and nothing holds a write lock while the
    channel is being called.
    """
    when = parse_date(business_date, "business_date")
    with db.read_sessions() as session:
        dues = due_collections(session, when)
    result = CollectionResult(when, due=len(dues))
    for index, due in enumerate(dues):
        try:
            outcome = channel.debit(due.deposit_account, due.amount, due.reference, value_date=when)
        except PaymentChannelUnavailable as error:
            log.warning("auto-debit %s stopped at %s: %s", when, due.loan_number, error.message)
            result.channel_unavailable = True
            result.not_attempted = len(dues) - index
            break
        except PaymentChannelRejected as error:
            log.error("auto-debit of %s refused by the channel: %s", due.loan_number, error.message)
            result.rejected += 1
            continue
        if outcome.status == INSUFFICIENT_FUNDS:
            result.insufficient_funds += 1
            continue
        # Book what the channel says it debited: on a replayed reference that is the first
        # debit's amount, which may differ from today's figure.
        if outcome.amount != due.amount:
            log.warning("auto-debit %s: channel debited %s, %s is due", due.reference, outcome.amount, due.amount)
        try:
            with db.unit_of_work() as session:
                repay(session, due.loan_id, outcome.amount, posting_key=due.reference, value_date=when)
        except (LedgerError, SQLAlchemyError) as error:
            # The money has left the customer's account but is not on the loan: it needs a person.
            # A rerun for the date replays the reference and tries the booking again.
            message = getattr(error, "message", None) or error.__class__.__name__
            log.error("auto-debit %s: debited %s from %s but could not book it: %s", due.reference,
                      outcome.amount, mask_account(due.deposit_account), message)
            result.not_posted.append({"loan_number": due.loan_number, "reference": due.reference,
                                      "amount": str(outcome.amount), "reason": message})
            continue
        result.collected += 1
        result.collected_amount += outcome.amount
    return result
