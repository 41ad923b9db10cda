"""Double-entry books: chart of accounts, balanced append-only journal entries, trial balance.

Entries are posted once: each carries a `posting_key`, and posting the same key again returns the
first entry and posts nothing, so a retried task or request cannot book twice. There is no update
or delete; a mistake is corrected by `reverse_entry`, a new entry that mirrors the original.
Functions never commit: the caller's unit of work owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable, Sequence

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.errors import AlreadyReversed, InvalidInput, UnbalancedEntry, UnknownAccount, UnknownEntry
from ledger.exposure import apply_principal_change
from ledger.money import ZERO, from_database, parse_money
from ledger.tables import Account, JournalEntry, JournalLine, LoanAccount

CLASSIFICATIONS = ("normal", "special_mention", "substandard", "doubtful", "loss")

# code: (name, kind, normal side)
CHART: dict[str, tuple[str, str, str]] = {
    "loans_normal": ("Loans receivable — normal (正常)", "asset", "debit"),
    "loans_special_mention": ("Loans receivable — special mention (关注)", "asset", "debit"),
    "loans_substandard": ("Loans receivable — substandard (次级)", "asset", "debit"),
    "loans_doubtful": ("Loans receivable — doubtful (可疑)", "asset", "debit"),
    "loans_loss": ("Loans receivable — loss (损失)", "asset", "debit"),
    "interest_receivable": ("Interest receivable (应收利息)", "asset", "debit"),
    "penalty_receivable": ("Penalty interest receivable (应收罚息)", "asset", "debit"),
    "customer_deposits": ("Customer deposits (客户存款)", "liability", "credit"),
    "interest_income": ("Interest income (利息收入)", "income", "credit"),
    "penalty_income": ("Penalty interest income (罚息收入)", "income", "credit"),
    "loan_loss_provision": ("Loan-loss provision (贷款损失准备)", "contra_asset", "credit"),
    "provision_expense": ("Provision expense (资产减值损失)", "expense", "debit"),
    "bad_debt_recovery": ("Recoveries of written-off loans (已核销贷款收回)", "income", "credit"),
}

# Which loan balance column a loan-tagged line on an account moves (the subsidiary ledger).
LOAN_BALANCE_COLUMN = {f"loans_{c}": "principal_outstanding" for c in CLASSIFICATIONS} | {
    "interest_receivable": "interest_receivable",
    "penalty_receivable": "penalty_receivable",
}


def loans_account_code(classification: str) -> str:
    return f"loans_{classification}"


@dataclass(frozen=True)
class Line:
    """One side of an entry as the caller states it: account code, debit or credit, optional loan."""

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    loan_id: int | None = None


def debit(account: str, amount: Decimal, loan_id: int | None = None) -> Line:
    return Line(account, debit=amount, loan_id=loan_id)


def credit(account: str, amount: Decimal, loan_id: int | None = None) -> Line:
    return Line(account, credit=amount, loan_id=loan_id)


def ensure_chart(session: Session, branch: str) -> None:
    """Create the branch's chart of accounts if missing (idempotent)."""
    if not branch or not isinstance(branch, str) or len(branch) > 32:
        raise InvalidInput("branch", "branch must be a branch code of 1 to 32 characters")
    existing = set(session.scalars(select(Account.code).where(Account.branch == branch)))
    for code, (name, kind, side) in CHART.items():
        if code not in existing:
            session.add(Account(branch=branch, code=code, name=name, kind=kind, normal_side=side))
    session.flush()


def account_ids(session: Session, branch: str) -> dict[str, int]:
    rows = session.execute(select(Account.code, Account.id).where(Account.branch == branch)).all()
    return {code: id_ for code, id_ in rows}


def find_entry(session: Session, posting_key: str) -> JournalEntry | None:
    return session.scalars(select(JournalEntry).where(JournalEntry.posting_key == posting_key)).one_or_none()


def post_entry(
    session: Session,
    *,
    branch: str,
    posting_key: str,
    business_date: date,
    kind: str,
    lines: Sequence[Line],
    description: str = "",
    loan_id: int | None = None,
    reverses_entry_id: int | None = None,
) -> JournalEntry:
    """Post a balanced entry, or return the entry already posted under `posting_key`.

    Refused (UnbalancedEntry / InvalidInput / UnknownAccount, nothing written) when debits and
    credits differ, a line has no amount or both sides, or an account is not in the branch's chart.
    Loan-tagged lines also move the loan's subsidiary balances.
    """
    if not posting_key:
        raise InvalidInput("posting_key", "posting_key is required")
    existing = find_entry(session, posting_key)
    if existing is not None:
        return existing
    checked = _checked_lines(lines)
    ids = account_ids(session, branch)
    if not ids:
        raise UnknownAccount(f"branch {branch!r} has no chart of accounts", field="branch")
    for line in checked:
        if line.account not in ids:
            raise UnknownAccount(f"no account {line.account!r} in branch {branch!r}", field="account")
    loans = _loans_of(session, checked, branch)

    entry = JournalEntry(
        branch=branch,
        posting_key=posting_key,
        business_date=business_date,
        kind=kind,
        description=description,
        loan_id=loan_id,
        reverses_entry_id=reverses_entry_id,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        # A concurrent transaction posted the same key first; its entry is the answer.
        winner = find_entry(session, posting_key)
        if winner is None:
            raise
        return winner
    session.add_all(
        JournalLine(entry_id=entry.id, account_id=ids[l.account], loan_id=l.loan_id, debit=l.debit, credit=l.credit)
        for l in checked
    )
    principal_moved: dict[int, Decimal] = {}
    for line in checked:
        column = LOAN_BALANCE_COLUMN.get(line.account)
        if line.loan_id is not None and column:
            loan = loans[line.loan_id]
            setattr(loan, column, getattr(loan, column) + line.debit - line.credit)
            if column == "principal_outstanding":
                principal_moved[loan.id] = principal_moved.get(loan.id, ZERO) + line.debit - line.credit
    # The exposure rows move with the principal, here, so that no writer of principal can miss them.
    for loan_id in sorted(principal_moved):
        apply_principal_change(session, loans[loan_id], principal_moved[loan_id])
    session.flush()
    return entry


def _checked_lines(lines: Sequence[Line]) -> list[Line]:
    checked = []
    for line in lines:
        d = parse_money(line.debit, "debit")
        c = parse_money(line.credit, "credit")
        if d < 0 or c < 0 or (d > 0) == (c > 0):
            raise UnbalancedEntry("each line has exactly one positive side", field="lines")
        checked.append(Line(line.account, d, c, line.loan_id))
    if len(checked) < 2:
        raise UnbalancedEntry("an entry needs at least two lines", field="lines")
    debits = sum((l.debit for l in checked), ZERO)
    credits = sum((l.credit for l in checked), ZERO)
    if debits != credits:
        raise UnbalancedEntry(f"debits {debits} do not equal credits {credits}", field="lines")
    return checked


def _loans_of(session: Session, lines: Iterable[Line], branch: str) -> dict[int, LoanAccount]:
    wanted = {l.loan_id for l in lines if l.loan_id is not None}
    if not wanted:
        return {}
    loans = {loan.id: loan for loan in session.scalars(select(LoanAccount).where(LoanAccount.id.in_(wanted)))}
    for loan_id in wanted:
        loan = loans.get(loan_id)
        if loan is None or loan.branch != branch:
            raise UnbalancedEntry(f"loan {loan_id} is not a loan of branch {branch!r}", field="loan_id")
    return loans


def entry_lines(session: Session, entry_id: int) -> list[Line]:
    rows = session.execute(
        select(Account.code, JournalLine.debit, JournalLine.credit, JournalLine.loan_id)
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.entry_id == entry_id)
        .order_by(JournalLine.id)
    ).all()
    return [Line(code, d, c, loan_id) for code, d, c, loan_id in rows]


def reverse_entry(
    session: Session, entry_id: int, *, posting_key: str, business_date: date, reason: str
) -> JournalEntry:
    """A new entry with every line on the other side, referencing the original.

    Low-level: it does not touch loan schedules. Loan entries are reversed through
    `ledger.service.reverse_loan_entry`, which also undoes what the entry did to the loan.
    """
    already = find_entry(session, posting_key)
    if already is not None:
        return already
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise UnknownEntry(f"no journal entry {entry_id}", field="entry_id")
    if original.reverses_entry_id is not None:
        raise AlreadyReversed("a reversal is not itself reversed; post a new entry", field="entry_id")
    if session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id)) is not None:
        raise AlreadyReversed(f"entry {entry_id} is already reversed", field="entry_id")
    mirrored = [Line(l.account, l.credit, l.debit, l.loan_id) for l in entry_lines(session, entry_id)]
    return post_entry(
        session,
        branch=original.branch,
        posting_key=posting_key,
        business_date=business_date,
        kind=f"reversal:{original.kind}",
        lines=mirrored,
        description=reason,
        loan_id=original.loan_id,
        reverses_entry_id=original.id,
    )


# ---------------------------------------------------------------------------- reports

@dataclass
class TrialBalanceRow:
    branch: str
    account: str
    name: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit-positive balance."""
        return self.debit - self.credit


@dataclass
class TrialBalance:
    branch: str | None  # None: consolidated across branches
    rows: list[TrialBalanceRow] = field(default_factory=list)

    @property
    def total_debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def is_balanced(self) -> bool:
        return self.total_debit == self.total_credit

    def to_dict(self) -> dict:
        return {
            "branch": self.branch,
            "accounts": [
                {"branch": r.branch, "account": r.account, "name": r.name, "debit": str(r.debit),
                 "credit": str(r.credit), "balance": str(r.balance)}
                for r in self.rows
            ],
            "total_debit": str(self.total_debit),
            "total_credit": str(self.total_credit),
            "balanced": self.is_balanced,
        }


def trial_balance(session: Session, branch: str | None = None) -> TrialBalance:
    """Debit and credit totals per account: for one branch, or consolidated (branch=None)."""
    query = (
        select(
            Account.branch,
            Account.code,
            Account.name,
            func.coalesce(func.sum(JournalLine.debit), 0),
            func.coalesce(func.sum(JournalLine.credit), 0),
        )
        .join(JournalLine, JournalLine.account_id == Account.id)
        .group_by(Account.branch, Account.code, Account.name)
        .order_by(Account.branch, Account.code)
    )
    if branch is not None:
        query = query.where(Account.branch == branch)
    result = TrialBalance(branch)
    consolidated: dict[str, TrialBalanceRow] = {}
    for row_branch, code, name, d, c in session.execute(query):
        d, c = _money(d), _money(c)
        if branch is None:
            row = consolidated.setdefault(code, TrialBalanceRow("*", code, name, ZERO, ZERO))
            row.debit += d
            row.credit += c
        else:
            result.rows.append(TrialBalanceRow(row_branch, code, name, d, c))
    if branch is None:
        result.rows = [consolidated[k] for k in sorted(consolidated)]
    return result


def account_balance(session: Session, branch: str, code: str, *, loan_id: int | None = None) -> Decimal:
    """Debit-positive balance of an account (optionally only the lines tagged with one loan)."""
    query = (
        select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
        .join(Account, Account.id == JournalLine.account_id)
        .where(Account.branch == branch, Account.code == code)
    )
    if loan_id is not None:
        query = query.where(JournalLine.loan_id == loan_id)
    return _money(session.scalar(query))


def loan_posting_balances(session: Session, loan_id: int) -> dict[str, Decimal]:
    """Sum of the loan's postings per subsidiary balance column (what the columns must equal)."""
    column_of = case(
        *[(Account.code == code, column) for code, column in LOAN_BALANCE_COLUMN.items()], else_="other"
    )
    rows = session.execute(
        select(column_of, func.sum(JournalLine.debit - JournalLine.credit))
        .join(Account, Account.id == JournalLine.account_id)
        .where(JournalLine.loan_id == loan_id)
        .group_by(column_of)
    ).all()
    result = {"principal_outstanding": ZERO, "interest_receivable": ZERO, "penalty_receivable": ZERO}
    for column, amount in rows:
        if column in result:
            result[column] = _money(amount)
    return result


_money = from_database
