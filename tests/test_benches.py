"""The benches in bench/ are not tests and time nothing here; these check only that they can run:
every one answers --help, and the origination bench's applicants are people the API auto-approves."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bench.applicants import applications, clean_at_bureau
from handlers.intake import id_number_problem

ROOT = Path(__file__).resolve().parents[1]
BENCHES = sorted(path.name for path in (ROOT / "bench").glob("*.py") if path.name not in {"applicants.py", "databases.py"})


@pytest.mark.parametrize("bench", BENCHES)
def test_every_bench_answers_help_without_running(bench):
    result = subprocess.run([sys.executable, f"bench/{bench}", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


def test_generated_applicants_are_distinct_people_with_valid_id_numbers():
    bodies = list(applications(1500))
    numbers = [body["applicant"]["id_number"] for body in bodies]
    assert len(set(numbers)) == 1500
    assert [n for n in numbers if id_number_problem(n)] == []
    assert len({body["applicant"]["name"] for body in bodies}) > 50


def test_generated_applications_stay_inside_what_auto_approves():
    for body in applications(300):
        assert body["product"] == "FARM_EASY"
        assert Decimal("10000") <= Decimal(body["amount"]) <= Decimal("50000")
        assert clean_at_bureau(body["applicant"]["id_number"])


def test_the_same_seed_gives_the_same_applicants():
    assert list(applications(20, seed=5)) == list(applications(20, seed=5))
