"""Straight-through origination through the HTTP API, against the bare engine on the same diagrams.

    .venv/bin/python bench/origination.py [--applications N]

1. Starts `loanflow serve --demo` on a fresh SQLite file (a real server process with its bureau
   simulator) and drives N applications through the API: submit -> auto-approval -> signature
   -> disbursed. Prints applications/s, p50/p95/p99 latency of a whole application (two requests)
   and of each request kind, and the server's peak memory.
2. In the same run, runs the same BPMN/DMN files in memory with bare SpiffWorkflow (service tasks
   answered from canned results, the DMN and gateways evaluated for real), N times.
3. Prints the ratio API / bare engine.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_api(n: int, server_args: list[str]) -> dict:
    import requests

    workdir = tempfile.mkdtemp(prefix="loanflow-bench-")
    port = free_port()
    env = dict(os.environ, LOANFLOW_PORT=str(port), LOANFLOW_DATABASE_URL=f"sqlite:///{workdir}/bench.sqlite3")
    server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--demo", *server_args], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    http = requests.Session()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                token = http.post(f"{base}/auth/token", json={"username": "api-demo", "password": "demo"},
                                  timeout=2).json()["token"]
                break
            except (requests.ConnectionError, ValueError, KeyError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        body = json.loads((ROOT / "examples" / "application-auto.json").read_text())
        whole, submits, signs = [], [], []
        # Warm up: the first request parses the diagrams and fills caches.
        for i in range(n + 3):
            started = time.perf_counter()
            r = http.post(f"{base}/applications", json=body,
                          headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
            submitted = time.perf_counter()
            application = r.json()
            assert application["status"] == "awaiting_signature", application
            signature = {"contract_number": application["contract"]["number"],
                         "content_hash": application["contract"]["content_hash"],
                         "signed_at": "2026-11-22T10:00:00+08:00", "channel": "mobile_banking",
                         "signature_reference": f"SIG-{i}"}
            s = http.post(f"{base}/applications/{application['id']}/signature", json=signature, headers=headers)
            done = time.perf_counter()
            assert s.json()["status"] == "disbursed", s.json()
            if i >= 3:
                whole.append(done - started)
                submits.append(submitted - started)
                signs.append(done - submitted)
        rss_kb = _peak_rss_kb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"seconds": sum(whole), "whole": whole, "submit": submits, "sign": signs, "server_rss_kb": rss_kb}


def _peak_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def run_bare_engine(n: int) -> dict:
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
    from SpiffWorkflow.util.task import TaskState

    canned = {
        "intake.precheck": {"precheck_passed": True, "applicant_age": 40, "decline_reasons": []},
        "risk.check_application": {"risk_hits": [], "risk_warning_count": 0, "risk_blocked": False},
        "risk.check_contract": {"risk_blocked": False},
        "risk.check_disbursement": {"risk_blocked": False},
        "limits.check_application": {"limit_hits": []},
        "limits.check_disbursement": {"limit_hits": [], "risk_blocked": False},
        "rating.rate_applicant": {"score": Decimal("639.22"), "grade": "A", "credit_line": Decimal("300000"),
                                  "annual_rate": Decimal("0.031975"), "approved_amount": Decimal("30000"),
                                  "risk_hits": [], "risk_warning_count": 0, "is_large_amount": False,
                                  "rating_decision": "approve", "decline_reasons": []},
        "contract.create": {"contract": {"number": "LC-1", "content_hash": "0" * 64}},
        "contract.record_signature": {"contract": {"number": "LC-1", "status": "signed"}},
        "disbursement.disburse": {"loan_id": "LC-1"},
    }

    class CannedEngine(PythonScriptEngine):
        def call_service(self, task, **kwargs):
            return dict(canned[kwargs["operation_name"]])

    # Our parser only swaps in the service task that merges a handler's dict into task data;
    # scripts and conditions run with SpiffWorkflow's own unsandboxed engine here.
    from workflows.diagrams import LoanBpmnParser, engine_files

    files = {p.name: p for p in (ROOT / "bpmn" / "default").glob("*.*")}
    parser = LoanBpmnParser()
    for name, path in engine_files(files).items():
        if name.endswith(".dmn"):
            parser.add_dmn_file(str(path))
        else:
            parser.add_bpmn_file(str(path))
    spec = parser.get_spec("loan_origination")
    subprocesses = parser.get_subprocess_specs("loan_origination")
    body = json.loads((ROOT / "examples" / "application-auto.json").read_text())
    times = []
    for _ in range(n):
        started = time.perf_counter()
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=CannedEngine())
        workflow.get_tasks(state=TaskState.READY)[0].data.update(
            {"amount": Decimal(body["amount"]), "product_code": body["product"], "applicant": body["applicant"],
             "term_months": body["term_months"]})
        workflow.do_engine_steps()
        workflow.catch(BpmnEvent(MessageEventDefinition("customer_signed"), payload={"ok": True}))
        workflow.do_engine_steps()
        assert workflow.completed
        times.append(time.perf_counter() - started)
    return {"seconds": sum(times), "whole": times}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=200)
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug")
    args = parser.parse_args()
    n = args.applications
    api = run_api(n, ["--server", args.server, "--workers", "1"])
    bare = run_bare_engine(n)
    api_rate, bare_rate = n / api["seconds"], n / bare["seconds"]
    ms = lambda values, p: f"{percentile(values, p) * 1000:.1f}"  # noqa: E731
    print(f"applications: {n} straight-through (submit -> auto-approve -> sign -> disbursed)")
    print(f"HTTP API on SQLite : {api_rate:8.1f} applications/s  "
          f"p50 {ms(api['whole'], 50)} ms  p95 {ms(api['whole'], 95)} ms  p99 {ms(api['whole'], 99)} ms")
    print(f"  POST /applications            p50 {ms(api['submit'], 50)} ms  p99 {ms(api['submit'], 99)} ms")
    print(f"  POST /applications/{{id}}/sign  p50 {ms(api['sign'], 50)} ms  p99 {ms(api['sign'], 99)} ms")
    if api["server_rss_kb"]:
        print(f"  server peak memory (VmHWM)    {api['server_rss_kb'] / 1024:.1f} MiB")
    print(f"bare SpiffWorkflow : {bare_rate:8.1f} applications/s  "
          f"p50 {ms(bare['whole'], 50)} ms  p99 {ms(bare['whole'], 99)} ms  (in memory, canned handlers)")
    print(f"ratio API / bare engine: {api_rate / bare_rate:.2f}  (goal >= 0.30)")
    print(f"mean latency: API {statistics.mean(api['whole']) * 1000:.1f} ms, bare {statistics.mean(bare['whole']) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
