"""Bearer tokens: signed, expiring, stateless (any web process can check them).

A token is `<kid>.<payload>.<signature>`: the payload holds the user (`sub`), the expiry (`exp`,
Unix seconds) and the id of the key that signed it (`kid`); an integrator client's token also the
generation of the client's secret (`gen`, workflows/integrators.py), so a rotation stops it. The key id picks the key to verify
with, so a key can be rotated: LOANFLOW_SECRET_KEY signs new tokens, LOANFLOW_OLD_SECRET_KEYS
still verify the tokens they signed until those expire, and a key taken off both lists stops
every token it signed at once.

`require(*roles)` guards a view; the authenticated user is `g.user`.
"""
from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import wraps
from typing import Callable

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

from web.errors import ApiError
from workflows import integrators
from workflows.models import IntegratorClient, User

SALT = "loanflow-api-token"


def key_id(key: str) -> str:
    """The public name of a signing key: a keyed hash of a fixed label, so it tells nothing about
    the key itself, yet every web process derives the same id from the same key."""
    return hmac.new(key.encode("utf-8"), b"loanflow key id", hashlib.sha256).hexdigest()[:16]


class TokenSigner:
    """Issues tokens with the current key and verifies them with the current or an old key."""

    def __init__(self, current_key: str, old_keys: tuple[str, ...] = (), *, max_age_seconds: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.current_kid = key_id(current_key)
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self._serializers = {key_id(key): URLSafeSerializer(key, salt=SALT) for key in (*old_keys, current_key)}

    def issue(self, username: str, *, generation: int | None = None, password: str | None = None) -> str:
        """A token for a user, or (with the `generation` of its secret) for an integrator client.
        `password`: the stamp of the user's password (password_stamp), so a changed or reset
        password stops the tokens issued before it."""
        payload = {"sub": username, "exp": int(self.clock()) + self.max_age_seconds, "kid": self.current_kid}
        if generation is not None:
            payload["gen"] = generation
        if password is not None:
            payload["pwd"] = password
        return f"{self.current_kid}.{self._serializers[self.current_kid].dumps(payload)}"

    def username(self, token: str) -> str:
        return self.subject(token).name

    def subject(self, token: str) -> "TokenSubject":
        """The token's user or client; ApiError 401 if the key is unknown, the signature wrong or it expired."""
        kid, _, signed = token.partition(".")
        serializer = self._serializers.get(kid)
        if serializer is None:
            raise ApiError(401, "invalid_token", "The token is not signed by a key this server accepts; "
                                                 "ask for a new one")
        try:
            payload = serializer.loads(signed)
        except BadSignature:
            raise ApiError(401, "invalid_token", "The token is not valid") from None
        if not _well_formed(payload, kid):
            raise ApiError(401, "invalid_token", "The token is not valid")
        if payload["exp"] <= self.clock():
            raise ApiError(401, "token_expired", "The token has expired; ask for a new one")
        return TokenSubject(payload["sub"], payload.get("gen"), payload.get("pwd"))


@dataclass(frozen=True)
class TokenSubject:
    """Whom a token stands for: a user (generation None) or an integrator client."""
    name: str
    generation: int | None = None
    password: str | None = None  # a user's password stamp when the token was issued


def password_stamp(password_hash: str) -> str:
    """A short digest of the stored hash: tokens carry it, and a new password changes it."""
    return hashlib.sha256(("loanflow token password stamp:" + password_hash).encode("utf-8")).hexdigest()[:16]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _well_formed(payload, kid: str) -> bool:
    return (isinstance(payload, dict) and payload.get("kid") == kid and isinstance(payload.get("sub"), str)
            and _is_int(payload.get("exp")) and ("gen" not in payload or _is_int(payload["gen"]))
            and ("pwd" not in payload or isinstance(payload["pwd"], str)))


def token_signer_for(settings) -> TokenSigner:
    return TokenSigner(settings.secret_key, settings.old_secret_keys, max_age_seconds=settings.token_max_age_seconds)


def _signer() -> TokenSigner:
    return current_app.extensions["loanflow_tokens"]


def issue_token(username: str, *, generation: int | None = None, password_hash: str | None = None) -> str:
    return _signer().issue(username, generation=generation,
                           password=password_stamp(password_hash) if password_hash else None)


def token_lifetime_seconds() -> int:
    return _signer().max_age_seconds


def user_from_token(token: str) -> str:
    return _signer().username(token)


def subject_from_token(token: str) -> TokenSubject:
    return _signer().subject(token)


def _load_user(username: str, password: str | None = None) -> User | None:
    """The user as the database has them now, or None if unknown or disabled, or (given the
    token's `password` stamp) if the password changed since. Read on every request (one
    primary-key read, no cache): an administrator's change — disabled, a role taken away, moved to
    another branch, a new password — holds for the very next request on every web process."""
    with current_app.extensions["loanflow"].db.read_sessions() as session:
        user = session.get(User, username)
        if user is None or not user.enabled:
            return None
        if password is not None and not hmac.compare_digest(password, password_stamp(user.password_hash)):
            return None
        session.expunge(user)
    return user


def _load_client(client_id: str, generation: int) -> User | None:
    """The stand-in user of an integrator client, or None if unknown, disabled or its secret
    rotated since the token was issued: read on every request, as users are. Its last use is
    written at most once a minute (integrators.LAST_USED_RESOLUTION), not on every request."""
    db = current_app.extensions["loanflow"].db
    with db.read_sessions() as session:
        client = integrators.active_client(session, client_id, generation)
        if client is None:
            return None
        principal = integrators.principal_for(client)
        now = current_app.extensions["loanflow"].processes.now()
        stale = integrators.needs_last_used(client, now)
    if stale:
        with db.unit_of_work() as session:
            client = session.get(IntegratorClient, client_id)
            if client is not None:
                client.last_used_at = now
    return principal


def _load_principal(subject: TokenSubject) -> User | None:
    if subject.generation is None:
        return _load_user(subject.name, subject.password)
    return _load_client(subject.name, subject.generation)


def _within_rate_limit(user: User) -> None:
    """Integrators' systems call in loops; one gone wrong must not take the server from the others."""
    if "integrator" not in user.role_set:
        return
    limiter = current_app.extensions["loanflow_rate_limit"]
    wait = limiter.allow(user.username)
    if wait is not None:
        raise ApiError(429, "rate_limited", f"{user.username} sent more than {limiter.per_minute} requests in a "
                       f"minute; try again in {wait} s", headers={"Retry-After": str(wait)})


# What a user whose password must be changed may still call.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"account.account", "account.change_password"})


def require(*roles: str):
    """Authenticate the caller; with roles, the caller must hold at least one of them."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                raise ApiError(401, "unauthenticated", "Send 'Authorization: Bearer <token>' "
                                                       "(POST /api/v1/auth/token gives one)")
            subject = subject_from_token(header[len("Bearer "):].strip())
            user = _load_principal(subject)
            if user is None:
                if subject.generation is not None:
                    raise ApiError(401, "invalid_token", "The token's integrator client no longer exists, is "
                                                         "disabled or its secret was rotated; ask for a new token")
                raise ApiError(401, "invalid_token", "The token's user no longer exists, is disabled or "
                                                     "their password changed; sign in again")
            _within_rate_limit(user)
            if user.password_change_required and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
                # An administrator's password (a first one, a reset) is known to two people: until
                # the user replaces it, the account does nothing else (web/pages/guard.py: the same).
                raise ApiError(403, "password_change_required", "Your password was set by an administrator: "
                               "change it first (POST /api/v1/account/password)")
            if roles and not (user.role_set & set(roles)):
                raise ApiError(403, "forbidden", f"This needs one of the roles: {', '.join(roles)}")
            g.user = user
            return view(*args, **kwargs)
        wrapper.required_roles = roles  # read by the OpenAPI document (web/api_docs.roles_of)
        return wrapper
    return decorator
