"""Per-request access to the shared services and one unit of work."""
from __future__ import annotations

from contextlib import contextmanager

from flask import current_app

from web.services import Services


def services() -> Services:
    return current_app.extensions["loanflow"]


@contextmanager
def unit_of_work():
    with services().db.unit_of_work() as session:
        yield session


@contextmanager
def read_only():
    """A session for reads; rolled back at the end, so nothing a read does can stick."""
    session = services().db.read_sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
