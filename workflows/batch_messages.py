"""Messages the after-EOD steps send to running instances (a loan current again, a withdrawn
classification proposal), each in its own unit of work so one instance's failure leaves the
others' deliveries alone."""
from __future__ import annotations

import logging

from privacy import redact_text
from workflows.db import Database
from workflows.errors import NotFound, WorkflowError
from workflows.processes import SYSTEM_USER, Message, ProcessLayer

log = logging.getLogger(__name__)


def deliver_from_batch(db: Database, layer: ProcessLayer, message: Message, what: str) -> bool:
    """True when an instance took the message. False when none waits for it at the moment (the
    caller says in its docstring why that is fine) or the delivery failed (logged, masked)."""
    try:
        with db.unit_of_work() as session:
            layer.deliver(session, message, SYSTEM_USER)
        return True
    except NotFound:
        return False
    except WorkflowError as err:
        log.error("%s: %s not delivered: %s", what, message.name, redact_text(err.message))
        return False
