"""Due timers fired by four worker processes at once on PostgreSQL: each fires exactly once."""
from __future__ import annotations

import pytest

from bench.timers import fire_with_workers, fired_once, seed_waiting_instances


def test_four_workers_fire_three_hundred_due_timers_each_exactly_once(database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer; claiming with FOR UPDATE SKIP LOCKED is PostgreSQL's")
    seed_waiting_instances(database_url, 300)
    _seconds, counts = fire_with_workers(database_url, 4)
    instances, fired, twice = fired_once(database_url)
    assert instances == 300 and sum(counts) == 300 and fired == 300 and twice == 0
