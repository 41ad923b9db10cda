"""The bank's time: business dates are the customers', in China, whatever zone the server runs in.

A leaf module, so the API's services can read the business date without importing the worker
(APScheduler and every job) on the request path.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")

# The worker's daily schedule, in China time. `workflows/worker.py` schedules it and
# `workflows/catch_up.py` (`loanflow tick`) replays it, so both read these two.
AUTO_DEBIT_AT = dt.time(0, 10)   # today's installments, just before yesterday is closed
END_OF_DAY_AT = dt.time(0, 30)   # yesterday's batch, then the after-EOD steps


def china_today() -> dt.date:
    # A UTC server is still on yesterday at 00:10 in China.
    return dt.datetime.now(CHINA).date()


def in_china(stored: dt.datetime) -> dt.datetime:
    """A stored moment (naive UTC, as every table holds them) as China time."""
    return stored.replace(tzinfo=dt.timezone.utc).astimezone(CHINA)


def to_stored(moment: dt.datetime) -> dt.datetime:
    """An aware moment as the tables store it: naive UTC."""
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
