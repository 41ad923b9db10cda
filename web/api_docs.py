"""What each API route declares about itself, so the OpenAPI document is generated, not written.

`@documented(...)` sits right under the route decorator; `web.auth.require` records the roles.
`web/api/openapi.py` walks the app's URL map: every /api/v1 route must be documented (a test
fails otherwise), its path parameters come from the route, its body schema from the form
definition's marshmallow schema. A route cannot be served and missing from the document.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

ATTRIBUTE = "api_operation"


@dataclass(frozen=True)
class Query:
    name: str
    kind: str = "string"
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    summary: str
    body: str | None = None               # a form name in forms/definitions.py
    ok: int = 200
    query: tuple[Query, ...] = ()
    idempotency: str | None = None        # "required" or "optional": the Idempotency-Key header
    multipart: dict | None = None         # property name -> JSON schema, for multipart bodies
    errors: tuple[int, ...] = (400, 401, 403, 404, 409, 415, 422)
    description: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def documented(summary: str, *, ok: int = 200, query: tuple = (), **options) -> Callable:
    """Declare a view's summary, body form, success status, query parameters and headers."""
    queries = tuple(q if isinstance(q, Query) else Query(q) for q in query)

    def decorate(view):
        setattr(view, ATTRIBUTE, Operation(summary=summary, ok=ok, query=queries, **options))
        return view
    return decorate


def operation_of(view) -> Operation | None:
    return getattr(view, ATTRIBUTE, None)


def roles_of(view) -> tuple[str, ...] | None:
    """The roles `require` demands (empty: any signed-in user); None for a public route."""
    return getattr(view, "required_roles", None)
