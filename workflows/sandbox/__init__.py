"""The sandbox for analysts' scripts, gateway conditions, DMN cells, timer expressions,
multi-instance expressions and message correlations (docs/script-language.md).

SpiffWorkflow would hand all of these to Python's exec/eval. Here each source is first checked
against an allow-list of syntax, names, methods and attributes (`language`), refused at
deployment with the line and a plain reason, then rewritten so that every operation that could
do unbounded work in one C call is size-checked before it runs (`rewrite`, `guards`), compiled
once and cached. At run time an evaluation spends a deterministic step and allocation budget;
what a script leaves in task data must be storable (`values`).
"""
from __future__ import annotations

import decimal
from functools import lru_cache

from workflows.errors import ScriptRefused
from workflows.sandbox.guards import BUILTINS, GUARD_NAME, GUARDS, Budget, active_budget
from workflows.sandbox.language import parse, problems_in
from workflows.sandbox.limits import MAX_DECIMAL_EXPONENT
from workflows.sandbox.rewrite import guarded
from workflows.sandbox.values import check_storable

__all__ = ["problems_in", "compile_checked", "run_sandboxed", "ScriptRefused"]

# Builtins of every evaluation; `__sb__` is reachable only from rewritten code (scripts cannot
# write a name starting with '_').
_BUILTINS = {**BUILTINS, GUARD_NAME: GUARDS}
FILENAME = "<script>"
# Decimal arithmetic inside an evaluation: the default context allows exponents of ±999,999, so
# `Decimal(10) ** 999999` is cheap to make and a million digits to convert or write out. With this
# context such a result is an Overflow, raised by the C code itself. One shared context: its flags
# are only ever set, never read, and every Decimal operation holds the GIL.
DECIMAL_CONTEXT = decimal.Context(prec=28, rounding=decimal.ROUND_HALF_EVEN, Emax=MAX_DECIMAL_EXPONENT,
                                  Emin=-MAX_DECIMAL_EXPONENT,
                                  traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


def compile_checked(source: str, mode: str):
    """The guarded code object for a source; ScriptRefused (with every reason) if it is refused.

    Cached by size: a code object costs about 12 times its source in memory, so 4,096 scripts of
    20,000 characters held ~1 GB for good. Conditions, cells and most scripts are short."""
    if len(source) <= SHORT_SOURCE:
        return _compile_short(source, mode)
    return _compile_long(source, mode)


SHORT_SOURCE = 1_000


def _compile(source: str, mode: str):
    problems = problems_in(source, mode)
    if problems:
        raise ScriptRefused("; ".join(problems), fields={"script": problems})
    try:
        return compile(guarded(parse(source, mode)), FILENAME, mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        raise ScriptRefused(f"the script cannot be compiled: {err.__class__.__name__}") from None


_compile_short = lru_cache(maxsize=4096)(_compile)   # at most ~50 MB
_compile_long = lru_cache(maxsize=64)(_compile)      # at most ~15 MB


def run_sandboxed(source: str, mode: str, namespace: dict):
    """Evaluate (mode 'eval') or execute ('exec') a source against task data in `namespace`.

    An executed script may change `namespace`; whatever it leaves there must be storable.
    """
    code = compile_checked(source, mode)
    namespace["__builtins__"] = _BUILTINS
    token = active_budget.set(Budget())
    outside = decimal.getcontext()
    decimal.setcontext(DECIMAL_CONTEXT)
    try:
        if mode == "eval":
            return eval(code, namespace)  # noqa: S307 - checked, rewritten and guarded above
        exec(code, namespace)  # noqa: S102 - checked, rewritten and guarded above
    finally:
        decimal.setcontext(outside)
        active_budget.reset(token)
        namespace.pop("__builtins__", None)
    # All of it, not only the names it bound: `applicant["x"] = ...` changes a dict in place.
    check_storable(namespace, list(namespace))
    return None
