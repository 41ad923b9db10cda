"""Drawdown decisions (用信) through the HTTP API, against a straight-through application in the same run.

    .venv/bin/python bench/drawdown.py [--lines N] [--drawdowns K] [--database URL ...]

For each database (a fresh SQLite file by default; each `--database postgresql+psycopg://.../postgres`
is a PostgreSQL server on which a database is created for the run and dropped afterwards; give
`--database sqlite --database postgresql+psycopg://...` for both), `loanflow serve --demo` is started
on it (bench/origination.py's server helper) and:
1. N applicants (bench/applicants.py: valid ID numbers, all auto-approved) are each granted a credit
   line through the API (POST /credit-lines, then the line contract's signature), untimed;
2. K drawdowns of 100 yuan are made on each line, one client, alternating with K straight-through
   applications (POST /applications + signature: the decision and the payout of a one-off loan) for
   other applicants of the same kind, so both see the same database at the same size;
3. prints p50/p95/p99 of a drawdown (one request: line checks, risk interception, limits, ledger
   loan and payout) and of a straight-through application (two requests), and the same-run ratio
   of the p99s (drawdown / application).
The figures are this machine's; the ratio is what compares across machines.
"""
from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.applicants import applications  # noqa: E402
from bench.databases import bench_database  # noqa: E402
from bench.origination import one_application, outcome, percentile, running_server  # noqa: E402

SIGNED_AT = "2026-11-22T10:00:00+08:00"


def grant_line(http, base: str, headers: dict, body: dict) -> str:
    r = http.post(f"{base}/credit-lines", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    application = r.json()
    assert r.status_code == 201 and application.get("status") == "awaiting_signature", outcome(r, application)
    signature = {"contract_number": application["contract"]["number"],
                 "content_hash": application["contract"]["content_hash"], "signed_at": SIGNED_AT,
                 "channel": "mobile_banking", "signature_reference": f"SIG-{uuid.uuid4().hex[:12]}"}
    s = http.post(f"{base}/applications/{application['id']}/signature", json=signature, headers=headers)
    assert s.status_code == 200 and s.json().get("status") == "line_active", outcome(s, s.json())
    return s.json()["credit_line_id"]


def one_drawdown(http, base: str, headers: dict, line_id: str) -> float:
    started = time.perf_counter()
    r = http.post(f"{base}/credit-lines/{line_id}/drawdowns", json={"amount": "100.00"},
                  headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    elapsed = time.perf_counter() - started
    assert r.status_code == 201, outcome(r, r.json())
    return elapsed


def run(database: str | None, lines: int, drawdowns: int) -> dict:
    import requests

    people = list(applications(lines + drawdowns * lines + 3))
    line_bodies, loan_bodies = people[:lines], people[lines:]
    with bench_database(None if database in (None, "sqlite") else database) as (url, kind, description):
        with running_server(url, "werkzeug", 1) as (_, base, token):
            headers = {"Authorization": f"Bearer {token}"}
            with requests.Session() as http:
                line_ids = [grant_line(http, base, headers, body) for body in line_bodies]
                one_drawdown(http, base, headers, line_ids[0])       # warm-up: the first of each kind
                one_application(http, base, headers, loan_bodies.pop())
                draws, loans = [], []
                for round_ in range(drawdowns):
                    for index, line_id in enumerate(line_ids):
                        draws.append(one_drawdown(http, base, headers, line_id))
                        submitted, signed = one_application(http, base, headers, loan_bodies[round_ * lines + index])
                        loans.append(submitted + signed)
    return {"description": description, "draws": draws, "loans": loans}


def report(result: dict) -> None:
    def figures(values):
        return "  ".join(f"p{p} {percentile(values, p) * 1000:7.1f} ms" for p in (50, 95, 99))

    print(result["description"])
    print(f"  drawdown decision   ({len(result['draws'])}): {figures(result['draws'])}")
    print(f"  straight-through    ({len(result['loans'])}): {figures(result['loans'])}")
    ratio = percentile(result["draws"], 99) / percentile(result["loans"], 99)
    print(f"  p99 ratio drawdown / straight-through application, same run: {ratio:.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=20, help="credit lines granted (default 20)")
    parser.add_argument("--drawdowns", type=int, default=5, help="drawdowns per line (default 5)")
    parser.add_argument("--database", action="append",
                        help="'sqlite' (the default) or a PostgreSQL server URL; repeat for several")
    args = parser.parse_args(argv)
    for database in args.database or ["sqlite"]:
        report(run(database, args.lines, args.drawdowns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
