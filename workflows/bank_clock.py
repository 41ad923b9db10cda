"""The bank's clock as the API sees it: the wall clock, unless business dates were closed ahead of it.

`loanflow tick --at T` runs the nights up to T on T's clock and closes their business dates. The
web process has no idea a tick happened, so on the wall clock alone it would date a repayment or a
task before the books' last closed date and start SLA timers that the next tick finds long overdue.
So the API never reads earlier than the last night the books closed: the morning after the last
closed business date (its batch runs at 00:30 China time), and "today" is that business day.

In production the nightly batch closes yesterday, so the floor is today's 00:30 and the wall clock
is always later: this only moves anything after a tick into the future (demos, tests, an operator
catching up). The floor is read from the books on each call — one indexed MAX — so an API process
follows a tick run by another process at once, not after some cache expires.
"""
from __future__ import annotations

import datetime as dt
from typing import Callable

from ledger.service import last_closed_date
from workflows.clock import CHINA, END_OF_DAY_AT, china_today
from workflows.db import Database
from workflows.models import utcnow


class BankClock:
    def __init__(self, db: Database, *, wall: Callable[[], dt.datetime] = utcnow,
                 wall_today: Callable[[], dt.date] = china_today) -> None:
        self.db = db
        self.wall = wall
        self.wall_today = wall_today

    def _first_open_date(self) -> dt.date | None:
        # A read-only session: on SQLite a plain BEGIN, so it never waits on the writer lock the
        # request calling us may be holding.
        with self.db.read_sessions() as session:
            closed = last_closed_date(session.connection())
        return closed + dt.timedelta(days=1) if closed else None

    def now(self) -> dt.datetime:
        """Naive UTC, as the models store it."""
        wall = self.wall()
        open_date = self._first_open_date()
        if open_date is None:
            return wall
        batch = dt.datetime.combine(open_date, END_OF_DAY_AT, CHINA).astimezone(dt.timezone.utc).replace(tzinfo=None)
        return max(wall, batch)

    def today(self) -> dt.date:
        """The business day value dates default to and may not pass (China)."""
        wall = self.wall_today()
        open_date = self._first_open_date()
        return max(wall, open_date) if open_date else wall
