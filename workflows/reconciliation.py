"""Reconciliation (对账): a business date's payment-channel statement against what we booked.

The channel's statement file lists every debit it made on a day (reference, account, amount). We
booked each auto-debit as a repayment whose posting key is its reference
(ledger.collection.collection_reference: `autodebit:<loan>:<date>`). Every reference is compared:

- on the statement, not in our books: `not_booked` — the customer's money left their account but
  is not on the loan (the booking failed after the debit);
- in our books, not on the statement: `not_on_statement` — we credited a loan with money the
  channel says it never took;
- on both with other amounts: `amount_differs`;
- on the statement more than once: `duplicate` — the customer was debited twice.

Each difference opens one work order for operations (unique per date and reference: reconciling
the day again adds none, and one that now matches is resolved by the system). The statement is
fetched before the write transaction (`reconcile_day`), so no lock is held across the HTTP call.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session, aliased

from ledger.tables import JournalEntry, JournalLine, LoanAccount
from privacy import mask_account
from workflows.collection import PaymentChannel, StatementLine
from workflows.db import Database
from workflows.errors import Conflict, NotFound
from workflows.models import HQ, ReconciliationRun, ReconciliationWorkOrder, User

NOT_BOOKED, NOT_ON_STATEMENT, AMOUNT_DIFFERS, DUPLICATE = "not_booked", "not_on_statement", "amount_differs", \
    "duplicate"
# Serialises two runs of one day on PostgreSQL (SQLite's writers are serialised already).
ADVISORY_LOCK = 7_302_115
PREFIX = "autodebit:"


@dataclass(frozen=True)
class Booking:
    reference: str
    branch: str
    loan_number: str
    amount: Decimal


def bookings_of(session: Session, business_date: dt.date) -> dict[str, Booking]:
    """Our auto-debit repayments of the day that stand (not reversed), by reference."""
    reversal = aliased(JournalEntry)
    amount = func.sum(JournalLine.debit)
    rows = session.execute(
        select(JournalEntry.posting_key, JournalEntry.branch, LoanAccount.loan_number, amount)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .join(LoanAccount, LoanAccount.id == JournalEntry.loan_id)
        .where(JournalEntry.kind == "repayment", JournalEntry.posting_key.like(f"{PREFIX}%:{business_date.isoformat()}"),
               ~exists().where(reversal.reverses_entry_id == JournalEntry.id))
        .group_by(JournalEntry.posting_key, JournalEntry.branch, LoanAccount.loan_number))
    return {key: Booking(key, branch, number, Decimal(total).quantize(Decimal("0.01")))
            for key, branch, number, total in rows}


def _loan_of(reference: str) -> str | None:
    if not reference.startswith(PREFIX):
        return None
    return reference[len(PREFIX):].rpartition(":")[0] or None


def reconcile(session: Session, statement: list[StatementLine], business_date: dt.date, actor: str,
              now: dt.datetime) -> ReconciliationRun:
    """Compare the statement with the day's bookings and open a work order per difference."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key, :day)"),
                        {"key": ADVISORY_LOCK, "day": business_date.toordinal()})
    booked = bookings_of(session, business_date)
    lines_of: dict[str, list[StatementLine]] = {}
    for line in statement:
        lines_of.setdefault(line.reference, []).append(line)
    on_statement = {reference: lines[0] for reference, lines in lines_of.items()}
    differences: dict[str, dict] = {}
    for reference, line in on_statement.items():
        ours = booked.get(reference)
        if len(lines_of[reference]) > 1:
            differences[reference] = {"kind": DUPLICATE, "account": line.account,
                                      "channel_amount": sum((l.amount for l in lines_of[reference]), Decimal("0")),
                                      "booked_amount": ours.amount if ours else None}
        elif ours is None:
            differences[reference] = {"kind": NOT_BOOKED, "channel_amount": line.amount, "account": line.account}
        elif ours.amount != line.amount:
            differences[reference] = {"kind": AMOUNT_DIFFERS, "channel_amount": line.amount,
                                      "booked_amount": ours.amount, "account": line.account}
    for reference, ours in booked.items():
        if reference not in on_statement:
            differences[reference] = {"kind": NOT_ON_STATEMENT, "booked_amount": ours.amount}
    existing = {o.reference: o for o in session.scalars(
        select(ReconciliationWorkOrder).where(ReconciliationWorkOrder.business_date == business_date))}
    branches = _branches_of(session, {_loan_of(r) for r in differences} - {None})
    for reference, difference in differences.items():
        if reference in existing:
            continue  # opened by an earlier run of this day: one work order per difference
        loan_number = booked[reference].loan_number if reference in booked else _loan_of(reference)
        branch = booked[reference].branch if reference in booked else branches.get(loan_number, HQ)
        account = difference.pop("account", None)
        session.add(ReconciliationWorkOrder(
            business_date=business_date, reference=reference, branch_code=branch, loan_number=loan_number,
            account=mask_account(account) if account else None, status="open", opened_at=now, note="",
            **difference))
    for reference, order in existing.items():
        if reference not in differences and order.status == "open":
            order.status, order.resolved_by, order.resolved_at = "resolved", "system", now
            order.note = "matched when the day was reconciled again"
    matched = sum(1 for r, ours in booked.items() if r in on_statement and r not in differences)
    run = ReconciliationRun(business_date=business_date, ran_at=now, ran_by=actor, statement_lines=len(statement),
                            booked=len(booked), matched=matched, differences=len(differences))
    session.add(run)
    session.flush()
    return run


def _branches_of(session: Session, loan_numbers: set[str]) -> dict[str, str]:
    if not loan_numbers:
        return {}
    return dict(session.execute(select(LoanAccount.loan_number, LoanAccount.branch)
                                .where(LoanAccount.loan_number.in_(loan_numbers))).all())


def reconcile_day(db: Database, channel: PaymentChannel, business_date: dt.date, actor: str,
                  now: dt.datetime) -> dict:
    """Fetch the day's statement (no transaction open), then reconcile it in one unit of work."""
    statement = channel.statement(business_date)
    with db.unit_of_work() as session:
        return run_view(reconcile(session, statement, business_date, actor, now))


# -- the console -------------------------------------------------------------------------------
def run_view(run: ReconciliationRun) -> dict:
    return {"id": run.id, "business_date": run.business_date.isoformat(), "ran_at": run.ran_at.isoformat() + "Z",
            "ran_by": run.ran_by, "statement_lines": run.statement_lines, "booked": run.booked,
            "matched": run.matched, "differences": run.differences}


def work_order_view(order: ReconciliationWorkOrder) -> dict:
    money = (lambda v: None if v is None else str(v))
    return {"id": order.id, "business_date": order.business_date.isoformat(), "reference": order.reference,
            "kind": order.kind, "branch": order.branch_code, "loan_number": order.loan_number,
            "channel_amount": money(order.channel_amount), "booked_amount": money(order.booked_amount),
            "account": order.account, "status": order.status, "opened_at": order.opened_at.isoformat() + "Z",
            "resolved_by": order.resolved_by,
            "resolved_at": order.resolved_at.isoformat() + "Z" if order.resolved_at else None, "note": order.note}


def _visible(viewer: User):
    query = select(ReconciliationWorkOrder)
    if viewer.branch_code != HQ:
        query = query.where(ReconciliationWorkOrder.branch_code == viewer.branch_code)
    return query


def work_orders(session: Session, viewer: User, *, status: str | None = "open", limit: int = 200) -> list[dict]:
    query = _visible(viewer)
    if status:
        query = query.where(ReconciliationWorkOrder.status == status)
    query = query.order_by(ReconciliationWorkOrder.business_date.desc(), ReconciliationWorkOrder.id).limit(limit)
    return [work_order_view(o) for o in session.scalars(query)]


def recent_runs(session: Session, viewer: User, *, limit: int = 10) -> list[dict]:
    """The last runs: bank-wide figures, so head office's operations only."""
    if viewer.branch_code != HQ:
        return []
    query = select(ReconciliationRun).order_by(ReconciliationRun.id.desc()).limit(limit)
    return [run_view(r) for r in session.scalars(query)]


def resolve(session: Session, viewer: User, order_id: int, note: str, now: dt.datetime) -> dict:
    """Operations settle a work order (the booking corrected, the channel's error confirmed, ...)
    and say how in the note."""
    order = session.scalar(_visible(viewer).where(ReconciliationWorkOrder.id == order_id).with_for_update())
    if order is None:
        raise NotFound(f"Work order {order_id} was not found")
    if order.status != "open":
        raise Conflict(f"Work order {order_id} is already resolved", field="status")
    order.status, order.resolved_by, order.resolved_at, order.note = "resolved", viewer.username, now, note.strip()
    return work_order_view(order)
