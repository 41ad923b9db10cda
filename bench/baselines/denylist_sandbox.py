"""BASELINE ONLY: the deny-list sandbox loanflow used until issue 7 (commit 3af4a4d), kept so that
bench/sandbox.py can measure the new allow-list sandbox against it in the same run. It is NOT safe
(a `match` class pattern and C-level allocations got past it); nothing in the product imports it.
"""
from __future__ import annotations

import ast
import datetime as _dt
import sys
import time
from decimal import Decimal
from functools import lru_cache

from workflows.errors import ScriptRefused

MAX_SECONDS = 1.0
MAX_RANGE = 100_000
MAX_POWER_EXPONENT = 64
MAX_SOURCE_CHARS = 20_000
MAX_SEQUENCE_ITEMS = 1_000_000

# Names a script may not call or even mention: they reach the interpreter, files or frames.
FORBIDDEN_NAMES = frozenset({
    "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "globals", "locals",
    "vars", "dir", "input", "breakpoint", "help", "memoryview", "type", "object", "super",
    "classmethod", "staticmethod", "property", "__import__", "__builtins__", "exit", "quit",
    "print", "id", "hash", "iter", "next", "bytearray",
})
# str.format and friends resolve "{0.__class__}" at run time, past the AST check.
FORBIDDEN_ATTRIBUTES = frozenset({"format", "format_map", "mro", "gi_frame", "f_globals",
                                  "f_locals", "f_back", "tb_frame", "cr_frame", "ag_frame"})
FORBIDDEN_NODES = {
    ast.Import: "imports are not allowed",
    ast.ImportFrom: "imports are not allowed",
    ast.Global: "global statements are not allowed",
    ast.Nonlocal: "nonlocal statements are not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.AsyncFunctionDef: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.Yield: "generators are not allowed",
    ast.YieldFrom: "generators are not allowed",
    ast.While: "while loops are not allowed (use for over a bounded range)",
    ast.Try: "try blocks are not allowed",
    ast.With: "with blocks are not allowed",
    ast.Raise: "raise is not allowed",
    ast.Delete: "del is not allowed",
}


def _limited_range(*args):
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ScriptRefused(f"range of {len(r)} items exceeds the sandbox limit of {MAX_RANGE}")
    return r


SAFE_BUILTINS = {
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate,
    "filter": filter, "float": float, "int": int, "len": len, "list": list, "map": map,
    "max": max, "min": min, "range": _limited_range, "reversed": reversed, "round": round,
    "set": set, "sorted": sorted, "str": str, "sum": sum, "tuple": tuple, "zip": zip,
    "isinstance": isinstance, "Decimal": Decimal, "date": _dt.date, "datetime": _dt.datetime,
    "timedelta": _dt.timedelta, "True": True, "False": False, "None": None,
    "ValueError": ValueError, "KeyError": KeyError,
}


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []

    def refuse(self, node: ast.AST, reason: str) -> None:
        line = getattr(node, "lineno", "?")
        self.problems.append(f"line {line}: {reason}")

    def generic_visit(self, node: ast.AST) -> None:
        for node_type, reason in FORBIDDEN_NODES.items():
            if isinstance(node, node_type):
                self.refuse(node, reason)
        super().generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self.refuse(node, f"the name '{node.id}' is not allowed (names may not start with '_')")
        elif node.id in FORBIDDEN_NAMES:
            self.refuse(node, f"'{node.id}' is not available in scripts")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            self.refuse(node, f"the attribute '{node.attr}' is not allowed (no '_' attributes)")
        elif node.attr in FORBIDDEN_ATTRIBUTES:
            self.refuse(node, f"the attribute '{node.attr}' is not allowed")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # 10**10**10 would hang inside C code where no time budget can interrupt it.
        if isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (isinstance(exponent, ast.Constant) and isinstance(exponent.value, (int, float))
                    and abs(exponent.value) <= MAX_POWER_EXPONENT):
                self.refuse(node, f"powers need a constant exponent of at most {MAX_POWER_EXPONENT}")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "{" in node.value and "__" in node.value:
            self.refuse(node, "format strings that reach '_' attributes are not allowed")


def problems_in(source: str, mode: str = "exec") -> list[str]:
    """Every reason the sandbox refuses this source; empty if it may run."""
    if len(source) > MAX_SOURCE_CHARS:
        return [f"script is longer than {MAX_SOURCE_CHARS} characters"]
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as err:
        return [f"line {err.lineno}: syntax error: {err.msg}"]
    checker = _Checker()
    checker.visit(tree)
    return checker.problems


def _repeat(left, right):
    """`a * b` in scripts: `"x" * 10**9` or `[0] * n` would allocate in one C call, where no
    time budget can stop it, so repetition of sequences is capped."""
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, (str, list, tuple, bytes)) and isinstance(count, int) \
                and len(sequence) * count > MAX_SEQUENCE_ITEMS:
            raise ScriptRefused(f"repeating a sequence to more than {MAX_SEQUENCE_ITEMS} items is not allowed")
    return left * right


class _GuardMultiplication(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult):
            return ast.copy_location(ast.Call(func=ast.Name(id=_REPEAT, ctx=ast.Load()),
                                              args=[node.left, node.right], keywords=[]), node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign):
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult) and isinstance(node.target, ast.Name):
            value = ast.Call(func=ast.Name(id=_REPEAT, ctx=ast.Load()),
                             args=[ast.Name(id=node.target.id, ctx=ast.Load()), node.value], keywords=[])
            return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)
        return node


# Injected after the check (scripts cannot name anything starting with "_" themselves).
_REPEAT = "__sandbox_repeat__"


@lru_cache(maxsize=4096)
def compile_checked(source: str, mode: str):
    problems = problems_in(source, mode)
    if problems:
        raise ScriptRefused("Script refused by the sandbox: " + "; ".join(problems),
                            fields={"script": problems})
    tree = ast.fix_missing_locations(_GuardMultiplication().visit(ast.parse(source, mode=mode)))
    return compile(tree, "<bpmn-script>", mode)


class _Budget:
    """A trace function that stops a script running longer than its budget."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def __call__(self, frame, event, arg):
        if frame.f_code.co_filename != "<bpmn-script>":
            return None
        if time.monotonic() > self.deadline:
            raise ScriptRefused(f"script exceeded its time budget of {MAX_SECONDS}s")
        return self


def run_sandboxed(source: str, mode: str, namespace: dict):
    code = compile_checked(source, mode)
    namespace["__builtins__"] = SAFE_BUILTINS_WITH_GUARDS
    previous = sys.gettrace()
    sys.settrace(_Budget(MAX_SECONDS))
    try:
        if mode == "eval":
            return eval(code, namespace)  # noqa: S307 - checked and restricted above
        exec(code, namespace)  # noqa: S102 - checked and restricted above
        return None
    finally:
        sys.settrace(previous)
        namespace.pop("__builtins__", None)


SAFE_BUILTINS_WITH_GUARDS = {**SAFE_BUILTINS, _REPEAT: _repeat}
