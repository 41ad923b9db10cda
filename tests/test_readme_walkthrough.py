"""The README's curl walkthrough, run as a user would: a real `loanflow serve --demo` process and
examples/walkthrough.sh with curl."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    env = dict(os.environ, LOANFLOW_PORT=str(port), LOANFLOW_DATABASE_URL=f"sqlite:///{tmp_path}/demo.sqlite3")
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--demo"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=1)
            break
        except requests.ConnectionError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                pytest.fail("demo server did not start: " + (tmp_path / "server.log").read_text())
            time.sleep(0.2)
    yield port
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_readme_walkthrough_runs_both_branches_to_disbursement(demo_server):
    result = subprocess.run(["bash", "examples/walkthrough.sh"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=dict(os.environ, LOANFLOW_PORT=str(demo_server)))
    assert result.returncode == 0, result.stderr + result.stdout
    out = result.stdout
    assert out.count("signed -> disbursed") == 3, out
    assert "review levels 2" in out
    assert "runs review.bpmn deployed by BR002" in out
    assert "hq-approver completed: Head office approval" in out
