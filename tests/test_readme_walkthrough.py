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
SERVICING_SCRIPT = ROOT / "examples" / "servicing.sh"

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

# What each printing line of the servicing walkthrough prints (the README's comments).
SERVICING_OUTPUT = [
    # 6. D+3: the loan is three days past due, the customer manager has a phone call
    "3", "Phone the borrower",
    # 7. a promise to pay: the ladder waits for the day after the promised date
    "completed", "wait_promise",
    # 8. the promise is missed: the ladder resumes, D+15 is a visit
    "Visit the borrower", "15",
    # 9. paid: current again, the collection ends
    "0", "completed",
    # 10. the upgrade back to 正常: the customer manager's reason, the risk officer's approval
    "Give the reason for the class", "completed", "completed", "normal",
]


def readme_walkthrough_block(heading: str = "## Walkthrough with curl") -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index(heading):]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def script_body(script_path: Path = SCRIPT, after: str = 'cd "$(dirname "$0")/.."\n') -> str:
    script = script_path.read_text(encoding="utf-8")
    header_end = script.index(after) + len(after)
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


def printed_comments(block: str) -> list[str]:
    return [line.split("# ", 1)[1].split(" (")[0].strip() for line in block.splitlines()
            if re.match(r"^(status|sign|review|curl|jget|\s+-d) .*\s# ", line)]


def test_the_readme_block_says_what_each_line_prints():
    assert printed_comments(readme_walkthrough_block()) == EXPECTED_OUTPUT


SERVICING_HEADING = "## Servicing walkthrough with `loanflow tick`"


def test_the_servicing_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(SERVICING_HEADING)
    assert script_body(SERVICING_SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert printed_comments(block) == SERVICING_OUTPUT


def count_applications(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM application").fetchone()[0]


def run_walkthrough(script_path: Path, port: int, timeout: int = 300) -> list[str]:
    """Run a walkthrough script as the README says (bash, against the demo server on `port`): it
    must succeed with nothing on stderr. Its printed lines."""
    result = subprocess.run(["bash", str(script_path)], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                            env=dict(os.environ, LOANFLOW_PORT=str(port)))
    assert result.returncode == 0, f"{result.stderr}{result.stdout}"
    assert result.stderr == "", result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_readme_walkthrough_runs_twice_in_a_row_on_one_database(demo_server):
    port, database = demo_server
    for run in (1, 2):
        assert run_walkthrough(SCRIPT, port, timeout=180) == EXPECTED_OUTPUT, f"run {run}"
        # Fresh Idempotency-Keys: the second run made applications of its own, not replays.
        assert count_applications(database) == APPLICATIONS_PER_RUN * run


def run_with_the_venvs_loanflow(script_path: Path, port: int, database: Path) -> subprocess.CompletedProcess:
    """Run a walkthrough script against the demo server, its `.venv/bin/loanflow` being this venv's."""
    loanflow = Path(sys.executable).with_name("loanflow")   # the README says .venv/bin/loanflow
    env = dict(os.environ, LOANFLOW_PORT=str(port), LOANFLOW_DATABASE_URL=f"sqlite:///{database}")
    script = script_path.read_text(encoding="utf-8").replace(".venv/bin/loanflow", str(loanflow))
    result = subprocess.run(["bash", "-c", script, str(script_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, f"{result.stderr}{result.stdout}"
    return result


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_servicing_walkthrough_moves_time_with_tick_through_the_collection_ladder(demo_server):
    port, database = demo_server
    result = run_with_the_venvs_loanflow(SERVICING_SCRIPT, port, database)
    # A stage prints as "id (name)"; the README's comment shows both, the list the id.
    assert [line.split(" (")[0] for line in result.stdout.splitlines()] == SERVICING_OUTPUT
    assert result.stderr == ""
    with sqlite3.connect(database) as conn:
        ladders = conn.execute("SELECT count(*) FROM process_instance WHERE process_id = 'collections'").fetchone()[0]
    assert ladders == 3   # the walkthrough disbursed three loans and nobody paid any of them


CUSTOMERS_SCRIPT = ROOT / "examples" / "customers.sh"
CUSTOMERS_HEADING = "## Customer register walkthrough"
# What each printing line of the customer register walkthrough prints (the README's comments).
CUSTOMERS_OUTPUT = [
    # 11. found by ID number: whole to the customer manager, masked to the integrator; step 2's loan is theirs
    "Wang Jianguo", "4", "370784********0015", "1",
    # 12. the customer manager's change, and the history's first entry (the application's)
    "55", "api-demo",
]


def test_the_customers_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(CUSTOMERS_HEADING)
    assert script_body(CUSTOMERS_SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert printed_comments(block) == CUSTOMERS_OUTPUT


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_customer_register_walkthrough_runs_twice_on_one_database(demo_server):
    port, database = demo_server
    for run in (1, 2):
        assert run_walkthrough(CUSTOMERS_SCRIPT, port) == CUSTOMERS_OUTPUT, f"run {run}"
    with sqlite3.connect(database) as conn:
        # two runs of four applicants (Wang twice per run: steps 1 and 2 are one application)
        customers = conn.execute("SELECT count(*) FROM customer").fetchone()[0]
        linked = conn.execute("SELECT count(DISTINCT customer_id) FROM application").fetchone()[0]
    assert customers == linked > 0

CREDIT_LINES_SCRIPT = ROOT / "examples" / "credit_lines.sh"
CREDIT_LINES_HEADING = "## Credit line and drawdown walkthrough"
# What each printing line of the credit line walkthrough prints (the README's comments).
CREDIT_LINES_OUTPUT = [
    # 11. the line goes through investigation and credit review, is signed and is active, all available
    "in_review", "Customer manager's investigation", "Credit review", "line_active", "100000.00",
    # 12. 100,000 − 2 × 40,000 = 20,000 available; a third drawdown of 30,000 is refused naming it
    "20000.00", "The drawdown of 30000.00 is above the line: available 20000.00",
    # 13. repaid 10,000 of principal (the same day: no interest yet): 100,000 − 30,000 − 40,000
    "30000.00",
    # 14. frozen by the risk officer, refused, unfrozen by the approver
    "frozen", "line_frozen", "active",
]


def commented_output(block: str) -> list[str]:
    """The comment of every line that prints (not a comment, not an assignment, not a definition)."""
    return [line.split("# ", 1)[1].strip() for line in block.splitlines()
            if "# " in line and not line.lstrip().startswith("#") and "() {" not in line
            and not re.match(r"^\s*[A-Z_]+=", line)]


def test_the_credit_lines_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(CREDIT_LINES_HEADING)
    assert script_body(CREDIT_LINES_SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert commented_output(block) == CREDIT_LINES_OUTPUT


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_credit_line_walkthrough_runs_twice_on_one_database(demo_server):
    port, database = demo_server
    for run in (1, 2):
        assert run_walkthrough(CREDIT_LINES_SCRIPT, port) == CREDIT_LINES_OUTPUT, f"run {run}"
    with sqlite3.connect(database) as conn:
        lines = conn.execute("SELECT count(*), count(DISTINCT customer_id) FROM credit_line").fetchone()
        drawdowns = conn.execute("SELECT count(*) FROM credit_line_drawdown").fetchone()[0]
    assert lines == (2, 1)      # one line per run, both Wang's
    assert drawdowns == 2 * 2   # the refused ones paid nothing out

OPERATIONS_SCRIPT = ROOT / "examples" / "operations.sh"
OPERATIONS_HEADING = "## Operations: the console, health and metrics"
# What each printing line of the operations walkthrough prints (the README's comments).
OPERATIONS_OUTPUT = [
    # 11. up, not ready without a worker, ready after one round of it
    "up", "503", "ready",
    # 12. the three loans disbursed by the walkthrough completed their origination
    "3.0",
    # 13. the console's API
    "0", "True", "not_found",
    # 14. the caller's request id in the error answer
    "readme-0000001",
]


def test_the_operations_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(OPERATIONS_HEADING)
    assert script_body(OPERATIONS_SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    printed = [line.split("# ", 1)[1].split(" (")[0].strip() for line in block.splitlines()
               if re.match(r"^(curl|\s+\|\s+cut|\s+-d) .*\s# ", line)]
    assert printed == OPERATIONS_OUTPUT


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_operations_walkthrough_checks_health_metrics_and_the_console(demo_server):
    port, database = demo_server
    result = run_with_the_venvs_loanflow(OPERATIONS_SCRIPT, port, database)
    assert result.stdout.splitlines() == OPERATIONS_OUTPUT
    assert result.stderr == ""
    with sqlite3.connect(database) as conn:
        beats = conn.execute("SELECT count(*) FROM worker_heartbeat").fetchone()[0]
    assert beats == 1   # the one round of `loanflow worker --once`
