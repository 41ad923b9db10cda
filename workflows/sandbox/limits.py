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
# Task data a script leaves, counted as the serializer writes it (`[s] * 100000` is 100,000 copies
# of s). SpiffWorkflow keeps a copy per task, so an instance's saved state is some ten times this:
# at 200,000 values and 1,000,000 characters one application saved 10.6 MB at every step.
MAX_STORED_NODES = 50_000      # values in all the task data
MAX_STORED_CHARS = 500_000     # characters of text in it (an application's own: ~5,000)
MAX_STORED_DEPTH = 20          # nesting of task data a script leaves behind

# The process around the scripts. A loop of engine tasks (a gateway back to a script task, a call
# activity calling its own process, a parallel gateway feeding itself) never waits for a person,
# and SpiffWorkflow's cost per task grows with the number of tasks; each evaluation is bounded,
# but not their number. So one advance of an instance runs at most so many tasks, with a clock as
# the backstop (time spent in handlers, such as a slow credit bureau, does not count).
MAX_PROCESS_STEPS = 500        # engine tasks one advance of an instance may run (an application: ~25)
MAX_PROCESS_SECONDS = 3.0      # engine time one advance may take, handlers not counted (usual: 0.05 s)
MAX_INSTANCES = 100            # instances of a multi-instance task (its loopCardinality)
MAX_TIMER_CHARS = 64           # the text a timer expression gives
MAX_CELL_PLACEHOLDERS = 10     # '?' in one DMN cell: SpiffWorkflow scans the rest of the cell per '?'
MAX_DEPLOYMENT_CODE = 200_000  # characters of code in one deployment: checking costs ~5 µs a character
