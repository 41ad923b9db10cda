"""DMN unary tests (the cells of a decision table's input columns), compiled to Python predicates.

The accepted subset, and nothing else:

    -                       any value
    600   "A"   true        equality with a number, a string in double quotes, a boolean
    < 600   >= 0.5          comparison with a number
    [600..700)  ]1..2[      ranges; "[" / "]" closed, "(" / ")" and outward "]" / "[" open
    "a", "b", < 3           a list: any item matches
    not("a", "b")           none of the items matches
    null                    the value is missing

Scorecard bins reuse the same syntax, so analysts learn one notation. Anything outside the subset
raises `DmnError` naming where the cell is (the caller passes `where`, e.g. "rule 3, input 'grade'").
Evaluation never raises: a value of the wrong type simply does not match.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Callable

from scoring.errors import DmnError

Predicate = Callable[[Any], bool]

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?\Z")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"\Z')
_COMPARISON = re.compile(r"(<=|>=|<|>)\s*(.+)\Z")
_RANGE = re.compile(r"([\[\]\(])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\]\)])\Z")


def _always(_value: Any) -> bool:
    return True


# Exact types, not isinstance: bool is an int subclass, and True must not equal the number 1 in a
# decision table. The predicates below inline this test because they run millions of times a batch.
_NUMERIC = frozenset({Decimal, int})


def is_number(value: Any) -> bool:
    return type(value) in _NUMERIC


def compile_unary_tests(text: str, *, where: str) -> Predicate:
    text = (text or "").strip()
    if text in ("", "-"):
        return _always
    if text.startswith("not(") and text.endswith(")"):
        inner = _compile_list(text[4:-1], where=where)
        return lambda value: not inner(value)
    return _compile_list(text, where=where)


def is_catch_all(text: str) -> bool:
    return (text or "").strip() in ("", "-")


def _compile_list(text: str, *, where: str) -> Predicate:
    items = [_compile_item(item, where=where) for item in _split_top_level(text, where=where)]
    if len(items) == 1:
        return items[0]
    return lambda value: any(test(value) for test in items)


def _split_top_level(text: str, *, where: str) -> list[str]:
    # Ranges use ".." and comparisons have one operand, so a comma outside quotes always
    # separates list items.
    items, quoted, start = [], False, 0
    for index, char in enumerate(text):
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(text[start:index].strip())
            start = index + 1
    if quoted:
        raise DmnError(f"{where}: unterminated string in {text!r}")
    items.append(text[start:].strip())
    if any(not item for item in items):
        raise DmnError(f"{where}: empty item in list {text!r}")
    return items


def parse_literal(text: str, *, where: str) -> Any:
    """A number (Decimal), a quoted string, true/false or null; anything else is refused."""
    text = text.strip()
    if _NUMBER.match(text):
        return Decimal(text)
    match = _STRING.match(text)
    if match:
        return match.group(1).replace('\\"', '"').replace("\\\\", "\\")
    if text == "true":
        return True
    if text == "false":
        return False
    if text == "null":
        return None
    raise DmnError(f"{where}: unsupported expression {text!r} (only numbers, \"strings\", "
                   "true, false, null, comparisons, ranges and lists are allowed)")


def _number(text: str, *, where: str) -> Decimal:
    value = parse_literal(text, where=where)
    if not is_number(value):
        raise DmnError(f"{where}: {text!r} must be a number")
    return value


def _compile_item(text: str, *, where: str) -> Predicate:
    match = _COMPARISON.match(text)
    if match:
        operator, bound = match.group(1), _number(match.group(2), where=where)
        if operator == "<":
            return lambda value: type(value) in _NUMERIC and value < bound
        if operator == "<=":
            return lambda value: type(value) in _NUMERIC and value <= bound
        if operator == ">":
            return lambda value: type(value) in _NUMERIC and value > bound
        return lambda value: type(value) in _NUMERIC and value >= bound
    match = _RANGE.match(text)
    if match:
        return _compile_range(*match.groups(), where=where)
    literal = parse_literal(text, where=where)
    if literal is None:
        return lambda value: value is None
    if literal is True or literal is False:
        return lambda value: value is literal
    if isinstance(literal, str):
        return lambda value: value == literal and type(value) is str
    return lambda value: type(value) in _NUMERIC and value == literal


def _compile_range(opening: str, low_text: str, high_text: str, closing: str, *, where: str) -> Predicate:
    low, high = _number(low_text, where=where), _number(high_text, where=where)
    if low > high:
        raise DmnError(f"{where}: empty range {opening}{low_text}..{high_text}{closing}")
    low_closed, high_closed = opening == "[", closing == "]"
    if low_closed and high_closed:
        return lambda value: type(value) in _NUMERIC and low <= value <= high
    if low_closed:
        return lambda value: type(value) in _NUMERIC and low <= value < high
    if high_closed:
        return lambda value: type(value) in _NUMERIC and low < value <= high
    return lambda value: type(value) in _NUMERIC and low < value < high
