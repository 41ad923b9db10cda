"""Exposure (敞口) kept as postings happen: outstanding principal per branch and limit dimension value.

A limit check needs the branch's book, the customer's outstanding and the outstanding of a few
dimension values (industry=agriculture, guarantee_method=credit&customer_type=individual_business).
Summing the book for that costs the size of the book; these rows cost the same at 1M loans as at
1,000. They are moved in the same transaction, by the same code, as the loan's own
principal_outstanding: `books.post_entry` calls `apply_principal_change` for every loan whose
principal an entry moves (disbursement, draw, repayment, write-off, reversal), so no writer of
principal can forget them.

What a loan counts under is its *tags*: the limit dimensions {name: value} its caller (the
disbursement handler, from the application) gives `open_loan`. The ledger treats them as opaque
labels. An untagged loan counts in nothing, as a loan without an application always has.

Rows of ledger_exposure, per branch:
    ("book", "")              every tagged loan
    ("customer", reference)   the loan's customer_id (a keyed hash of the ID number)
    (name, value)             one per tag with a value
    ("a+b", JSON of both)     one per pair of tags with values: a two-dimension limit (unsecured
                              business loans) reads one row too
    ("cell", canonical JSON)  the whole tag set: a limit on three or more dimensions adds up the
                              cells that match it (one row per combination in use, not per loan)

Additions are `INSERT … ON CONFLICT DO UPDATE SET amount_fen = amount_fen + excluded.amount_fen`
(SQLite and PostgreSQL alike), so two postings at once never lose an update and a first posting
under a new value cannot collide with another. Rows are touched in one sorted order so two
transactions cannot deadlock on them.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Iterable, Mapping, Sequence

from sqlalchemy import BigInteger, String, bindparam, delete, insert, select, text
from sqlalchemy.orm import Session

from ledger.errors import InvalidInput
from ledger.money import ZERO, to_fen
from ledger.tables import ExposureBalance, LoanAccount

BOOK, CUSTOMER, CELL = "book", "customer", "cell"
RESERVED = (BOOK, CUSTOMER, CELL)
_FEN_PER_YUAN = 100

_ADD = text(
    "INSERT INTO ledger_exposure (branch, dimension, value, amount_fen) "
    "VALUES (:branch, :dimension, :value, :amount_fen) "
    "ON CONFLICT (branch, dimension, value) "
    "DO UPDATE SET amount_fen = ledger_exposure.amount_fen + excluded.amount_fen"
).bindparams(bindparam("branch", type_=String), bindparam("dimension", type_=String),
             bindparam("value", type_=String), bindparam("amount_fen", type_=BigInteger))


def encode_tags(tags: Mapping[str, str | None]) -> str:
    """The canonical text of a tag set (sorted names, no spaces): equal sets give equal cells."""
    return json.dumps({name: tags[name] for name in sorted(tags)}, separators=(",", ":"), ensure_ascii=False)


def decode_tags(text_: str) -> dict[str, str | None]:
    return json.loads(text_)


def checked_tags(tags: Mapping[str, str | None]) -> dict[str, str | None]:
    """Tags as the ledger keeps them; every problem named at once."""
    problems = []
    for name, value in tags.items():
        if not isinstance(name, str) or not name or len(name) > 32 or name in RESERVED or "+" in name:
            problems.append(f"{name!r} is not a dimension name (1 to 32 characters without '+', "
                            f"not {', '.join(RESERVED)})")
        elif value is not None and (not isinstance(value, str) or len(value) > 200):
            problems.append(f"{name}: the value must be text of at most 200 characters")
    if problems:
        raise InvalidInput("exposure_tags", "; ".join(problems))
    return dict(tags)


def pair_key(values: Mapping[str, str]) -> tuple[str, str]:
    """The row of a two-dimension combination: ("guarantee_method+customer_type" sorted, its values as JSON)."""
    first, second = sorted(values)
    return f"{first}+{second}", encode_tags({first: values[first], second: values[second]})


def _rows(branch: str, customer: str, tags: Mapping[str, str | None]) -> list[tuple[str, str, str]]:
    rows = [(branch, BOOK, ""), (branch, CUSTOMER, customer), (branch, CELL, encode_tags(tags))]
    valued = {name: value for name, value in tags.items() if value is not None}
    rows += [(branch, name, value) for name, value in valued.items()]
    rows += [(branch, *pair_key({a: valued[a], b: valued[b]})) for a, b in itertools.combinations(sorted(valued), 2)]
    return sorted(rows)


def _add(session: Session, rows: Iterable[tuple[str, str, str]], amount_fen: int) -> None:
    params = [{"branch": b, "dimension": d, "value": v, "amount_fen": amount_fen} for b, d, v in rows]
    if params and amount_fen:
        session.execute(_ADD, params)


def _fen(amount: Decimal) -> int:
    return int(to_fen(amount) * _FEN_PER_YUAN)


def apply_principal_change(session: Session, loan: LoanAccount, delta: Decimal) -> None:
    """Move the loan's exposure rows by `delta` (its principal_outstanding moved by as much)."""
    if loan.exposure_tags is None or not delta:
        return
    _add(session, _rows(loan.branch, loan.customer_id, decode_tags(loan.exposure_tags)), _fen(delta))


def tag_loan(session: Session, loan: LoanAccount, tags: Mapping[str, str | None]) -> None:
    """Give the loan its tags. A loan already carrying principal moves it from the old tags' rows
    to the new ones, in this transaction, so the rows stay equal to the book."""
    encoded = encode_tags(checked_tags(tags))
    if loan.exposure_tags == encoded:
        return
    apply_principal_change(session, loan, -loan.principal_outstanding)
    loan.exposure_tags = encoded
    apply_principal_change(session, loan, loan.principal_outstanding)


@lru_cache(maxsize=64)
def _singles(count: int):
    """The rows of `count` (dimension, value) keys of one branch. Each OR term names the whole
    primary key, so SQLite (MULTI-INDEX OR) and PostgreSQL (BitmapOr) look each one up; a row-value
    IN would make SQLite scan the branch's rows, one per customer."""
    terms = " OR ".join(f"(branch = :branch AND dimension = :d{i} AND value = :v{i})" for i in range(count))
    return text(f"SELECT dimension, value, amount_fen FROM ledger_exposure WHERE {terms}")


# The branch's cells, by prefix of the primary key.
_CELLS = text("SELECT value, amount_fen FROM ledger_exposure WHERE branch = :branch AND dimension = 'cell'")


@lru_cache(maxsize=65536)
def _cell_items(value: str) -> frozenset:
    """A cell's tags as a set of (name, value) pairs; cells are few and their text never changes."""
    return frozenset(decode_tags(value).items())


@dataclass(frozen=True)
class ExposureFigures:
    """What a limit check reads: the book, the customer's outstanding, and one total per combination."""
    book: Decimal
    customer: Decimal
    totals: list[Decimal]  # in the order of the combinations asked for


def exposure_of(session: Session, *, branch: str, customer: str,
                combinations: Sequence[Mapping[str, str]]) -> ExposureFigures:
    """An indexed query for the book row, the customer row and a row per single-dimension
    combination, and (only when a combination has several dimensions) one for the branch's cells."""
    wanted = {(BOOK, ""), (CUSTOMER, customer)}
    wanted |= {_row_of(values) for values in combinations if len(values) <= 2}
    found: dict[tuple[str, str], int] = {}
    keys = sorted(wanted)
    params = {"branch": branch, **{f"d{i}": d for i, (d, _) in enumerate(keys)},
              **{f"v{i}": v for i, (_, v) in enumerate(keys)}}
    for dimension, value, fen in session.execute(_singles(len(keys)), params):
        found[(dimension, value)] = fen
    cells: list[tuple[tuple, int]] = []
    if any(len(values) > 2 for values in combinations):
        cells = [(_cell_items(value), fen) for value, fen in session.execute(_CELLS, {"branch": branch})]

    def total(values: Mapping[str, str]) -> int:
        if len(values) <= 2:
            return found.get(_row_of(values), 0)
        wanted_items = set(values.items())
        return sum(fen for items, fen in cells if wanted_items <= items)

    return ExposureFigures(book=_yuan(found.get((BOOK, ""), 0)), customer=_yuan(found.get((CUSTOMER, customer), 0)),
                           totals=[_yuan(total(values)) for values in combinations])


def _row_of(values: Mapping[str, str]) -> tuple[str, str]:
    return next(iter(values.items())) if len(values) == 1 else pair_key(values)


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / _FEN_PER_YUAN).quantize(ZERO)


def rebuild(session: Session) -> int:
    """Recompute every row from the loans' tags and principal (for a bulk-loaded book, or to
    repair): what the postings would have made. Returns the number of rows written."""
    totals: dict[tuple[str, str, str], int] = {}
    for branch, customer, tags, outstanding in session.execute(
            select(LoanAccount.branch, LoanAccount.customer_id, LoanAccount.exposure_tags,
                   LoanAccount.principal_outstanding).where(LoanAccount.exposure_tags.is_not(None))):
        for row in _rows(branch, customer, decode_tags(tags)):
            totals[row] = totals.get(row, 0) + _fen(outstanding)
    session.execute(delete(ExposureBalance))
    if totals:
        session.execute(insert(ExposureBalance), [
            {"branch": b, "dimension": d, "value": v, "amount_fen": fen} for (b, d, v), fen in totals.items()])
    return len(totals)
