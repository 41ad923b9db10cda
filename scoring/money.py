"""The one place where rounding happens.

Money is Decimal yuan to the fen (0.01), rates are Decimal annual fractions to 6 places
(0.043500 = 4.35 %), scores are Decimal to 2 places. Credit lines are granted in whole hundreds of
yuan, always rounded *down* so a line never exceeds what the tables allow.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from scoring.errors import ScoringError

FEN = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")
SCORE_PLACES = Decimal("0.01")
LINE_UNIT = Decimal("100")
ZERO = Decimal("0")


def yuan(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def annual_rate(rate: Decimal) -> Decimal:
    return rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def score(value: Decimal) -> Decimal:
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def credit_line(amount: Decimal) -> Decimal:
    if amount <= 0:
        return ZERO.quantize(FEN)
    return ((amount / LINE_UNIT).to_integral_value(rounding=ROUND_DOWN) * LINE_UNIT).quantize(FEN)


def to_decimal(value, *, field: str, error: type[ScoringError] = ScoringError,
               allow_float: bool = False) -> Decimal:
    """Decimal from Decimal, int or a numeric string.

    Floats are refused for money (they have already lost the fen); measures such as land in mu may
    allow them, converted through their shortest repr so 2.3 stays 2.3.
    """
    if type(value) is Decimal:
        return value
    if type(value) is int:
        return Decimal(value)
    if type(value) is float and allow_float:
        return to_decimal(repr(value), field=field, error=error)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise error(f"not a number: {value!r}", field=field) from None
        if not result.is_finite():
            raise error(f"not a finite number: {value!r}", field=field)
        return result
    raise error(f"expected a decimal number, got {type(value).__name__}", field=field)


def refuse_json_constant(name: str):
    """json.loads calls this for NaN, Infinity and -Infinity: no rating file may hold them."""
    raise ValueError(f"{name} is not a number a rating file may hold")
