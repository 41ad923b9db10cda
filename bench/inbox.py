"""The reviewers' inbox page with many open tasks in one branch.

    .venv/bin/python bench/inbox.py [--tasks 10000] [--requests 50]

On a fresh SQLite file with the demo data: one real application waiting for the customer
manager, then --tasks open tasks in BR001 copied from its task row (varied amounts, customers and
due times, inserted in bulk). Times, in process through the Flask app (server time, no network):
the inbox page (`GET /inbox`, first page of the unclaimed tab with every tab's count), the page
with a filter (customer name, amount range, sorted by amount), the htmx list part, and as the
baseline the API's `GET /api/v1/tasks` for the same user. Prints p50/p95 and each page's p50 as
a ratio to the baseline's. The goal (issue 9): the inbox page under 300 ms on the server.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1e3


def timed(client, path: str, headers: dict | None, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        samples.append(time.perf_counter() - started)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
    return samples


def main() -> None:
    from sqlalchemy import insert, select

    from tests.web.journeys import example
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import open_services
    from workflows.models import HumanTask

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="open tasks in BR001 (default 10000)")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per address (default 50)")
    args = parser.parse_args()
    print(f"cpu_count {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{Path(folder) / 'bench.sqlite3'}", data_key="00" * 32,
                            secret_key="bench-only-signing-key-0123456789abcdef", bpmn_dir=PROJECT_ROOT / "bpmn",
                            secure_cookies=False, integrator_requests_per_minute=10 ** 9)  # the server, not the limit
        services = open_services(settings)
        services.seed_demo()
        app = create_app(settings, services=services)
        client = app.test_client()
        integrator = client.post("/api/v1/auth/token", json={"username": "api-demo", "password": "demo"}).get_json()
        response = client.post("/api/v1/applications", json=example("application-review.json"),
                               headers={"Authorization": f"Bearer {integrator['token']}",
                                        "Idempotency-Key": str(uuid.uuid4())})
        assert response.status_code == 201, response.get_json()
        started = time.perf_counter()
        with services.db.unit_of_work() as session:
            model = session.scalar(select(HumanTask).where(HumanTask.status == "open"))
            now = dt.datetime.utcnow()
            template = {c.name: getattr(model, c.key) for c in HumanTask.__table__.columns}
            rows = [dict(template, id=str(uuid.uuid4()), amount=Decimal(10_000 + (i * 7919) % 990_000),
                         customer_name=f"客户{i:05d}", due_at=now + dt.timedelta(minutes=(i * 37) % 5000 - 1000),
                         created_at=now - dt.timedelta(seconds=i)) for i in range(args.tasks)]
            session.execute(insert(HumanTask), rows)
        print(f"inserted {args.tasks} open tasks in BR001 in {time.perf_counter() - started:.1f} s")

        api = client.post("/api/v1/auth/token", json={"username": "cm-BR001", "password": "demo"}).get_json()
        bearer = {"Authorization": f"Bearer {api['token']}"}
        login = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        assert client.post("/login", data={"username": "cm-BR001", "password": "demo", "csrf_token": csrf}).status_code == 302
        addresses = [
            ("GET /api/v1/tasks (baseline)", "/api/v1/tasks?per_page=20", bearer),
            ("GET /inbox", "/inbox", None),
            ("GET /inbox filtered", "/inbox?customer=客户01&min_amount=100000&max_amount=800000&sort=amount_desc", None),
            ("GET /inbox/list (htmx poll)", "/inbox/list?tab=unclaimed", None),
        ]
        for _, path, headers in addresses:  # warm the caches (specs, users) before timing
            timed(client, path, headers, 3)
        results = [(name, percentiles(timed(client, path, headers, args.requests))) for name, path, headers in addresses]
        services.db.dispose()
    baseline = results[0][1][0]
    for name, (p50, p95) in results:
        print(f"{name:<32} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ratio to baseline p50 {p50 / baseline:5.2f}")
    print(f"goal: the inbox page under 300 ms on the server -> p50 {results[1][1][0]:.1f} ms")


if __name__ == "__main__":
    main()
