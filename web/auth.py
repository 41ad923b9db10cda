"""Bearer tokens: signed, expiring, stateless (any web process can check them).

`require(*roles)` guards a view; the authenticated user is `g.user`.
"""
from __future__ import annotations

import time
from functools import wraps
from threading import Lock

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from web.errors import ApiError
from workflows.models import User

SALT = "loanflow-api-token"
# A user's roles and branch are read at most this often per process: a request should not cost a
# second transaction just to re-read who the caller is. Role changes apply within this many seconds.
USER_CACHE_SECONDS = 30.0
_user_cache_lock = Lock()


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(username: str) -> str:
    return _signer().dumps({"sub": username})


def user_from_token(token: str) -> str:
    max_age = current_app.extensions["loanflow"].settings.token_max_age_seconds
    try:
        return _signer().loads(token, max_age=max_age)["sub"]
    except SignatureExpired:
        raise ApiError(401, "token_expired", "The token has expired; ask for a new one") from None
    except BadSignature:
        raise ApiError(401, "invalid_token", "The token is not valid") from None


def _load_user(username: str) -> User | None:
    now = time.monotonic()
    cache = current_app.extensions.setdefault("loanflow_user_cache", {})  # per app, not per process
    with _user_cache_lock:
        cached = cache.get(username)
    if cached and cached[0] > now:
        return cached[1]
    with current_app.extensions["loanflow"].db.read_sessions() as session:
        user = session.get(User, username)
        if user is None:
            return None
        session.expunge(user)
    with _user_cache_lock:
        cache[username] = (now + USER_CACHE_SECONDS, user)
    return user


def require(*roles: str):
    """Authenticate the caller; with roles, the caller must hold at least one of them."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                raise ApiError(401, "unauthenticated", "Send 'Authorization: Bearer <token>' "
                                                       "(POST /api/v1/auth/token gives one)")
            user = _load_user(user_from_token(header[len("Bearer "):].strip()))
            if user is None:
                raise ApiError(401, "invalid_token", "The token's user no longer exists")
            if roles and not (user.role_set & set(roles)):
                raise ApiError(403, "forbidden", f"This needs one of the roles: {', '.join(roles)}")
            g.user = user
            return view(*args, **kwargs)
        return wrapper
    return decorator
