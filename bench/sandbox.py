"""What the script sandbox costs: per evaluation, and on whole originations, new against old.

    .venv/bin/python bench/sandbox.py [--evaluations N] [--applications N]

1. Per evaluation: typical gateway conditions, a DMN cell, a one-line script and a loop script,
   each evaluated N times through (a) plain Python eval of a precompiled code object (no
   protection at all: the floor), (b) the old deny-list sandbox (bench/baselines/), (c) the new
   allow-list sandbox (workflows/sandbox). Prints p50/p99 in microseconds and new/old.
2. Whole originations in memory: the real diagrams (bpmn/default) on SpiffWorkflow with our
   LoanScriptEngine, handlers answered from canned results, run with the old and the new sandbox
   alternately in the same process. Prints applications/s and the ratio new/old (goal >= 0.9).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASES = {
    "condition: decision == 'reject'": ("decision == \"reject\"", "eval"),
    "condition: approve and levels >= 2": ("decision == \"approve\" and review_levels >= 2", "eval"),
    "DMN cell: (amount) == (> 1000000)": ("amount> 1000000", "eval"),
    "script: final_decision = 'declined'": ("final_decision = \"declined\"", "exec"),
    "script: fee with Decimal rounding": ("fee = round(amount * Decimal('0.001'), 2)", "exec"),
    "script: loop over 50 items": ("total = 0\nfor v in values:\n    if v > 10:\n        total = total + v * 2", "exec"),
}


def data() -> dict:
    return {"decision": "approve", "review_levels": 2, "amount": Decimal("300000.00"),
            "values": list(range(50)), "applicant": {"name": "张三", "village": "A"}}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def time_each(run, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def per_evaluation(n: int) -> None:
    from bench.baselines import denylist_sandbox as old
    from workflows import sandbox as new

    print(f"per evaluation, {n} each (µs: p50 / p99)")
    print(f"  {'case':40} {'plain eval':>15} {'old sandbox':>15} {'new sandbox':>15} {'new/old p50':>12}")
    for label, (source, mode) in CASES.items():
        code = compile(source, "<plain>", mode)
        plain = time_each(lambda: eval(code, {**data(), "Decimal": Decimal}), n)  # noqa: S307 - the unprotected floor
        before = time_each(lambda: old.run_sandboxed(source, mode, dict(data())), n)
        after = time_each(lambda: new.run_sandboxed(source, mode, dict(data())), n)
        cell = lambda t: f"{percentile(t, 50) * 1e6:6.1f} / {percentile(t, 99) * 1e6:6.1f}"  # noqa: E731
        print(f"  {label:40} {cell(plain):>15} {cell(before):>15} {cell(after):>15} "
              f"{percentile(after, 50) / percentile(before, 50):12.2f}")


def originations(n: int) -> None:
    from SpiffWorkflow.bpmn.util.event import BpmnEvent
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
    from SpiffWorkflow.util.task import TaskState

    import workflows.engine as engine
    from bench.baselines import denylist_sandbox as old
    from workflows import sandbox as new
    from workflows.diagrams import parse_set
    from workflows.deployments import files_in_folder
    from workflows.diagrams import engine_files

    from bench.origination import CANNED as canned  # the same canned handler results as the origination bench
    parsed = parse_set(engine_files(files_in_folder(ROOT / "bpmn" / "default")))
    spec, subprocesses = parsed.specs_for("loan_origination")
    body = json.loads((ROOT / "examples" / "application-auto.json").read_text())

    def one() -> None:
        script_engine = engine.LoanScriptEngine(lambda operation, params, task: dict(canned[operation]))
        workflow = BpmnWorkflow(spec, subprocesses, script_engine=script_engine)
        workflow.get_tasks(state=TaskState.READY)[0].data.update(
            {"amount": Decimal(body["amount"]), "product_code": body["product"], "applicant": body["applicant"],
             "term_months": body["term_months"]})
        workflow.do_engine_steps()
        workflow.catch(BpmnEvent(MessageEventDefinition("customer_signed"), payload={"ok": True}))
        workflow.do_engine_steps()
        assert workflow.completed

    results = {"old": [], "new": []}
    for round_ in range(4):  # alternate, so drift on a shared machine hits both alike
        for name, runner in (("old", old.run_sandboxed), ("new", new.run_sandboxed)):
            engine.run_sandboxed = runner
            one()  # warm the caches
            results[name].extend(time_each(one, max(1, n // 4)))
    engine.run_sandboxed = new.run_sandboxed
    rate = {name: len(t) / sum(t) for name, t in results.items()}
    print(f"\nwhole originations in memory, {len(results['new'])} each (real diagrams, canned handlers)")
    for name in ("old", "new"):
        t = results[name]
        print(f"  {name} sandbox: {rate[name]:7.1f} applications/s  p50 {percentile(t, 50) * 1e3:.2f} ms  "
              f"p99 {percentile(t, 99) * 1e3:.2f} ms")
    print(f"  ratio new / old: {rate['new'] / rate['old']:.2f}  (goal >= 0.90)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evaluations", type=int, default=20_000, help="evaluations per case (default 20000)")
    parser.add_argument("--applications", type=int, default=400, help="originations per sandbox (default 400)")
    args = parser.parse_args()
    per_evaluation(args.evaluations)
    originations(args.applications)
    return 0


if __name__ == "__main__":
    sys.exit(main())
