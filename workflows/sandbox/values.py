"""Which values task data may hold: what the serializer can store and restore exactly.

Checked where a script assigns them, so a bad value is an incident naming the element and the
variable, not a 500 on the next save (a stored tzinfo or set made every later request fail).

Sizes are counted over ALL the task data, as the serializer writes it: JSON has no shared
references, so a list holding the same 100,000-character text 100,000 times is 10 GB of saved
state although it is 1 MB in memory, and ten names holding the same big dict are ten copies.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

from workflows.errors import ScriptRefused
from workflows.sandbox.guards import kind
from workflows.sandbox.limits import (MAX_DECIMAL_EXPONENT, MAX_INT_BITS, MAX_STORED_CHARS, MAX_STORED_DEPTH,
                                      MAX_STORED_NODES)

STORABLE_SCALARS = (str, bool, int, type(None), dt.date, dt.datetime, dt.timedelta)
STORABLE_HINT = "text, numbers, Decimal, dates, booleans, None, and lists and dicts of them"
# A lone surrogate ('\ud800') is a str in Python but no text in UTF-8: the database cannot store it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_problem(path: str, text: str) -> str | None:
    if not text.isascii() and _SURROGATE.search(text):
        return f"'{path}' holds a lone surrogate ('\\ud800'...), which is not text that can be stored"
    return None


def _scalar_problem(path: str, value) -> str | None:
    kind_of = type(value)
    if kind_of is str:
        return _text_problem(path, value)
    if kind_of is int and value.bit_length() > MAX_INT_BITS:
        return f"'{path}' is a whole number of more than {MAX_INT_BITS} bits"
    if kind_of is dt.datetime and value.tzinfo is not None and value.utcoffset() is None:
        return f"'{path}' is a datetime with an unusable time zone"
    if kind_of in (float, Decimal):
        finite = value.is_finite() if kind_of is Decimal else math.isfinite(value)
        if not finite:
            return f"'{path}' is not a finite number (NaN or Infinity cannot be stored)"
        if kind_of is Decimal and abs(value.adjusted()) > MAX_DECIMAL_EXPONENT:
            return f"'{path}' is a Decimal with an exponent beyond ±{MAX_DECIMAL_EXPONENT}"
    return None


def storage_problems(namespace: dict, names) -> list[str]:
    """Why the values under `names` cannot be kept in task data; empty when they can.

    One walk over all of them, so the size limits hold for the task data as a whole."""
    nodes = chars = 0
    stack = [(namespace[n], n, 1) for n in reversed(list(names)) if n in namespace]
    while stack:
        current, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_STORED_NODES:
            return [f"the task data would hold more than {MAX_STORED_NODES:,} values"]
        if depth > MAX_STORED_DEPTH:
            return [f"'{path}' is nested more than {MAX_STORED_DEPTH} levels deep"]
        kind_of = type(current)
        if kind_of in STORABLE_SCALARS or kind_of in (float, Decimal):
            if kind_of is str:
                chars += len(current)
                if chars > MAX_STORED_CHARS:
                    return [f"the task data would hold more than {MAX_STORED_CHARS:,} characters of text "
                            f"(at '{path}')"]
            problem = _scalar_problem(path, current)
            if problem:
                return [problem]
            continue
        if kind_of in (list, tuple):
            stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in reversed(list(enumerate(current))))
            continue
        if kind_of is dict:
            for key, v in current.items():
                if not isinstance(key, str):
                    return [f"'{path}' has a key that is not text ({kind(key)}); task data keys must be text"]
                problem = _text_problem(f"{path} key", key)
                if problem:
                    return [problem]
                chars += len(key)
                stack.append((v, f"{path}.{key}", depth + 1))
            continue
        return [f"'{path}' is a {kind(current)}, which task data cannot hold (it holds {STORABLE_HINT})"]
    return []


def storage_problem(name: str, value) -> str | None:
    """Why `value` cannot be kept in task data under `name`; None when it can."""
    problems = storage_problems({name: value}, [name])
    return problems[0] if problems else None


_PLAIN = frozenset({bool, type(None), dt.date, dt.timedelta})


def _plainly_storable(value, depth: int, counts: list[int]) -> bool:
    """The fast path for the common case: every script's task data is walked after it runs, so
    this must cost well under a microsecond a value; texts and whole numbers, most of it, are
    checked inline. Any doubt goes to `storage_problems`. `counts` is [values, characters] so far,
    over all the names; check_storable compares the characters with the limit once, at the end."""
    kind_of = type(value)
    if kind_of is str:
        counts[1] += len(value)
        return value.isascii() or not _SURROGATE.search(value)
    if kind_of in _PLAIN:
        return True
    if kind_of is int:
        return value.bit_length() <= MAX_INT_BITS
    if kind_of is float:
        return math.isfinite(value)
    if kind_of is dt.datetime:
        return value.tzinfo is None
    if kind_of is Decimal:
        return value.is_finite() and abs(value.adjusted()) <= MAX_DECIMAL_EXPONENT
    if depth > MAX_STORED_DEPTH:
        return False
    if kind_of is dict:
        for key in value:
            if type(key) is not str or not key.isascii() and _SURROGATE.search(key):
                return False
            counts[1] += len(key)
        return _all_storable(value.values(), len(value), depth, counts)
    if kind_of is list or kind_of is tuple:
        return _all_storable(value, len(value), depth, counts)
    return False


def _all_storable(items, size: int, depth: int, counts: list[int]) -> bool:
    """The items of one container: texts and whole numbers checked inline (most task data is
    those), anything else through `_plainly_storable` one level deeper."""
    counts[0] += size
    if counts[0] > MAX_STORED_NODES:
        return False
    for item in items:
        kind_of = type(item)
        if kind_of is int:
            if item.bit_length() > MAX_INT_BITS:
                return False
        elif kind_of is str:
            counts[1] += len(item)
            if not item.isascii() and _SURROGATE.search(item):
                return False
        elif kind_of not in _PLAIN and not _plainly_storable(item, depth + 1, counts):
            return False
    return True


def check_storable(namespace: dict, names) -> None:
    counts = [0, 0]
    if all(_plainly_storable(namespace[n], 1, counts) for n in names if n in namespace) \
            and counts[1] <= MAX_STORED_CHARS:
        return
    problems = storage_problems(namespace, names)
    if problems:
        raise ScriptRefused("; ".join(problems))
