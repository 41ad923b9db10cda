"""Money and rates: the one place where amounts are parsed and rounded.

Every amount in the ledger is a `Decimal` in yuan with two places (the fen). Rounding is
ROUND_HALF_UP (四舍五入), the convention of Chinese bank statements, and it happens only through
`to_fen` here (and, for set-based SQL, `sql_fen_ratio`), so a reader can audit it in one screen.
"""
from __future__ import annotations

import re

from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from ledger.errors import InvalidInput

FEN = Decimal("0.01")
ZERO = Decimal("0.00")

# Enough digits that annuity factors over 360 periods keep every fen exact before rounding.
_WORKING_PRECISION = 40


def to_fen(amount: Decimal) -> Decimal:
    """Round to the fen, half up. The only rounding of money in Python code."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def high_precision():
    """A Decimal context for intermediate (unrounded) arithmetic: `with high_precision(): ...`."""
    return localcontext(prec=_WORKING_PRECISION)


_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$")


def parse_decimal(value: Any, field: str) -> Decimal:
    """A Decimal from a Decimal, int or numeric string; floats are refused (they are not exact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(field, f"{field} must be a decimal string or Decimal, not a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        # ASCII digits only: Decimal() would also read full-width digits and "1_000".
        if not _PLAIN_NUMBER.match(value.strip()):
            raise InvalidInput(field, f"{field} is not a number written as digits: {value!r}")
        result = Decimal(value.strip())
    else:
        raise InvalidInput(field, f"{field} must be a decimal number")
    if not result.is_finite():
        raise InvalidInput(field, f"{field} must be a finite number")
    if result and not -12 <= result.adjusted() <= 15:
        raise InvalidInput(field, f"{field} is not a sensible figure: {value!r}")
    return result


def parse_money(value: Any, field: str) -> Decimal:
    """An amount in yuan with at most two decimal places (an amount below the fen is a typo)."""
    amount = parse_decimal(value, field)
    if amount != amount.quantize(FEN, rounding=ROUND_HALF_UP):
        raise InvalidInput(field, f"{field} has more than two decimal places")
    return amount.quantize(FEN)


def to_fen_integer(amount: Decimal) -> int:
    """An amount as an integer number of fen (used by set-based SQL, which works in fen)."""
    return int(to_fen(amount) * 100)


def sql_fen_ratio(numerator: str, denominator: str) -> str:
    """SQL for round_half_up(numerator / denominator) where both are non-negative integers.

    Set-based SQL cannot call `to_fen`, and SQLite stores NUMERIC as binary floating point, so the
    batch works in integer fen: (2n + d) / (2d) with integer division is n/d rounded half up, and
    integer arithmetic is exact and identical on SQLite and PostgreSQL.
    """
    return f"((({numerator}) * 2 + ({denominator})) / (({denominator}) * 2))"


def from_database(value: Any) -> Decimal:
    """An amount read back from SQL. SQLite keeps NUMERIC as binary floats and returns sums as
    float or int; the shortest repr of such a float is the intended fen amount."""
    if value is None:
        return ZERO
    if isinstance(value, float):
        value = repr(value)
    return to_fen(Decimal(value))
