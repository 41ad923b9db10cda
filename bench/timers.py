"""Due-timer firing with several workers: `python bench/timers.py [--timers N] [--database URL]`.

Seeds N instances of a one-timer process (bench/timer_probe.bpmn), all due at the same moment,
once; then, each time on a fresh copy of that book, fires them with 1 worker process and with 4,
each worker running `workflows.timer_jobs.fire_due_timers` as the worker's job does, and then the
baseline (bench/baselines/timer_claim.py: the same claim and an update of the instance, one
transaction per timer, no engine) with 1 and 4. Workers are timed from a common start once all
have started (imports and services not counted). Prints the time, the rate (timers/s), each
worker's share, the ratios 4 workers / 1 worker and engine / baseline; checks each timer fired once.

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
        return _fire_all(services, fire_due_timers)
    finally:
        services.db.dispose()


def _fire_all(services, fire_due) -> int:
    total = 0
    while True:
        fired = fire_due(services.db, services.processes, at=DUE + dt.timedelta(minutes=1), limit=500)
        total += len(fired)
        if not fired:
            return total


def worker(url: str, kind: str) -> None:
    """A worker process: get ready (imports, services, connection), say so, wait for 'go' on
    stdin so every worker starts at once, fire, and print what it fired and how long it took."""
    from sqlalchemy import text

    from bench.baselines.timer_claim import claim_bare
    from workflows.timer_jobs import fire_due_timers

    services = services_for(url)
    try:
        with services.db.unit_of_work() as session:  # connect before the clock starts
            session.execute(text("SELECT 1"))
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.perf_counter()
        fired = _fire_all(services, fire_due_timers if kind == "engine" else claim_bare)
        print(json.dumps({"fired": fired, "seconds": time.perf_counter() - started}), flush=True)
    finally:
        services.db.dispose()


def fire_with_workers(url: str, workers: int, kind: str = "engine") -> tuple[float, list[int]]:
    """`workers` OS processes firing at once, timed from the moment all are ready (start-up, i.e.
    imports and services, is not counted); (seconds, timers each fired). `kind`: "engine" fires
    with `fire_due_timers`, "bare" is the baseline `bench.baselines.timer_claim.claim_bare`."""
    env = {**os.environ, "LOANFLOW_DATA_KEY": os.environ.get("LOANFLOW_DATA_KEY") or BENCH_KEY}
    procs = [subprocess.Popen([sys.executable, str(Path(__file__)), "worker", "--kind", kind, "--database", url],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
             for _ in range(workers)]
    try:
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"a worker failed to start (exit status {proc.wait()})")
        started = time.perf_counter()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        counts = []
        for proc in procs:
            out, _ = proc.communicate(timeout=3600)
            if proc.returncode != 0:
                raise SystemExit(f"a worker failed with exit status {proc.returncode}")
            counts.append(json.loads(out.strip().splitlines()[-1])["fired"])
        return time.perf_counter() - started, counts
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()


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


def claimed_once(url: str) -> bool:
    """The baseline's check: every probe's timer row claimed, and no instance left running."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT COUNT(*) FROM due_timer WHERE fired_at IS NULL")).scalar()
        running = conn.execute(sa.text("SELECT COUNT(*) FROM process_instance WHERE process_id = 'timer_probe' "
                                       "AND status <> 'completed'")).scalar()
    engine.dispose()
    return left == 0 and running == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="run", choices=("run", "fire", "worker"))
    parser.add_argument("--timers", type=int, default=2000)
    parser.add_argument("--database", help="a PostgreSQL server URL (default: SQLite in a temporary file)")
    parser.add_argument("--kind", default="engine", choices=("engine", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "fire":
        print(json.dumps({"fired": fire(args.database)}))
        return
    if args.command == "worker":
        worker(args.database, args.kind)
        return
    from bench.databases import bench_database, copy_of

    print(f"cpu_count {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rates: dict[tuple[str, int], float] = {}
    with bench_database(args.database) as (book, _kind, description):
        seed_started = time.perf_counter()
        seed_waiting_instances(book, args.timers)
        print(f"{description}: {args.timers} instances waiting for one timer each, seeded in "
              f"{time.perf_counter() - seed_started:.1f} s; each run below fires a fresh copy of them")
        for kind in ("engine", "bare"):
            for workers in (1, 4):
                with copy_of(book) as url:
                    seconds, counts = fire_with_workers(url, workers, kind)
                    if kind == "engine":
                        instances, fired, twice = fired_once(url)
                        once = fired == instances == sum(counts) and twice == 0
                    else:
                        once = claimed_once(url) and sum(counts) == args.timers
                rates[kind, workers] = sum(counts) / seconds
                label = "fire_due_timers" if kind == "engine" else "baseline (bare claim + instance update)"
                shares = ", ".join(f"{c / max(sum(counts), 1):.0%}" for c in counts)
                print(f"{label}, {workers} worker(s): {sum(counts)} timers in {seconds:.2f} s = "
                      f"{rates[kind, workers]:,.0f} timers/s; per worker {counts} ({shares}); "
                      f"each exactly once: {once}")
    print(f"ratio 4 workers / 1 worker (throughput): fire_due_timers {rates['engine', 4] / rates['engine', 1]:.2f}, "
          f"baseline {rates['bare', 4] / rates['bare', 1]:.2f}")
    print(f"fire_due_timers / baseline (throughput): 1 worker {rates['engine', 1] / rates['bare', 1]:.2f}, "
          f"4 workers {rates['engine', 4] / rates['bare', 4]:.2f}")
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
