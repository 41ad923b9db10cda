"""A real `loanflow serve --demo` process is sent every dangerous probe of the hostile corpus
(tests/web/hostile.py) as deployments and applications, and afterwards still answers
GET /api/v1/openapi.json within a second, with its peak memory under 1 GB and nothing from outside
the task data in any response.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.test_readme_walkthrough import free_port
from tests.web import hostile
from tests.web.journeys import example

ROOT = Path(__file__).resolve().parents[1]
MAX_PEAK_RSS_KB = 1024 * 1024
MAX_OPENAPI_SECONDS = 1.0


@pytest.fixture
def server(tmp_path):
    """The demo server as a process of its own, with a signing key and an environment value that no
    response may show."""
    port = free_port()
    secret_key, canary = secrets.token_hex(24), f"canary-{secrets.token_hex(8)}"
    env = dict(os.environ, LOANFLOW_PORT=str(port), LOANFLOW_DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3",
               LOANFLOW_SECRET_KEY=secret_key, LOANFLOW_CANARY=canary)
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--demo"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{base}/openapi.json", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("demo server did not start: " + (tmp_path / "server.log").read_text())
            time.sleep(0.2)  # start-up only
    yield {"base": base, "pid": process.pid, "secrets": (secret_key, canary)}
    process.terminate()
    process.wait(timeout=10)
    log.close()


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/<pid>/status")


def token(base: str, username: str) -> dict:
    response = requests.post(f"{base}/auth/token", json={"username": username, "password": "demo"}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def deploy(base: str, headers: dict, files: dict[str, str]) -> requests.Response:
    return requests.post(f"{base}/deployments", headers=headers, data={"scope": "BR001"},
                         files=[("files", (name, text.encode())) for name, text in files.items()], timeout=60)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc")
def test_a_server_sent_every_probe_still_answers_within_a_second_under_a_gigabyte(server):
    base, bodies = server["base"], []
    analyst, api = token(base, "analyst"), token(base, "api-demo")
    for probe_id, files, element, _shown, reason in hostile.RUNTIME:
        deployed = deploy(base, analyst, files)
        assert deployed.status_code == 201, (probe_id, deployed.text)
        submitted = requests.post(f"{base}/applications", json=example("application-auto.json"), timeout=60,
                                  headers={**api, "Idempotency-Key": str(uuid.uuid4())})
        assert submitted.status_code == 201, (probe_id, submitted.text)
        application = requests.get(f"{base}/applications/{submitted.json()['id']}", headers=api, timeout=10)
        incident = application.json()["incident"] or ""
        assert incident.startswith(f"{element}: ") and reason in incident, (probe_id, incident)
        bodies += [deployed.text, submitted.text, application.text]
    for probe_id, files, reason in hostile.REFUSED:
        refused = deploy(base, analyst, files)
        assert refused.status_code == 422 and reason in refused.text, (probe_id, refused.text)
        bodies.append(refused.text)

    started = time.monotonic()
    answer = requests.get(f"{base}/openapi.json", timeout=10)
    elapsed = time.monotonic() - started
    peak = peak_rss_kb(server["pid"])
    print(f"\nafter {len(hostile.RUNTIME) + len(hostile.REFUSED)} probes: openapi.json in {elapsed * 1000:.0f} ms, "
          f"peak RSS {peak / 1024:.0f} MB")
    assert answer.status_code == 200
    assert elapsed < MAX_OPENAPI_SECONDS
    assert peak < MAX_PEAK_RSS_KB
    for body in bodies + [answer.text]:
        assert not any(secret in body for secret in server["secrets"]), body[:300]
