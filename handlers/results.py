"""Typed handler results: what a service task adds to the task data, as a small frozen value.

A handler returns one of these (a frozen dataclass); the engine merges its fields into the task
data by name. The names are the contract with the diagrams (a gateway reads `loan_current`), so
they are declared once, here or beside the handler, rather than spelt in a loose dict.
"""
from __future__ import annotations

import dataclasses


def task_data_of(result) -> dict:
    """The fields of a typed result by name, values as they are (Decimals stay Decimals)."""
    if not (dataclasses.is_dataclass(result) and not isinstance(result, type)):
        raise TypeError(f"{type(result).__name__} is not a handler result")
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
