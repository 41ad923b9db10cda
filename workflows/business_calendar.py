"""The bank's working days and hours: the State Council's holidays and swapped working weekends (调休).

A year's calendar is data HQ maintains (`business_calendar` rows; `GET/PUT /api/v1/calendar/{year}`;
the demo seeds bpmn/calendar/<year>.json). Its document, validated by `check_calendar` as hostile
input (every bad field named at once):

    {"year": 2026, "provisional": false, "source": "国务院办公厅关于2026年部分节假日安排的通知",
     "holidays": [{"name": "国庆节", "first": "2026-10-01", "last": "2026-10-07"}, ...],
     "working_weekends": [{"date": "2026-09-20", "name": "国庆节调休上班"}, ...]}

A day is a working day when it is a working weekend of its year, or else a Monday to Friday that
is no holiday. Every date belongs to its own year's calendar (a holiday across New Year is two
entries, one in each year). A year without a calendar counts Monday to Friday as working days
(weekends only): the bank keeps working when HQ is late with next year's file, and
`BusinessCalendar.knows(year)` / the API say which years are only that.

Working hours are 08:30–17:30 China time on working days (nine hours, no lunch break counted).
`add_working_days` keeps the time of day; both adders first move a moment outside working time
to the next opening (08:30 of the next working day, or of the same day before 08:30).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.clock import CHINA
from workflows.errors import InvalidInput

OPENS, CLOSES = dt.time(8, 30), dt.time(17, 30)
HOURS_PER_DAY = 9
SHIPPED = Path(__file__).resolve().parents[1] / "bpmn" / "calendar"

# Bounds on what a calendar and a working-time timer may say, so nothing walks days for ever.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
MAX_HOLIDAY_DAYS = 31
MAX_ENTRIES = 60
MAX_NAME, MAX_SOURCE = 40, 500
MAX_WORKING_DAYS, MAX_WORKING_HOURS = 3_650, 32_850


@dataclass(frozen=True)
class YearCalendar:
    year: int
    holidays: frozenset[dt.date]
    working_weekends: frozenset[dt.date]
    provisional: bool = False

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "YearCalendar":
        """From a document `check_calendar` has accepted."""
        days = set()
        for holiday in document["holidays"]:
            first, last = dt.date.fromisoformat(holiday["first"]), dt.date.fromisoformat(holiday["last"])
            days.update(first + dt.timedelta(days=k) for k in range((last - first).days + 1))
        weekends = frozenset(dt.date.fromisoformat(w["date"]) for w in document["working_weekends"])
        return cls(int(document["year"]), frozenset(days), weekends, bool(document["provisional"]))


class BusinessCalendar:
    """Working days and working time over the years it knows; Monday to Friday elsewhere."""

    def __init__(self, years: Mapping[int, YearCalendar] | None = None) -> None:
        self.years = dict(years or {})

    def knows(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        year = self.years.get(day.year)
        if year is not None:
            if day in year.working_weekends:
                return True
            if day in year.holidays:
                return False
        return day.weekday() < 5

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def roll_forward(self, day: dt.date) -> dt.date:
        """`day` if it is a working day, else the next one (a due date on a holiday)."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same time of day `days` working days after `moment` (aware UTC; naive means UTC)."""
        start = self._into_working_time(moment)
        day = start.date()
        for _ in range(days):
            day = self.next_working_day(day)
        return dt.datetime.combine(day, start.timetz()).astimezone(dt.timezone.utc)

    def add_working_hours(self, moment: dt.datetime, hours: int | Decimal) -> dt.datetime:
        """`moment` plus `hours` of working time (aware UTC; naive means UTC)."""
        cursor = self._into_working_time(moment)
        left = dt.timedelta(hours=float(hours))
        while True:
            closing = dt.datetime.combine(cursor.date(), CLOSES, CHINA)
            if left <= closing - cursor:
                return (cursor + left).astimezone(dt.timezone.utc)
            left -= closing - cursor
            cursor = dt.datetime.combine(self.next_working_day(cursor.date()), OPENS, CHINA)

    def _into_working_time(self, moment: dt.datetime) -> dt.datetime:
        """`moment` in China time, moved to the next opening if it is outside working time."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        local = moment.astimezone(CHINA)
        day = local.date()
        if self.is_working_day(day) and local.time() < CLOSES:
            return max(local, dt.datetime.combine(day, OPENS, CHINA))
        return dt.datetime.combine(self.next_working_day(day), OPENS, CHINA)


WEEKENDS_ONLY = BusinessCalendar()

# The calendar of the unit of work advancing an instance (InstanceRunner.advance sets it), read by
# working-time timers. Loaded on first use only, so a step without one costs no statement.
_in_use: ContextVar[Callable[[], BusinessCalendar]] = ContextVar("business_calendar")


@contextmanager
def calendar_from(load: Callable[[], BusinessCalendar]) -> Iterator[None]:
    """Working-time timers in this block read the calendar `load` gives (called once, when first
    needed): `calendar_from(lambda: load_calendar(session))` in a unit of work."""
    loaded: list[BusinessCalendar] = []

    def once() -> BusinessCalendar:
        if not loaded:
            loaded.append(load())
        return loaded[0]

    token = _in_use.set(once)
    try:
        yield
    finally:
        _in_use.reset(token)


def calendar_in_use() -> BusinessCalendar:
    """The step's calendar; outside a step (a deployment's checks) Monday to Friday."""
    return _in_use.get(lambda: WEEKENDS_ONLY)()


# -- stored years ------------------------------------------------------------------------------------
def load_calendar(session: Session) -> BusinessCalendar:
    """Every year HQ has stored (a handful of small rows)."""
    from workflows.models import BusinessCalendarYear

    rows = session.scalars(select(BusinessCalendarYear)).all()
    return BusinessCalendar({row.year: YearCalendar.from_document(row.content) for row in rows})


def read_year(session: Session, year: int) -> dict:
    """A year's calendar as HQ stored it, with who stored it; NotFound if none."""
    from workflows.errors import NotFound
    from workflows.models import BusinessCalendarYear

    row = session.get(BusinessCalendarYear, year)
    if row is None:
        raise NotFound(f"No business calendar for {year}: its dates count Monday to Friday as working days "
                       f"until head office stores one", field="year")
    return {**row.content, "updated_by": row.updated_by, "updated_at": row.updated_at.isoformat() + "Z"}


def replace_year(session: Session, year: int, document: Any, user, *, now: dt.datetime) -> dict:
    """Replace a year's calendar with `document` (checked first; refused naming every bad field).
    Only head office keeps the calendar: it is the whole bank's."""
    from workflows.errors import Forbidden
    from workflows.models import HQ, AuditEvent, BusinessCalendarYear

    if user.branch_code != HQ:
        raise Forbidden("Only head office keeps the business calendar")
    actor = user.username
    content = check_calendar(document, year=year)
    row = session.get(BusinessCalendarYear, year)
    if row is None:
        row = BusinessCalendarYear(year=year)
        session.add(row)
    row.content, row.updated_by, row.updated_at = content, actor, now
    session.add(AuditEvent(application_id=None, actor=actor, event="business_calendar_replaced",
                           detail={"year": year, "holidays": len(content["holidays"]),
                                   "working_weekends": len(content["working_weekends"]),
                                   "provisional": content["provisional"]}, at=now))
    session.flush()
    return read_year(session, year)


def shipped_calendar(folder: Path = SHIPPED) -> BusinessCalendar:
    """The calendars the project ships (bpmn/calendar/<year>.json), checked."""
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
    return BusinessCalendar({int(d["year"]): YearCalendar.from_document(check_calendar(d, year=int(d["year"])))
                             for d in documents})


def seed_calendars(session: Session, folder: Path = SHIPPED) -> None:
    """The demo's calendars (bpmn/calendar/<year>.json) for the years not stored yet."""
    from workflows.models import BusinessCalendarYear, utcnow

    for path in sorted(folder.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        year = int(document.get("year", 0))
        if session.get(BusinessCalendarYear, year) is None:
            session.add(BusinessCalendarYear(year=year, content=check_calendar(document, year=year),
                                             updated_by="seed", updated_at=utcnow()))
    session.flush()


# -- checking a document -------------------------------------------------------------------------------
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TOP = {"year", "provisional", "source", "holidays", "working_weekends"}
_READ_ONLY = {"updated_by", "updated_at"}  # what GET adds: a year read can be put back as it is


def check_calendar(document: Any, *, year: int) -> dict:
    """The document, normalised, if it is a valid calendar of `year`; else InvalidInput naming
    every bad field (`holidays[2].last`, `working_weekends[0].date`, ...) at once."""
    problems: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if not isinstance(document, dict):
        raise InvalidInput("A calendar is a JSON object with year, provisional, source, holidays and "
                           "working_weekends", fields={"calendar": ["must be a JSON object"]})
    for key in sorted(set(document) - _TOP - _READ_ONLY, key=str)[:10]:
        bad(str(key)[:60], "is not a field of a calendar (year, provisional, source, holidays, working_weekends)")
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        bad("year", f"must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    given = document.get("year")
    if not _is_whole(given):
        bad("year", "is required, a whole number")
    elif int(given) != year:
        bad("year", f"says {int(given)} but the calendar is stored as {year}")
    provisional = document.get("provisional", False)
    if not isinstance(provisional, bool):
        bad("provisional", "must be true or false")
    source = document.get("source", "")
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        bad("source", f"must be text of at most {MAX_SOURCE} characters")

    holidays = _entries(document, "holidays", bad)
    taken: dict[dt.date, str] = {}
    for index, entry in enumerate(holidays):
        at = f"holidays[{index}]"
        if not _known_keys(entry, {"name", "first", "last"}, at, bad):
            continue
        _name(entry.get("name"), f"{at}.name", bad)
        first = _date(entry.get("first"), f"{at}.first", year, bad)
        last = _date(entry.get("last"), f"{at}.last", year, bad)
        if first and last:
            if last < first:
                bad(f"{at}.last", f"is before first ({first.isoformat()})")
            elif (last - first).days + 1 > MAX_HOLIDAY_DAYS:
                bad(f"{at}.last", f"a holiday lasts at most {MAX_HOLIDAY_DAYS} days")
            else:
                for k in range((last - first).days + 1):
                    day = first + dt.timedelta(days=k)
                    if day in taken:
                        bad(f"{at}.first", f"overlaps {taken[day]} on {day.isoformat()}")
                        break
                    taken[day] = str(entry.get("name"))[:MAX_NAME]

    weekends = _entries(document, "working_weekends", bad)
    seen: set[dt.date] = set()
    for index, entry in enumerate(weekends):
        at = f"working_weekends[{index}]"
        if not _known_keys(entry, {"date", "name"}, at, bad):
            continue
        _name(entry.get("name"), f"{at}.name", bad)
        day = _date(entry.get("date"), f"{at}.date", year, bad)
        if day is None:
            continue
        if day.weekday() < 5:
            bad(f"{at}.date", f"{day.isoformat()} is a weekday: only a Saturday or Sunday can be a working weekend")
        elif day in taken:
            bad(f"{at}.date", f"{day.isoformat()} is also a holiday ({taken[day]})")
        elif day in seen:
            bad(f"{at}.date", f"{day.isoformat()} is listed twice")
        seen.add(day)

    if problems:
        summary = "; ".join(f"{field}: {messages[0]}" for field, messages in list(problems.items())[:5])
        raise InvalidInput(f"The calendar of {year} is refused: {summary}", code="calendar_invalid", fields=problems)
    return {"year": year, "provisional": provisional, "source": source,
            "holidays": [{"name": h["name"], "first": h["first"], "last": h["last"]} for h in holidays],
            "working_weekends": [{"date": w["date"], "name": w["name"]} for w in weekends]}


def _is_whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value() \
        and abs(value) < 10_000


def _entries(document: dict, field: str, bad) -> list:
    value = document.get(field)
    if not isinstance(value, list):
        bad(field, "is required, a list (it may be empty)")
        return []
    if len(value) > MAX_ENTRIES:
        bad(field, f"at most {MAX_ENTRIES} entries")
        return []
    return value


def _known_keys(entry: Any, keys: set[str], at: str, bad) -> bool:
    if not isinstance(entry, dict):
        bad(at, f"must be an object with {', '.join(sorted(keys))}")
        return False
    for key in sorted(set(entry) - keys, key=str)[:5]:
        bad(f"{at}.{str(key)[:60]}", f"is not a field here ({', '.join(sorted(keys))})")
    return True


def _name(value: Any, field: str, bad) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        bad(field, f"is required, text of 1 to {MAX_NAME} characters")


def _date(value: Any, field: str, year: int, bad) -> dt.date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        bad(field, "must be a date written YYYY-MM-DD")
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        bad(field, f"{value} is not a date of the calendar")
        return None
    if day.year != year:
        bad(field, f"{value} is not in {year} (each date belongs to its own year's calendar)")
        return None
    return day
