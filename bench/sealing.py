"""What sealing personal data costs a request: AES-GCM seal and open of the columns one
origination request writes and reads, at their real sizes.

    .venv/bin/python bench/sealing.py [--applications N]

Submits N applications (the review example, which stops at the first review task, and the auto
example, which goes on to signing) through the app on a fresh SQLite file, reads the sealed
columns' stored sizes with raw SQL, then times seal + open of values of those sizes and prints
the cost per request beside the request's own latency.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEALED = {"application": ("id_number", "payload", "summary"), "process_instance": ("state",),
          "human_task": ("context",), "idempotent_request": ("response",)}


def main() -> None:
    import sqlalchemy as sa

    from privacy import Keyring
    from tests.web.journeys import example
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import open_services

    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=40)
    args = parser.parse_args()
    key = "00" * 32
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{Path(folder) / 'bench.sqlite3'}", data_key=key,
                            secret_key="bench-only-signing-key-0123456789abcdef",
                            bpmn_dir=PROJECT_ROOT / "bpmn", integrator_requests_per_minute=10 ** 9)
        services = open_services(settings)
        services.seed_demo()
        client = create_app(settings, services=services).test_client()
        token = client.post("/api/v1/auth/token", json={"username": "api-demo", "password": "demo"}).get_json()["token"]
        latencies = []
        for index in range(args.applications):
            body = example("application-auto.json" if index % 2 else "application-review.json")
            started = time.perf_counter()
            response = client.post("/api/v1/applications", json=body,
                                   headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 201, response.get_json()
        with services.db.engine.connect() as connection:
            sizes = [len(value) for table, columns in SEALED.items() for column in columns
                     for (value,) in connection.execute(sa.text(f"SELECT {column} FROM {table}")) if value]
        services.db.dispose()
    keyring = Keyring.from_setting(key)
    per_request_values = len(sizes) / args.applications
    samples = ["x" * (size * 3 // 4) for size in sizes]  # the clear text is about 3/4 of its base64
    rounds = 20
    started = time.perf_counter()
    for _ in range(rounds):
        for text in samples:
            keyring.open(keyring.seal(text))
    crypto = (time.perf_counter() - started) / rounds / args.applications
    started = time.perf_counter()
    for _ in range(10000):
        keyring.lookup_hash("370724197806151049")
    hashing = (time.perf_counter() - started) / 10000
    print(f"sealed values per submission: {per_request_values:.1f}, "
          f"{sum(sizes) / args.applications / 1024:.1f} KiB stored per submission")
    print(f"seal + open of them: {crypto * 1e6:.0f} µs per submission; one look-up hash: {hashing * 1e6:.1f} µs")
    print(f"a submission's latency (in process, SQLite): p50 {statistics.median(latencies) * 1e3:.1f} ms; "
          f"sealing is {crypto / statistics.median(latencies) * 100:.2f} % of it")


if __name__ == "__main__":
    main()
