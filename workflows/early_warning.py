"""Early warning (预警) after each end-of-day batch: signals found over the books, their levels, and
work orders for the signals that need one.

    run = early_warning_after_eod(db, layer, date(2027, 3, 1))   # the date the batch just closed

Set-based: one SELECT per kind of signal over the books finds the loans that signal on that date,
never a loop or a process per loan. The kinds:

- first_overdue         days past due reached 1 since the previous batch
- dpd_30, dpd_60, dpd_90  days past due crossed 30, 60, 90 since the previous batch
- downgrade             the batch moved the loan to a worse five-level class (the move from 正常 to
                        关注 on the first day overdue is that day's first_overdue, not a second signal)
- risk_list             an active borrower was put on the blacklist, graylist or AML list that date
- limit_usage           a loan disbursed (or drawn) in the window brought its borrower's outstanding
                        at the branch to `warn_at` (limits.json, 90 % by default) of the
                        single-customer or the concentration limit, or over it; the signal goes on
                        that loan. A borrower's exposure grows only by disbursements and draws, so
                        that is when it crosses (an analyst lowering a limit is not a crossing).
                        The credit-lines issue adds the utilisation of a customer's line.

"Since the previous batch" is the window (previous closed date, this date]: dates close in order,
but a batch may skip days, and a loan then crosses a threshold without ever sitting on it.

Each signal is a `warning_signal` row, unique by (loan, kind, business date), so a re-run of the
night stores nothing new. The level (warning_level.dmn, the branch's file) is evaluated once per
customer with signals that date, from how many kinds of signal the customer has, how many of
their loans are past due across the group, and the worst risk list they are on. Then every
signal without a work order gets one (an early_warning instance for the loan's branch, one unit
of work each), unless the loan already has an open work order of the same kind, to which the
signal is attached instead: one open work order per loan and kind.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Mapping

from sqlalchemy import and_, bindparam, case, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, aliased

from ledger.tables import Account, EodRun, JournalEntry, JournalLine, LoanAccount
from privacy import redact_text
from scoring.dmn import DmnModel, load_dmn
from scoring.errors import ScoringError
from scoring.limits import customer_limits_used, parse_limits_config
from scoring.tables import RiskListEntry
from workflows.clock import CHINA
from workflows.db import Database
from workflows.errors import WorkflowError
from workflows.models import Application, ProcessInstance, WarningSignal, utcnow
from workflows.process_state import COMPLETED
from workflows.processes import SYSTEM, ProcessLayer
from workflows.timers import clock_at

log = logging.getLogger(__name__)

EARLY_WARNING = "early_warning"
LEVEL_FILE = "warning_level.dmn"
LEVEL_DECISION = "warning_level"
DPD_THRESHOLDS = {"first_overdue": 1, "dpd_30": 30, "dpd_60": 60, "dpd_90": 90}
LIMIT_USAGE = "limit_usage"
KINDS = (*DPD_THRESHOLDS, "downgrade", "risk_list", LIMIT_USAGE)
LIMITS_FILE = "limits.json"
# A branch → its resolved limits.json (parsed), or None where the scope has none.
BranchLimits = Callable[[str], "Mapping | None"]
# The five-level classes, best first (ledger accounts loans_<class>); worse = a higher rank.
CLASS_RANK = {"normal": 0, "special_mention": 1, "substandard": 2, "doubtful": 3, "loss": 4}
# The worst list decides: a blacklist entry is usually a court enforcement or fraud.
LIST_RANK = {"graylist": 1, "aml": 2, "blacklist": 3}
MIN_LEVEL, MAX_LEVEL = 1, 3


class EarlyWarningRefused(WorkflowError):
    """Signals are read off the books as the batch of that date left them: only for the last closed date."""
    code = "early_warning_refused"


class WarningLevelFailed(WorkflowError):
    """The branch's warning_level.dmn cannot give a level (a cell outside the DMN subset, no rule)."""
    code = "warning_level_failed"


class BranchLimitsFailed(WorkflowError):
    """The branch's limits.json cannot be read, so limit usage cannot be measured."""
    code = "branch_limits_failed"


@dataclass(frozen=True)
class SignalRun:
    business_date: dt.date
    found: dict[str, int]         # new signals stored, by kind
    levels: dict[int, int]        # the date's signals by level (new and old)
    work_orders: tuple[str, ...]  # instances started
    attached: int                 # signals attached to an open work order of the same loan and kind
    not_started: int              # signals whose work order failed to start (logged; retried next run)

    def summary(self) -> dict:
        """One line for the worker's log and `loanflow tick`: the counts, and what is not zero."""
        out: dict = {"signals": sum(self.found.values()), "work_orders": len(self.work_orders)}
        if out["signals"]:
            out["by_kind"] = {kind: n for kind, n in sorted(self.found.items()) if n}
        if self.levels:
            out["levels"] = {str(level): n for level, n in sorted(self.levels.items())}
        for name in ("attached", "not_started"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


def early_warning_after_eod(db: Database, layer: ProcessLayer, business_date: dt.date, *,
                            at: dt.datetime | None = None) -> SignalRun:
    """`at` (aware) is the batch's moment, which the work orders start at; by default the
    worker's: 00:30 China time the day after the business date."""
    at = at or dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(0, 30), CHINA)
    with clock_at(lambda: at):
        with db.unit_of_work() as session:
            found = store_signals(session, business_date, branch_limits(session, layer))
            levels = assign_levels(session, branch_tables(session, layer), business_date)
            session.commit()
        started, attached, failed = start_work_orders(db, layer, business_date)
    return SignalRun(business_date, found, levels, started, attached, failed)


def early_warning_step(day) -> dict:
    """The after-EOD step (workflows/daily_steps.py): `day` is its `Day`."""
    if day.origination is None:  # a worker built without the process layer starts no work orders
        return {"skipped": "no process layer"}
    return early_warning_after_eod(day.db, day.origination.layer, day.business_date, at=day.at).summary()


# ---------------------------------------------------------------------------- finding signals

def store_signals(session: Session, business_date: dt.date, limits: BranchLimits) -> dict[str, int]:
    """Find the date's signals over the books and store the new ones (level 1 until assigned).
    `limits`: each branch's limits (`branch_limits`), which limit_usage measures against."""
    previous = _check_closed(session, business_date)
    gap = (business_date - previous).days if previous else 1
    found: dict[str, int] = {}
    rows: list[dict] = []
    for kind, threshold in DPD_THRESHOLDS.items():
        new = _dpd_crossings(session, business_date, kind, threshold, gap)
        found[kind] = len(new)
        rows += new
    for kind, finder in (("downgrade", _downgrades), ("risk_list", _risk_list_hits)):
        new = finder(session, business_date, previous, gap)
        found[kind] = len(new)
        rows += new
    new = _limit_usage(session, business_date, gap, limits)
    found[LIMIT_USAGE] = len(new)
    rows += new
    if rows:
        now = utcnow()
        # Core executemany: the ORM's bulk path costs more than the queries themselves.
        stored = [{**row, "business_date": business_date, "level": MIN_LEVEL, "created_at": now} for row in rows]
        session.execute(insert(WarningSignal.__table__), stored)
    return found


def _check_closed(session: Session, business_date: dt.date) -> dt.date | None:
    """The closed date before `business_date`, which opens the signals' window."""
    last = session.scalar(select(func.max(EodRun.business_date)))
    if last != business_date:
        raise EarlyWarningRefused(
            f"Signals for {business_date} need the books as its batch left them; the last closed "
            f"business date is {last or 'none'}", field="business_date")
    return session.scalar(select(func.max(EodRun.business_date)).where(EodRun.business_date < business_date))


def _not_signalled(kind: str, business_date: dt.date):
    return ~exists().where(WarningSignal.loan_number == LoanAccount.loan_number, WarningSignal.kind == kind,
                           WarningSignal.business_date == business_date)


def _dpd_crossings(session: Session, business_date: dt.date, kind: str, threshold: int, gap: int) -> list[dict]:
    # Crossed in the window: at least the threshold now, below it at the previous batch (a loan
    # overdue then was `gap` days fewer past due; one that became overdue since was at 0).
    dpd = LoanAccount.days_past_due
    query = (select(LoanAccount.loan_number, LoanAccount.branch, LoanAccount.customer_id, dpd,
                    LoanAccount.principal_outstanding, LoanAccount.classification, LoanAccount.product_code)
             .where(LoanAccount.status == "active", dpd >= threshold, dpd - gap < threshold,
                    _not_signalled(kind, business_date))
             .order_by(LoanAccount.id))
    return [_signal(row, kind, {"days_past_due": row.days_past_due, "threshold": threshold,
                                "overdue_since": (business_date - dt.timedelta(days=row.days_past_due)).isoformat(),
                                "principal_outstanding": str(row.principal_outstanding),
                                "classification": row.classification, "product_code": row.product_code})
            for row in session.execute(query)]


def _rank(code_column, prefix: str = "loans_"):
    return case({prefix + name: rank for name, rank in CLASS_RANK.items()}, value=code_column, else_=-1)


def _downgrades(session: Session, business_date: dt.date, previous: dt.date | None, gap: int) -> list[dict]:
    """The batch's reclassification posting of the date says each moved loan's old class (the
    credited loans_<class> account) and new one (the debited account)."""
    to_line, from_line = aliased(JournalLine), aliased(JournalLine)
    to_account, from_account = aliased(Account), aliased(Account)
    first_day_overdue = and_(from_account.code == "loans_normal", to_account.code == "loans_special_mention",
                             LoanAccount.days_past_due >= 1, LoanAccount.days_past_due <= gap)
    query = (select(LoanAccount.loan_number, LoanAccount.branch, LoanAccount.customer_id,
                    LoanAccount.days_past_due, LoanAccount.principal_outstanding, LoanAccount.product_code,
                    from_account.code.label("from_code"), to_account.code.label("to_code"))
             .select_from(JournalEntry)
             .join(to_line, and_(to_line.entry_id == JournalEntry.id, to_line.debit > 0, to_line.loan_id.is_not(None)))
             .join(to_account, to_account.id == to_line.account_id)
             .join(from_line, and_(from_line.entry_id == JournalEntry.id, from_line.credit > 0,
                                   from_line.loan_id == to_line.loan_id))
             .join(from_account, from_account.id == from_line.account_id)
             .join(LoanAccount, LoanAccount.id == to_line.loan_id)
             .where(JournalEntry.kind == "reclassification", JournalEntry.business_date == business_date,
                    _rank(to_account.code) > _rank(from_account.code), ~first_day_overdue,
                    _not_signalled("downgrade", business_date))
             .order_by(LoanAccount.id))
    return [_signal(row, "downgrade", {"from_class": row.from_code.removeprefix("loans_"),
                                       "to_class": row.to_code.removeprefix("loans_"),
                                       "days_past_due": row.days_past_due,
                                       "principal_outstanding": str(row.principal_outstanding),
                                       "product_code": row.product_code})
            for row in session.execute(query)]


def _risk_list_hits(session: Session, business_date: dt.date, previous: dt.date | None, gap: int) -> list[dict]:
    """Borrowers with an active loan put on a list in the window (China days); one signal per loan."""
    start, end = _window(business_date, gap)
    query = (select(LoanAccount.loan_number, LoanAccount.branch, LoanAccount.customer_id,
                    LoanAccount.days_past_due, LoanAccount.principal_outstanding, LoanAccount.product_code,
                    RiskListEntry.list_name, RiskListEntry.reason, RiskListEntry.added_at)
             .join(RiskListEntry, RiskListEntry.id_number_hash == LoanAccount.customer_id)
             .where(LoanAccount.status == "active", RiskListEntry.added_at >= start, RiskListEntry.added_at < end,
                    _not_signalled("risk_list", business_date))
             .order_by(LoanAccount.id, RiskListEntry.id))
    signals: dict[str, dict] = {}
    for row in session.execute(query):
        # A borrower put on two lists at once is one signal per loan, naming the worst list.
        kept = signals.get(row.loan_number)
        if kept is None or LIST_RANK.get(row.list_name, 0) > LIST_RANK.get(kept["facts"]["list"], 0):
            signals[row.loan_number] = _signal(row, "risk_list", {
                "list": row.list_name, "reason": redact_text(row.reason)[:300],
                "days_past_due": row.days_past_due, "principal_outstanding": str(row.principal_outstanding),
                "product_code": row.product_code})
    return list(signals.values())


def _limit_usage(session: Session, business_date: dt.date, gap: int, limits: BranchLimits) -> list[dict]:
    """Loans disbursed or drawn in the window whose borrower's outstanding at the branch now uses
    warn_at of a customer limit or more (scoring.limits.customer_limits_used), one signal per loan
    naming the most used limit. Three small queries: the window's new money (the journal's date
    index), then the outstanding of just those borrowers and of just those branches."""
    first = business_date - dt.timedelta(days=gap - 1)
    drawn = select(JournalEntry.loan_id).where(JournalEntry.business_date >= first,
                                               JournalEntry.business_date <= business_date,
                                               JournalEntry.kind.in_(("disbursement", "draw")))
    loans = session.execute(
        select(LoanAccount.loan_number, LoanAccount.branch, LoanAccount.customer_id, LoanAccount.days_past_due,
               LoanAccount.principal_outstanding, LoanAccount.product_code)
        .where(LoanAccount.id.in_(drawn), LoanAccount.status == "active", _not_signalled(LIMIT_USAGE, business_date))
        .order_by(LoanAccount.id)).all()
    if not loans:
        return []
    active = LoanAccount.status == "active"
    outstanding = {(branch, customer): total for branch, customer, total in session.execute(
        select(LoanAccount.branch, LoanAccount.customer_id, func.sum(LoanAccount.principal_outstanding))
        .where(active, LoanAccount.customer_id.in_({row.customer_id for row in loans}))
        .group_by(LoanAccount.branch, LoanAccount.customer_id))}
    books = dict(session.execute(
        select(LoanAccount.branch, func.sum(LoanAccount.principal_outstanding))
        .where(active, LoanAccount.branch.in_({row.branch for row in loans})).group_by(LoanAccount.branch)).all())
    configs: dict[str, Mapping | None] = {}
    signals = []
    for row in loans:
        if row.branch not in configs:
            configs[row.branch] = limits(row.branch)
        if configs[row.branch] is None:
            continue  # the branch's scope has no limits to use
        hits = customer_limits_used(configs[row.branch], customer=Decimal(outstanding[(row.branch, row.customer_id)]),
                                    book=Decimal(books[row.branch]))
        if hits:
            worst = hits[0]
            signals.append(_signal(row, LIMIT_USAGE, {
                "limit_id": worst.limit_id, "limit": str(worst.limit), "customer_outstanding": str(worst.usage),
                "usage_share": str((worst.usage / worst.limit).quantize(Decimal("0.0001"))) if worst.limit else "1",
                "over_limit": worst.severity == "block", "days_past_due": row.days_past_due,
                "principal_outstanding": str(row.principal_outstanding), "product_code": row.product_code}))
    return signals


def branch_limits(session: Session, layer: ProcessLayer) -> BranchLimits:
    """Each branch's resolved limits.json, parsed (None: the scope has none). A file the limits
    cannot be read from stops the night's signals with the branch and the reason named."""
    def config(branch: str) -> Mapping | None:
        found = layer.resolution.resolve(session, branch).get(LIMITS_FILE)
        if found is None:
            return None
        try:
            return parse_limits_config(found.content)
        except ScoringError as err:
            raise BranchLimitsFailed(f"{LIMITS_FILE} of branch {branch}: {err}", field=LIMITS_FILE) from None
    return config


def _window(business_date: dt.date, gap: int) -> tuple[dt.datetime, dt.datetime]:
    # UTC: SQLite keeps the entry's time as written (risk lists write UTC), PostgreSQL compares zones.
    end = dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(0), CHINA)
    return (end - dt.timedelta(days=gap)).astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def _signal(row, kind: str, facts: dict) -> dict:
    return {"loan_number": row.loan_number, "branch_code": row.branch, "customer_id": row.customer_id,
            "kind": kind, "facts": facts}


# ---------------------------------------------------------------------------- levels

def assign_levels(session: Session, tables: Callable[[str], DmnModel | None],
                  business_date: dt.date) -> dict[int, int]:
    """Each customer's level for the date, from the branch's warning_level.dmn (`tables`: branch
    → compiled table, see `branch_tables`), written on all their signals of the date. Returns the
    date's signals by level."""
    today = select(WarningSignal.customer_id).where(WarningSignal.business_date == business_date)
    kinds = dict(session.execute(
        select(WarningSignal.customer_id, func.count(func.distinct(WarningSignal.kind)))
        .where(WarningSignal.business_date == business_date).group_by(WarningSignal.customer_id)).all())
    overdue = dict(session.execute(
        select(LoanAccount.customer_id, func.count())
        .where(LoanAccount.status == "active", LoanAccount.days_past_due > 0,
               LoanAccount.customer_id.in_(today.distinct()))
        .group_by(LoanAccount.customer_id)).all())
    lists: dict[str, str] = {}
    for customer, list_name in session.execute(
            select(RiskListEntry.id_number_hash, RiskListEntry.list_name)
            .where(RiskListEntry.id_number_hash.in_(today.distinct()))):
        if LIST_RANK.get(list_name, 0) > LIST_RANK.get(lists.get(customer, ""), 0):
            lists[customer] = list_name
    groups = session.execute(
        select(WarningSignal.customer_id, WarningSignal.branch_code, func.min(WarningSignal.level),
               func.max(WarningSignal.level), func.count())
        .where(WarningSignal.business_date == business_date)
        .group_by(WarningSignal.customer_id, WarningSignal.branch_code)).all()
    decide = _LevelTables(tables)
    changes, by_level = [], Counter()
    for customer, branch, lowest, highest, count in groups:
        level = decide(branch, kinds.get(customer, 0), overdue.get(customer, 0), lists.get(customer, "none"))
        by_level[level] += count
        if lowest != level or highest != level:
            changes.append({"c": customer, "b": branch, "new_level": level})
    if changes:
        session.execute(
            update(WarningSignal.__table__)
            .where(WarningSignal.__table__.c.business_date == literal(business_date),
                   WarningSignal.__table__.c.customer_id == bindparam("c"),
                   WarningSignal.__table__.c.branch_code == bindparam("b"))
            .values(level=bindparam("new_level")),
            changes)
    return dict(by_level)


def branch_tables(session: Session, layer: ProcessLayer) -> Callable[[str], DmnModel | None]:
    """Each branch's resolved warning_level.dmn (None: the scope has none), compiled once."""
    def table(branch: str) -> DmnModel | None:
        found = layer.resolution.resolve(session, branch).get(LEVEL_FILE)
        return load_dmn(found.content) if found is not None else None
    return table


class _LevelTables:
    """The branch's level table, evaluated once per distinct input (a table is a pure function of
    its inputs, and a night has a few dozen distinct ones among tens of thousands of customers)."""

    def __init__(self, tables: Callable[[str], DmnModel | None]) -> None:
        self.tables_for = tables
        self.tables: dict[str, DmnModel | None] = {}
        self.memo: dict[tuple, int] = {}

    def __call__(self, branch: str, kinds: int, overdue_loans: int, risk_list: str) -> int:
        key = (branch, kinds, overdue_loans, risk_list)
        if key not in self.memo:
            self.memo[key] = self._evaluate(branch, kinds, overdue_loans, risk_list)
        return self.memo[key]

    def _evaluate(self, branch: str, kinds: int, overdue_loans: int, risk_list: str) -> int:
        if branch not in self.tables:
            try:
                self.tables[branch] = self.tables_for(branch)
            except ScoringError as err:
                raise WarningLevelFailed(f"{LEVEL_FILE} of branch {branch}: {err}", field=LEVEL_FILE) from None
        model = self.tables[branch]
        if model is None:
            return MIN_LEVEL  # a scope without the table: every signal is one signal
        try:
            outcome = model.evaluate(LEVEL_DECISION, {"kinds": kinds, "overdue_loans": overdue_loans,
                                                      "risk_list": risk_list}) or {}
        except ScoringError as err:
            raise WarningLevelFailed(f"{LEVEL_FILE} of branch {branch}: {err}", field=LEVEL_FILE) from None
        level = outcome.get("level")
        if not isinstance(level, (int, Decimal)) or not MIN_LEVEL <= level <= MAX_LEVEL or level != int(level):
            raise WarningLevelFailed(
                f"{LEVEL_FILE} of branch {branch} gave level {level!r} for kinds={kinds}, "
                f"overdue_loans={overdue_loans}, risk_list={risk_list}; a level is 1, 2 or 3", field=LEVEL_FILE)
        return int(level)


# ---------------------------------------------------------------------------- work orders

def start_work_orders(db: Database, layer: ProcessLayer, business_date: dt.date) -> tuple[tuple[str, ...], int, int]:
    """A work order for each of the date's signals that has none. Returns (instances started,
    signals attached to an open work order, signals whose start failed)."""
    with db.read_sessions() as session:
        pending = session.execute(
            select(WarningSignal.id, WarningSignal.loan_number, WarningSignal.kind)
            .where(WarningSignal.business_date == business_date, WarningSignal.work_order_id.is_(None))
            .order_by(WarningSignal.id)).all()
        open_orders = _open_work_orders(session, {row.loan_number for row in pending}) if pending else {}
    started, attached, failed = [], 0, 0
    for signal_id, loan_number, kind in pending:
        order = open_orders.get((loan_number, kind))
        try:
            with db.unit_of_work() as session:
                signal = session.scalar(select(WarningSignal).where(WarningSignal.id == signal_id).with_for_update())
                if signal.work_order_id is not None:  # another run got there first
                    continue
                if order is not None:
                    signal.work_order_id = order
                    attached += 1
                else:
                    instance = _begin(session, layer, signal)
                    if instance is None:
                        continue
                    signal.work_order_id = instance.id
                    started.append(instance.id)
                session.commit()
        except WorkflowError as err:
            # One loan's failure must not hold up the others; the signal keeps no work order, so the
            # next run of the date (or `loanflow tick` again) starts it.
            log.error("work order for %s %s not started: %s", loan_number, kind, redact_text(err.message))
            failed += 1
    return tuple(started), attached, failed


def _open_work_orders(session: Session, loan_numbers: set[str]) -> dict[tuple[str, str], str]:
    rows = session.execute(
        select(WarningSignal.loan_number, WarningSignal.kind, WarningSignal.work_order_id)
        .join(ProcessInstance, ProcessInstance.id == WarningSignal.work_order_id)
        .where(ProcessInstance.status != COMPLETED, WarningSignal.loan_number.in_(sorted(loan_numbers)))).all()
    return {(loan, kind): order for loan, kind, order in rows}


def _begin(session: Session, layer: ProcessLayer, signal: WarningSignal) -> ProcessInstance | None:
    files = layer.resolution.resolve(session, signal.branch_code)
    if EARLY_WARNING not in layer.runner.spec_cache.get(files).process_ids:
        return None  # the branch runs no early-warning process: the signal stays on record only
    application = session.scalar(select(Application).where(Application.loan_id == signal.loan_number))
    data = {"loan_id": signal.loan_number, "signal_id": signal.id, "kind": signal.kind, "level": signal.level,
            "business_date": signal.business_date.isoformat(), "facts": dict(signal.facts),
            "product_code": signal.facts.get("product_code", ""),
            "amount": Decimal(signal.facts.get("principal_outstanding") or "0"),
            "customer_name": application.customer_name if application else ""}
    return layer.begin(session, EARLY_WARNING, signal.branch_code, data, SYSTEM,
                       correlation={"loan_id": signal.loan_number, "signal_id": str(signal.id)})
