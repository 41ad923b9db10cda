"""The README's curl walkthrough, run as a new user would: a real `loanflow serve --demo` process
and examples/walkthrough.sh (the README's block word for word) with curl, twice in a row on the
same database."""
from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "walkthrough.sh"

# What each printing line of the walkthrough prints, step by step (the README's comments).
EXPECTED_OUTPUT = [
    # 1. auto-approved
    "awaiting_signature",
    # 2. signed, disbursed, the loan is open
    "disbursed", "active",
    # 3. BR001, 300,000: three review levels, then signing
    "in_review", "Customer manager's investigation", "Credit review", "Branch approval",
    "awaiting_signature", "disbursed",
    # 4. BR002: its own review.bpmn adds head-office approval
    "in_review", "Customer manager's investigation", "Credit review", "Branch approval", "Head office approval",
    "awaiting_signature", "disbursed",
    # 5. a large-amount loan waits for review
    "in_review", "True",
]
APPLICATIONS_PER_RUN = 4


def readme_walkthrough_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Walkthrough with curl"):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def script_body() -> str:
    script = SCRIPT.read_text(encoding="utf-8")
    header_end = script.index('cd "$(dirname "$0")/.."\n') + len('cd "$(dirname "$0")/.."\n')
    return script[header_end:].lstrip("\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    port = free_port()
    database = tmp_path / "demo.sqlite3"
    env = dict(os.environ, LOANFLOW_PORT=str(port), LOANFLOW_DATABASE_URL=f"sqlite:///{database}")
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
    yield port, database
    server.terminate()
    server.wait(timeout=10)
    log.close()


def test_the_script_is_the_readme_block_word_for_word():
    assert script_body() == readme_walkthrough_block()


def test_the_readme_block_says_what_each_line_prints():
    comments = [line.split("# ", 1)[1].split(" (")[0].strip() for line in readme_walkthrough_block().splitlines()
                if re.match(r"^(status|sign|review|curl) .*\s# ", line)]
    assert comments == EXPECTED_OUTPUT


def count_applications(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM application").fetchone()[0]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_readme_walkthrough_runs_twice_in_a_row_on_one_database(demo_server):
    port, database = demo_server
    for run in (1, 2):
        result = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, capture_output=True, text=True, timeout=180,
                                env=dict(os.environ, LOANFLOW_PORT=str(port)))
        assert result.returncode == 0, f"run {run}: {result.stderr}{result.stdout}"
        assert result.stdout.splitlines() == EXPECTED_OUTPUT, f"run {run}"
        assert result.stderr == "", f"run {run}"
        # Fresh Idempotency-Keys: the second run made applications of its own, not replays.
        assert count_applications(database) == APPLICATIONS_PER_RUN * run
