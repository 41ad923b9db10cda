"""People, branches and products: who may do what where."""
from __future__ import annotations

import hashlib
import hmac
import os

from sqlalchemy.orm import Session

from workflows.models import User

_ITERATIONS = 120_000


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        _, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(candidate.hex(), digest)


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.get(User, username)
    if user is None or not verify_password(password, user.password_hash):
        return None
    return user
