"""One's own account: who one is, and changing one's own password.

A password an administrator set (a new account's first one, a reset) is known to two people, so
`password_change_required` is set with it and the pages send the user here first at the next
sign-in; changing it clears the flag. The current password is asked for again: a session left open
on a counter's PC must not be enough to take the account over. A wrong current password counts as
a failed sign-in (the same lockout), or this form would be a way round it — so the outcome is
returned, not raised: the caller commits the count and then refuses.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.administration import audit, password_problem, refused
from workflows.directory import hash_password, record_failed_password, verify_password
from workflows.errors import Forbidden
from workflows.models import User


def account_view(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "branch": user.branch_code,
            "outlet": user.outlet_code, "roles": sorted(user.role_set),
            "password_change_required": bool(user.password_change_required),
            "password_changed_at": user.password_changed_at.isoformat() + "Z" if user.password_changed_at else None}


@dataclass(frozen=True)
class PasswordChange:
    """What a change came to: done, or every reason it was refused, by field."""
    problems: dict[str, list[str]] = field(default_factory=dict)
    locked: bool = False

    def raise_if_refused(self) -> None:
        if self.locked:
            raise Forbidden("This account is now locked after repeated wrong passwords; an administrator can "
                            "unlock it", field="current_password")
        if self.problems:
            raise refused("The password was not changed", self.problems)


def change_own_password(session: Session, username: str, current: str, new: str, now: dt.datetime) -> PasswordChange:
    """Replace one's own password. Refused, naming each field: a wrong current password, a new one
    too short, the same as the current one, or containing the username."""
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    if user is None or not user.enabled or user.locked_at is not None:
        raise Forbidden("This account cannot change its password now; ask an administrator")
    if not verify_password(current or "", user.password_hash):
        locked = record_failed_password(session, user, now)
        return PasswordChange({"current_password": ["is not your current password"]}, locked=locked)
    problems: dict[str, list[str]] = {}
    if problem := password_problem(new or ""):
        problems["new_password"] = [problem]
    elif new == current:
        problems["new_password"] = ["must differ from the current password"]
    elif user.username.lower() in new.lower():
        problems["new_password"] = ["must not contain your username"]
    if problems:
        return PasswordChange(problems)
    user.password_hash = hash_password(new)
    user.password_change_required = False
    user.password_changed_at = now
    user.failed_sign_ins = 0
    audit(session, user, now, "password_changed", "user", user.username, user.branch_code, {},
          {"password": "changed by its user"})
    return PasswordChange()
