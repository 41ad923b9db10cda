"""Credit-bureau client over HTTP: timeouts, retries with backoff, a circuit breaker, a daily cache.

    client = BureauClient("http://bureau.internal")
    report = client.report("330102199001011234")     # BureauReport
    facts["bureau"] = report.as_facts()             # what check_risk reads

- Every request has a connect and a read timeout.
- Connection errors, timeouts, 5xx and 429 are retried up to `max_attempts` times, with exponential
  backoff (base * 2**n, capped) and jitter so that many workers do not retry in step.
- After `failure_threshold` consecutive failed attempts the breaker opens: calls fail at once with
  BureauUnavailable for `reset_after` seconds, then one trial call decides whether it closes again.
- Reports are cached per applicant per day (the bureau bills per inquiry and counts our inquiries
  against the customer). The cache is per process and only an optimisation: never authoritative.
- When the retries are spent, BureauUnavailable is raised. There is never a silent default report.
"""
from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable

import requests

from scoring import money
from scoring.errors import BureauError, BureauRejected, BureauUnavailable

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# The bureau's day, and the customer's, is China's: a UTC server would roll the cache over at 08:00.
CHINA = timezone(timedelta(hours=8))  # no daylight saving in China


def china_today() -> date:
    return datetime.now(CHINA).date()


@dataclass(frozen=True)
class BureauReport:
    id_number: str
    report_date: date
    has_record: bool
    inquiries_3m: int
    lender_count: int
    overdue_accounts: int
    overdue_amount: Decimal
    outstanding_debt: Decimal

    def as_facts(self) -> dict[str, Any]:
        return {"has_record": self.has_record, "inquiries_3m": self.inquiries_3m,
                "lender_count": self.lender_count, "overdue_accounts": self.overdue_accounts,
                "overdue_amount": self.overdue_amount, "outstanding_debt": self.outstanding_debt,
                "report_date": self.report_date.isoformat()}

    @classmethod
    def no_record(cls, id_number: str, today: date) -> "BureauReport":
        # A person without a bureau file is a real answer (thin file), not an outage.
        return cls(id_number, today, False, 0, 0, 0, Decimal("0.00"), Decimal("0.00"))

    @classmethod
    def from_json(cls, body: dict[str, Any], today: date) -> "BureauReport":
        try:
            return cls(
                id_number=str(body["id_number"]),
                report_date=date.fromisoformat(body.get("report_date") or today.isoformat()),
                has_record=bool(body.get("has_record", True)),
                inquiries_3m=int(body["inquiries_3m"]),
                lender_count=int(body["lender_count"]),
                overdue_accounts=int(body.get("overdue_accounts", 0)),
                overdue_amount=money.yuan(money.to_decimal(str(body.get("overdue_amount", "0")),
                                                           field="overdue_amount", error=BureauError)),
                outstanding_debt=money.yuan(money.to_decimal(str(body.get("outstanding_debt", "0")),
                                                             field="outstanding_debt", error=BureauError)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BureauError(f"the bureau sent a malformed report: {error!r}", field="bureau") from None


class CircuitBreaker:
    """closed -> (threshold consecutive failures) -> open -> (reset_after) -> half-open -> one trial."""

    def __init__(self, failure_threshold: int = 5, reset_after: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            return self._state()

    def _state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.reset_after else "open"

    def allow(self) -> bool:
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half_open" and not self._trial_running:
                self._trial_running = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial_running = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._trial_running = False


class BureauClient:
    def __init__(self, base_url: str, *, http: requests.Session | None = None,
                 connect_timeout: float = 2.0, read_timeout: float = 5.0, max_attempts: int = 3,
                 backoff_base: float = 0.2, backoff_cap: float = 2.0,
                 breaker: CircuitBreaker | None = None, cache_size: int = 10_000,
                 today: Callable[[], date] = china_today, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = http or requests.Session()
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.breaker = breaker or CircuitBreaker()
        self._today = today
        self._sleep = sleep
        self._cache: OrderedDict[tuple[str, date], BureauReport] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    def report(self, id_number: str) -> BureauReport:
        today = self._today()
        key = (id_number, today)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        report = self._fetch(id_number, today)
        with self._cache_lock:
            self._cache[key] = report
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return report

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        return delay / 2 + random.uniform(0, delay / 2)

    def _fetch(self, id_number: str, today: date) -> BureauReport:
        last_problem = "no attempt made"
        for attempt in range(self.max_attempts):
            if not self.breaker.allow():
                raise BureauUnavailable(f"credit bureau circuit is open after repeated failures "
                                        f"({last_problem})", field="bureau")
            try:
                # The ID number goes in the body: a URL lands in proxies' and servers' access logs.
                response = self.http.post(f"{self.base_url}/v1/reports/query", json={"id_number": id_number},
                                          timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as error:
                last_problem = f"{type(error).__name__}"
                self.breaker.record_failure()
            else:
                if response.status_code == 200:
                    self.breaker.record_success()
                    return BureauReport.from_json(response.json(), today)
                if response.status_code == 404:
                    self.breaker.record_success()
                    return BureauReport.no_record(id_number, today)
                if response.status_code not in _RETRYABLE_STATUS:
                    self.breaker.record_success()  # the bureau is up; the request is wrong
                    raise BureauRejected(f"credit bureau refused the request: HTTP {response.status_code} "
                                         f"{response.text[:200]}", field="id_number")
                last_problem = f"HTTP {response.status_code}"
                self.breaker.record_failure()
            if attempt + 1 < self.max_attempts:
                self._sleep(self._backoff(attempt))
        raise BureauUnavailable(f"credit bureau unavailable after {self.max_attempts} attempts "
                                f"({last_problem})", field="bureau")
