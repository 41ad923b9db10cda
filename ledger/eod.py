"""End-of-day batch (日终批处理): accrual, penalty interest, aging and five-level classification.

Set-based: each step is one INSERT … SELECT or UPDATE … FROM over all loans, never a Python loop
over ORM objects, so a million loans cost a handful of statements. The arithmetic is integer fen
(see `ledger.money.sql_fen_ratio`) so SQLite, which keeps NUMERIC as binary floats, and
PostgreSQL give the same fen.

Postings are summarised per branch: one entry per branch and step, with one loan-tagged line per
loan on the receivable side (the loan's subsidiary ledger) and one branch total on the income side.

Business dates close in order: the batch records each date it closes in `ledger_eod_run`, and a
date at or before the last closed one is refused (`BusinessDateClosed`, nothing posted). Running
a day again would accrue, age and reclassify from today's balances and flip the later days' work
back; a correction is a new posting, not a re-run. A later date after a gap is fine: accrual
catches up the missed days. The caller owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.accrual import sql_accrued_fen
from ledger.classification_review import hold_moves_for_review
from ledger.errors import BusinessDateClosed, InvalidInput
from ledger.money import sql_fen_ratio
from ledger.schedules import parse_date
from ledger.tables import EodRun, EodWork


@dataclass(frozen=True)
class ClassificationPolicy:
    """Upper DPD bound of each of the first four classes; beyond `doubtful_max` a loan is loss.

    Defaults follow the common rural-credit mapping of the five-level rules (逾期天数):
    0 normal, 1–90 special mention, 91–180 substandard, 181–360 doubtful, over 360 loss.
    """

    normal_max: int = 0
    special_mention_max: int = 90
    substandard_max: int = 180
    doubtful_max: int = 360
    # Maker-checker: a downgrade to 次级 or worse, and every upgrade, becomes a proposal for review
    # (ledger.classification_review) instead of a posting. Off for the ledger on its own.
    review: bool = False

    def classify(self, days_past_due: int) -> str:
        if days_past_due <= self.normal_max:
            return "normal"
        if days_past_due <= self.special_mention_max:
            return "special_mention"
        if days_past_due <= self.substandard_max:
            return "substandard"
        if days_past_due <= self.doubtful_max:
            return "doubtful"
        return "loss"


DEFAULT_POLICY = ClassificationPolicy()


@dataclass(frozen=True)
class EodResult:
    business_date: date
    accrual_lines: int = 0
    penalty_lines: int = 0
    reclassified: int = 0
    journal_lines: int = 0
    proposed: int = 0          # moves held for review (a reviewing policy only)

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.__dict__.items()}


def _fen(column: str) -> str:
    return f"CAST(ROUND(({column}) * 100) AS BIGINT)"


def run_eod(
    connection_or_session: Connection | Session,
    business_date: Any,
    *,
    policy: ClassificationPolicy = DEFAULT_POLICY,
) -> EodResult:
    """Run the end-of-day batch for `business_date` (a date or YYYY-MM-DD). Never commits."""
    when = parse_date(business_date, "business_date")
    session = connection_or_session if isinstance(connection_or_session, Session) else None
    conn = session.connection() if session is not None else connection_or_session
    if session is not None:
        session.flush()

    if conn.dialect.name == "postgresql":
        # One batch at a time, from the check of the last closed date on: two batches would both
        # pass the check, and the scratch table is shared (SQLite writers serialize anyway).
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7270301)")
    _claim(conn, when)
    if conn.dialect.name == "sqlite":
        # The default 2 MB page cache thrashes on a million-row update; this connection may use
        # 512 MB while the batch runs.
        conn.exec_driver_sql("PRAGMA cache_size = -524288")

    day = when.toordinal()
    prefix = f"eod:{when.isoformat()}:"
    # "tally" collects the number of journal lines written (statements ignore unused keys).
    params = {"d": day, "bd": when, "prefix": prefix, "tally": []}
    conn.execute(delete(EodWork))

    accrual = _accrue_interest(conn, params)
    _find_overdue(conn, params)
    penalty = _accrue_penalty(conn, params)
    _age(conn, params)
    reclassified, proposed = _classify(conn, params, policy)

    conn.execute(delete(EodWork))
    conn.execute(
        EodRun.__table__.update()
        .where(EodRun.business_date == when)
        .values(accrual_lines=accrual, penalty_lines=penalty, reclassified=reclassified)
    )
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size = -2000")  # back to SQLite's default for this connection
    if session is not None:
        session.expire_all()  # the batch changed loan rows behind the identity map
    return EodResult(when, accrual, penalty, reclassified, sum(params["tally"]), proposed)


def last_closed_date(conn: Connection) -> date | None:
    return conn.execute(select(func.max(EodRun.business_date))).scalar()


def _claim(conn: Connection, when: date) -> None:
    """Record `when` as closed, or raise BusinessDateClosed if it is at or before the last one."""
    last = last_closed_date(conn)
    if last is not None and when <= last:
        raise BusinessDateClosed(when, last)
    try:
        with conn.begin_nested():
            conn.execute(insert(EodRun).values(business_date=when, accrual_lines=0, penalty_lines=0, reclassified=0))
    except IntegrityError:
        # Another batch closed this very date after our check (the locks above should make this
        # impossible; the primary key makes it certain).
        raise BusinessDateClosed(when, last_closed_date(conn) or when) from None


def _refresh_statistics(conn: Connection) -> None:
    # PostgreSQL plans the joins on the scratch table from its statistics, which say "empty"
    # until analysed: a million rows planned as a handful makes nested loops.
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ANALYZE ledger_eod_work")


# ---------------------------------------------------------------------------- accrual

def _accrue_interest(conn: Connection, params: dict) -> int:
    """Accrue each open period's interest linearly over its days, cumulatively: today's amount is
    the interest due through today minus the interest due through the loan's watermark, so
    rounding never drifts and missed days are caught up. Only loan rows are written."""
    amount_fen = _fen("i.accrual_amount")
    today = sql_accrued_fen(amount_fen, ":d", "i.accrual_from_day", "i.due_day")
    before = sql_accrued_fen(amount_fen, "l.accrued_through_day", "i.accrual_from_day", "i.due_day")
    conn.execute(
        text(
            f"""
            INSERT INTO ledger_eod_work (kind, loan_id, branch, installment_id, amount_fen)
            SELECT 'accrual', x.loan_id, x.branch, x.id, x.today_fen - x.before_fen
            FROM (
                SELECT i.id, i.loan_id, l.branch, {today} AS today_fen, {before} AS before_fen
                FROM ledger_loan_installment i
                CROSS JOIN ledger_loan_account l
                WHERE i.accrual_open = TRUE AND i.accrual_from_day < :d AND i.due_day > i.accrual_from_day
                  AND l.id = i.loan_id AND l.status = 'active' AND l.accrued_through_day < :d
            ) x
            WHERE x.today_fen > x.before_fen
            ORDER BY x.loan_id
            """
        ),
        params,
    )
    _refresh_statistics(conn)
    count = _post_branch_entries(conn, params, "accrual", "interest_receivable", "interest_income",
                                 "end-of-day interest accrual")
    # The watermark moves with the posting. A loan whose day rounded to nothing keeps its old
    # watermark, which is just as true: the interest through it equals the interest through today.
    conn.execute(
        text(
            """
            UPDATE ledger_loan_account
            SET interest_receivable = interest_receivable + s.fen * 0.01, accrued_through_day = :d
            FROM (SELECT loan_id, SUM(amount_fen) AS fen FROM ledger_eod_work WHERE kind = 'accrual' GROUP BY loan_id) s
            WHERE s.loan_id = ledger_loan_account.id
            """
        ),
        params,
    )
    # A period fully accrued leaves the accrual index; index-driven, only rows due by today.
    conn.execute(
        text(
            """
            UPDATE ledger_loan_installment SET accrual_open = FALSE
            WHERE accrual_open = TRUE AND accrual_from_day < :d AND due_day <= :d
              AND EXISTS (SELECT 1 FROM ledger_loan_account l
                          WHERE l.id = ledger_loan_installment.loan_id AND l.status = 'active')
            """
        ),
        params,
    )
    return count


def _find_overdue(conn: Connection, params: dict) -> None:
    """One pass over the unpaid past-due installments: oldest due date (aging) and overdue
    principal × penalty rate / 360 for today, rounded to the fen per day (罚息, 日利率)."""
    micro_rate = "CAST(ROUND(l.penalty_rate * 1000000) AS BIGINT)"
    penalty = sql_fen_ratio(f"o.overdue_fen * {micro_rate}", "360000000")
    # MATERIALIZED: filter by the (settled, due_day) index first; left to itself SQLite walks the
    # whole table in loan order to save a sort.
    conn.execute(
        text(
            f"""
            WITH past_due AS MATERIALIZED (
                SELECT loan_id, due_day, {_fen('principal - principal_paid')} AS principal_fen
                FROM ledger_loan_installment
                WHERE settled = FALSE AND due_day < :d
            ),
            o AS (
                SELECT loan_id, MIN(due_day) AS oldest_due_day, CAST(SUM(principal_fen) AS BIGINT) AS overdue_fen
                FROM past_due GROUP BY loan_id
            )
            INSERT INTO ledger_eod_work (kind, loan_id, branch, amount_fen, days_past_due)
            SELECT 'overdue', l.id, l.branch, {penalty}, :d - o.oldest_due_day
            FROM o CROSS JOIN ledger_loan_account l
            WHERE l.id = o.loan_id AND l.status = 'active'
            """
        ),
        params,
    )


def _accrue_penalty(conn: Connection, params: dict) -> int:
    _refresh_statistics(conn)
    count = _post_branch_entries(conn, params, "overdue", "penalty_receivable", "penalty_income",
                                 "end-of-day penalty interest on overdue principal", entry_kind="penalty")
    _add_to_loan_balance(conn, "overdue", "penalty_receivable")
    return count


def _post_branch_entries(conn: Connection, params: dict, kind: str, debit_code: str, credit_code: str,
                         description: str, *, entry_kind: str | None = None) -> int:
    """One entry per branch: a loan-tagged debit line per loan, one total credit line, from the
    work rows of `kind` with a positive amount."""
    params = {**params, "entry_kind": entry_kind or kind}
    conn.execute(
        text(
            """
            INSERT INTO ledger_journal_entry (branch, posting_key, business_date, kind, description)
            SELECT branch, :prefix || :entry_kind || ':' || branch, :bd, :entry_kind, :description
            FROM ledger_eod_work WHERE kind = :kind AND amount_fen > 0 GROUP BY branch
            """
        ),
        {**params, "kind": kind, "description": description},
    )
    inserted = conn.execute(
        text(
            """
            INSERT INTO ledger_journal_line (entry_id, account_id, loan_id, debit, credit)
            SELECT e.id, a.id, w.loan_id, w.amount_fen * 0.01, 0
            FROM ledger_eod_work w
            JOIN ledger_journal_entry e ON e.posting_key = :prefix || :entry_kind || ':' || w.branch
            JOIN ledger_account a ON a.branch = w.branch AND a.code = :debit_code
            WHERE w.kind = :kind AND w.amount_fen > 0
            """
        ),
        {**params, "kind": kind, "debit_code": debit_code},
    ).rowcount
    totals = conn.execute(
        text(
            """
            INSERT INTO ledger_journal_line (entry_id, account_id, loan_id, debit, credit)
            SELECT e.id, a.id, NULL, 0, SUM(w.amount_fen) * 0.01
            FROM ledger_eod_work w
            JOIN ledger_journal_entry e ON e.posting_key = :prefix || :entry_kind || ':' || w.branch
            JOIN ledger_account a ON a.branch = w.branch AND a.code = :credit_code
            WHERE w.kind = :kind AND w.amount_fen > 0
            GROUP BY e.id, a.id
            """
        ),
        {**params, "kind": kind, "credit_code": credit_code},
    ).rowcount
    params["tally"].append(inserted + totals)
    return inserted


def _add_to_loan_balance(conn: Connection, kind: str, column: str) -> None:
    conn.execute(
        text(
            f"""
            UPDATE ledger_loan_account
            SET {column} = {column} + s.fen * 0.01
            FROM (SELECT loan_id, SUM(amount_fen) AS fen FROM ledger_eod_work
                  WHERE kind = :kind AND amount_fen > 0 GROUP BY loan_id) s
            WHERE s.loan_id = ledger_loan_account.id
            """
        ),
        {"kind": kind},
    )


# ---------------------------------------------------------------------------- aging

def _age(conn: Connection, params: dict) -> None:
    """Days past due = days since the oldest unpaid due date (0 when nothing is past due)."""
    conn.execute(
        text(
            """
            UPDATE ledger_loan_account SET days_past_due = w.days_past_due
            FROM ledger_eod_work w
            WHERE w.kind = 'overdue' AND w.loan_id = ledger_loan_account.id
              AND ledger_loan_account.days_past_due <> w.days_past_due
            """
        )
    )
    conn.execute(
        text(
            """
            UPDATE ledger_loan_account SET days_past_due = 0
            WHERE status = 'active' AND days_past_due <> 0
              AND id NOT IN (SELECT loan_id FROM ledger_eod_work WHERE kind = 'overdue')
            """
        )
    )


# ---------------------------------------------------------------------------- classification

def classification_sql(policy: ClassificationPolicy) -> str:
    return (
        "COALESCE(classification_override, CASE"
        f" WHEN days_past_due <= {int(policy.normal_max)} THEN 'normal'"
        f" WHEN days_past_due <= {int(policy.special_mention_max)} THEN 'special_mention'"
        f" WHEN days_past_due <= {int(policy.substandard_max)} THEN 'substandard'"
        f" WHEN days_past_due <= {int(policy.doubtful_max)} THEN 'doubtful'"
        " ELSE 'loss' END)"
    )


def _classify(conn: Connection, params: dict, policy: ClassificationPolicy) -> tuple[int, int]:
    """Five-level classification from DPD (or the approver's override), with a reclassification
    posting moving the principal between the loans-receivable accounts. Returns the loans moved
    and (a reviewing policy) the moves held as proposals."""
    bounds = (policy.normal_max, policy.special_mention_max, policy.substandard_max, policy.doubtful_max)
    if list(bounds) != sorted(bounds) or min(bounds) < 0:
        raise InvalidInput("policy", "classification thresholds must be non-negative and increasing")
    conn.execute(
        text(
            f"""
            INSERT INTO ledger_eod_work (kind, loan_id, branch, amount_fen, old_class, new_class, days_past_due)
            SELECT 'reclass', id, branch, {_fen('principal_outstanding')}, classification, target, days_past_due
            FROM (SELECT id, branch, principal_outstanding, classification, days_past_due,
                         {classification_sql(policy)} AS target
                  FROM ledger_loan_account WHERE status = 'active') x
            WHERE target <> classification
            """
        )
    )
    proposed = hold_moves_for_review(conn, params) if policy.review else 0
    moved = text(
        """
        INSERT INTO ledger_journal_line (entry_id, account_id, loan_id, debit, credit)
        SELECT e.id, a.id, w.loan_id, {debit}, {credit}
        FROM ledger_eod_work w
        JOIN ledger_journal_entry e ON e.posting_key = :prefix || 'reclassification:' || w.branch
        JOIN ledger_account a ON a.branch = w.branch AND a.code = 'loans_' || w.{side}
        WHERE w.kind = 'reclass' AND w.amount_fen > 0
        """
    )
    conn.execute(
        text(
            """
            INSERT INTO ledger_journal_entry (branch, posting_key, business_date, kind, description)
            SELECT branch, :prefix || 'reclassification:' || branch, :bd, 'reclassification',
                   'end-of-day five-level reclassification'
            FROM ledger_eod_work WHERE kind = 'reclass' AND amount_fen > 0 GROUP BY branch
            """
        ),
        params,
    )
    for debit, credit, side in (("w.amount_fen * 0.01", "0", "new_class"), ("0", "w.amount_fen * 0.01", "old_class")):
        sql = text(moved.text.format(debit=debit, credit=credit, side=side))
        params["tally"].append(conn.execute(sql, params).rowcount)
    moved_loans = conn.execute(
        text(
            """
            UPDATE ledger_loan_account SET classification = w.new_class
            FROM ledger_eod_work w
            WHERE w.kind = 'reclass' AND w.loan_id = ledger_loan_account.id
            """
        )
    ).rowcount
    return moved_loans, proposed
