"""One cached diagram set serves many requests at once: its specs are built once, under a lock."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workflows.deployments import files_in_folder
from workflows.diagrams import engine_files, parse_set

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_threads_asking_a_fresh_set_for_its_specs_at_once_all_get_the_same_specs():
    for _ in range(5):  # a fresh set each round: the race is in the first build
        parsed = parse_set(engine_files(files_in_folder(BPMN / "default")))
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda _: parsed.specs_for("loan_origination"), range(32)))
        spec, subprocesses = results[0]
        assert spec.name == "loan_origination" and {"intake", "review", "disbursement"} <= set(subprocesses)
        assert all(r[0] is spec and r[1] is subprocesses for r in results)
