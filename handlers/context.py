"""What a handler gets besides the task data: the unit of work and the instance's context.

Handlers are plain functions `handler(ctx, data) -> dict`. They never commit: the session belongs
to the unit of work that runs the whole step.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy.orm import Session


@dataclass
class HandlerContext:
    session: Session
    application_id: str | None  # None for a process not about an application (collections, a check)
    branch: dict
    product: dict
    actor: str
    now: dt.datetime
    # The resolved file text for this application's branch (branch override, else HQ default).
    resource: Callable[[str], str]
    services: dict = field(default_factory=dict)  # e.g. the credit-bureau client
    instance_id: str = ""  # posting keys of servicing processes derive from it

    @property
    def business_date(self) -> dt.date:
        return self.now.date()
