"""Tables owned by workflows: reference data, deployments, instances, inbox, audit, outbox.

The inbox (`human_task`) is denormalised on purpose (branch, role, amount, customer name) so a
reviewer's inbox is one indexed query, never a scan of serialized workflow states.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric,
                        String, Text, UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from privacy import SealedJSON, SealedText

metadata = MetaData()
Money = Numeric(18, 2)
Rate = Numeric(9, 6)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = metadata


HQ = "HQ"


class Branch(Base):
    __tablename__ = "branch"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(60), default="")
    tier1_capital_net: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    is_hq: Mapped[bool] = mapped_column(Boolean, default=False)


class Product(Base):
    __tablename__ = "product"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    min_amount: Mapped[Decimal] = mapped_column(Money)
    max_amount: Mapped[Decimal] = mapped_column(Money)
    min_term_months: Mapped[int] = mapped_column(Integer, default=1)
    max_term_months: Mapped[int] = mapped_column(Integer)
    base_rate: Mapped[Decimal] = mapped_column(Rate)
    repayment_method: Mapped[str] = mapped_column(String(32))
    allows_large_amount: Mapped[bool] = mapped_column(Boolean, default=False)
    # A due date on a holiday: "none" (due that day) or "next_working_day" (business_calendar.py).
    holiday_rule: Mapped[str] = mapped_column(String(24), default="none", server_default="none")


class User(Base):
    __tablename__ = "app_user"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    branch_code: Mapped[str] = mapped_column(String(16))
    roles: Mapped[str] = mapped_column(String(256))  # comma-separated role codes
    # Administration (workflows/administration.py, migration 0012): the outlet within the branch,
    # whether the account may be used at all, and the sign-in lockout's count and moment.
    outlet_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # workflows/account.py (migration 0020): a password an administrator set (a new account's first
    # one, a reset) is known to two people, so the pages ask for a new one at the next sign-in.
    password_change_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    # Set (never stored) on the stand-in User an integrator client's token signs in as
    # (workflows.integrators.principal_for): the client's branches, channels and partner id.
    client_scope = None

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)


class Deployment(Base):
    """An immutable, numbered version of a scope's diagrams (HQ or one branch)."""
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("scope", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(String(500), default="")


class DeploymentFile(Base):
    __tablename__ = "deployment_file"
    __table_args__ = (UniqueConstraint("deployment_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # A withdrawal: from this version on the scope no longer provides the file (a branch falls
    # back to HQ's). Its content is empty and nothing ever runs it.
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class DeployedDefinition(Base):
    """A process or decision a deployment defines, with its own version number per scope."""
    __tablename__ = "deployed_definition"
    __table_args__ = (UniqueConstraint("scope", "definition_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("deployment_file.id"))
    scope: Mapped[str] = mapped_column(String(16))
    definition_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # process | decision | data
    version: Mapped[int] = mapped_column(Integer)


class StudioDraft(Base):
    """An analyst's unpublished edit of one file of a scope (the studio). Drafts are the analyst's
    own until published: publishing deploys them as the scope's next version and deletes them."""
    __tablename__ = "studio_draft"
    __table_args__ = (UniqueConstraint("author", "scope", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    author: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    # The deployed file the draft started from (None: a new file), so publishing over a version
    # someone else published meanwhile is noticed instead of silently undoing it.
    base_file_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    withdraw: Mapped[bool] = mapped_column(Boolean, default=False)  # publish as a withdrawal of the file
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PublishPolicy(Base):
    """How a scope's studio drafts are published: at once, or (four_eyes) only when a second
    analyst approves the release."""
    __tablename__ = "publish_policy"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReleaseRequest(Base):
    """A draft set waiting for a second analyst (four-eyes scopes): the files as they were asked
    for, what they began from, and the decision."""
    __tablename__ = "release_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16), index=True)
    author: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(String(500))
    files: Mapped[dict] = mapped_column(JSON)          # name -> content
    withdraw: Mapped[list] = mapped_column(JSON)       # names withdrawn
    base_file_ids: Mapped[dict] = mapped_column(JSON)  # name -> the scope's own file id the draft began from
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | approved | rejected | withdrawn
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    decision_comment: Mapped[str] = mapped_column(String(500), default="")
    deployment_version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Customer(Base):
    """A farm household or an individual in the register (客户档案), keyed within its branch (a separate
    legal entity) by the resident ID number's keyed hash. Everything but the key lives in `details`,
    sealed, and changes only through workflows.customers, which writes a customer_change row."""
    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("branch_code", "id_number_hash", name="uq_customer_branch_id_number"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branch.code"), index=True)
    id_number: Mapped[str] = mapped_column(SealedText)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(120))
    customer_type: Mapped[str] = mapped_column(String(32))
    manager: Mapped[str] = mapped_column(String(64), default="", index=True)
    details: Mapped[dict] = mapped_column(SealedJSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CustomerChange(Base):
    """Who changed what in a customer's data, when, from where (the API, an application), and why.
    The before and after values are personal data: sealed."""
    __tablename__ = "customer_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(80))
    changes: Mapped[dict] = mapped_column(SealedJSON)


class CustomerConsent(Base):
    """The customer's authorisation for queries about them (数据查询授权): when it was given, how
    (e-signature, paper, in the app, a recorded call), through which channel, for what scope, until
    when. No bureau query runs without a valid one (workflows.consents)."""
    __tablename__ = "customer_consent"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(80))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Application(Base):
    __tablename__ = "application"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branch.code"), index=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("product.code"))
    customer_name: Mapped[str] = mapped_column(String(120))
    # The register's customer, when the ID number is a valid one (an invalid one is declined at intake).
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    # Personal data is sealed (privacy.columns); the ID number's keyed hash is what look-ups use.
    id_number: Mapped[str] = mapped_column(SealedText)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column(Integer)
    # The limit dimensions (限额维度) as columns, so live exposure is one indexed aggregate.
    region: Mapped[str] = mapped_column(String(60), default="")
    industry: Mapped[str] = mapped_column(String(32), default="")
    purpose: Mapped[str] = mapped_column(String(32), default="")
    guarantee_method: Mapped[str] = mapped_column(String(16), default="")
    customer_type: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict] = mapped_column(SealedJSON)
    status: Mapped[str] = mapped_column(String(32), index=True)
    stage: Mapped[str] = mapped_column(String(64), default="")
    decision: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    loan_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # Rating figures, risk hits and contract, copied from the task data after each step so the API
    # never has to open the serialized workflow state.
    summary: Mapped[dict] = mapped_column(SealedJSON, default=dict)  # the contract names the borrower
    # Where the application came in (migration 0017): mobile, counter or partner, and for partner
    # the partner's id (an integrator client carries its own; workflows/integrators.intake_channel).
    channel: Mapped[str] = mapped_column(String(16), default="counter", server_default="counter")
    partner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CreditLine(Base):
    """A credit line (授信) granted once to a customer after the line process (intake, rating,
    review, signing) and drawn on many times (用信). What is available is not stored: it is the
    limit less the outstanding principal of the line's drawdowns in the ledger, so a repayment
    releases the line without anything here changing (workflows/credit_lines.py)."""
    __tablename__ = "credit_line"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branch.code"), index=True)
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customer.id"), nullable=True, index=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), unique=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("product.code"))
    contract_number: Mapped[str] = mapped_column(String(64))
    limit_amount: Mapped[Decimal] = mapped_column(Money)
    annual_rate: Mapped[Decimal] = mapped_column(Numeric(9, 6))
    term_months: Mapped[int] = mapped_column(Integer)
    granted_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date, index=True)
    revolving: Mapped[bool] = mapped_column(Boolean, default=False)
    # The one ledger loan a revolving line draws on (opened by its first drawdown).
    revolving_loan_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # active|frozen|expired|recalled|closed
    # The line this one renews (续贷), if any.
    renews_line_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CreditLineDrawdown(Base):
    """One drawdown (支用) on a line and the ledger loan it went to: its own loan on a
    non-revolving line, the line's one revolving loan otherwise."""
    __tablename__ = "credit_line_drawdown"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("credit_line.id"), index=True)
    loan_number: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    term_months: Mapped[int] = mapped_column(Integer)
    business_date: Mapped[dt.date] = mapped_column(Date)
    drawn_by: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CreditLineEvent(Base):
    """What happened to a line, who did it, when and why: granted, frozen, unfrozen, reduced,
    drawn, expired (a release by repayment is the ledger's posting, not an event here)."""
    __tablename__ = "credit_line_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    line_id: Mapped[str] = mapped_column(ForeignKey("credit_line.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    limit_after: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    reason: Mapped[str] = mapped_column(SealedText, default="")  # staff's free text: may name people


class ProcessInstance(Base):
    """One running (or finished) process of any kind. An origination instance belongs to its
    application; a servicing process (collections, a change request, a post-loan check) has
    none and is found by its correlation keys (`correlation_key`), e.g. its loan."""
    __tablename__ = "process_instance"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"), index=True, nullable=True)
    process_id: Mapped[str] = mapped_column(String(200))
    branch_code: Mapped[str] = mapped_column(String(16), index=True)
    # The status and stage as workflows.processes.derive_state read them after the last step.
    stage: Mapped[str] = mapped_column(String(64), default="")
    started_by: Mapped[str] = mapped_column(String(64), default="")
    # The deployment files this instance was started on: {file name: deployment_file.id}.
    pinned_files: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(SealedText)  # task data holds the applicant
    status: Mapped[str] = mapped_column(String(32))
    incident: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Automatic retries of an incident (a bureau outage clears by itself): how many so far, and when next.
    incident_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": revision}


class DueTimer(Base):
    """A BPMN timer an instance waits for (workflows/timers.py): the worker and `loanflow tick`
    fire the rows that are due, each exactly once (claimed FOR UPDATE SKIP LOCKED on PostgreSQL).
    Rows are rewritten after every step of the instance, from the workflow's own waiting timers."""
    __tablename__ = "due_timer"
    # Only unfired rows, in the order they are claimed: the claim reads the first row it can lock
    # and stops, instead of sorting every due row (and the fired ones never leave the table).
    __table_args__ = (Index("ix_due_timer_unfired", "due_at", "id", postgresql_where=text("fired_at IS NULL"),
                            sqlite_where=text("fired_at IS NULL")),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[dt.datetime] = mapped_column(DateTime)  # UTC, naive like every other column
    fired_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class CorrelationKey(Base):
    """A business key an instance can be found by (declared in its diagram), e.g. loan_id: how a
    message from a channel or an EOD signal reaches the one instance it is for."""
    __tablename__ = "correlation_key"
    __table_args__ = (Index("ix_correlation_key_value", "name", "value"),)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class MessageLog(Base):
    """Every message delivered to an instance (POST /messages, the e-sign callback): the first
    answer is replayed for the same message_id, and the log is the record of what arrived."""
    __tablename__ = "message_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    correlation: Mapped[dict] = mapped_column(JSON)
    payload: Mapped[dict] = mapped_column(SealedJSON)  # a signature or a payment names the customer
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    received_by: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    answer: Mapped[dict] = mapped_column(SealedJSON)


# The inbox's sort key for a task due never: after every real due time. `due_at IS NULL, due_at`
# cannot be read from an index in order; a stored, not-null key can.
DUE_NEVER = dt.datetime(9999, 12, 31)


def _due_sort_default(context) -> dt.datetime:
    # Also for bulk Core inserts (the bench): the row's own due_at, or never.
    return context.get_current_parameters().get("due_at") or DUE_NEVER


class HumanTask(Base):
    __tablename__ = "human_task"
    __table_args__ = (
        # Serves the inbox's filters (branch, role, status) and its order (due, created, id) in one
        # range scan, so a page costs the same at 100k open tasks as at 100 (workflows/task_pages.py);
        # assignee and amount ride along so the tab and amount filters (and a filtered COUNT) are
        # decided in the index, without a table look-up per skipped row.
        Index("ix_human_task_inbox_order", "branch_code", "role", "status", "due_sort", "created_at", "id",
              "assignee", "amount"),
        Index("ix_human_task_assignee", "assignee", "status"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task id
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id"), index=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("application.id"), index=True, nullable=True)
    process_id: Mapped[str] = mapped_column(String(200), default="")
    loan_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    branch_code: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(64))
    form: Mapped[str] = mapped_column(String(64))
    task_key: Mapped[str] = mapped_column(String(200))  # BPMN element id
    title: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | completed | cancelled
    assignee: Mapped[str | None] = mapped_column(String(64), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    customer_name: Mapped[str] = mapped_column(String(120))
    product_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # due_at, or DUE_NEVER: kept equal by workflows.task_counts on every flush.
    due_sort: Mapped[dt.datetime] = mapped_column(DateTime, default=_due_sort_default)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    completed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A delegate completed it for the user it was assigned to (workflows/delegation.py).
    on_behalf_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    context: Mapped[dict] = mapped_column(SealedJSON, default=dict)  # what the reviewer needs to decide


class HumanTaskCount(Base):
    """How many human_task rows there are per inbox key: kept exact in the same flush as every
    change of a task row (workflows/task_counts.py), so the inbox's tab counts and totals are a
    handful of primary-key rows, not a count of the backlog. `assignee` is '' for unclaimed."""
    __tablename__ = "human_task_count"
    branch_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    assignee: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    product_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class AuditEvent(Base):
    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    instance_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class IdempotentRequest(Base):
    """The first answer to a request with an Idempotency-Key, replayed on retries."""
    __tablename__ = "idempotent_request"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict] = mapped_column(SealedJSON)  # an application view may show the applicant whole
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class OutboxMessage(Base):
    """Events for integrators, written in the same transaction as the change they announce."""
    __tablename__ = "outbox_message"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)


class WebhookSecret(Base):
    """An integrator's webhook signing secret (workflows/webhook_signing.py, migration 0021): sealed,
    since we must sign with it; the current one has no `valid_until`, a rotated one signs on until then."""
    __tablename__ = "webhook_secret"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    integrator: Mapped[str] = mapped_column(String(64), index=True)
    secret: Mapped[str] = mapped_column(SealedText)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    valid_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditSeal(Base):
    """One link of a branch's audit chain (workflows/audit_chain.py, migration 0022): the event row
    it seals (source table and id), that row's digest, and the keyed hash chaining it to the link before."""
    __tablename__ = "audit_seal"
    __table_args__ = (UniqueConstraint("branch_code", "seq"), UniqueConstraint("source", "source_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    branch_code: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    digest: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditChainHead(Base):
    """The last link of each branch's audit chain: where the sealer appends, what verify must reach."""
    __tablename__ = "audit_chain_head"
    branch_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    chain_hash: Mapped[str] = mapped_column(String(64))


class WarningSignal(Base):
    """An early-warning signal (预警信号) found after an EOD (workflows/early_warning.py): one row
    per loan, kind and business date, so running the night again adds nothing. Its level is the
    customer's for that date (warning_level.dmn); `work_order_id` is the early_warning instance
    started for it, if it needed one."""
    __tablename__ = "warning_signal"
    __table_args__ = (UniqueConstraint("loan_number", "kind", "business_date", name="uq_warning_signal"),
                      Index("ix_warning_signal_day_customer", "business_date", "customer_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loan_number: Mapped[str] = mapped_column(String(64))
    branch_code: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(64))  # the ledger's customer reference (a keyed hash)
    kind: Mapped[str] = mapped_column(String(32))
    business_date: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer, default=1)
    facts: Mapped[dict] = mapped_column(JSON, default=dict)
    work_order_id: Mapped[str | None] = mapped_column(ForeignKey("process_instance.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class BusinessCalendarYear(Base):
    """One year's working-day calendar as HQ stored it (workflows/business_calendar.py): holidays and
    the swapped working weekends (调休), the checked document as JSON."""
    __tablename__ = "business_calendar"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[dict] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

# -- administration: the org tree's outlets, the administrators' audit trail, delegations ----------
class Outlet(Base):
    """An outlet (网点) of a branch: the org tree's third level (HQ -> branch -> outlet)."""
    __tablename__ = "outlet"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branch.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class AdminAudit(Base):
    """Every change an administrator (or a delegating reviewer) makes to users, the org tree or
    delegations: who, when, what, and the values before and after (never a password or its hash)."""
    __tablename__ = "admin_audit"
    __table_args__ = (Index("ix_admin_audit_target", "target_kind", "target"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    branch_code: Mapped[str] = mapped_column(String(16), index=True)  # whose branch it concerns
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(16))  # user | branch | outlet | delegation | integrator
    target: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)


class Delegation(Base):
    """A reviewer on leave hands their tasks of `roles` to a colleague of the same branch and role
    from `starts_at` to `ends_at` (naive UTC); ending it early sets `ended_at`."""
    __tablename__ = "delegation"
    __table_args__ = (Index("ix_delegation_delegate", "delegate", "starts_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delegator: Mapped[str] = mapped_column(String(64), index=True)
    delegate: Mapped[str] = mapped_column(String(64))
    branch_code: Mapped[str] = mapped_column(String(16))
    roles: Mapped[str] = mapped_column(String(256))  # comma-separated, as app_user.roles
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

# -- Operations (issue 14): the workers' heartbeats and the record of each end-of-day batch -----

class WorkerHeartbeat(Base):
    """The last sign of life of one worker process (`loanflow worker`), written on every tick of
    its scheduler: `/readyz` and the operations console call a worker stale when `beat_at` is
    older than LOANFLOW_HEARTBEAT_STALE_SECONDS."""
    __tablename__ = "worker_heartbeat"
    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(128), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    beat_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class EodBatchRun(Base):
    """One end-of-day batch that closed a business date: when it ran, how long it took and what it
    did (the ledger's EodResult figures), for the operations console and /metrics."""
    __tablename__ = "eod_batch_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_date: Mapped[dt.date] = mapped_column(Date, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(DateTime)
    duration_seconds: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    figures: Mapped[dict] = mapped_column(JSON, default=dict)


class ReconciliationRun(Base):
    """One reconciliation of a business date's payment-channel statement against our bookings
    (workflows/reconciliation.py, migration 0024): what was compared and how much differed."""
    __tablename__ = "reconciliation_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_date: Mapped[dt.date] = mapped_column(Date, index=True)
    ran_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ran_by: Mapped[str] = mapped_column(String(64))
    statement_lines: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    differences: Mapped[int] = mapped_column(Integer)


class ReconciliationWorkOrder(Base):
    """A difference between the channel's statement and our books, for operations to settle: one
    per business date and reference, however often the day is reconciled again."""
    __tablename__ = "reconciliation_work_order"
    __table_args__ = (UniqueConstraint("business_date", "reference"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    business_date: Mapped[dt.date] = mapped_column(Date, index=True)
    reference: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))  # not_booked | not_on_statement | amount_differs
    branch_code: Mapped[str] = mapped_column(String(16), index=True)
    loan_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    booked_amount: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    account: Mapped[str | None] = mapped_column(String(64), nullable=True)  # masked: ****5678
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open | resolved
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(SealedText, default="")  # staff's free text: may name people


# -- Integrator clients (issue 14, item 6): a system's credentials, limited to branches and channels --

class IntegratorClient(Base):
    """An integrator's system: a public client id and a secret kept only as a scrypt hash (as
    passwords are), the branches it works for ("HQ" = every branch) and the channels it sends
    applications through (partner clients carry their partner id). `generation` goes up at every
    rotation; a token names the generation it was issued for, so a rotated secret stops them."""
    __tablename__ = "integrator_client"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    secret_hash: Mapped[str] = mapped_column(String(256))
    branches: Mapped[str] = mapped_column(String(256))  # comma-separated branch codes, or "HQ"
    channels: Mapped[str] = mapped_column(String(64))   # comma-separated: mobile, counter, partner
    partner_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    rotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def branch_set(self) -> frozenset[str]:
        return frozenset(b for b in self.branches.split(",") if b)

    @property
    def channel_list(self) -> list[str]:
        return sorted(c for c in self.channels.split(",") if c)
