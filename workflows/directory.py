"""Who someone is: password hashes, sign-in with a lockout, and the seam for an external directory.

`Directory` is the one interface the sign-in page and `POST /auth/token` call. `LocalDirectory`
checks the passwords kept in `app_user`; an LDAP or OIDC directory would implement the same
`sign_in` (and could leave roles and branches to the administration service, which keeps who may
do what where, whoever vouches for the password).

Hashes are scrypt (`scrypt$<n>$<r>$<p>$<salt>$<digest>`). A hash made before (PBKDF2-SHA256,
`pbkdf2_sha256$<iterations>$...`) or with lower scrypt costs than today's still verifies, and is
replaced by one of today's at the next successful sign-in, so stored hashes follow the costs up.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import AdminAudit, User

# scrypt's costs: N=2^14 (16 MiB of memory per hash), r=8, p=1 — about 60 ms here. Raise them
# here and every stored hash is upgraded at its user's next sign-in.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
LOCKOUT_AFTER = 5  # consecutive failed sign-ins; an administrator unlocks


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32)


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    parts = stored.split("$")
    try:
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            candidate = _scrypt(password, bytes.fromhex(parts[4]), n, r, p)
        elif parts[0] == "pbkdf2_sha256" and len(parts) == 4:
            candidate = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), bytes.fromhex(parts[2]), int(parts[1]))
        else:
            return False
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), parts[-1])


def needs_rehash(stored: str) -> bool:
    """Whether a hash is weaker than one made today (another scheme, or lower scrypt costs)."""
    parts = stored.split("$")
    return not (parts[0] == "scrypt" and len(parts) == 6
                and (int(parts[1]), int(parts[2]), int(parts[3])) >= (SCRYPT_N, SCRYPT_R, SCRYPT_P))


@dataclass(frozen=True)
class SignIn:
    """What a sign-in came to: the user, or why not (`unknown`: unknown user or wrong password,
    told apart from nothing so that a name cannot be probed; `locked`; `disabled`)."""
    user: User | None
    refusal: str | None = None

    MESSAGES = {
        "unknown": "Unknown user or wrong password",
        "locked": f"This account is locked after {LOCKOUT_AFTER} failed sign-ins; an administrator can unlock it",
        "disabled": "This account is disabled; ask an administrator",
    }

    @property
    def message(self) -> str:
        return self.MESSAGES[self.refusal or "unknown"]


class Directory(Protocol):
    """Checks who someone is. Call inside a unit of work: a sign-in may record a failed attempt."""

    def sign_in(self, session: Session, username: str, password: str, now: dt.datetime) -> SignIn: ...


class LocalDirectory:
    """Passwords kept (hashed) in app_user, with a lockout after LOCKOUT_AFTER failures in a row."""

    def sign_in(self, session: Session, username: str, password: str, now: dt.datetime) -> SignIn:
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            verify_password(password, _dummy_hash())  # as long as for a real user: no timing tell
            return SignIn(None, "unknown")
        if user.locked_at is not None:
            return SignIn(None, "locked")
        if not verify_password(password, user.password_hash):
            return SignIn(None, "locked" if record_failed_password(session, user, now) else "unknown")
        if not user.enabled:
            return SignIn(None, "disabled")
        user.failed_sign_ins = 0
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return SignIn(user)


def record_failed_password(session: Session, user: User, now: dt.datetime) -> bool:
    """Count a wrong password (at sign-in, or when changing one's own); lock the account at the
    LOCKOUT_AFTER-th in a row. True when this one locked it. Commit it even though the request fails."""
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    if user.failed_sign_ins < LOCKOUT_AFTER:
        return False
    user.locked_at = now
    session.add(AdminAudit(at=now, actor="system", branch_code=user.branch_code, action="user_locked",
                           target_kind="user", target=user.username, before={"locked": False},
                           after={"locked": True, "failed_sign_ins": user.failed_sign_ins}))
    return True


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password anyone has")
