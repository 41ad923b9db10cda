"""What a checked script may touch at run time, and the budget it spends.

`rewrite.py` turns every operation that could do unbounded work in one C call (`+`, `*`, `**`,
`<<`, `%` on text, method calls, f-strings, loops) into a call of `GUARDS`, which checks the
SIZE of the result before the work is done and charges it to the evaluation's `Budget`. Every
method and data attribute is listed per exact type (`METHODS`, `ATTRIBUTES`): a type or name
not listed is refused, so `str.format`, frames and dunders are unreachable by construction.

A script may not put a list, dict, set or tuple inside another one. That one rule keeps every
structure a script builds flat, so no comparison, hash or copy can walk an exponential graph of
shared references (`a = [a, a]` thirty times is 2**30 paths for `==`).
"""
from __future__ import annotations

import datetime as _dt
import decimal
import time
from contextvars import ContextVar
from decimal import Decimal

from workflows.errors import ScriptRefused
from workflows.sandbox.limits import (MAX_ALLOCATION, MAX_DECIMAL_EXPONENT, MAX_INT_BITS, MAX_ITEMS,
                                      MAX_ROUND_DIGITS, MAX_SECONDS, MAX_STEPS, MAX_STRING)

SCALAR_TYPES = frozenset({str, int, float, bool, type(None), Decimal, _dt.date, _dt.datetime, _dt.timedelta})
_SEQUENCES = (str, list, tuple)
_KINDS = {str: "text", int: "number", float: "number", bool: "boolean", type(None): "None",
          Decimal: "decimal", _dt.date: "date", _dt.datetime: "datetime", _dt.timedelta: "duration",
          list: "list", dict: "dict", set: "set", tuple: "tuple"}


def kind(value) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def refuse(reason: str):
    raise ScriptRefused(reason)


class Budget:
    """Steps and allocation one evaluation may spend; deterministic, with a clock as a backstop."""
    __slots__ = ("steps", "charges", "allocated", "deadline")

    def __init__(self) -> None:
        self.steps = 0
        self.charges = 0
        self.allocated = 0
        self.deadline = time.monotonic() + MAX_SECONDS

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            refuse(f"the script ran more than {MAX_STEPS:,} loop steps")
        if not self.steps & 255:
            self.check_clock()

    def charge(self, amount: int) -> None:
        self.allocated += amount
        if self.allocated > MAX_ALLOCATION:
            refuse(f"the script built more than {MAX_ALLOCATION:,} characters and items in all")
        self.charges += 1
        if not self.charges & 255:  # the clock is the backstop: read it now and then, as step() does
            self.check_clock()

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            refuse(f"the script ran longer than its time budget of {MAX_SECONDS:g} s")


active_budget: ContextVar[Budget] = ContextVar("sandbox_budget")


def _charge(amount: int) -> None:
    active_budget.get().charge(amount)


def item(value):
    """A value going into a list, dict, set or tuple the script builds: no containers inside."""
    if type(value) in SCALAR_TYPES or value in BUILTIN_CALLABLES:
        return value
    refuse(f"a {kind(value)} cannot be put inside a list, dict, set or tuple in a script "
           "(structures a script builds hold text, numbers, dates, booleans and None)")


# Python hashes a number by its value modulo 2**61 - 1: 100,000 multiples of it are one hash bucket,
# and `set(l)` of them probed 5 * 10**9 times in one C call (it never finished). Below the modulus,
# distinct whole numbers hash apart, and a Decimal of at most 18 digits collides with at most one
# other per exponent.
HASH_MODULUS = 2 ** 61 - 1


def member(value):
    """A value going into a set or becoming a dict key: plain, and not one that collides on purpose."""
    item(value)
    kind_of = type(value)
    if kind_of is int and not -HASH_MODULUS < value < HASH_MODULUS \
            or kind_of is Decimal and value.is_finite() and len(value.as_tuple().digits) > 18:
        refuse("a number this large cannot be a set member or a dict key")
    return value


def _check_int_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        refuse(f"the number would have more than {MAX_INT_BITS} bits")


def _limit_for(value) -> int:
    return MAX_STRING if isinstance(value, str) else MAX_ITEMS


# An item of a dict or set costs about eight list items of memory (a 100,000-item dict is 5 MB):
# charged as such, 10,000,000 in all is ~80 MB of any kind, not 500 MB of dict copies.
HASHED_WEIGHT = 8


def _weight(value) -> int:
    return HASHED_WEIGHT if isinstance(value, (dict, set, frozenset)) else 1


def _check_size(value, size: int, grown: int | None = None) -> None:
    """`value` would have `size` characters or items: within the limit, and charged for what is
    made (`grown`, when a value grows in place: append() makes one item, not a new list)."""
    limit = _limit_for(value)
    if size > limit:
        what = "characters" if isinstance(value, str) else "items"
        refuse(f"the {kind(value)} would have {size:,} {what}; at most {limit:,} are allowed")
    _charge((size if grown is None else grown) * _weight(value))


# -- operators ----------------------------------------------------------------------------------
def add(left, right):
    if isinstance(left, _SEQUENCES) and type(left) is type(right):
        _check_size(left, len(left) + len(right))
    elif type(left) is int and type(right) is int:
        # One bit per addition, but `x = x + x` in a loop doubles: 20,000 times is a number the
        # serializer cannot write (more than 4,300 digits).
        _check_int_bits(max(left.bit_length(), right.bit_length()) + 1)
    return left + right


def sub(left, right):
    if type(left) is int and type(right) is int:
        _check_int_bits(max(left.bit_length(), right.bit_length()) + 1)  # `x - -x` doubles too
    return left - right


def mul(left, right):
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, _SEQUENCES) and isinstance(count, int):
            _check_size(sequence, len(sequence) * max(count, 0))
            return left * right
    if type(left) in (int, bool) and type(right) in (int, bool):
        _check_int_bits(left.bit_length() + right.bit_length())
    return left * right


def power(base, exponent):
    if type(base) in (int, bool) and type(exponent) in (int, bool) and exponent > 0 \
            and base not in (0, 1, -1):
        _check_int_bits(base.bit_length() * exponent)
    elif isinstance(base, Decimal) or isinstance(exponent, Decimal):
        _check_decimal_operand(base)
        _check_decimal_operand(exponent)
    return base ** exponent


def lshift(value, shift):
    if type(value) in (int, bool) and type(shift) in (int, bool) and value and shift > 0:
        _check_int_bits(value.bit_length() + shift)
    return value << shift


def mod(left, right):
    if isinstance(left, str):
        refuse("'%' formatting of text is not part of the script language; use an f-string")
    return left % right


def _check_decimal_operand(value) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        _check_int_bits(value.bit_length())


def sliced(sequence, lower, upper, step):
    """`x[a:b:c]` copies: a comprehension of `text[1:]` would make 100,000 copies of a long text."""
    part = slice(lower, upper, step)
    if isinstance(sequence, _SEQUENCES):
        _charge(len(range(*part.indices(len(sequence)))))
    return sequence[part]


def built(value):
    """A structure copied whole by the syntax (`{**d}`): charged as a method's copy would be."""
    _check_size(value, len(value))
    return value


# -- loops ----------------------------------------------------------------------------------------
_ITERABLE_TYPES = (list, tuple, dict, set, frozenset, str, range, type({}.keys()), type({}.values()),
                   type({}.items()), enumerate, reversed, type(reversed([])), type(reversed({})),
                   type(iter(range(0))), type(iter([])), type(iter("")), type(x for x in ()))


_GENERATOR = type(x for x in ())
# What enumerate() takes: values that hold their items, not iterators over other iterators.
_COLLECTIONS = (str, list, tuple, dict, set, frozenset, range, type({}.keys()), type({}.values()),
                type({}.items()))


def iterate(iterable):
    """Every `for` of a script and of its comprehensions: one budget step per item.

    Not over a generator expression: `g = (c for c in g)` 100,000 times is a chain of generators
    that the C stack recursed through when the last one was consumed, and the server died (a
    segfault, not an exception). A generator is summed, listed or joined instead."""
    if not isinstance(iterable, _ITERABLE_TYPES):
        refuse(f"a {kind(iterable)} cannot be looped over")
    if isinstance(iterable, _GENERATOR):
        refuse("a generator expression cannot be looped over again; make it a list, or sum() it")
    return _steps(iterable)  # checked now, when the loop or the generator expression starts


def _steps(values):
    budget = active_budget.get()
    for value in values:
        budget.step()
        yield value


# -- items, attributes, methods -------------------------------------------------------------------
def setitem(container, key, value):
    """`x[k] = v`: one item at a time, plain values only, within the size limit."""
    if type(container) not in (list, dict):
        refuse(f"items of a {kind(container)} cannot be assigned")
    if isinstance(key, slice):
        refuse("assign one item at a time (slices cannot be assigned)")
    item(value)
    if type(container) is dict and member(key) not in container and len(container) >= MAX_ITEMS:
        refuse(f"the dict would have more than {MAX_ITEMS:,} items")
    container[key] = value


def attr(obj, name: str):
    allowed = ATTRIBUTES.get(type(obj), ())
    if name in allowed:
        return getattr(obj, name)
    if name in METHODS.get(type(obj), {}):
        refuse(f"'.{name}' is a method: call it, as in x.{name}(...)")
    refuse(f"a {kind(obj)} has no attribute '.{name}' in the script language")


def method(obj, name: str, *args, **kwargs):
    table = METHODS.get(type(obj))
    if table is None or name not in table:
        refuse(f"'.{name}()' is not available on a {kind(obj)} in the script language")
    check = table[name]
    if check is not None:
        args = check(obj, args, kwargs) or args
    result = getattr(obj, name)(*args, **kwargs)
    _charge_result(name, result)
    return result


# Methods whose list or tuple holds new texts, not the items of an existing structure.
_TEXT_PIECES = frozenset({"split", "rsplit", "splitlines", "partition", "rpartition"})


def _charge_result(name: str, result) -> None:
    """What a method made counts against the budget: texts, copies, and the pieces of a split.

    Checked after the call: no method here makes more than three times what it was called on
    ('ß'.upper() is 'SS', 'ﬃ'.upper() is 'FFI'; 'ab'.split('') is refused by Python), so the
    result is bounded by a value that already exists; refusing it keeps the limits true."""
    kind_of = type(result)
    if kind_of is str:
        _check_size(result, len(result))
    elif kind_of in (list, tuple):
        size = len(result)
        if name in _TEXT_PIECES:
            size += sum(len(piece) for piece in result)
        if len(result) > MAX_ITEMS:
            refuse(f"the {kind(result)} would have {len(result):,} items; at most {MAX_ITEMS:,} are allowed")
        _charge(size)
    elif kind_of in (dict, set):
        _charge(len(result) * HASHED_WEIGHT)


def _no_kwargs(name, kwargs, allowed=()):
    extra = set(kwargs) - set(allowed)
    if extra:
        refuse(f"{name}() does not take {', '.join(sorted(extra))}=")


def _check_width(obj, args, kwargs):
    _no_kwargs("padding", kwargs)
    width = args[0] if args else 0
    if isinstance(width, int) and width > MAX_STRING:
        refuse(f"text can be padded to at most {MAX_STRING:,} characters")


def _check_replace(text, args, kwargs):
    _no_kwargs("replace", kwargs)
    if len(args) < 2 or not isinstance(args[0], str) or not isinstance(args[1], str):
        return None
    old, new = args[0], args[1]
    count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
    hits = text.count(old) if old else len(text) + 1
    if count >= 0:
        hits = min(hits, count)
    _check_size(text, len(text) + hits * (len(new) - len(old)))
    return None


def _check_join(separator, args, kwargs):
    _no_kwargs("join", kwargs)
    if len(args) != 1:
        return None
    parts = _materialize(args[0])
    if not all(isinstance(p, str) for p in parts):
        refuse("join() takes a list of texts")
    _check_size(separator, sum(map(len, parts)) + len(separator) * max(len(parts) - 1, 0))
    return (parts,)


def _check_append(container, args, kwargs):
    _no_kwargs("append", kwargs)
    for value in args:
        item(value)
    _check_size(container, len(container) + 1, grown=1)
    return None


def _check_insert(container, args, kwargs):
    _no_kwargs("insert", kwargs)
    if len(args) == 2:
        item(args[1])
    _check_size(container, len(container) + 1, grown=1)
    return None


def _check_extend(container, args, kwargs):
    _no_kwargs("extend", kwargs)
    if len(args) != 1:
        return None
    values = [item(v) for v in _materialize(args[0])]
    _check_size(container, len(container) + len(values), grown=len(values))
    return (values,)


def _check_dict_update(container, args, kwargs):
    other = dict(args[0]) if args and isinstance(args[0], dict) else None
    if args and other is None:
        refuse("update() takes a dict")
    values = {**(other or {}), **kwargs}
    for value in values.values():
        item(value)
    _check_size(container, len(container) + len(values), grown=len(values))
    return None


def _check_setdefault(container, args, kwargs):
    _no_kwargs("setdefault", kwargs)
    if args:
        member(args[0])
    if len(args) == 2:
        item(args[1])
    _check_size(container, len(container) + 1, grown=1)
    return None


def _check_set_add(container, args, kwargs):
    _no_kwargs("add", kwargs)
    for value in args:
        member(value)
    _check_size(container, len(container) + 1, grown=1)
    return None


def _check_set_update(container, args, kwargs):
    _no_kwargs("update", kwargs)
    return (_set_arguments(container, args, grows=True, plain=True),)


def _set_arguments(container, args, *, grows: bool, plain: bool = False) -> list:
    """The iterables a set method takes, each copied once and charged, so `s.union(*texts)` cannot
    make one C call walk 100,000 arguments of 100,000 characters each."""
    values, count = [], len(container)
    for arg in args:
        copied = _materialize(arg)
        for value in copied:  # every set method hashes its arguments' items
            member(value)
        count += len(copied)
        if grows:  # the copies were charged; union() makes a new set of at most `count` items
            _check_size(container, count, grown=0)
        if plain:  # update(): one flat list of plain values
            values.extend(copied)
        else:
            values.append(copied)
    return values


def _check_set_growth(container, args, kwargs):
    _no_kwargs("union", kwargs)
    return _set_arguments(container, args, grows=True)


def _check_set_reading(container, args, kwargs):
    _no_kwargs("set operation", kwargs)
    return _set_arguments(container, args, grows=False)


def _check_sort(container, args, kwargs):
    _check_key(kwargs)
    _no_kwargs("sort", kwargs, ("key", "reverse"))
    return None


def _check_quantize(number, args, kwargs):
    _no_kwargs("quantize", kwargs, ("rounding",))
    _check_rounding(kwargs.get("rounding"))
    if args and not isinstance(args[0], Decimal):
        refuse("quantize() takes a Decimal, as in amount.quantize(Decimal('0.01'))")
    return None


def _check_to_integral(number, args, kwargs):
    _no_kwargs("to_integral_value", kwargs, ("rounding",))
    _check_rounding(kwargs.get("rounding"))
    return None


def _check_date_replace(value, args, kwargs):
    _no_kwargs("replace", kwargs, ("year", "month", "day", "hour", "minute", "second", "microsecond"))
    if args:
        refuse("replace() takes named parts only, as in d.replace(day=1)")
    return None


ROUNDINGS = {name: getattr(decimal, name) for name in (
    "ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_HALF_DOWN", "ROUND_UP", "ROUND_DOWN", "ROUND_CEILING",
    "ROUND_FLOOR")}


def _check_rounding(rounding) -> None:
    if rounding is not None and rounding not in ROUNDINGS.values():
        refuse(f"rounding must be one of {', '.join(ROUNDINGS)}")


def _materialize(iterable) -> list:
    if isinstance(iterable, _ITERABLE_TYPES):
        if isinstance(iterable, (str, list, tuple, dict, set, frozenset, range)) and len(iterable) > MAX_ITEMS:
            refuse(f"more than {MAX_ITEMS:,} items")
        values = list(iterable)
        if len(values) > MAX_ITEMS:
            refuse(f"more than {MAX_ITEMS:,} items")
        _charge(len(values))  # a copy, made for the check
        return values
    refuse(f"a {kind(iterable)} is not a list of values")


_TEXT_READERS = ("capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha",
                 "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle", "isupper",
                 "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind", "rindex",
                 "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip",
                 "swapcase", "title", "upper")
_DATE_READERS = ("isoformat", "weekday", "isoweekday")
METHODS: dict[type, dict] = {
    str: {**{name: None for name in _TEXT_READERS}, "replace": _check_replace, "join": _check_join,
          "ljust": _check_width, "rjust": _check_width, "center": _check_width, "zfill": _check_width},
    list: {"append": _check_append, "extend": _check_extend, "insert": _check_insert, "count": None,
           "index": None, "pop": None, "remove": None, "reverse": None, "sort": _check_sort, "copy": None},
    dict: {"get": None, "keys": None, "values": None, "items": None, "pop": None, "copy": None,
           "setdefault": _check_setdefault, "update": _check_dict_update},
    set: {"add": _check_set_add, "discard": None, "remove": None, "pop": None, "copy": None,
          "update": _check_set_update, "union": _check_set_growth, "intersection": _check_set_reading,
          "difference": _check_set_reading, "symmetric_difference": _check_set_growth,
          "issubset": _check_set_reading, "issuperset": _check_set_reading, "isdisjoint": _check_set_reading},
    tuple: {"count": None, "index": None},
    Decimal: {"quantize": _check_quantize, "to_integral_value": _check_to_integral, "copy_abs": None,
              "copy_negate": None, "is_zero": None, "is_signed": None, "is_finite": None},
    float: {"is_integer": None},
    _dt.date: {**{name: None for name in _DATE_READERS}, "replace": _check_date_replace},
    _dt.datetime: {**{name: None for name in _DATE_READERS}, "replace": _check_date_replace, "date": None},
    _dt.timedelta: {"total_seconds": None},
}
ATTRIBUTES: dict[type, frozenset] = {
    _dt.date: frozenset({"year", "month", "day"}),
    _dt.datetime: frozenset({"year", "month", "day", "hour", "minute", "second", "microsecond"}),
    _dt.timedelta: frozenset({"days", "seconds", "microseconds"}),
}
METHOD_NAMES = frozenset(name for table in METHODS.values() for name in table)
ATTRIBUTE_NAMES = frozenset(name for names in ATTRIBUTES.values() for name in names)


# -- f-strings ------------------------------------------------------------------------------------
def format_value(value, spec: str) -> str:
    if type(value) not in SCALAR_TYPES:
        refuse(f"a {kind(value)} cannot be put in an f-string; pick the values you need")
    if spec and spec[-1] in "f%" and isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        # 'f' writes every digit: f"{Decimal('1e999999999'):f}" would be a billion characters.
        if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 40:
            refuse("the number is too large to write out in full")
        # ... and every digit after the point: Decimal('1e-999999999') from outside is 1 GB of zeros.
        if isinstance(value, Decimal) and value.is_finite() and -value.as_tuple().exponent > MAX_DECIMAL_EXPONENT:
            refuse("the number has too many digits to write out in full")
        if isinstance(value, float) and abs(value) > 1e40:
            refuse("the number is too large to write out in full")
        if isinstance(value, int) and value.bit_length() > 140:
            refuse("the number is too large to write out in full")
    text = format(value, spec)
    return text


def fstring(*parts: str) -> str:
    size = sum(map(len, parts))
    if size > MAX_STRING:
        refuse(f"the text would have {size:,} characters; at most {MAX_STRING:,} are allowed")
    _charge(size)
    return "".join(parts)


# -- builtins ------------------------------------------------------------------------------------
def safe_str(value="") -> str:
    if type(value) not in SCALAR_TYPES:
        refuse(f"str() of a {kind(value)} is not available; pick the values you need")
    text = str(value)
    _charge(len(text))
    return text


def _check_whole_number_of(value) -> None:
    """Before int(x) or round(x): Decimal('1e999999') as an int is a million digits, computed in
    one C call that ran 38 s."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > 1_200:
        refuse(f"the number would have more than {MAX_INT_BITS} bits")
    if isinstance(value, float) and abs(value) > 1e300:
        refuse(f"the number would have more than {MAX_INT_BITS} bits")


def safe_int(value=0, *base):
    if isinstance(value, str) and len(value) > 1_300:
        refuse("the text is too long to be a number")
    _check_whole_number_of(value)
    result = int(value, *base)
    _check_int_bits(result.bit_length())
    return result


def safe_decimal(value="0"):
    if isinstance(value, str) and len(value) > 200:
        refuse("the text is too long to be a Decimal")
    if isinstance(value, int) and not isinstance(value, bool):
        _check_int_bits(value.bit_length())
    if type(value) not in (str, int, float, bool, Decimal):
        refuse(f"Decimal() takes text or a number, not a {kind(value)}")
    result = Decimal(value)
    if not result.is_finite():
        refuse("Decimal() must be a finite number (no NaN or Infinity)")
    if abs(result.adjusted()) > MAX_DECIMAL_EXPONENT:
        refuse(f"the Decimal's exponent is beyond ±{MAX_DECIMAL_EXPONENT}")
    return result


def safe_round(number, digits=None):
    if digits is not None:
        if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
            refuse(f"round() takes at most {MAX_ROUND_DIGITS} digits either way")
        return round(number, digits)
    _check_whole_number_of(number)
    return round(number)


def safe_enumerate(values, start=0):
    """Of a collection only: enumerate(enumerate(...)) 200,000 deep recursed through the C stack
    when consumed, and crashed the server."""
    if not isinstance(values, _COLLECTIONS):
        refuse(f"enumerate() takes a list, text, tuple, dict, set or range, not a {kind(values)}")
    return enumerate(values, start)


def safe_range(*args):
    values = range(*args)
    if len(values) > MAX_ITEMS:
        refuse(f"a range of {len(values):,} items exceeds the limit of {MAX_ITEMS:,}")
    return values


def safe_sum(values, start=0):
    if not isinstance(values, _ITERABLE_TYPES):
        refuse(f"a {kind(values)} cannot be summed")
    total = start
    for value in _steps(values):  # sum(a for a in amounts): one generator, consumed here
        if type(value) not in (int, float, Decimal, bool):
            refuse(f"sum() adds numbers, not a {kind(value)}")
        total = add(total, value)
    return total


def safe_isinstance(value, types) -> bool:
    """isinstance(x, str) must see the real types behind our checked wrappers."""
    if isinstance(types, tuple):
        types = tuple(TYPE_FOR_ISINSTANCE.get(t, t) for t in types)
    else:
        types = TYPE_FOR_ISINSTANCE.get(types, types)
    return isinstance(value, types)


def to_date(text) -> _dt.date:
    """A date from task data's ISO text ('2026-12-01'); JSON has no date type."""
    if isinstance(text, _dt.datetime):
        return text.date()
    if isinstance(text, _dt.date):
        return text
    if not isinstance(text, str) or len(text) > 32:
        refuse("to_date() takes an ISO date text such as '2026-12-01'")
    return _dt.date.fromisoformat(text[:10])


def _sized(result):
    if len(result) > MAX_ITEMS:
        refuse(f"more than {MAX_ITEMS:,} items")
    _charge(len(result) * _weight(result))
    return result


def safe_list(values=()):
    return _sized(list(values))


def safe_tuple(values=()):
    return _sized(tuple(values))


def safe_set(values=()):
    return _sized({member(v) for v in _materialize(values)})


def safe_dict(*args, **kwargs):
    if args and not isinstance(args[0], dict):  # pairs, as from a list of [key, value] lists
        args = ([(member(key), value) for key, value in _materialize(args[0])], *args[1:])
    result = dict(*args, **kwargs)
    copies = len(args) == 1 and isinstance(args[0], dict)
    for value in (kwargs.values() if copies else result.values()):
        item(value)
    return _sized(result)


def _check_key(kwargs) -> None:
    key = kwargs.get("key")
    if key is not None and key not in KEY_FUNCTIONS:
        refuse("key= takes one of the builtins len, str, abs, int, float")


def safe_sorted(values, **kwargs):
    _check_key(kwargs)
    _no_kwargs("sorted", kwargs, ("key", "reverse"))
    return _sized(sorted(values, **kwargs))


def safe_min(*args, **kwargs):
    _check_key(kwargs)
    _no_kwargs("min", kwargs, ("key", "default"))
    return min(*args, **kwargs)


def safe_max(*args, **kwargs):
    _check_key(kwargs)
    _no_kwargs("max", kwargs, ("key", "default"))
    return max(*args, **kwargs)


class _Guards:
    """What rewritten code calls as `__sb__.name(...)`; scripts cannot name it (no '_' names)."""
    __slots__ = ()
    add = staticmethod(add)
    sub = staticmethod(sub)
    mul = staticmethod(mul)
    power = staticmethod(power)
    lshift = staticmethod(lshift)
    mod = staticmethod(mod)
    iterate = staticmethod(iterate)
    item = staticmethod(item)
    member = staticmethod(member)
    setitem = staticmethod(setitem)
    attr = staticmethod(attr)
    method = staticmethod(method)
    slice = staticmethod(sliced)
    built = staticmethod(built)
    format = staticmethod(format_value)
    fstring = staticmethod(fstring)


GUARDS = _Guards()
GUARD_NAME = "__sb__"

# The names a script sees besides its task data. Each one is a function or type whose every
# argument is checked above, or one that cannot allocate more than its input.
BUILTINS = {
    "abs": abs, "all": all, "any": any, "bool": bool, "len": len, "isinstance": safe_isinstance,
    "enumerate": safe_enumerate, "reversed": reversed, "float": float,
    "str": safe_str, "int": safe_int, "Decimal": safe_decimal, "round": safe_round,
    "range": safe_range, "sum": safe_sum, "list": safe_list, "tuple": safe_tuple, "set": safe_set,
    "dict": safe_dict, "sorted": safe_sorted, "min": safe_min, "max": safe_max,
    "date": _dt.date, "datetime": _dt.datetime, "timedelta": _dt.timedelta, "to_date": to_date,
    "True": True, "False": False, "None": None, **ROUNDINGS,
}
CALLABLE_BUILTINS = frozenset(name for name, value in BUILTINS.items() if callable(value))
BUILTIN_CALLABLES = tuple(value for value in BUILTINS.values() if callable(value))
KEY_FUNCTIONS = (len, safe_str, abs, safe_int, float)
# isinstance(x, str) must see the real types, not our wrappers.
TYPE_FOR_ISINSTANCE = {safe_str: str, safe_int: int, safe_decimal: Decimal, safe_list: list,
                       safe_tuple: tuple, safe_set: set, safe_dict: dict, safe_enumerate: enumerate}
