"""bench/timers.py's baseline: firing a due timer without the engine, to judge the real figures by."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from workflows.models import ProcessInstance
from workflows.timer_jobs import _claim


def claim_bare(db, _processes, *, at: dt.datetime, limit: int) -> list[str]:
    """The baseline: what firing a timer costs the database without the engine. The same claim
    statement as `fire_due_timers`, the instance locked and updated (as the step's save does),
    one transaction per timer; no audit, inbox, timer rewrite, (de)serialising or diagram."""
    cutoff = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    claimed = []
    while len(claimed) < limit:
        with db.unit_of_work() as session:
            timer = session.scalars(_claim(cutoff, set())).first()
            if timer is None:
                break
            instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == timer.instance_id)
                                      .with_for_update())
            instance.status, instance.updated_at = "completed", cutoff
            claimed.append(timer.instance_id)
    return claimed
