"""Servicing a disbursed loan: repayments, early repayment, payoff, reversals, classification
override, write-off and recovery. Functions never commit; the caller owns the transaction."""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_CEILING
from datetime import date
from decimal import Decimal
from typing import Any, Sequence

from privacy import mask_account
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.accrual import accrued_interest
from ledger.books import (
    CLASSIFICATIONS,
    Line,
    credit,
    debit,
    entry_lines,
    find_entry,
    loans_account_code,
    post_entry,
    reverse_entry,
)
from ledger.errors import AlreadyReversed, InvalidInput, LoanStateError, UnknownEntry
from ledger.loans import active_installments, load_loan, store_installments
from ledger.money import ZERO, high_precision, parse_money
from ledger.schedules import (
    add_months,
    FREQUENCIES,
    METHODS,
    Period,
    amortize,
    mark_harvests,
    parse_harvest_months,
    level_payment,
    parse_date,
    parse_rate,
    interest_for,
    year_fraction,
)
from ledger.tables import JournalEntry, LoanAccount, LoanChange, LoanInstallment, RepaymentAllocation

DEFAULT_ALLOCATION_ORDER = ("penalty", "interest", "principal")
PREPAYMENT_MODES = ("reduce_installment", "shorten_term")


@dataclass(frozen=True)
class RepaymentResult:
    entry_id: int
    loan_id: int
    penalty: Decimal
    interest: Decimal
    principal: Decimal
    prepaid_principal: Decimal
    closed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id, "loan_id": self.loan_id, "penalty": str(self.penalty),
            "interest": str(self.interest), "principal": str(self.principal),
            "prepaid_principal": str(self.prepaid_principal), "closed": self.closed,
        }


# ---------------------------------------------------------------------------- accrual to a date

def interest_to_date(loan: LoanAccount, row: LoanInstallment, when: date) -> Decimal:
    """Interest of `row` earned through `when`, by the contract's daily convention (本金 × 日利率 ×
    天数: annual rate / 360 a day under 30/360, / 365 or the ISDA split otherwise), capped at the
    row's scheduled interest. On or after the due date it is the scheduled interest.

    The nightly batch spreads a period's interest evenly over its days instead (an accounting
    accrual); when a payoff or prepayment needs the exact interest to date, the difference is
    posted as an accrual adjustment."""
    day = when.toordinal()
    if day >= row.due_day:
        return row.interest
    if day <= row.accrual_from_day:
        return accrued_interest(loan, row, day)
    balance = row.principal + row.remaining_balance
    start = date.fromordinal(row.accrual_from_day)
    earned = row.accrual_base + interest_for(balance, loan.annual_rate, year_fraction(start, when, loan.day_count))
    return min(earned, row.interest)


def _accrue_through(session: Session, loan: LoanAccount, rows: Sequence[LoanInstallment], when: date,
                    posting_key: str) -> None:
    """Bring the accrued interest of `rows` to exactly the interest earned through `when` (a
    repayment may come before the night's batch, or a payoff needs the daily-rate figure), and
    re-base each row there so the batch carries on from that figure."""
    _refuse_before_watermark(loan, when, "value_date")
    day = when.toordinal()
    net = ZERO
    for row in rows:
        target = interest_to_date(loan, row, when)
        gap = target - accrued_interest(loan, row)
        row.accrual_base = target
        row.accrual_from_day = max(day, row.accrual_from_day)
        row.accrual_amount = row.interest - target
        row.accrual_open = row.interest > target
        net += gap
    if net > 0:
        lines = [debit("interest_receivable", net, loan.id), credit("interest_income", net)]
    elif net < 0:
        lines = [debit("interest_income", -net), credit("interest_receivable", -net, loan.id)]
    else:
        return
    post_entry(
        session, branch=loan.branch, posting_key=posting_key, business_date=when, kind="accrual",
        description="interest accrued to the repayment date", loan_id=loan.id, lines=lines,
    )


def _refuse_before_watermark(loan: LoanAccount, when: date, field: str) -> None:
    # Interest is already accrued through the last batch; a back-dated change would have to
    # unwind those accruals, which the ledger does not do.
    if when.toordinal() < loan.accrued_through_day:
        raise InvalidInput(field, f"{field} is before {date.fromordinal(loan.accrued_through_day)}, "
                                  "through which interest is already accrued")


# ---------------------------------------------------------------------------- repayment

def payoff_quote(session: Session, loan_ref: int | str, value_date: Any) -> dict[str, Decimal]:
    """What closes the loan on `value_date`: penalty, interest to date, all principal."""
    loan = load_loan(session, loan_ref)
    when = parse_date(value_date, "value_date")
    rows = [r for r in active_installments(session, loan.id) if not r.settled]
    unaccrued = sum((interest_to_date(loan, r, when) - accrued_interest(loan, r) for r in rows), ZERO)
    interest = loan.interest_receivable + unaccrued
    total = loan.penalty_receivable + interest + loan.principal_outstanding
    return {"penalty": loan.penalty_receivable, "interest": interest,
            "principal": loan.principal_outstanding, "total": total}


def repay(
    session: Session,
    loan_ref: int | str,
    amount: Any,
    *,
    posting_key: str,
    value_date: Any,
    allocation_order: Sequence[str] = DEFAULT_ALLOCATION_ORDER,
    prepayment: str = "reduce_installment",
) -> RepaymentResult:
    """Apply a repayment received from the customer's deposit account on `value_date`.

    The amount pays what is due (penalty → interest → principal by default, `allocation_order`
    changes it); anything left is an early repayment of principal that regenerates the rest of the
    schedule (`prepayment`: "reduce_installment" keeps the term, "shorten_term" keeps the
    installment). Paying exactly `payoff_quote(...)["total"]` closes the loan. More than that is
    refused. Posting the same key again returns the first result.
    """
    if not posting_key:
        raise InvalidInput("posting_key", "posting_key is required")
    # Lock the loan BEFORE looking for the key: a concurrent retry with the same key waits here
    # for the first one to commit, then finds its entry instead of posting a second one.
    loan = load_loan(session, loan_ref, for_update=True)
    existing = find_entry(session, posting_key)
    if existing is not None:
        return _result_of(session, existing)
    if sorted(allocation_order) != sorted(DEFAULT_ALLOCATION_ORDER):
        raise InvalidInput("allocation_order", "allocation_order must order penalty, interest and principal")
    if prepayment not in PREPAYMENT_MODES:
        raise InvalidInput("prepayment", f"prepayment must be one of {', '.join(PREPAYMENT_MODES)}")
    money = parse_money(amount, "amount")
    if money <= 0:
        raise InvalidInput("amount", "amount must be greater than zero")
    when = parse_date(value_date, "value_date")
    if loan.status != "active":
        raise LoanStateError(f"loan {loan.loan_number} is {loan.status}", field="loan_id")
    if when < loan.start_date:
        raise InvalidInput("value_date", "value_date is before the loan started")
    _refuse_before_watermark(loan, when, "value_date")

    quote = payoff_quote(session, loan.id, when)
    if money > quote["total"]:
        raise InvalidInput("amount", f"amount exceeds the payoff amount {quote['total']}")
    payoff = money == quote["total"]

    day = when.toordinal()
    rows = [r for r in active_installments(session, loan.id) if not r.settled]
    due_rows = [r for r in rows if r.due_day <= day]
    accrue_rows = rows if payoff else due_rows
    _accrue_through(session, loan, accrue_rows, when, f"{posting_key}:accrual")

    buckets = {
        "penalty": loan.penalty_receivable,
        "interest": sum((r.interest - r.interest_paid for r in due_rows), ZERO),
        "principal": sum((r.principal - r.principal_paid for r in due_rows), ZERO),
    }
    if payoff:
        buckets = {"penalty": loan.penalty_receivable, "interest": loan.interest_receivable,
                   "principal": loan.principal_outstanding}
    paid = {}
    left = money
    for bucket in allocation_order:
        paid[bucket] = min(left, buckets[bucket])
        left -= paid[bucket]
    prepaid = left  # only principal not yet due remains to be paid early
    if prepaid > 0 and prepaid >= loan.principal_outstanding - paid["principal"]:
        raise InvalidInput("amount", f"to repay all principal early pay the payoff amount {quote['total']}")

    lines: list[Line] = [debit("customer_deposits", money, loan.id)]
    if paid["penalty"]:
        lines.append(credit("penalty_receivable", paid["penalty"], loan.id))
    if paid["interest"]:
        lines.append(credit("interest_receivable", paid["interest"], loan.id))
    if paid["principal"] + prepaid:
        lines.append(credit(loans_account_code(loan.classification), paid["principal"] + prepaid, loan.id))
    entry = post_entry(
        session, branch=loan.branch, posting_key=posting_key, business_date=when, kind="repayment",
        description=f"repayment from {mask_account(loan.deposit_account)}", loan_id=loan.id, lines=lines,
    )
    if payoff:
        _settle_for_payoff(session, loan, entry, rows, when)
    else:
        _allocate_to_installments(session, entry, due_rows, paid["interest"], paid["principal"])
        if prepaid:
            regenerate_schedule(session, loan, when, prepayment=prepayment)
    refresh_days_past_due(session, loan, when)
    _close_if_repaid(loan)
    session.flush()
    return RepaymentResult(entry.id, loan.id, paid["penalty"], paid["interest"], paid["principal"], prepaid,
                           loan.status == "closed")


def _allocate_to_installments(session: Session, entry: JournalEntry, due_rows: Sequence[LoanInstallment],
                              interest: Decimal, principal: Decimal) -> None:
    """Oldest installment first: its interest, then its principal."""
    for row in sorted(due_rows, key=lambda r: r.due_day):
        pay_interest = min(interest, row.interest - row.interest_paid)
        pay_principal = min(principal, row.principal - row.principal_paid)
        interest -= pay_interest
        principal -= pay_principal
        if pay_interest or pay_principal:
            row.interest_paid += pay_interest
            row.principal_paid += pay_principal
            row.settled = row.interest_paid == row.interest and row.principal_paid == row.principal
            session.add(RepaymentAllocation(entry_id=entry.id, installment_id=row.id,
                                            principal=pay_principal, interest=pay_interest))


def _settle_for_payoff(session: Session, loan: LoanAccount, entry: JournalEntry,
                       rows: Sequence[LoanInstallment], when: date) -> None:
    """Payoff: the schedule ends today. Rows are kept (history) and closed at what was collected."""
    for row in rows:
        if row.due_day > when.toordinal():
            # Future periods: interest only to date; remaining principal collected now.
            row.interest = row.accrual_base  # re-based to the payoff date just before
        pay_interest = row.interest - row.interest_paid
        pay_principal = row.principal - row.principal_paid
        row.interest_paid = row.interest
        row.principal_paid = row.principal
        row.settled = True
        row.accrual_open = False
        session.add(RepaymentAllocation(entry_id=entry.id, installment_id=row.id,
                                        principal=pay_principal, interest=pay_interest))


def _close_if_repaid(loan: LoanAccount) -> None:
    if loan.principal_outstanding == 0 and loan.interest_receivable == 0 and loan.penalty_receivable == 0:
        loan.status = "closed"
    elif loan.status == "closed":
        loan.status = "active"


def refresh_days_past_due(session: Session, loan: LoanAccount, when: date) -> None:
    oldest = session.scalar(
        select(func.min(LoanInstallment.due_day)).where(
            LoanInstallment.loan_id == loan.id, LoanInstallment.settled.is_(False),
            LoanInstallment.due_day < when.toordinal(),
        )
    )
    loan.days_past_due = 0 if oldest is None else when.toordinal() - oldest


def _result_of(session: Session, entry: JournalEntry) -> RepaymentResult:
    if entry.kind != "repayment":
        raise InvalidInput("posting_key", f"posting_key {entry.posting_key} was used for a {entry.kind}")
    lines = entry_lines(session, entry.id)
    by = {l.account: l.credit for l in lines if l.credit}
    principal = sum((l.credit for l in lines if l.account.startswith("loans_")), ZERO)
    loan = session.get(LoanAccount, entry.loan_id)
    return RepaymentResult(entry.id, entry.loan_id, by.get("penalty_receivable", ZERO),
                           by.get("interest_receivable", ZERO), principal, ZERO, loan.status == "closed")


# ---------------------------------------------------------------------------- revolving lines

def draw(session: Session, loan_ref: int | str, amount: Any, *, posting_key: str, business_date: Any) -> JournalEntry:
    """Draw again on a revolving credit line (随借随还) up to its limit (the contract principal):
    Dr loans receivable, Cr deposits; interest from today is charged on the larger balance.

    Disbursement draws the whole line; the customer repays principal whenever they like (an early
    repayment) and draws it again here.
    """
    if not posting_key:
        raise InvalidInput("posting_key", "posting_key is required")
    loan = load_loan(session, loan_ref, for_update=True)  # before the key lookup, as in repay
    existing = find_entry(session, posting_key)
    if existing is not None:
        return existing
    money = parse_money(amount, "amount")
    if money <= 0:
        raise InvalidInput("amount", "amount must be greater than zero")
    when = parse_date(business_date, "business_date")
    if loan.method != "revolving":
        raise LoanStateError("only a revolving credit line can be drawn again", field="loan_id")
    if loan.status != "active":
        raise LoanStateError(f"loan {loan.loan_number} is {loan.status}", field="loan_id")
    if when >= loan.maturity_date:
        raise InvalidInput("business_date", "the line has expired")
    _refuse_before_watermark(loan, when, "business_date")
    undrawn = loan.principal - loan.principal_outstanding
    if money > undrawn:
        raise InvalidInput("amount", f"amount exceeds the undrawn line {undrawn}")
    entry = post_entry(
        session, branch=loan.branch, posting_key=posting_key, business_date=when, kind="draw",
        description=f"draw on the line to {mask_account(loan.deposit_account)}", loan_id=loan.id,
        lines=[debit(loans_account_code(loan.classification), money, loan.id),
               credit("customer_deposits", money, loan.id)],
    )
    regenerate_schedule(session, loan, when)
    session.flush()
    return entry


# ---------------------------------------------------------------------------- schedule regeneration

def regenerate_schedule(
    session: Session,
    loan: LoanAccount,
    effective: date,
    *,
    prepayment: str = "reduce_installment",
    annual_rate: Decimal | None = None,
    method: str | None = None,
    extra_months: int = 0,
) -> int:
    """Replace the unsettled rows from `effective` on with a schedule for the current principal,
    keeping the original due dates. The replaced rows stay (inactive) as history. Returns the new
    schedule version."""
    rate = loan.annual_rate if annual_rate is None else annual_rate
    method = loan.method if method is None else method
    day = effective.toordinal()
    rows = active_installments(session, loan.id)
    future = [r for r in rows if not r.settled and r.due_day > day]
    if not future:
        raise LoanStateError("no future installment to regenerate", field="effective_date")
    overdue_principal = sum((r.principal - r.principal_paid for r in rows if not r.settled and r.due_day <= day), ZERO)
    balance = loan.principal_outstanding - overdue_principal
    current = future[0]
    _accrue_through(session, loan, [current], effective, f"regen:{loan.id}:{loan.schedule_version + 1}:accrual")
    already = current.accrual_base  # re-based to the effective date just before

    step = FREQUENCIES[loan.frequency]
    periods = [Period(r.period_start, r.due_date, step) for r in future]
    # 展期: the new periods continue the loan's own calendar after its last due date (counted from
    # the start, so a due day clamped in a short month comes back in the next).
    last = periods[-1].end
    through = (last.year - loan.start_date.year) * 12 + last.month - loan.start_date.month
    for months in range(through + step, through + extra_months + 1, step):
        periods.append(Period(periods[-1].end, add_months(loan.start_date, months), step))
    count = len(periods)
    if prepayment == "shorten_term":
        count = _shortened_count(loan, current, balance, rate, method, periods)
    periods = periods[:count]
    if method == "bullet":
        periods = [Period(periods[0].start, periods[-1].end, None)]
    if method == "seasonal":
        if not loan.harvest_months:
            raise InvalidInput("method", "a loan becomes seasonal only with its harvest months, at signing")
        periods = mark_harvests(periods, loan.start_date, parse_harvest_months(loan.harvest_months), loan.grace_months)
    new_rows = amortize(balance, rate, method, periods, loan.day_count, step, first_number=current.number)

    # The current period: interest accrued so far stands; the rest of the period is charged on
    # the new balance for its remaining share of the period.
    first = new_rows[0]
    share_fraction = _remaining_fraction(loan.day_count, method, first.period_start, effective, first.due_date,
                                         step if method != "bullet" else None)
    rest = interest_for(balance, rate, share_fraction)
    if method == "bullet":
        rest = interest_for(balance, rate, year_fraction(effective, first.due_date, loan.day_count))
    new_rows[0] = replace(first, interest=already + rest, total=first.principal + already + rest)

    for row in future:
        row.active = False
        row.accrual_open = False
        row.settled = True  # nothing more is collected on a replaced row
    version = loan.schedule_version + 1
    loan.schedule_version = version
    loan.annual_rate = rate
    loan.method = method
    loan.maturity_date = new_rows[-1].due_date
    loan.term_months += extra_months  # the contract's term; the schedule's end is maturity_date
    store_installments(session, loan, new_rows, version=version, first_accrual=(already, day))
    return version


def _remaining_fraction(day_count: str, method: str, start: date, effective: date, due: date,
                        whole_months: int | None) -> Decimal:
    eff = max(effective, start)
    if method == "revolving" or whole_months is None:
        return year_fraction(eff, due, day_count)
    with high_precision():
        whole = year_fraction(start, due, day_count, whole_months=whole_months)
        return whole * (due - eff).days / (due - start).days


def _shortened_count(loan: LoanAccount, current: LoanInstallment, balance: Decimal, rate: Decimal,
                     method: str, periods: Sequence[Period]) -> int:
    """Fewest periods that keep the installment no larger than before."""
    available = len(periods)
    if method == "equal_installment":
        payment = current.principal + current.interest
        fractions = [year_fraction(p.start, p.end, loan.day_count, whole_months=p.whole_months) for p in periods]
        for n in range(1, available + 1):
            if level_payment(balance, rate, fractions[:n]) <= payment:
                return n
        return available
    if method == "equal_principal" and current.principal > 0:
        n = int((balance / current.principal).to_integral_value(rounding=ROUND_CEILING))
        return max(1, min(available, n))
    return available


# ---------------------------------------------------------------------------- reversals

def reverse_loan_entry(session: Session, entry_id: int, *, posting_key: str, business_date: Any,
                       reason: str) -> JournalEntry:
    """Reverse a loan's disbursement or repayment, undoing its effect on the loan too.

    A disbursement can be reversed only before anything else was posted for the loan; a
    repayment that paid principal early (and so regenerated the schedule) cannot be reversed.
    """
    already = find_entry(session, posting_key) if posting_key else None
    if already is not None:
        return already
    when = parse_date(business_date, "business_date")
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise UnknownEntry(f"no journal entry {entry_id}", field="entry_id")
    if original.loan_id is None:
        return reverse_entry(session, entry_id, posting_key=posting_key, business_date=when, reason=reason)
    loan = load_loan(session, original.loan_id, for_update=True)
    if original.kind == "disbursement":
        others = session.scalar(
            select(func.count()).select_from(JournalEntry).where(
                JournalEntry.loan_id == loan.id, JournalEntry.id != original.id))
        if others or loan.interest_receivable or loan.penalty_receivable:
            raise LoanStateError("the loan has other postings; reverse those first", field="entry_id")
        reversal = reverse_entry(session, entry_id, posting_key=posting_key, business_date=when, reason=reason)
        loan.status = "approved"
        return reversal
    if original.kind == "repayment":
        allocations = list(session.scalars(select(RepaymentAllocation).where(RepaymentAllocation.entry_id == entry_id)))
        allocated = sum((a.principal for a in allocations), ZERO)
        credited = sum((l.credit for l in entry_lines(session, entry_id) if l.account.startswith("loans_")), ZERO)
        if credited != allocated:
            raise LoanStateError("a repayment with early principal is corrected by a new posting", field="entry_id")
        if any(not session.get(LoanInstallment, a.installment_id).active for a in allocations):
            raise LoanStateError("the schedule changed since this repayment", field="entry_id")
        reversal = _reverse_on_current_class(session, loan, original, posting_key, when, reason)
        for allocation in allocations:
            row = session.get(LoanInstallment, allocation.installment_id)
            row.principal_paid -= allocation.principal
            row.interest_paid -= allocation.interest
            row.settled = False
        if loan.status == "closed":
            loan.status = "active"
        refresh_days_past_due(session, loan, when)
        session.flush()
        return reversal
    raise LoanStateError(f"{original.kind} entries are not reversed one by one", field="entry_id")


def _reverse_on_current_class(session, loan, original, posting_key, when, reason) -> JournalEntry:
    """Mirror the entry, but put principal back on the loan's current classification account
    (the loan may have been reclassified since the repayment)."""
    if session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_entry_id == original.id)):
        raise AlreadyReversed(f"entry {original.id} is already reversed", field="entry_id")
    mirrored = []
    for l in entry_lines(session, original.id):
        account = loans_account_code(loan.classification) if l.account.startswith("loans_") else l.account
        mirrored.append(Line(account, l.credit, l.debit, l.loan_id))
    return post_entry(session, branch=original.branch, posting_key=posting_key, business_date=when,
                      kind=f"reversal:{original.kind}", lines=mirrored, description=reason,
                      loan_id=loan.id, reverses_entry_id=original.id)


# ---------------------------------------------------------------------------- classification, write-off

def override_classification(session: Session, loan_ref: int | str, classification: str | None, *,
                            reason: str, approver: str, posting_key: str, business_date: Any) -> LoanAccount:
    """An approver fixes the loan's class (or clears the override with None); the principal moves
    between the loans-receivable accounts now, and the batch keeps the override."""
    if classification is not None and classification not in CLASSIFICATIONS:
        raise InvalidInput("classification", f"classification must be one of {', '.join(CLASSIFICATIONS)}")
    if not reason or not reason.strip():
        raise InvalidInput("reason", "an override needs a reason")
    if not approver:
        raise InvalidInput("approver", "an override needs an approver")
    when = parse_date(business_date, "business_date")
    loan = load_loan(session, loan_ref, for_update=True)
    if session.scalar(select(LoanChange.id).where(LoanChange.change_key == posting_key)):
        return loan
    old = loan.classification
    loan.classification_override = classification
    loan.override_reason = reason
    loan.override_by = approver
    session.add(LoanChange(loan_id=loan.id, change_key=posting_key, kind="classification_override",
                           effective_date=when, old_value=old, new_value=classification, reason=reason,
                           approved_by=approver))
    if classification is not None and classification != old:
        if loan.principal_outstanding > 0:
            post_entry(session, branch=loan.branch, posting_key=posting_key, business_date=when,
                       kind="reclassification", loan_id=loan.id, description=f"override: {reason}",
                       lines=[debit(loans_account_code(classification), loan.principal_outstanding, loan.id),
                              credit(loans_account_code(old), loan.principal_outstanding, loan.id)])
        loan.classification = classification
    session.flush()
    return loan


def write_off(session: Session, loan_ref: int | str, *, posting_key: str, business_date: Any, reason: str) -> JournalEntry:
    """Write off a loss loan (核销) against the loan-loss provision: principal, interest and
    penalty receivable leave the books; the loan stops accruing and can still be recovered."""
    existing = find_entry(session, posting_key) if posting_key else None
    if existing is not None:
        return existing
    when = parse_date(business_date, "business_date")
    loan = load_loan(session, loan_ref, for_update=True)
    if loan.status != "active" or loan.classification != "loss":
        raise LoanStateError("only an active loan classified as loss can be written off", field="loan_id")
    total = loan.principal_outstanding + loan.interest_receivable + loan.penalty_receivable
    lines = [debit("loan_loss_provision", total)]
    for account, amount in ((loans_account_code("loss"), loan.principal_outstanding),
                            ("interest_receivable", loan.interest_receivable),
                            ("penalty_receivable", loan.penalty_receivable)):
        if amount:
            lines.append(credit(account, amount, loan.id))
    entry = post_entry(session, branch=loan.branch, posting_key=posting_key, business_date=when,
                       kind="write_off", loan_id=loan.id, description=reason, lines=lines)
    for row in active_installments(session, loan.id):
        row.accrual_open = False
        row.settled = True
    loan.status = "written_off"
    session.flush()
    return entry


def recover(session: Session, loan_ref: int | str, amount: Any, *, posting_key: str, business_date: Any) -> JournalEntry:
    """Cash recovered on a written-off loan (已核销贷款收回): Dr deposits, Cr recoveries."""
    existing = find_entry(session, posting_key) if posting_key else None
    if existing is not None:
        return existing
    money = parse_money(amount, "amount")
    if money <= 0:
        raise InvalidInput("amount", "amount must be greater than zero")
    when = parse_date(business_date, "business_date")
    loan = load_loan(session, loan_ref)
    if loan.status != "written_off":
        raise LoanStateError("only a written-off loan has recoveries", field="loan_id")
    return post_entry(session, branch=loan.branch, posting_key=posting_key, business_date=when,
                      kind="recovery", loan_id=loan.id, description="recovery of a written-off loan",
                      lines=[debit("customer_deposits", money, loan.id), credit("bad_debt_recovery", money)])


# ---------------------------------------------------------------------------- contract changes

def change_rate(session: Session, loan_ref: int | str, new_rate: Any, *, effective_date: Any, change_key: str,
                reason: str = "", approved_by: str | None = None) -> int:
    """New annual rate from `effective_date`: interest already accrued stands, the rest of the
    schedule is regenerated. Returns the new schedule version."""
    rate = parse_rate(new_rate, "annual_rate")
    return _change(session, loan_ref, "rate", effective_date, change_key, reason, approved_by,
                   lambda loan: (str(loan.annual_rate.normalize()), str(rate)),
                   lambda loan, when: regenerate_schedule(session, loan, when, annual_rate=rate))


def change_method(session: Session, loan_ref: int | str, new_method: str, *, effective_date: Any,
                  change_key: str, reason: str = "", approved_by: str | None = None) -> int:
    if new_method not in METHODS or new_method == "revolving":
        raise InvalidInput("method", "method must be one of equal_installment, equal_principal, bullet, interest_only")
    return _change(session, loan_ref, "method", effective_date, change_key, reason, approved_by,
                   lambda loan: (loan.method, new_method),
                   lambda loan, when: regenerate_schedule(session, loan, when, method=new_method))


def change_repayment_account(session: Session, loan_ref: int | str, deposit_account: str, *,
                             effective_date: Any, change_key: str, reason: str = "",
                             approved_by: str | None = None) -> int:
    if not deposit_account or not isinstance(deposit_account, str):
        raise InvalidInput("deposit_account", "deposit_account is required")

    def apply(loan, when):
        loan.deposit_account = deposit_account
        return loan.schedule_version

    return _change(session, loan_ref, "repayment_account", effective_date, change_key, reason, approved_by,
                   # the change history refers to the accounts; they stay whole only on the loan (sealed)
                   lambda loan: (mask_account(loan.deposit_account), mask_account(deposit_account)), apply)


# Contract changes that move no money: the ledger keeps them in the loan's change history (who,
# when, why, from what to what) beside the others; the values live with the caller.
NON_FINANCIAL_CHANGES = frozenset({"guarantee", "customer_data"})


def record_non_financial_change(session: Session, loan_ref: int | str, kind: str, old_value: str, new_value: str, *,
                                effective_date: Any, change_key: str, reason: str = "",
                                approved_by: str | None = None) -> int:
    """A change of the loan's security (guarantee) or of the borrower's data, in the change history
    only: the schedule stands. `old_value`/`new_value` are stored as given, so pass them masked
    where they are personal data. Returns the (unchanged) schedule version."""
    if kind not in NON_FINANCIAL_CHANGES:
        raise InvalidInput("kind", f"kind must be one of {', '.join(sorted(NON_FINANCIAL_CHANGES))}")
    if not new_value or not isinstance(new_value, str):
        raise InvalidInput("new_value", "new_value is required")
    return _change(session, loan_ref, kind, effective_date, change_key, reason, approved_by,
                   lambda loan: ((old_value or "")[:200], new_value[:200]), lambda loan, when: loan.schedule_version)


def extend_term(session: Session, loan_ref: int | str, extra_months: Any, *, effective_date: Any,
                change_key: str, reason: str = "", approved_by: str | None = None) -> int:
    """展期: the loan runs `extra_months` longer. The principal still to fall due is spread again
    over the remaining periods and the new ones (by the loan's method and rate); what is overdue
    stays due. A loan is extended once, and by no more than the rules allow for its original term
    (贷款通则: a short-term loan by up to its term, a medium-term one by up to half, a long-term one
    by up to three years). Returns the new schedule version."""
    if isinstance(extra_months, bool) or not isinstance(extra_months, int) or extra_months <= 0:
        raise InvalidInput("extra_months", "extra_months must be a whole number of months above zero")

    def old_and_new(loan):
        if session.scalar(select(func.count()).select_from(LoanChange).where(
                LoanChange.loan_id == loan.id, LoanChange.kind == "extension")):
            raise LoanStateError(f"loan {loan.loan_number} was extended already; a loan is extended once",
                                 field="extra_months")
        step = FREQUENCIES[loan.frequency]
        if extra_months % step:
            raise InvalidInput("extra_months", f"extra_months must be whole periods of {step} months")
        most = longest_extension(loan.term_months)
        if extra_months > most:
            raise InvalidInput("extra_months", f"a {loan.term_months}-month loan is extended by {most} months at most")
        if loan.method == "revolving":
            raise LoanStateError("a revolving line is renewed, not extended", field="extra_months")
        end = loan.maturity_date
        through = (end.year - loan.start_date.year) * 12 + end.month - loan.start_date.month
        return str(end), str(add_months(loan.start_date, through + extra_months))

    return _change(session, loan_ref, "extension", effective_date, change_key, reason, approved_by, old_and_new,
                   lambda loan, when: regenerate_schedule(session, loan, when, extra_months=extra_months))


def longest_extension(term_months: int) -> int:
    """贷款通则 art. 12: short-term (≤ 1 year) up to the original term; medium-term (1–5 years) up
    to half of it; long-term up to 3 years."""
    if term_months <= 12:
        return term_months
    if term_months <= 60:
        return term_months // 2
    return 36


def _change(session, loan_ref, kind, effective_date, change_key, reason, approved_by, values, apply) -> int:
    if not change_key:
        raise InvalidInput("change_key", "change_key is required")
    when = parse_date(effective_date, "effective_date")
    loan = load_loan(session, loan_ref, for_update=True)
    done = session.scalars(select(LoanChange).where(LoanChange.change_key == change_key)).one_or_none()
    if done is not None:
        return done.schedule_version
    if loan.status != "active":
        raise LoanStateError(f"loan {loan.loan_number} is {loan.status}", field="loan_id")
    if when < loan.start_date or when >= loan.maturity_date:
        raise InvalidInput("effective_date", "effective_date must fall within the loan's term")
    _refuse_before_watermark(loan, when, "effective_date")
    old, new = values(loan)
    version = apply(loan, when)
    session.add(LoanChange(loan_id=loan.id, change_key=change_key, kind=kind, effective_date=when,
                           old_value=old, new_value=new, reason=reason, approved_by=approved_by,
                           schedule_version=version))
    session.flush()
    return version
