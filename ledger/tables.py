"""The ledger's own tables. The ledger owns this MetaData; workflows.db creates it with the rest.

Money columns are Numeric(18, 2). The end-of-day batch works on day numbers (`date.toordinal()`)
kept next to the dates, so its SQL is plain integer arithmetic on both SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from privacy import SealedText

metadata = MetaData()

Money = Numeric(18, 2, asdecimal=True)
Rate = Numeric(12, 8, asdecimal=True)


class LedgerBase(DeclarativeBase):
    metadata = metadata


class Account(LedgerBase):
    """One account of a branch's chart of accounts (科目)."""

    __tablename__ = "ledger_account"
    __table_args__ = (UniqueConstraint("branch", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(48))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # asset, liability, income, expense, contra_asset
    normal_side: Mapped[str] = mapped_column(String(6))  # debit or credit


class JournalEntry(LedgerBase):
    """An immutable, balanced journal entry (凭证). Never updated or deleted."""

    __tablename__ = "ledger_journal_entry"
    # The entries of a business date by kind: early warning's window (the day's disbursements and
    # draws, the batch's reclassification), without reading the whole journal.
    __table_args__ = (Index("ix_ledger_journal_entry_date_kind", "business_date", "kind"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    branch: Mapped[str] = mapped_column(String(32), index=True)
    posting_key: Mapped[str] = mapped_column(String(200), unique=True)
    business_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(400), default="")
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_loan_account.id"), index=True)
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_journal_entry.id"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class JournalLine(LedgerBase):
    __tablename__ = "ledger_journal_line"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0 AND debit + credit > 0", name="ck_line_one_side"),
        Index("ix_ledger_journal_line_loan", "loan_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_loan_account.id"))
    debit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    credit: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))


class LoanAccount(LedgerBase):
    """A loan's account (贷款分户账): contract terms plus running balances.

    The balance columns are a subsidiary ledger: each always equals the sum of the journal lines
    that carry this loan's id on the matching accounts (tests check it).
    """

    __tablename__ = "ledger_loan_account"
    __table_args__ = (
        Index("ix_ledger_loan_status_branch", "status", "branch"),
        # The batch rewrites every active loan row daily; free space in each page lets
        # PostgreSQL update in place (HOT) without touching the indexes.
        {"postgresql_with": {"fillfactor": "70"}},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_number: Mapped[str] = mapped_column(String(64), unique=True)
    branch: Mapped[str] = mapped_column(String(32))
    # A customer reference, never the ID number itself (origination writes its keyed hash).
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    product_code: Mapped[str] = mapped_column(String(32))
    principal: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Rate)
    penalty_rate: Mapped[Decimal] = mapped_column(Rate)
    term_months: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(24))
    frequency: Mapped[str] = mapped_column(String(12))
    day_count: Mapped[str] = mapped_column(String(16))
    # A seasonal loan's harvest months ("7,10") and grace period (migration 0023): the principal
    # dates, kept so a regenerated schedule repays in the same months.
    harvest_months: Mapped[str | None] = mapped_column(String(40), nullable=True)
    grace_months: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    start_date: Mapped[date] = mapped_column(Date)
    maturity_date: Mapped[date] = mapped_column(Date)
    deposit_account: Mapped[str] = mapped_column(SealedText)  # the auto-debit needs it whole
    # approved (opened, not disbursed) → active → closed | written_off
    status: Mapped[str] = mapped_column(String(16), default="approved")
    classification: Mapped[str] = mapped_column(String(20), default="normal")
    classification_override: Mapped[str | None] = mapped_column(String(20))
    override_reason: Mapped[str | None] = mapped_column(String(400))
    override_by: Mapped[str | None] = mapped_column(String(64))
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    principal_outstanding: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    interest_receivable: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    penalty_receivable: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    schedule_version: Mapped[int] = mapped_column(Integer, default=1)
    # Interest has been accrued through this day (date.toordinal()); see LoanInstallment.
    accrued_through_day: Mapped[int] = mapped_column(Integer, default=0)
    # The loan's limit dimensions (限额维度) as a JSON object {name: value}, copied from its
    # application when the loan is opened; its principal counts in ledger_exposure under them.
    # NULL: a loan counted in no limit (one opened through the ledger API alone). See ledger.exposure.
    exposure_tags: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class LoanInstallment(LedgerBase):
    """One row of a loan's schedule. Rows are never deleted: a regenerated schedule marks the
    replaced rows `active = False` and adds rows with the next `version` (change history)."""

    __tablename__ = "ledger_loan_installment"
    __table_args__ = (
        Index("ix_ledger_installment_loan", "loan_id", "active", "number"),
        # The batch finds the period being accrued and the unpaid past-due rows through these.
        Index("ix_ledger_installment_accruing", "accrual_open", "accrual_from_day", "due_day"),
        Index("ix_ledger_installment_unsettled", "settled", "due_day"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("ledger_loan_account.id"))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    number: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    due_day: Mapped[int] = mapped_column(Integer)
    principal: Mapped[Decimal] = mapped_column(Money)
    interest: Mapped[Decimal] = mapped_column(Money)
    principal_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    interest_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    remaining_balance: Mapped[Decimal] = mapped_column(Money)
    # Interest accrues linearly from accrual_from_day to due_day: accrual_base (already accrued
    # when the row was (re)based) + accrual_amount × elapsed / span, elapsed counted up to the
    # loan's accrued_through_day. The batch never writes these rows for accrual: what a row has
    # accrued follows from them and the loan's watermark (ledger.accrual.accrued_interest).
    accrual_base: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    accrual_amount: Mapped[Decimal] = mapped_column(Money)
    accrual_from_day: Mapped[int] = mapped_column(Integer)
    accrual_open: Mapped[bool] = mapped_column(Boolean, default=True)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)


class RepaymentAllocation(LedgerBase):
    """How a repayment entry was split over installments, so a reversal can undo it exactly."""

    __tablename__ = "ledger_repayment_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_journal_entry.id"), index=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("ledger_loan_installment.id"))
    principal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    interest: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))


class EodRun(LedgerBase):
    """One row per business date the end-of-day batch has run for: the batch's idempotency key."""

    __tablename__ = "ledger_eod_run"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    accrual_lines: Mapped[int] = mapped_column(Integer, default=0)
    penalty_lines: Mapped[int] = mapped_column(Integer, default=0)
    reclassified: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class EodWork(LedgerBase):
    """Scratch rows of the batch in progress (emptied before the batch returns)."""

    __tablename__ = "ledger_eod_work"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    loan_id: Mapped[int] = mapped_column(Integer)
    branch: Mapped[str] = mapped_column(String(32))
    installment_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    old_class: Mapped[str | None] = mapped_column(String(20))
    new_class: Mapped[str | None] = mapped_column(String(20))
    days_past_due: Mapped[int | None] = mapped_column(Integer)


class ClassificationProposal(LedgerBase):
    """A five-level class the batch would move a loan to but may not on its own (maker-checker):
    a downgrade to 次级 or worse, or any upgrade. It waits for the customer manager's reason and the
    risk officer's decision (ledger.classification_review); the loan keeps its class until then.

    status: pending → approved | rejected, or withdrawn (the books no longer point to a move) |
    superseded (they point to another class; a new proposal replaces it).
    """

    __tablename__ = "ledger_classification_proposal"
    __table_args__ = (Index("ix_classification_proposal_loan_status", "loan_id", "status"),
                      Index("ix_classification_proposal_status", "status"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("ledger_loan_account.id"))
    branch: Mapped[str] = mapped_column(String(32))
    business_date: Mapped[date] = mapped_column(Date)          # the batch that proposed it
    from_class: Mapped[str] = mapped_column(String(20))
    to_class: Mapped[str] = mapped_column(String(20))
    days_past_due: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(String(400))     # the customer manager's
    proposed_by: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_on: Mapped[date | None] = mapped_column(Date)
    comment: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class LoanChange(LedgerBase):
    """History of contract changes (合同变更): rate, repayment method, repayment account,
    classification override. The replaced schedule rows stay in ledger_loan_installment."""

    __tablename__ = "ledger_loan_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("ledger_loan_account.id"), index=True)
    change_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    effective_date: Mapped[date] = mapped_column(Date)
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(400), default="")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    schedule_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.current_timestamp())


class ExposureBalance(LedgerBase):
    """Outstanding principal per branch and limit dimension value, kept by every posting that
    moves a tagged loan's principal (ledger.exposure), so a limit check reads a few rows instead
    of summing the book. `dimension` is "book" (value ""), "customer" (the loan's customer
    reference), a dimension name such as "industry", a pair of them ("customer_type+guarantee_method",
    the value both values as JSON), or "cell": the loan's whole tag set as canonical JSON, which
    limits on three or more dimensions add up (one row per combination in use)."""

    __tablename__ = "ledger_exposure"

    branch: Mapped[str] = mapped_column(String(32), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(String(512), primary_key=True)
    # In fen: integer additions are exact on both databases (SQLite keeps Numeric as a float).
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
