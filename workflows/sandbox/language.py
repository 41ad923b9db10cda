"""The script language analysts may use, as an ALLOW-list over Python's syntax tree.

Anything not listed here is refused at deployment with the line and a plain reason. The language
is a small, loop-bounded subset of Python: assignments, if/elif/else, `for` over a list, dict,
text or range, comprehensions, arithmetic, comparisons, f-strings, calls of the builtins in
`guards.BUILTINS` and of the methods in `guards.METHODS`, and the data attributes in
`guards.ATTRIBUTES`. There are no functions, classes, imports, exceptions, `while`, `match` or
walrus; no attribute except the listed ones; no name or text that looks like a dunder.

Why an allow-list: the previous deny-list missed each new piece of syntax (a `match` class
pattern read `str.format` past it). A node type added to Python tomorrow is refused here until
someone decides it is safe.
"""
from __future__ import annotations

import ast
import re

from workflows.sandbox import guards
from workflows.sandbox.limits import MAX_INT_BITS, MAX_SOURCE_CHARS, MAX_SYNTAX_DEPTH

# Node types that may appear at all. Some are further restricted in `_Checker` below.
ALLOWED_NODES = frozenset({
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For, ast.Break,
    ast.Continue, ast.Pass, ast.Delete,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred,
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue,
    ast.Load, ast.Store, ast.Del,
    ast.And, ast.Or, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow,
    ast.LShift, ast.RShift, ast.BitOr, ast.BitAnd, ast.BitXor,
    ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
})

# Plain reasons for what an analyst might reach for; anything else gets a generic one.
REFUSED_BECAUSE = {
    ast.Import: "imports are not part of the script language",
    ast.ImportFrom: "imports are not part of the script language",
    ast.FunctionDef: "defining functions is not part of the script language",
    ast.AsyncFunctionDef: "defining functions is not part of the script language",
    ast.Lambda: "lambda is not part of the script language",
    ast.ClassDef: "classes are not part of the script language",
    ast.While: "while loops are not allowed; loop with `for` over a list or a range",
    ast.Try: "try/except is not part of the script language: a failing script is an incident",
    ast.TryStar: "try/except* is not part of the script language: a failing script is an incident",
    ast.With: "with blocks are not part of the script language",
    ast.AsyncWith: "with blocks are not part of the script language",
    ast.AsyncFor: "async code is not part of the script language",
    ast.Await: "async code is not part of the script language",
    ast.Raise: "raise is not part of the script language",
    ast.Assert: "assert is not part of the script language",
    ast.Global: "global is not part of the script language",
    ast.Nonlocal: "nonlocal is not part of the script language",
    ast.Match: "match statements are not part of the script language; use if/elif",
    ast.NamedExpr: "the walrus operator := is not part of the script language",
    ast.Yield: "generators are not part of the script language",
    ast.YieldFrom: "generators are not part of the script language",
    ast.MatMult: "the @ operator is not part of the script language",
    ast.AnnAssign: "annotations are not part of the script language",
}

_DUNDER = re.compile(r"__\w*__")
# Format specs an f-string may use: alignment, sign, width and precision of two digits at most,
# a thousands separator, and the types d, f, g and %. `{x:>999999999}` would allocate 1 GB.
FORMAT_SPEC = re.compile(r"^[<>^]?[+\- ]?\d{0,2},?(\.\d{1,2})?[dfg%]?$")


def problems_in(source: str, mode: str = "exec") -> list[str]:
    """Every reason the sandbox refuses this source (with its line); empty if it may run."""
    if not isinstance(source, str):
        return ["the script is not text"]
    if len(source) > MAX_SOURCE_CHARS:
        line = source.count("\n", 0, MAX_SOURCE_CHARS) + 1
        return [f"line {line}: the script is longer than {MAX_SOURCE_CHARS} characters"]
    tree, problem = _parse(source, mode)
    if problem:
        return [problem]
    depth, line = _depth(tree)
    if depth > MAX_SYNTAX_DEPTH:
        return [f"line {line}: the script nests {depth} levels deep; at most {MAX_SYNTAX_DEPTH} are allowed"]
    checker = _Checker(mode)
    checker.visit(mark_call_arguments(tree))
    return checker.problems


def parse(source: str, mode: str) -> ast.AST:
    """The syntax tree of a source `problems_in` accepted."""
    return ast.parse(source, mode=mode)


def _parse(source: str, mode: str):
    try:
        return ast.parse(source, mode=mode), None
    except SyntaxError as err:
        return None, f"line {err.lineno or 1}: syntax error: {err.msg}"
    except (ValueError, RecursionError, MemoryError):
        # NUL bytes, or nesting too deep for Python's own parser.
        return None, "line 1: the script cannot be read (NUL byte or nesting too deep)"


def _depth(tree: ast.AST) -> tuple[int, int]:
    """The deepest nesting and its line, without recursion (a hostile tree could exhaust the stack)."""
    deepest, line, stack = 0, 1, [(tree, 1, 1)]
    while stack:
        node, level, at = stack.pop()
        at = getattr(node, "lineno", at)
        if level > deepest:
            deepest, line = level, at
        if level > MAX_SYNTAX_DEPTH:
            return level, at
        stack.extend((child, level + 1, at) for child in ast.iter_child_nodes(node))
    return deepest, line


# Methods that change the value they are called on. An expression (a condition, a DMN cell, a
# timer, a payload) works on a shallow copy of the task data, so `applicant.update(...)` in a
# condition would change the task data behind the checks that a script's assignments get.
MUTATING_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "reverse", "sort",
                              "setdefault", "update", "add", "discard"})


class _Checker(ast.NodeVisitor):
    def __init__(self, mode: str = "exec") -> None:
        self.problems: list[str] = []
        self.expression = mode == "eval"

    def refuse(self, node: ast.AST, reason: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', 1)}: {reason}")

    def generic_visit(self, node: ast.AST) -> None:
        if type(node) not in ALLOWED_NODES:
            reason = REFUSED_BECAUSE.get(type(node)) or \
                f"'{type(node).__name__}' is not part of the script language"
            self.refuse(node, reason)
            return  # one reason per construct; what is inside it cannot run anyway
        super().generic_visit(node)

    # -- names, attributes and text ------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self.refuse(node, f"the name '{node.id}' is not allowed (names may not start with '_')")
        elif isinstance(node.ctx, (ast.Store, ast.Del)) and node.id in guards.BUILTINS:
            self.refuse(node, f"'{node.id}' is a builtin of the script language and cannot be assigned")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr not in guards.ATTRIBUTE_NAMES and node.attr not in guards.METHOD_NAMES:
            self.refuse(node, f"the attribute '.{node.attr}' is not part of the script language")
        elif not isinstance(node.ctx, ast.Load):
            self.refuse(node, f"attributes cannot be assigned or deleted ('.{node.attr}')")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, str) and _DUNDER.search(value):
            self.refuse(node, "text that looks like a dunder name ('__...__') is not allowed")
        elif isinstance(value, (bytes, complex)) or value is Ellipsis:
            self.refuse(node, f"{type(value).__name__} literals are not part of the script language")
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            self.refuse(node, f"the number literal is larger than {MAX_INT_BITS} bits")

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        if node.conversion not in (-1, None):
            self.refuse(node, "f-string conversions (!r, !s, !a) are not part of the script language")
        if node.format_spec is not None:
            spec = node.format_spec
            if not (isinstance(spec, ast.JoinedStr) and len(spec.values) == 1
                    and isinstance(spec.values[0], ast.Constant)
                    and FORMAT_SPEC.match(str(spec.values[0].value))):
                self.refuse(node, "f-string format specs are limited to alignment, sign, width and "
                                  "precision up to 99, ',' and the types d, f, g, %")
        self.visit(node.value)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        # Constant arithmetic that is too big is refused here already: the deployment says so
        # instead of the first application's incident.
        if isinstance(node.op, (ast.Pow, ast.LShift, ast.Mult)) and _constant_bits(node) is None:
            self.refuse(node, f"this constant expression would exceed {MAX_INT_BITS} bits")
            return
        self.generic_visit(node)

    # -- calls ----------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id not in guards.CALLABLE_BUILTINS:
                self.refuse(node, f"'{func.id}' is not a function of the script language")
        elif isinstance(func, ast.Attribute):
            if func.attr not in guards.METHOD_NAMES:
                self.refuse(node, f"'.{func.attr}()' is not a method of the script language")
            elif self.expression and func.attr in MUTATING_METHODS:
                self.refuse(node, f"'.{func.attr}()' changes a value, and an expression cannot change "
                                  "task data; do it in a script task")
            # The attribute itself is the method name just checked; visit what it is called on.
            for child in (func.value, *node.args, *node.keywords):
                self.visit(child)
            return
        else:
            self.refuse(node, "only builtins and listed methods can be called")
        self.generic_visit(node)

    # -- statements whose targets are restricted ------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        items = [t for t in node.targets if isinstance(t, ast.Subscript)]
        if items and (len(node.targets) > 1):
            self.refuse(node, "assign to one list or dict item at a time (no a[0] = b = ...)")
        for target in node.targets:
            self._check_target(target, allow_item=len(node.targets) == 1)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Subscript):
            if not (_is_simple(target.value) and _is_simple(target.slice)):
                self.refuse(node, "'x[k] += ...' needs a plain name and a plain key")
        elif not isinstance(target, ast.Name):
            self.refuse(node, "only names and items can be updated with +=, -=, ...")
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._check_target(node.target, allow_item=False)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            self.refuse(node.target, "async code is not part of the script language")
        self._check_target(node.target, allow_item=False)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if not isinstance(target, (ast.Name, ast.Subscript)):
                self.refuse(node, "del takes names and items only")
        self.generic_visit(node)

    def visit_Starred(self, node: ast.Starred) -> None:
        # `[*a, *a]` doubles a list in one expression; starred targets (`a, *rest = ...`) and
        # call arguments (`max(*values)`) do not grow anything.
        if isinstance(node.ctx, ast.Load) and not getattr(node, "_in_call", False):
            self.refuse(node, "'*' unpacking is allowed in calls and assignment targets only")
        self.generic_visit(node)

    def _check_target(self, target: ast.AST, *, allow_item: bool) -> None:
        if isinstance(target, ast.Name):
            return
        if isinstance(target, ast.Subscript) and allow_item:
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                if not isinstance(inner, ast.Name):
                    self.refuse(target, "unpack into plain names only (a, b = ...)")
            return
        self.refuse(target, "assign to names, or to one item of a list or dict")


def _constant_bits(node: ast.AST) -> int | None:
    """An upper bound of the bits of a constant integer expression: 0 when the expression is not
    constant integer arithmetic (the run-time guards bound it), None when it is too big."""
    if isinstance(node, ast.Constant):
        value = node.value
        return value.bit_length() if isinstance(value, int) and not isinstance(value, bool) else 0
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.LShift, ast.Mult, ast.Add))):
        return 0
    left, right = _constant_bits(node.left), _constant_bits(node.right)
    if left is None or right is None:
        return None
    if not (_is_int_constant(node.left) and _is_int_constant(node.right)):
        return 0
    if isinstance(node.op, ast.Add):
        bits = max(left, right) + 1
    elif isinstance(node.op, ast.Mult):
        bits = left + right
    else:
        exponent = _int_value(node.right)
        if exponent is None or exponent > MAX_INT_BITS:
            return None
        bits = left * exponent if isinstance(node.op, ast.Pow) else left + exponent
    return bits if bits <= MAX_INT_BITS else None


def _is_int_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int) and not isinstance(node.value, bool)
    return isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.LShift, ast.Mult, ast.Add)) \
        and _is_int_constant(node.left) and _is_int_constant(node.right)


def _int_value(node: ast.AST) -> int | None:
    """The value of a small constant integer expression (already known to fit the bound)."""
    if isinstance(node, ast.Constant):
        return node.value
    left, right = _int_value(node.left), _int_value(node.right)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Add):
        return left + right
    if isinstance(node.op, ast.Mult):
        return left * right
    if right > MAX_INT_BITS:
        return None
    return left ** right if isinstance(node.op, ast.Pow) else left << right


def _is_simple(node: ast.AST) -> bool:
    return isinstance(node, (ast.Name, ast.Constant))


def mark_call_arguments(tree: ast.AST) -> ast.AST:
    """Starred nodes directly inside a call's arguments are allowed; mark them for the checker."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    arg._in_call = True
    return tree
