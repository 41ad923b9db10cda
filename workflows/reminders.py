"""Repayment reminders (还款提醒) by SMS, the night after each EOD: N days before each due date
(N from the branch's reminder_days.dmn, by product), and on the due date itself for an installment
the auto-debit could not collect.

    run = send_reminders(db, layer, date(2027, 3, 1))   # the date the batch just closed

The books are read set-based, one query per branch and product; each text carries a reference made
of the loan, the due date and the kind, so running the night again sends nothing twice.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from handlers.errors import HandlerError
from ledger.tables import LoanAccount, LoanInstallment
from scoring.dmn import load_dmn
from workflows.db import Database
from workflows.models import Application
from workflows.processes import ProcessLayer

log = logging.getLogger(__name__)

REMINDER_FILE = "reminder_days.dmn"
DEFAULT_DAYS = 3


@dataclass(frozen=True)
class ReminderRun:
    today: dt.date
    before_due: int          # texts sent for installments due in N days
    debit_failed: int        # texts sent for installments due today and still unpaid
    not_sent: int            # no phone on file, no gateway configured, or the gateway failed

    def summary(self) -> dict:
        return {"today": self.today.isoformat(), "before_due": self.before_due,
                "debit_failed": self.debit_failed, "not_sent": self.not_sent}


@dataclass(frozen=True)
class _Due:
    loan_number: str
    due_date: dt.date
    amount: Decimal
    kind: str                # before_due | debit_failed


def send_reminders(db: Database, layer: ProcessLayer, business_date: dt.date) -> ReminderRun:
    today = business_date + dt.timedelta(days=1)  # the batch for a date runs after its midnight
    with db.read_sessions() as session:
        dues = _before_due(session, layer, today) + _unpaid_today(session, today)
        phones = _phones(session, {d.loan_number for d in dues})
    gateway = layer.services.get("sms")
    sent = {"before_due": 0, "debit_failed": 0}
    not_sent = 0
    for due in dues:
        phone = phones.get(due.loan_number)
        if gateway is None or not phone:
            not_sent += 1
            continue
        try:
            gateway.send(phone, _text(due), reference=f"reminder:{due.loan_number}:{due.due_date}:{due.kind}")
        except HandlerError as err:
            log.warning("reminder for %s not sent: %s", due.loan_number, err.message)
            not_sent += 1
            continue
        sent[due.kind] += 1
    return ReminderRun(today, sent["before_due"], sent["debit_failed"], not_sent)


def _text(due: _Due) -> str:
    if due.kind == "before_due":
        return (f"【农商银行】您的贷款{due.loan_number}将于{due.due_date:%m月%d日}到期还款¥{due.amount:,.2f}，"
                "请确保还款账户余额充足。")
    return (f"【农商银行】您的贷款{due.loan_number}今日应还¥{due.amount:,.2f}，自动扣款未成功，"
            "请今日内存入还款账户或到网点还款。")


def _owed():
    return (LoanInstallment.principal - LoanInstallment.principal_paid
            + LoanInstallment.interest - LoanInstallment.interest_paid)


def _unsettled(query, when: dt.date):
    return query.where(LoanInstallment.active.is_(True), LoanInstallment.settled.is_(False),
                       LoanInstallment.due_date == when, LoanAccount.status == "active")


def _before_due(session, layer: ProcessLayer, today: dt.date) -> list[_Due]:
    pairs = session.execute(select(LoanAccount.branch, LoanAccount.product_code).where(
        LoanAccount.status == "active").distinct()).all()
    found: list[_Due] = []
    for branch, product in pairs:
        days = _days_before(session, layer, branch, product)
        rows = session.execute(_unsettled(
            select(LoanAccount.loan_number, LoanInstallment.due_date, _owed())
            .join(LoanAccount, LoanAccount.id == LoanInstallment.loan_id)
            .where(LoanAccount.branch == branch, LoanAccount.product_code == product),
            today + dt.timedelta(days=days))).all()
        found += [_Due(number, due, amount, "before_due") for number, due, amount in rows]
    return found


def _unpaid_today(session, today: dt.date) -> list[_Due]:
    rows = session.execute(_unsettled(
        select(LoanAccount.loan_number, LoanInstallment.due_date, _owed())
        .join(LoanAccount, LoanAccount.id == LoanInstallment.loan_id), today)).all()
    return [_Due(number, due, amount, "debit_failed") for number, due, amount in rows if amount > 0]


def _days_before(session, layer: ProcessLayer, branch: str, product: str) -> int:
    files = layer.resolution.resolve(session, branch)
    table = files.get(REMINDER_FILE)
    if table is None:
        return DEFAULT_DAYS
    outcome = load_dmn(table.content).evaluate("reminder_days", {"product_code": product}) or {}
    days = outcome.get("days_before")
    return int(days) if days is not None and 0 <= days <= 60 else DEFAULT_DAYS


def _phones(session, loan_numbers: set[str]) -> dict[str, str]:
    """The borrowers' mobile numbers, from their applications (sealed; read only for those texted)."""
    if not loan_numbers:
        return {}
    rows = session.scalars(select(Application).where(Application.loan_id.in_(sorted(loan_numbers)))).all()
    return {a.loan_id: (a.payload.get("applicant") or {}).get("phone") for a in rows}
