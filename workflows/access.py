"""Which branches a caller reaches: the one rule behind every "another branch's ... was not found".

Staff reach their own branch, head office's reach every branch. An integrator client (its token
signs in as a stand-in User with `client_scope`, workflows/integrators.py) reaches exactly the
branches it was given; a client of one branch stands in with that branch as its `branch_code`, a
client of several with HQ's, so its branches must come from here, never from `branch_code` alone.
"""
from __future__ import annotations

from sqlalchemy import Select

from workflows.models import HQ, User


def branches_reached(actor: User) -> frozenset[str] | None:
    """The branches `actor` may work in; None for every branch."""
    scope = actor.client_scope
    if scope is not None:
        return scope.branches
    return None if actor.branch_code == HQ else frozenset({actor.branch_code})


def reaches(actor: User, branch_code: str) -> bool:
    branches = branches_reached(actor)
    return branches is None or branch_code in branches


def within_reach(query: Select, column, actor: User) -> Select:
    """`query` narrowed to the rows of the branches `actor` reaches (`column`: their branch code)."""
    branches = branches_reached(actor)
    return query if branches is None else query.where(column.in_(sorted(branches)))
