"""Repayment schedules (还款计划), pure functions: no database, no clock.

Conventions (documented in docs/ledger.md):
- Due dates are the start date plus n periods, clamped to the month's last day, computed from the
  start date each time (a loan on Jan 31 falls due Feb 28/29, Mar 31, Apr 30 … not Mar 28).
- 30/360: a whole scheduled period is months/12 of a year, so every month's interest is
  balance × rate / 12 whatever the calendar says. A broken period (revolving lines, regenerated
  schedules, payoff to date) uses the Chinese daily rate, annual rate / 360, on actual days.
- actual/365: actual days / 365. actual/actual: ISDA — days falling in a leap year / 366, the
  rest / 365.
- Equal installment (等额本息): the level payment for the periods' own rates (rate × day-count
  fraction; under 30/360 that is the annuity on rate × months / 12), rounded to the fen; each
  period's interest is computed on the remaining balance with the day count and rounded to the
  fen; principal = payment − interest. The last installment takes the whole remaining balance,
  so rounding residue lands there.
- Equal principal (等额本金): principal / n rounded to the fen, residue in the last installment.
- Bullet (利随本清): one installment at maturity, interest for the whole term.
- Interest only (按期付息到期还本): interest every period, principal at maturity.
- Revolving (随借随还): a preview of one draw of the whole line held to maturity, interest
  accrued daily on the drawn balance (actual days × daily rate) and settled each period,
  principal at maturity.
- Seasonal (按收获季节还本, farm loans): interest every period (monthly or quarterly) on the
  remaining balance; principal in equal parts (to the fen, residue last) on each due date that
  falls in one of the product's harvest months after the grace period (宽限期: no principal is due
  on or before start + grace months; interest is), and whatever remains at maturity.
"""
from __future__ import annotations

import re

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable, Sequence

from ledger.errors import InvalidInput
from ledger.money import ZERO, high_precision, parse_decimal, parse_money, to_fen

METHODS = ("equal_installment", "equal_principal", "bullet", "interest_only", "revolving", "seasonal")
DAY_COUNTS = ("30/360", "actual/365", "actual/actual")
FREQUENCIES = {"monthly": 1, "quarterly": 3}

# The legal ceiling on the annual rate. Chinese courts protect interest up to four times the
# one-year LPR (about 13–15 % in recent years); the historical 24 % line is kept as a generous
# configurable default. A bank that wants the 4×LPR line passes its own cap to `validate_terms`.
MAX_ANNUAL_RATE = Decimal("0.24")
# No single rural-credit loan comes near ten billion yuan; anything above is a typo.
MAX_PRINCIPAL = Decimal("10000000000.00")
MAX_TERM_MONTHS = 360


@dataclass(frozen=True)
class Installment:
    number: int
    period_start: date
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    remaining_balance: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "period_start": self.period_start.isoformat(),
            "due_date": self.due_date.isoformat(),
            "principal": str(self.principal),
            "interest": str(self.interest),
            "total": str(self.total),
            "remaining_balance": str(self.remaining_balance),
        }


@dataclass(frozen=True)
class Terms:
    """Validated loan terms."""

    principal: Decimal
    annual_rate: Decimal
    term_months: int
    method: str
    start_date: date
    day_count: str = "30/360"
    frequency: str = "monthly"
    harvest_months: tuple[int, ...] = ()  # seasonal only: the months principal is repaid in
    grace_months: int = 0                 # seasonal only: no principal due this long after the start

    @property
    def months_per_period(self) -> int:
        return FREQUENCIES[self.frequency]

    @property
    def periods(self) -> int:
        return self.term_months // self.months_per_period

    @property
    def maturity_date(self) -> date:
        return add_months(self.start_date, self.term_months)


@dataclass(frozen=True)
class Schedule:
    terms: Terms
    installments: tuple[Installment, ...]

    @property
    def total_principal(self) -> Decimal:
        return sum((i.principal for i in self.installments), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), ZERO)

    @property
    def total_payment(self) -> Decimal:
        return sum((i.total for i in self.installments), ZERO)

    def to_dict(self) -> dict[str, Any]:
        t = self.terms
        return {
            "principal": str(t.principal),
            "annual_rate": str(t.annual_rate),
            "term_months": t.term_months,
            "method": t.method,
            "start_date": t.start_date.isoformat(),
            "day_count": t.day_count,
            "frequency": t.frequency,
            **({"harvest_months": list(t.harvest_months), "grace_months": t.grace_months}
               if t.method == "seasonal" else {}),
            "installments": [i.to_dict() for i in self.installments],
            "totals": {
                "principal": str(self.total_principal),
                "interest": str(self.total_interest),
                "payment": str(self.total_payment),
            },
        }


# ---------------------------------------------------------------------------- validation

# Business dates outside these years are typos (and 9999-12-31 plus a term overflows the calendar).
EARLIEST_DATE, LATEST_DATE = date(1970, 1, 1), date(2199, 12, 31)
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_date(value: Any, field: str) -> date:
    parsed = None
    if isinstance(value, date):
        parsed = value
    elif isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise InvalidInput(field, f"{field} must be a date as YYYY-MM-DD, got {value!r}")
    if not EARLIEST_DATE <= parsed <= LATEST_DATE:
        raise InvalidInput(field, f"{field} must be between {EARLIEST_DATE} and {LATEST_DATE}")
    return parsed


def parse_rate(value: Any, field: str = "annual_rate", *, cap: Decimal = MAX_ANNUAL_RATE) -> Decimal:
    rate = parse_decimal(value, field)
    if rate < 0:
        raise InvalidInput(field, f"{field} must not be negative")
    if rate > cap:
        raise InvalidInput(field, f"{field} {rate} is above the legal cap {cap} (a fraction: 0.0435 is 4.35%)")
    return rate


def validate_terms(
    principal: Any,
    annual_rate: Any,
    term_months: Any,
    method: Any,
    start_date: Any,
    *,
    day_count: Any = "30/360",
    frequency: Any = "monthly",
    rate_cap: Decimal = MAX_ANNUAL_RATE,
    harvest_months: Any = None,
    grace_months: Any = 0,
) -> Terms:
    amount = parse_money(principal, "principal")
    if amount <= 0:
        raise InvalidInput("principal", "principal must be greater than zero")
    if amount > MAX_PRINCIPAL:
        raise InvalidInput("principal", f"principal must not exceed {MAX_PRINCIPAL}")
    rate = parse_rate(annual_rate, cap=rate_cap)
    term = _parse_term(term_months)
    if method not in METHODS:
        raise InvalidInput("method", f"method must be one of {', '.join(METHODS)}")
    if day_count not in DAY_COUNTS:
        raise InvalidInput("day_count", f"day_count must be one of {', '.join(DAY_COUNTS)}")
    if frequency not in FREQUENCIES:
        raise InvalidInput("frequency", f"frequency must be one of {', '.join(FREQUENCIES)}")
    if term % FREQUENCIES[frequency]:
        raise InvalidInput("term_months", f"term_months must be a whole number of {frequency} periods")
    start = parse_date(start_date, "start_date")
    terms = Terms(amount, rate, term, method, start, day_count, frequency)
    if method != "seasonal":
        if harvest_months or grace_months not in (0, None, "", "0"):
            raise InvalidInput("harvest_months", "harvest_months and grace_months are for the seasonal method only")
        return terms
    terms = replace(terms, harvest_months=parse_harvest_months(harvest_months),
                    grace_months=_parse_grace(grace_months, term))
    if not any(p.principal_due for p in schedule_periods(terms)[:-1]) and not _in_harvest(terms, terms.maturity_date):
        raise InvalidInput("harvest_months", f"no due date after the grace period falls in a harvest month "
                                             f"({', '.join(map(str, terms.harvest_months))}): the whole principal "
                                             f"would be due at maturity; use interest_only for that")
    return terms


def parse_harvest_months(value: Any) -> tuple[int, ...]:
    """`[7, 10]` or "7,10": months 1–12, each once, in calendar order."""
    items = value.split(",") if isinstance(value, str) else value
    if not items or not isinstance(items, (list, tuple)):
        raise InvalidInput("harvest_months", "harvest_months are required for the seasonal method, e.g. [7, 10]")
    months = []
    for item in items:
        text = str(item).strip()
        if isinstance(item, bool) or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 12:
            raise InvalidInput("harvest_months", f"harvest_months: {item!r} is not a month (1 to 12)")
        months.append(int(text))
    if len(set(months)) != len(months):
        raise InvalidInput("harvest_months", "harvest_months: each month once")
    return tuple(sorted(months))


def _parse_grace(value: Any, term: int) -> int:
    text = "0" if value in (None, "") else str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) >= term:
        raise InvalidInput("grace_months", f"grace_months must be a whole number of months from 0 to {term - 1}")
    return int(text)


def _in_harvest(terms: Terms, day: date) -> bool:
    return day.month in terms.harvest_months


def _parse_term(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidInput("term_months", "term_months must be a whole number of months")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise InvalidInput("term_months", "term_months must be a whole number of months")
    if not 1 <= value <= MAX_TERM_MONTHS:
        raise InvalidInput("term_months", f"term_months must be between 1 and {MAX_TERM_MONTHS}")
    return value


# ---------------------------------------------------------------------------- calendar

def add_months(start: date, months: int) -> date:
    """`start` plus whole months, clamped to the last day of the target month."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(start: date, term_months: int, months_per_period: int) -> list[date]:
    return [add_months(start, k) for k in range(months_per_period, term_months + 1, months_per_period)]


def year_fraction(start: date, end: date, day_count: str, *, whole_months: int | None = None) -> Decimal:
    """The fraction of a year between two dates under a day count.

    `whole_months` marks a full scheduled period: under 30/360 it counts as months/12 exactly.
    """
    days = (end - start).days
    if day_count == "30/360":
        if whole_months is not None:
            return Decimal(whole_months) / 12
        return Decimal(days) / 360
    if day_count == "actual/365":
        return Decimal(days) / 365
    if day_count == "actual/actual":
        fraction = Decimal(0)
        cursor = start
        while cursor < end:
            year_end = date(cursor.year + 1, 1, 1)
            stop = min(end, year_end)
            basis = 366 if calendar.isleap(cursor.year) else 365
            fraction += Decimal((stop - cursor).days) / basis
            cursor = stop
        return fraction
    raise InvalidInput("day_count", f"day_count must be one of {', '.join(DAY_COUNTS)}")


def daily_fraction(start: date, end: date, day_count: str) -> Decimal:
    """Year fraction for interest accrued day by day (no whole-month shortcut)."""
    return year_fraction(start, end, day_count)


def interest_for(balance: Decimal, annual_rate: Decimal, fraction: Decimal) -> Decimal:
    with high_precision():
        return to_fen(balance * annual_rate * fraction)


# ---------------------------------------------------------------------------- schedules

@dataclass(frozen=True)
class Period:
    start: date
    end: date
    whole_months: int | None  # None for a broken (partial) period
    principal_due: bool = True  # seasonal: whether principal is repaid on this period's due date


def mark_harvests(periods: Sequence[Period], start: date, harvest_months: Sequence[int],
                  grace_months: int) -> list[Period]:
    """The periods of a seasonal loan with principal due in the harvest months after the grace
    period, and on the last (maturity) whatever the month."""
    grace_end = add_months(start, grace_months)
    last = len(periods) - 1
    return [replace(p, principal_due=index == last or (p.end.month in harvest_months and p.end > grace_end))
            for index, p in enumerate(periods)]

def build_schedule(
    principal: Any,
    annual_rate: Any,
    term_months: Any,
    method: Any,
    start_date: Any,
    *,
    day_count: Any = "30/360",
    frequency: Any = "monthly",
    harvest_months: Any = None,
    grace_months: Any = 0,
) -> Schedule:
    terms = validate_terms(
        principal, annual_rate, term_months, method, start_date, day_count=day_count, frequency=frequency,
        harvest_months=harvest_months, grace_months=grace_months,
    )
    return schedule_for_terms(terms)


def schedule_periods(terms: Terms) -> list[Period]:
    step = terms.months_per_period
    if terms.method == "bullet":
        return [Period(terms.start_date, terms.maturity_date, terms.term_months)]
    ends = due_dates(terms.start_date, terms.term_months, step)
    starts = [terms.start_date, *ends[:-1]]
    periods = [Period(s, e, step) for s, e in zip(starts, ends)]
    if terms.method == "seasonal":
        periods = mark_harvests(periods, terms.start_date, terms.harvest_months, terms.grace_months)
    return periods


def schedule_for_terms(terms: Terms) -> Schedule:
    rows = amortize(terms.principal, terms.annual_rate, terms.method, schedule_periods(terms), terms.day_count,
                    terms.months_per_period)
    return Schedule(terms, tuple(rows))


def roll_due_dates(schedule: Schedule, roll: Callable[[date], date]) -> Schedule:
    """The schedule with each due date moved by `roll`: a product whose due dates fall on a holiday
    are due on the next working day (the calendar is the caller's: the ledger knows none). The
    amounts stay those of the contractual schedule (顺延: no interest for the extra days); the
    installment is due, and the next period begins, on the rolled day, so ageing and penalty
    interest count from it and a change effective on it starts a whole period."""
    installments = []
    starts = schedule.installments[0].period_start if schedule.installments else None
    for item in schedule.installments:
        moved = roll(item.due_date)
        if not isinstance(moved, date) or not item.due_date <= moved <= item.due_date + MAX_ROLL:
            raise InvalidInput("due_date", f"a due date may only move forward, by at most {MAX_ROLL.days} days: "
                                           f"{item.due_date.isoformat()} became {moved}")
        installments.append(replace(item, period_start=starts, due_date=moved))
        starts = moved
    return Schedule(schedule.terms, tuple(installments))


# The longest run of days off a State Council calendar has (Spring Festival with its weekends) is
# nine days; a month would be a broken roll function.
MAX_ROLL = timedelta(days=31)


def amortize(
    balance: Decimal,
    annual_rate: Decimal,
    method: str,
    periods: Sequence[Period],
    day_count: str,
    months_per_period: int,
    *,
    first_number: int = 1,
) -> list[Installment]:
    """Installments repaying `balance` over `periods`. Also used to regenerate the rest of a
    schedule after a prepayment or a change, where the first period may be a broken one."""
    n = len(periods)
    fractions = [
        daily_fraction(p.start, p.end, day_count) if method == "revolving"
        else year_fraction(p.start, p.end, day_count, whole_months=p.whole_months)
        for p in periods
    ]
    payment = None
    if method == "equal_installment":
        payment = level_payment(balance, annual_rate, fractions)
    level_principal = to_fen(balance / n) if method == "equal_principal" else None
    if method == "seasonal":  # equal parts over the due dates that repay principal
        level_principal = to_fen(balance / (sum(1 for p in periods[:-1] if p.principal_due) + 1))

    rows: list[Installment] = []
    remaining = balance
    for index, period in enumerate(periods):
        last = index == n - 1
        interest = interest_for(remaining, annual_rate, fractions[index])
        if last:
            principal = remaining
        elif method == "equal_installment":
            principal = min(max(payment - interest, ZERO), remaining)
        elif method == "equal_principal" or (method == "seasonal" and period.principal_due):
            principal = min(level_principal, remaining)
        else:  # bullet, interest_only, revolving, a seasonal loan's other months: principal at maturity
            principal = ZERO
        remaining -= principal
        rows.append(
            Installment(
                number=first_number + index,
                period_start=period.start,
                due_date=period.end,
                principal=principal,
                interest=interest,
                total=principal + interest,
                remaining_balance=remaining,
            )
        )
    return rows


def level_payment(balance: Decimal, annual_rate: Decimal, fractions: Sequence[Decimal]) -> Decimal:
    """The level payment that repays `balance` when period k earns annual_rate × fractions[k].

    With equal periods (30/360) this is the textbook annuity (PMT); with actual day counts each
    period's own rate is used, as progressive EMI calculators (e.g. Apache Fineract's) do, so the
    payment fits the interest actually charged and the last installment's residue stays small.
    """
    with high_precision():
        discount = Decimal(1)
        total = Decimal(0)
        for fraction in fractions:
            discount /= 1 + annual_rate * fraction
            total += discount
        return to_fen(balance / total)


def annuity_payment(balance: Decimal, annual_rate: Decimal, periods: int, months_per_period: int = 1) -> Decimal:
    """The level payment (PMT) repaying `balance` over `periods`, rounded to the fen."""
    with high_precision():
        rate = annual_rate * months_per_period / 12
        if rate == 0:
            return to_fen(balance / periods)
        growth = (1 + rate) ** periods
        return to_fen(balance * rate * growth / (growth - 1))
