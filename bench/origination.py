"""Straight-through origination through the HTTP API, against the bare engine on the same diagrams.

    .venv/bin/python bench/origination.py [--applications N] [--clients N]
        [--database URL] [--server werkzeug|gunicorn --workers N]

1. Starts `loanflow serve --demo` (a real server process with its bureau simulator, started by
   this process and stopped by it, also on Ctrl-C or a failure) on a fresh database: a SQLite
   file in a temporary folder by default; with `--database postgresql+psycopg://.../postgres` a
   new database created on that server for this run and dropped afterwards; with a `sqlite:///`
   URL that file. N distinct applicants (bench/applicants.py: valid ID numbers, varied names and
   amounts, all auto-approved) go through the API: submit -> auto-approval -> signature ->
   disbursed, shared among --clients threads, each with its own HTTP session. Prints
   applications/s (wall clock), p50/p95/p99 latency of a whole application (two requests) and of
   each request, the server's peak memory (VmHWM summed over its processes) and where the CPU
   went (server, this client process, the rest of the machine: the database server, mostly).
2. In the same run, after the server is stopped, the same BPMN/DMN files on bare SpiffWorkflow
   (service tasks answered from canned results, DMN and gateways evaluated for real) for the same
   N applications, two ways, alternating: in memory, and persisted as the API does (serialized
   with workflows.engine.make_serializer() after each step and deserialized before the next,
   as workflows.instances.InstanceRunner does).
3. Prints the ratio API / persisted baseline (goal >= 0.30) and API / in-memory baseline.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.applicants import applications  # noqa: E402
from bench.databases import bench_database  # noqa: E402

GOAL = 0.30
WARM_UP = 3  # applications before the clock starts: the first request parses the diagrams


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the server process --------------------------------------------------------------------------
@contextlib.contextmanager
def running_server(database_url: str, server: str, workers: int):
    """`loanflow serve --demo` in its own process group, ready for requests; always stopped."""
    import requests

    port = free_port()
    env = dict(os.environ, LOANFLOW_PORT=str(port), LOANFLOW_HOST="127.0.0.1", LOANFLOW_DATABASE_URL=database_url)
    env.pop("LOANFLOW_BUREAU_URL", None)  # the applicants are clean at the demo's simulator
    # The bench is one integrator on purpose: measure the server, not the integrators' rate limit.
    env["LOANFLOW_INTEGRATOR_REQUESTS_PER_MINUTE"] = str(10 ** 9)
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--demo", "--server", server, "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read()[-3000:]}")
                try:
                    token = requests.post(f"{base}/auth/token", json={"username": "api-demo", "password": "demo"},
                                          timeout=2).json()["token"]
                    break
                except (requests.ConnectionError, requests.Timeout, ValueError, KeyError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield process, base, token
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group (gunicorn's workers too), SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def process_tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def peak_rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User + system time of these processes (and their reaped children)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def database_backends(database_name: str | None) -> list[int]:
    """PostgreSQL backends serving our database (their process title names it)."""
    if not database_name:
        return []
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if title.startswith("postgres:") and f" {database_name} " in title:
                    pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float:
    fields = [int(f) for f in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# -- driving the API -----------------------------------------------------------------------------
def one_application(http, base: str, headers: dict, body: dict) -> tuple[float, float]:
    started = time.perf_counter()
    r = http.post(f"{base}/applications", json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
    submitted = time.perf_counter()
    application = r.json()
    assert r.status_code in (200, 201) and application.get("status") == "awaiting_signature", outcome(r, application)
    signature = {"contract_number": application["contract"]["number"],
                 "content_hash": application["contract"]["content_hash"],
                 "signed_at": "2026-11-22T10:00:00+08:00", "channel": "mobile_banking",
                 "signature_reference": f"SIG-{uuid.uuid4().hex[:12]}"}
    s = http.post(f"{base}/applications/{application['id']}/signature", json=signature, headers=headers)
    done = time.perf_counter()
    assert s.status_code == 200 and s.json().get("status") == "disbursed", outcome(s, s.json())
    return submitted - started, done - submitted


def outcome(response, body: dict) -> str:
    """The part of an unexpected answer that says why (the whole view is pages long)."""
    keys = ("status", "stage", "reasons", "risk_hits", "incident", "error", "message", "fields")
    return f"HTTP {response.status_code} {response.request.method} {response.url}: " + \
        str({key: body[key] for key in keys if body.get(key)})


def run_api(bodies: list[dict], clients: int, database_url: str, server: str, workers: int) -> dict:
    import requests
    import sqlalchemy as sa

    url = sa.engine.make_url(database_url)
    database_name = url.database if url.get_backend_name() == "postgresql" else None

    with running_server(database_url, server, workers) as (process, base, token):
        headers = {"Authorization": f"Bearer {token}"}
        with requests.Session() as http:
            for body in bodies[:WARM_UP]:
                one_application(http, base, headers, body)
        timed = bodies[WARM_UP:]
        shares = [timed[k::clients] for k in range(clients)]
        results: list[list[tuple[float, float]]] = [[] for _ in range(clients)]
        failures: list[BaseException] = []
        failed = threading.Event()
        start = threading.Barrier(clients + 1)

        def client(k: int) -> None:
            with requests.Session() as http:
                start.wait()
                try:
                    for body in shares[k]:
                        if failed.is_set():
                            return
                        results[k].append(one_application(http, base, headers, body))
                except BaseException as err:  # noqa: BLE001 - handed to the main thread
                    failures.append(err)
                    failed.set()

        threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
        for thread in threads:
            thread.start()
        server_pids = process_tree(process.pid)
        backends = database_backends(database_name)
        server_cpu, client_cpu, busy = cpu_seconds(server_pids), time.process_time(), machine_busy_seconds()
        database_cpu = cpu_seconds(backends)
        start.wait()
        started = time.perf_counter()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
        except BaseException:
            failed.set()
            raise
        seconds = time.perf_counter() - started
        server_pids = process_tree(process.pid)
        server_cpu = cpu_seconds(server_pids) - server_cpu
        client_cpu, busy = time.process_time() - client_cpu, machine_busy_seconds() - busy
        # Backends opened during the run count from zero; ones closed during it are lost.
        database_cpu = (cpu_seconds(database_backends(database_name)) - database_cpu) if database_name else None
        rss_kb = peak_rss_kb(server_pids)
        processes = len(server_pids)
        if failures:
            raise failures[0]
    pairs = [pair for share in results for pair in share]
    return {"seconds": seconds, "count": len(pairs), "submit": [p[0] for p in pairs], "sign": [p[1] for p in pairs],
            "whole": [p[0] + p[1] for p in pairs], "server_rss_kb": rss_kb, "server_processes": processes,
            "server_cpu": server_cpu, "client_cpu": client_cpu, "database_cpu": database_cpu, "machine_cpu": busy}


# -- the bare engine -----------------------------------------------------------------------------
CANNED = {
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


def bare_engine():
    """A function running one application on bare SpiffWorkflow, in memory or persisted."""
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
    from SpiffWorkflow.util.task import TaskState

    # Our parser only swaps in the service task that merges a handler's dict into task data;
    # scripts and conditions run with SpiffWorkflow's own unsandboxed engine here.
    from workflows.diagrams import LoanBpmnParser, engine_files
    from workflows.engine import deserialize, make_serializer

    class CannedEngine(PythonScriptEngine):
        def call_service(self, task, **kwargs):
            return dict(CANNED[kwargs["operation_name"]])

    files = {p.name: p for p in (ROOT / "bpmn" / "default").glob("*.*")}
    parser = LoanBpmnParser()
    for name, path in engine_files(files).items():
        if name.endswith(".dmn"):
            parser.add_dmn_file(str(path))
        else:
            parser.add_bpmn_file(str(path))
    spec = parser.get_spec("loan_origination")
    subprocesses = parser.get_subprocess_specs("loan_origination")
    serializer = make_serializer()

    def run(body: dict, persisted: bool) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.thread_time()
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=CannedEngine())
        workflow.get_tasks(state=TaskState.READY)[0].data.update(
            {"amount": Decimal(body["amount"]), "product_code": body["product"], "applicant": body["applicant"],
             "term_months": body["term_months"]})
        workflow.do_engine_steps()
        if persisted:  # end of POST /applications, then the start of POST .../signature
            state = serializer.serialize_json(workflow)
            workflow = deserialize(serializer, state, spec, subprocesses)
            workflow.script_engine = CannedEngine()
        workflow.catch(BpmnEvent(MessageEventDefinition("customer_signed"), payload={"ok": True}))
        workflow.do_engine_steps()
        if persisted:
            serializer.serialize_json(workflow)
        assert workflow.completed
        return time.perf_counter() - started, time.thread_time() - cpu

    return run


def run_bare_engine(bodies: list[dict], rounds: int = 2, times: dict | None = None) -> dict:
    """Both baselines, alternating in rounds so drift on a shared machine hits both alike."""
    run = bare_engine()
    run(bodies[0], False)
    run(bodies[0], True)
    times = times or {"memory": [], "persisted": [], "memory_cpu": [], "persisted_cpu": []}
    size = -(-len(bodies) // rounds)
    for r in range(rounds):
        chunk = bodies[r * size:(r + 1) * size]
        for kind in ("memory", "persisted"):
            for body in chunk:
                seconds, cpu = run(body, kind == "persisted")
                times[kind].append(seconds)
                times[f"{kind}_cpu"].append(cpu)
    return times


# -- the report ----------------------------------------------------------------------------------
def ms(values: list[float], p: float) -> str:
    return f"{percentile(values, p) * 1000:.1f}"


def report(args, kind: str, description: str, api: dict, bare: dict, load: list[float]) -> None:
    n = api["count"]
    api_rate = n / api["seconds"]
    memory_rate = len(bare["memory"]) / sum(bare["memory"])
    persisted_rate = len(bare["persisted"]) / sum(bare["persisted"])
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    server = "werkzeug (one process, threaded)" if args.server == "werkzeug" else f"gunicorn, {args.workers} workers"
    print(f"applications: {n} timed (+{WARM_UP} warm-up), distinct applicants, straight-through "
          f"(submit -> auto-approve -> sign -> disbursed)")
    print(f"cpu_count {os.cpu_count()} (usable {affinity}), load average {load[0]:.1f} at the start, "
          f"{load[1]:.1f} at the end")
    print(f"database {kind}: {description}")
    print(f"clients {args.clients} (threads, one HTTP session each), server {server}")
    print(f"HTTP API               : {api_rate:8.1f} applications/s  p50 {ms(api['whole'], 50)} ms  "
          f"p95 {ms(api['whole'], 95)} ms  p99 {ms(api['whole'], 99)} ms  ({api['seconds']:.1f} s wall)")
    print(f"  POST /applications            p50 {ms(api['submit'], 50)} ms  p95 {ms(api['submit'], 95)} ms  "
          f"p99 {ms(api['submit'], 99)} ms")
    print(f"  POST /applications/{{id}}/sign  p50 {ms(api['sign'], 50)} ms  p95 {ms(api['sign'], 95)} ms  "
          f"p99 {ms(api['sign'], 99)} ms")
    print(f"  server peak memory (VmHWM)    {api['server_rss_kb'] / 1024:.1f} MiB over {api['server_processes']} "
          f"process(es)")
    database = api["database_cpu"] or 0.0
    other = max(0.0, api["machine_cpu"] - api["server_cpu"] - api["client_cpu"] - database)
    per = lambda seconds: f"{seconds / n * 1000:.1f} ms"  # noqa: E731
    print(f"  CPU per application           server {per(api['server_cpu'])}, bench client {per(api['client_cpu'])}"
          + (f", PostgreSQL backends {per(database)}" if api["database_cpu"] is not None else "")
          + f", rest of the machine {per(other)} (other load); wall {per(api['seconds'] * args.clients)} "
          f"per client")
    print(f"bare SpiffWorkflow, persisted: {persisted_rate:8.1f} applications/s  p50 {ms(bare['persisted'], 50)} ms  "
          f"p99 {ms(bare['persisted'], 99)} ms  (canned handlers, serialize/deserialize between steps)")
    print(f"bare SpiffWorkflow, in memory: {memory_rate:8.1f} applications/s  p50 {ms(bare['memory'], 50)} ms  "
          f"p99 {ms(bare['memory'], 99)} ms  (canned handlers)")
    verdict = "met" if api_rate / persisted_rate >= GOAL else "NOT met"
    print(f"ratio API / persisted baseline: {api_rate / persisted_rate:.2f}  (goal >= {GOAL:.2f}: {verdict})")
    print(f"ratio API / in-memory baseline: {api_rate / memory_rate:.2f}")
    # CPU seconds per application, less sensitive to other load on a shared machine than wall time.
    persisted_cpu = sum(bare["persisted_cpu"]) / len(bare["persisted_cpu"])
    server_cpu = (api["server_cpu"] + (api["database_cpu"] or 0.0)) / n
    print(f"ratio by CPU time, persisted baseline / (server + database) per application: "
          f"{persisted_cpu / server_cpu:.2f}  ({persisted_cpu * 1000:.1f} ms / {server_cpu * 1000:.1f} ms)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, default=200, help="timed applications (default 200)")
    parser.add_argument("--clients", type=int, default=1, help="concurrent client threads (default 1)")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL server URL (a fresh database is created on it and dropped), or a "
                             "sqlite:/// URL; default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn worker processes (default 1)")
    parser.add_argument("--seed", type=int, default=13, help="seed of the generated applicants")
    args = parser.parse_args(argv)
    if args.applications < 1 or args.clients < 1 or args.workers < 1:
        parser.error("--applications, --clients and --workers must be at least 1")
    # Ctrl-C and a plain `kill` both end in the finally blocks: server stopped, database dropped
    # (SIGINT explicitly too: a shell without job control starts background jobs ignoring it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    bodies = list(applications(args.applications + WARM_UP, seed=args.seed))
    timed, load = bodies[WARM_UP:], [os.getloadavg()[0]]
    # Half the baseline before the API run and half after, so a change in the machine's other
    # load during the run weighs on both sides of the ratio.
    bare = run_bare_engine(timed[:len(timed) // 2 or 1])
    with bench_database(args.database) as (database_url, kind, description):
        api = run_api(bodies, args.clients, database_url, args.server, args.workers)
    bare = run_bare_engine(timed[len(timed) // 2:] or timed, times=bare)
    load.append(os.getloadavg()[0])
    report(args, kind, description, api, bare, load)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the server is stopped and any database this run created is dropped", file=sys.stderr)
        sys.exit(130)
