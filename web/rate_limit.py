"""A request rate limit per integrator: at most N requests in any sliding minute, then a 429 with
Retry-After until the oldest of them is a minute old.

Counted in each web process: with several gunicorn workers an integrator gets N per worker. A
shared counter (Redis) would make it exact across processes and machines; the product runs
without one on a single machine, so the seam is this class (`allow`), not its storage.
"""
from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RateLimiter:
    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock  # a monotonic clock: tests move their own instead of sleeping
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()  # the threaded server answers requests side by side

    def allow(self, key: str) -> int | None:
        """None if `key` may make one more request now (and counts it), else whole seconds to wait."""
        now = self.clock()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - WINDOW_SECONDS:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return max(1, math.ceil(seen[0] + WINDOW_SECONDS - now))
            seen.append(now)
            return None
