"""The sandbox refuses what could reach the machine, and bounds what it runs."""
from __future__ import annotations

from decimal import Decimal

import pytest

from workflows.errors import ScriptRefused
from workflows.sandbox import problems_in, run_sandboxed


@pytest.mark.parametrize("source", [
    "import os",
    "from os import path",
    "__import__('os')",
    "open('/etc/passwd')",
    "().__class__.__base__.__subclasses__()",
    "x.__dict__",
    "getattr(x, 'y')",
    "eval('1')",
    "exec('x = 1')",
    "globals()",
    "'{0.__class__}'.format(1)",
    "'{x}'.format_map({})",
    "type(x)",
    "while True: pass",
    "class A: pass",
    "def f(): yield 1",
    "2 ** n",
])
def test_the_sandbox_refuses(source):
    assert problems_in(source, "exec"), source
    with pytest.raises(ScriptRefused):
        run_sandboxed(source, "exec", {"x": 1, "n": 5})


def test_a_refusal_names_the_line_and_the_reason():
    problems = problems_in("a = 1\nimport os", "exec")
    assert problems == ["line 2: imports are not allowed"]


def test_ordinary_business_scripts_run_with_decimals():
    namespace = {"amount": Decimal("300000.00"), "levels": [1, 2]}
    run_sandboxed("fee = round(amount * Decimal('0.001'), 2)\ntop = max(levels)", "exec", namespace)
    assert namespace["fee"] == Decimal("300.00")
    assert namespace["top"] == 2
    assert "__builtins__" not in namespace


def test_conditions_evaluate_against_task_data():
    assert run_sandboxed("amount > 200000 and grade in ('A', 'B')", "eval",
                         {"amount": Decimal("250000"), "grade": "A"}) is True


def test_builtins_are_not_reachable_even_by_name():
    with pytest.raises(NameError):
        run_sandboxed("compile_me = bytes(3)", "exec", {})


def test_a_huge_range_is_refused_at_run_time():
    with pytest.raises(ScriptRefused, match="range"):
        run_sandboxed("total = sum(range(10 ** 9))", "exec", {})


def test_a_script_that_runs_too_long_is_stopped():
    slow = "total = 0\nfor i in range(100000):\n    for j in range(100000):\n        total = total + 1"
    with pytest.raises(ScriptRefused, match="time budget"):
        run_sandboxed(slow, "exec", {})


def test_repeating_a_sequence_into_a_memory_bomb_is_stopped_before_it_allocates():
    for source in ("x = 'a' * 10 ** 10", "x = [0] * n", "x = n * [0]", "x = [0]\nx *= n"):
        with pytest.raises(ScriptRefused, match="repeating a sequence"):
            run_sandboxed(source, "exec", {"n": 10 ** 9})


def test_multiplying_numbers_still_works():
    namespace = {"amount": Decimal("3.5"), "n": 4}
    run_sandboxed("fee = amount * n\nn *= 2\nline = 'ab' * 3", "exec", namespace)
    assert (namespace["fee"], namespace["n"], namespace["line"]) == (Decimal("14.0"), 8, "ababab")


def test_an_overlong_script_is_refused():
    assert problems_in("x = 1\n" * 5000, "exec") == ["script is longer than 20000 characters"]
