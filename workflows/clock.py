"""The bank's time: business dates are the customers', in China, whatever zone the server runs in.

A leaf module, so the API's services can read the business date without importing the worker
(APScheduler and every job) on the request path.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_today() -> dt.date:
    # A UTC server is still on yesterday at 00:10 in China.
    return dt.datetime.now(CHINA).date()
