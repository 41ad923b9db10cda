"""Due-timer firing with several workers: `python bench/timers.py [--timers N] [--database URL]`.

Starts N instances of a one-timer process (bench/timer_probe.bpmn), all due at the same moment,
then fires them with 1 worker process and, on a fresh copy of the same book, with 4, each worker
running `workflows.timer_jobs.fire_due_timers` as the worker's job does. Prints the time, the rate
(timers/s), each worker's share, and the ratio 4 workers / 1 worker; checks each timer fired once.

    python bench/timers.py --timers 10000 --database postgresql://127.0.0.1/postgres

SQLite (the default) has one writer, so 4 workers there measure the queueing; PostgreSQL claims
rows with FOR UPDATE SKIP LOCKED and is the scale-out case. Each run uses a fresh database that is
dropped afterwards (bench/databases.py).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROBE = ROOT / "bench" / "timer_probe.bpmn"
DUE = dt.datetime(2027, 3, 1, 1, 0, tzinfo=dt.timezone.utc)  # the probe's '2027-03-01T09:00:00' China time
BENCH_KEY = "62656e6368206b6579206f6e6c793a206c6f616e666c6f772062656e63682121"


def services_for(url: str):
    from web.config import Settings
    from web.services import build_services

    settings = Settings(database_url=url, secret_key="bench-signing-key-0123456789abcdef0123",
                        bpmn_dir=ROOT / "bpmn", data_key=os.environ.get("LOANFLOW_DATA_KEY") or BENCH_KEY)
    return build_services(settings)


def seed_waiting_instances(url: str, count: int, batch: int = 250) -> None:
    """The schema, the demo data, the probe deployed for HQ, and `count` instances waiting for it."""
    from workflows.deployments import deploy
    from workflows.schema import upgrade
    from workflows.processes import SYSTEM

    services = services_for(url)
    try:
        upgrade(services.db.engine)
        services.seed_demo()
        with services.db.unit_of_work() as session:
            deploy(session, "HQ", {PROBE.name: PROBE.read_text()}, actor="bench", comment="timer probe",
                   operations=services.operations, forms=services.forms)
        for start in range(0, count, batch):
            with services.db.unit_of_work() as session:
                for n in range(start, min(count, start + batch)):
                    services.processes.begin(session, "timer_probe", "BR001", {"probe": n}, SYSTEM)
    finally:
        services.db.dispose()


def fire(url: str) -> int:
    """One worker: fire everything due, as the worker's job does; returns how many it fired."""
    from workflows.timer_jobs import fire_due_timers

    services = services_for(url)
    try:
        total = 0
        while True:
            fired = fire_due_timers(services.db, services.processes, at=DUE + dt.timedelta(minutes=1), limit=500)
            total += len(fired)
            if not fired:
                return total
    finally:
        services.db.dispose()


def fire_with_workers(url: str, workers: int) -> tuple[float, list[int]]:
    """`workers` OS processes firing at once; (seconds, timers each fired)."""
    env = {**os.environ, "LOANFLOW_DATA_KEY": os.environ.get("LOANFLOW_DATA_KEY") or BENCH_KEY}
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, str(Path(__file__)), "fire", "--database", url],
                              stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT) for _ in range(workers)]
    counts = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed with exit status {proc.returncode}")
        counts.append(json.loads(out.strip().splitlines()[-1])["fired"])
    return time.perf_counter() - started, counts


def fired_once(url: str) -> tuple[int, int, int]:
    """(instances, timers fired, instances whose timer fired more than once) from the database."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        instances = conn.execute(sa.text("SELECT COUNT(*) FROM process_instance WHERE process_id = 'timer_probe'")).scalar()
        fired = conn.execute(sa.text("SELECT COUNT(*) FROM audit_event WHERE event = 'timer_fired'")).scalar()
        twice = conn.execute(sa.text("SELECT COUNT(*) FROM (SELECT instance_id FROM audit_event WHERE event = "
                                     "'timer_fired' GROUP BY instance_id HAVING COUNT(*) > 1) t")).scalar()
    engine.dispose()
    return instances, fired, twice


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=("run", "fire"))
    parser.add_argument("--timers", type=int, default=2000)
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite in a temporary file)")
    args = parser.parse_args()
    if args.command == "fire":
        print(json.dumps({"fired": fire(args.database)}))
        return
    from bench.databases import bench_database

    results = {}
    for workers in (1, 4):
        with bench_database(args.database) as (url, _kind, description):
            seed_started = time.perf_counter()
            seed_waiting_instances(url, args.timers)
            seeded = time.perf_counter() - seed_started
            seconds, counts = fire_with_workers(url, workers)
            instances, fired, twice = fired_once(url)
        results[workers] = seconds
        print(f"{description}: {instances} instances seeded in {seeded:.1f} s; {workers} worker(s) fired "
              f"{sum(counts)} timers in {seconds:.2f} s = {sum(counts) / seconds:,.0f} timers/s "
              f"(per worker: {counts}); fired once each: {fired == instances and twice == 0}")
    print(f"ratio 4 workers / 1 worker (throughput): {results[1] / results[4]:.2f}")


if __name__ == "__main__":
    main()
