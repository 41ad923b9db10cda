"""Which values task data may hold: what the serializer can store and restore exactly.

Checked where a script assigns them, so a bad value is an incident naming the element and the
variable, not a 500 on the next save (a stored tzinfo or set made every later request fail).
"""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from workflows.errors import ScriptRefused
from workflows.sandbox.guards import kind
from workflows.sandbox.limits import MAX_STORED_DEPTH, MAX_STORED_NODES

STORABLE_SCALARS = (str, bool, int, type(None), dt.date, dt.datetime, dt.timedelta)
STORABLE_HINT = "text, numbers, Decimal, dates, booleans, None, and lists and dicts of them"


def storage_problem(name: str, value) -> str | None:
    """Why `value` cannot be kept in task data under `name`; None when it can."""
    nodes = 0
    stack = [(value, name, 1)]
    while stack:
        current, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_STORED_NODES:
            return f"'{name}' holds more than {MAX_STORED_NODES:,} values"
        if depth > MAX_STORED_DEPTH:
            return f"'{path}' is nested more than {MAX_STORED_DEPTH} levels deep"
        kind_of = type(current)
        if kind_of in STORABLE_SCALARS:
            if kind_of is dt.datetime and current.tzinfo is not None and current.utcoffset() is None:
                return f"'{path}' is a datetime with an unusable time zone"
            continue
        if kind_of in (float, Decimal):
            finite = current.is_finite() if kind_of is Decimal else math.isfinite(current)
            if not finite:
                return f"'{path}' is not a finite number (NaN or Infinity cannot be stored)"
            continue
        if kind_of in (list, tuple):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(current))
            continue
        if kind_of is dict:
            for key, v in current.items():
                if not isinstance(key, str):
                    return f"'{path}' has a key that is not text ({kind(key)}); task data keys must be text"
                stack.append((v, f"{path}.{key}", depth + 1))
            continue
        return f"'{path}' is a {kind(current)}, which task data cannot hold (it holds {STORABLE_HINT})"
    return None


_PLAIN = frozenset({str, bool, int, type(None), dt.date, dt.timedelta})


def _plainly_storable(value, depth: int, nodes: list[int]) -> bool:
    """The fast path for the common case: every script's task data is walked after it runs, so
    this must cost well under a microsecond a value. Any doubt goes to `storage_problem`."""
    kind_of = type(value)
    if kind_of in _PLAIN:
        return True
    if kind_of is Decimal:
        return value.is_finite()
    if depth > MAX_STORED_DEPTH or nodes[0] > MAX_STORED_NODES:
        return False
    if kind_of is dict:
        nodes[0] += len(value)
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _PLAIN and not _plainly_storable(item, depth + 1, nodes)):
                return False
        return True
    if kind_of is list or kind_of is tuple:
        nodes[0] += len(value)
        for item in value:
            if type(item) not in _PLAIN and not _plainly_storable(item, depth + 1, nodes):
                return False
        return True
    return False


def check_storable(namespace: dict, names) -> None:
    nodes = [0]
    if all(_plainly_storable(namespace[n], 1, nodes) for n in names if n in namespace):
        return
    problems = [p for p in (storage_problem(n, namespace[n]) for n in names if n in namespace) if p]
    if problems:
        raise ScriptRefused("; ".join(problems))
