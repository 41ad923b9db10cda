"""The bounds every analyst's script, condition and DMN cell runs within (docs/script-language.md).

Each bound exists because one C call can otherwise do unbounded work where no time check can
interrupt it: `"a".ljust(10**10)` allocates 10 GB inside one call, `x ** 64` on a big int runs for
seconds. So sizes are checked BEFORE an operation that could produce something big, and the whole
evaluation shares a step and allocation budget that is deterministic (the same script fails the
same way every time), with a wall-clock deadline only as the last backstop.
"""
from __future__ import annotations

MAX_SOURCE_CHARS = 20_000      # one script, condition or cell
MAX_SYNTAX_DEPTH = 60          # nesting of the syntax tree (brackets, operators, blocks)
MAX_STRING = 100_000           # characters in any text a script builds
MAX_ITEMS = 100_000            # items in any list, dict, set or tuple a script builds, and in a range
MAX_INT_BITS = 4_096           # about 1,233 decimal digits; far beyond any amount or count
MAX_DECIMAL_EXPONENT = 1_000   # Decimal('1e999999999') exists exactly; int() of it would not fit
MAX_STEPS = 200_000            # loop and comprehension iterations per evaluation
MAX_ALLOCATION = 10_000_000    # characters + items created by text and list operations per evaluation
MAX_SECONDS = 1.0              # wall-clock backstop per evaluation
MAX_ROUND_DIGITS = 30          # round(x, n): 10 ** -n is computed exactly for ints
MAX_STORED_NODES = 200_000     # values in task data a script leaves behind
MAX_STORED_DEPTH = 20          # nesting of task data a script leaves behind
