"""Loan accounts: opening from contract terms, disbursement, the loan view, and schedule storage.

Public entry points are re-exported from `ledger.service`; see docs/ledger.md.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from privacy import mask_account
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.books import (
    credit,
    debit,
    ensure_chart,
    find_entry,
    loans_account_code,
    post_entry,
)
from ledger.errors import DuplicateLoan, InvalidInput, LoanStateError, UnknownLoan
from ledger.exposure import checked_tags, encode_tags, tag_loan
from ledger.money import ZERO, high_precision, parse_money, to_fen
from ledger.schedules import (
    MAX_ANNUAL_RATE,
    Installment,
    Terms,
    parse_date,
    roll_due_dates,
    schedule_for_terms,
    validate_terms,
)
from ledger.tables import Account, JournalEntry, JournalLine, LoanAccount, LoanInstallment

# Penalty interest (罚息) on overdue principal: the contract rate plus 50 %, the PBOC rule of
# thumb for overdue loans (逾期罚息利率为借款合同载明的利率水平上加收30%-50%).
PENALTY_MARKUP = Decimal("0.5")


def open_loan(
    session: Session,
    *,
    loan_number: str,
    branch: str,
    customer_id: str,
    product_code: str,
    principal: Any,
    annual_rate: Any,
    term_months: Any,
    method: str,
    start_date: Any,
    deposit_account: str,
    day_count: str = "30/360",
    frequency: str = "monthly",
    penalty_markup: Decimal = PENALTY_MARKUP,
    rate_cap: Decimal = MAX_ANNUAL_RATE,
    roll_due_date: Callable[[date], date] | None = None,
    exposure_tags: Mapping[str, str | None] | None = None,
    harvest_months: Any = None,
    grace_months: Any = 0,
) -> LoanAccount:
    """Open a loan account from signed contract terms and store its schedule (not yet disbursed).
    `roll_due_date` moves a due date that falls on a holiday (schedules.roll_due_dates), when the
    product says so. `exposure_tags` are the limit dimensions the loan's principal counts under in
    ledger_exposure (ledger.exposure); without them the loan counts in no limit.

    Idempotent on `loan_number`: opening the same contract again returns the existing account;
    the same number with different terms is a DuplicateLoan error.
    """
    for field, value in (("loan_number", loan_number), ("customer_id", customer_id),
                         ("product_code", product_code), ("deposit_account", deposit_account)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(field, f"{field} is required")
    terms = validate_terms(
        principal, annual_rate, term_months, method, start_date,
        day_count=day_count, frequency=frequency, rate_cap=rate_cap,
        harvest_months=harvest_months, grace_months=grace_months,
    )
    existing = session.scalars(select(LoanAccount).where(LoanAccount.loan_number == loan_number)).one_or_none()
    if existing is not None:
        if _same_terms(existing, terms, branch, customer_id):
            if exposure_tags is not None:
                tag_loan(session, existing, exposure_tags)
            return existing
        raise DuplicateLoan(f"loan number {loan_number} exists with other terms", field="loan_number")
    ensure_chart(session, branch)
    with high_precision():
        penalty_rate = terms.annual_rate * (1 + penalty_markup)
    loan = LoanAccount(
        loan_number=loan_number,
        branch=branch,
        customer_id=customer_id,
        product_code=product_code,
        principal=terms.principal,
        annual_rate=terms.annual_rate,
        penalty_rate=penalty_rate,
        term_months=terms.term_months,
        method=terms.method,
        frequency=terms.frequency,
        day_count=terms.day_count,
        harvest_months=",".join(map(str, terms.harvest_months)) or None,
        grace_months=terms.grace_months,
        start_date=terms.start_date,
        maturity_date=terms.maturity_date,
        deposit_account=deposit_account,
        status="approved",
        classification="normal",
        days_past_due=0,
        principal_outstanding=ZERO,
        interest_receivable=ZERO,
        penalty_receivable=ZERO,
        schedule_version=1,
        accrued_through_day=terms.start_date.toordinal(),
        exposure_tags=None if exposure_tags is None else encode_tags(checked_tags(exposure_tags)),
    )
    session.add(loan)
    session.flush()
    schedule = schedule_for_terms(terms)
    if roll_due_date is not None:
        schedule = roll_due_dates(schedule, roll_due_date)
    store_installments(session, loan, schedule.installments, version=1)
    return loan


def _same_terms(loan: LoanAccount, terms: Terms, branch: str, customer_id: str) -> bool:
    return (
        loan.branch == branch and loan.customer_id == customer_id and loan.principal == terms.principal
        and loan.annual_rate == terms.annual_rate and loan.term_months == terms.term_months
        and loan.method == terms.method and loan.start_date == terms.start_date
    )


def store_installments(
    session: Session,
    loan: LoanAccount,
    installments: Iterable[Installment],
    *,
    version: int,
    first_accrual: tuple[Decimal, int] | None = None,
) -> None:
    """Store schedule rows. `first_accrual` = (already accrued, accrual start day) for a first row
    regenerated in the middle of its period.

    One executemany, not an INSERT per row: the rows need no identity in this session (readers
    select them), and a 360-month schedule should not cost 360 statements.
    """
    rows = []
    for index, item in enumerate(installments):
        base, from_day = (ZERO, item.period_start.toordinal())
        if index == 0 and first_accrual is not None:
            base, from_day = first_accrual
        rows.append(dict(
            loan_id=loan.id,
            version=version,
            active=True,
            number=item.number,
            period_start=item.period_start,
            due_date=item.due_date,
            due_day=item.due_date.toordinal(),
            principal=item.principal,
            interest=item.interest,
            principal_paid=ZERO,
            interest_paid=ZERO,
            remaining_balance=item.remaining_balance,
            accrual_base=base,
            accrual_amount=item.interest - base,
            accrual_from_day=from_day,
            accrual_open=item.interest > base,
            settled=False,
        ))
    session.flush()
    if rows:
        session.execute(insert(LoanInstallment), rows)


def load_loan(session: Session, loan_ref: int | str, *, for_update: bool = False) -> LoanAccount:
    """A loan by id or loan number (a string of digits that is no loan number is tried as an id);
    UnknownLoan if there is none."""
    if isinstance(loan_ref, bool) or not isinstance(loan_ref, (int, str)) or loan_ref == "":
        raise UnknownLoan(loan_ref)
    candidates = []
    if isinstance(loan_ref, str):
        candidates.append(LoanAccount.loan_number == loan_ref)
        if loan_ref.isdigit() and len(loan_ref) < 18:
            candidates.append(LoanAccount.id == int(loan_ref))
    else:
        candidates.append(LoanAccount.id == loan_ref)
    for condition in candidates:
        query = select(LoanAccount).where(condition)
        if for_update:
            query = query.with_for_update()
        loan = session.scalars(query).one_or_none()
        if loan is not None:
            return loan
    raise UnknownLoan(loan_ref)


def active_installments(session: Session, loan_id: int) -> list[LoanInstallment]:
    return list(
        session.scalars(
            select(LoanInstallment)
            .where(LoanInstallment.loan_id == loan_id, LoanInstallment.active.is_(True))
            .order_by(LoanInstallment.number)
        )
    )


def disburse(session: Session, loan_ref: int | str, *, posting_key: str, business_date: Any = None,
             amount: Any = None) -> JournalEntry:
    """Pay the principal out to the customer's deposit account: Dr loans receivable, Cr deposits.

    Posting the same key again returns the first entry; disbursing an active loan under another
    key is a LoanStateError. `amount` is a revolving line's first draw, when it is less than the
    line (its principal): the rest is drawn later (servicing.draw), and the schedule follows the
    balance drawn.
    """
    existing = find_entry(session, posting_key) if posting_key else None
    if existing is not None:
        return existing
    loan = load_loan(session, loan_ref, for_update=True)
    if loan.status != "approved":
        raise LoanStateError(f"loan {loan.loan_number} is {loan.status}, not awaiting disbursement", field="loan_id")
    when = parse_date(business_date, "business_date") if business_date is not None else loan.start_date
    paid = loan.principal
    if amount is not None:
        paid = parse_money(amount, "amount")
        if loan.method != "revolving" and paid != loan.principal:
            raise InvalidInput("amount", "only a revolving line is paid out in part")
        if not ZERO < paid <= loan.principal:
            raise InvalidInput("amount", f"amount must be greater than zero and at most the line {loan.principal}")
    entry = post_entry(
        session,
        branch=loan.branch,
        posting_key=posting_key,
        business_date=when,
        kind="disbursement",
        description=f"disbursement of {loan.loan_number} to {mask_account(loan.deposit_account)}",
        loan_id=loan.id,
        lines=[
            debit(loans_account_code(loan.classification), paid, loan.id),
            credit("customer_deposits", paid, loan.id),
        ],
    )
    loan.status = "active"
    session.flush()
    if paid != loan.principal:
        from ledger.servicing import regenerate_schedule  # servicing imports this module
        regenerate_schedule(session, loan, when)
        session.flush()
    return entry


def loan_view(session: Session, loan_ref: int | str) -> dict[str, Any]:
    """Everything the API shows about a loan, as plain JSON-ready values (amounts as strings)."""
    loan = load_loan(session, loan_ref)
    schedule = [
        {
            "number": r.number,
            "period_start": r.period_start.isoformat(),
            "due_date": r.due_date.isoformat(),
            "principal": str(r.principal),
            "interest": str(r.interest),
            "total": str(r.principal + r.interest),
            "remaining_balance": str(r.remaining_balance),
            "principal_paid": str(r.principal_paid),
            "interest_paid": str(r.interest_paid),
            "settled": r.settled,
        }
        for r in active_installments(session, loan.id)
    ]
    lines = session.execute(
        select(JournalEntry.id, JournalEntry.business_date, JournalEntry.kind, JournalEntry.posting_key,
               JournalEntry.reverses_entry_id, Account.code, JournalLine.debit, JournalLine.credit)
        .join(JournalLine, JournalLine.entry_id == JournalEntry.id)
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.loan_id == loan.id)
        .order_by(JournalEntry.business_date, JournalEntry.id, JournalLine.id)
    ).all()
    transactions: dict[int, dict[str, Any]] = {}
    for entry_id, when, kind, key, reverses, code, d, c in lines:
        tx = transactions.setdefault(entry_id, {
            "entry_id": entry_id, "business_date": when.isoformat(), "kind": kind, "posting_key": key,
            "reverses_entry_id": reverses, "lines": [],
        })
        tx["lines"].append({"account": code, "debit": str(to_fen(Decimal(d))), "credit": str(to_fen(Decimal(c)))})
    return {
        "id": loan.id,
        "loan_number": loan.loan_number,
        "branch": loan.branch,
        "customer_id": loan.customer_id,
        "product_code": loan.product_code,
        "status": loan.status,
        "terms": {
            "principal": str(loan.principal),
            "annual_rate": str(loan.annual_rate.normalize()),
            "penalty_rate": str(loan.penalty_rate.normalize()),
            "term_months": loan.term_months,
            "method": loan.method,
            "frequency": loan.frequency,
            "day_count": loan.day_count,
            "start_date": loan.start_date.isoformat(),
            "maturity_date": loan.maturity_date.isoformat(),
            "deposit_account": mask_account(loan.deposit_account),  # whole only where it is worked
        },
        "balances": {
            "principal_outstanding": str(loan.principal_outstanding),
            "interest_receivable": str(loan.interest_receivable),
            "penalty_receivable": str(loan.penalty_receivable),
        },
        "classification": loan.classification,
        "classification_override": loan.classification_override,
        "override_reason": loan.override_reason,
        "days_past_due": loan.days_past_due,
        "schedule_version": loan.schedule_version,
        "schedule": schedule,
        "transactions": list(transactions.values()),
    }
