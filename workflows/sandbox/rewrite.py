"""Rewrite a checked syntax tree so that every costly operation goes through `guards.GUARDS`.

Runs only on trees `language.problems_in` accepted. Plain comparisons, `/`, indexing and names
stay native Python: they cannot grow anything, and conditions (`decision == "reject"`) are most of
what runs, so they pay nothing. What is rewritten:

    a + b, a - b, a * b, a ** b, a << b, a % b -> __sb__.add(a, b), ...
    x[a:b:c]  (a slice copies)                -> __sb__.slice(x, a, b, c)
    {**d, ...}  (a copy)                      -> __sb__.built({**d, ...})
    x += y  (any operator)                    -> x = __sb__.add(x, y)  /  __sb__.setitem(...)
    x[k] = v                                  -> __sb__.setitem(x, k, v)
    for t in xs / comprehensions              -> for t in __sb__.iterate(xs)
    obj.name(args) / obj.name                 -> __sb__.method(obj, 'name', args) / __sb__.attr(...)
    [a, b], {k: v}, {a}, (a, b), [e for ...]  -> each element through __sb__.item(...), each set
                                                 member and dict key through __sb__.member(...)
    f"{x:,.2f} and {y}"                       -> __sb__.fstring(__sb__.format(x, ',.2f'), ...)
"""
from __future__ import annotations

import ast

from workflows.sandbox.guards import GUARD_NAME

_GUARDED_OPERATORS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Pow: "power",
                      ast.LShift: "lshift", ast.Mod: "mod"}


def _guard(name: str, *args: ast.expr, keywords=()) -> ast.Call:
    func = ast.Attribute(value=ast.Name(id=GUARD_NAME, ctx=ast.Load()), attr=name, ctx=ast.Load())
    return ast.Call(func=func, args=list(args), keywords=list(keywords))


def _load(node: ast.expr) -> ast.expr:
    """A Load copy of an assignment target (a Name or a Subscript of plain names/constants)."""
    if isinstance(node, ast.Name):
        return ast.Name(id=node.id, ctx=ast.Load())
    return ast.Subscript(value=_load(node.value) if isinstance(node.value, ast.Name) else node.value,
                         slice=node.slice, ctx=ast.Load())


def _binop(op: ast.operator, left: ast.expr, right: ast.expr) -> ast.expr:
    name = _GUARDED_OPERATORS.get(type(op))
    if name is None:
        return ast.BinOp(left=left, op=op, right=right)
    return _guard(name, left, right)


def _element(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Constant):
        return node
    return _guard("item", node)


def _member(node: ast.expr) -> ast.expr:
    """A set member or dict key (guards.member: no numbers built to collide in the hash table)."""
    return _guard("member", node)


class GuardOperations(ast.NodeTransformer):
    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        return ast.copy_location(_binop(node.op, node.left, node.right), node)

    def visit_AugAssign(self, node: ast.AugAssign):
        self.generic_visit(node)
        target = node.target
        value = _binop(node.op, _load(target), node.value)
        if isinstance(target, ast.Subscript):
            call = _guard("setitem", _load(target.value), target.slice, value)
            return ast.copy_location(ast.Expr(value=call), node)
        return ast.copy_location(ast.Assign(targets=[target], value=value), node)

    def visit_Assign(self, node: ast.Assign):
        unpacking = (isinstance(node.value, ast.Tuple) and len(node.targets) == 1
                     and isinstance(node.targets[0], (ast.Tuple, ast.List)))
        if unpacking:
            # `a, b = b, a`: the tuple on the right lives for one statement; it holds nothing.
            node.value.elts = [self.visit(e) for e in node.value.elts]
            return node
        self.generic_visit(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            target = node.targets[0]
            call = _guard("setitem", target.value, target.slice, node.value)
            return ast.copy_location(ast.Expr(value=call), node)
        return node

    def visit_For(self, node: ast.For):
        self.generic_visit(node)
        node.iter = ast.copy_location(_guard("iterate", node.iter), node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension):
        self.generic_visit(node)
        node.iter = ast.copy_location(_guard("iterate", node.iter), node.iter)
        return node

    def visit_Call(self, node: ast.Call):
        if isinstance(node.func, ast.Attribute):
            obj = self.visit(node.func.value)
            args = [self.visit(a) for a in node.args]
            keywords = [self.visit(k) for k in node.keywords]
            call = _guard("method", obj, ast.Constant(node.func.attr), *args, keywords=keywords)
            return ast.copy_location(call, node)
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node: ast.Subscript):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Slice):
            bounds = [part or ast.Constant(None) for part in (node.slice.lower, node.slice.upper, node.slice.step)]
            return ast.copy_location(_guard("slice", node.value, *bounds), node)
        return node

    def visit_Attribute(self, node: ast.Attribute):
        self.generic_visit(node)
        return ast.copy_location(_guard("attr", node.value, ast.Constant(node.attr)), node)

    def _elements(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.elts = [_element(e) for e in node.elts]
        return node

    visit_List = visit_Tuple = _elements

    def visit_Set(self, node: ast.Set):
        self.generic_visit(node)
        node.elts = [_member(e) for e in node.elts]
        return node

    def visit_Dict(self, node: ast.Dict):
        self.generic_visit(node)
        # `{**other}` copies another dict's items; it nests nothing new.
        node.values = [v if k is None else _element(v) for k, v in zip(node.keys, node.values)]
        node.keys = [k if k is None else _member(k) for k in node.keys]
        if None in node.keys:  # ... but it is a copy, as `d.copy()` is: charged, and within the size limit
            return ast.copy_location(_guard("built", node), node)
        return node

    def _comprehension(self, node):
        self.generic_visit(node)
        node.elt = _element(node.elt)
        return node

    visit_ListComp = visit_GeneratorExp = _comprehension

    def visit_SetComp(self, node: ast.SetComp):
        self.generic_visit(node)
        node.elt = _member(node.elt)
        return node

    def visit_DictComp(self, node: ast.DictComp):
        self.generic_visit(node)
        node.key, node.value = _member(node.key), _element(node.value)
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                spec = value.format_spec.values[0].value if value.format_spec is not None else ""
                parts.append(_guard("format", self.visit(value.value), ast.Constant(spec)))
            else:
                parts.append(value)
        return ast.copy_location(_guard("fstring", *parts), node)


def guarded(tree: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(GuardOperations().visit(tree))
