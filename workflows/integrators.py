"""Integrator clients: a system's own credentials (a client id and a secret), limited to branches
and channels, administered like users (workflows/administration.py) and audited the same way.

- The secret is random (256 bits), shown once when the client is made or its secret rotated, and
  kept only as a scrypt hash (workflows/directory.hash_password, as passwords are); the audit trail
  says "issued" or "rotated", never the secret or its hash.
- `POST /auth/token` with grant_type client_credentials signs the client in (`authenticate`); its
  token names the client and its secret's `generation`. Every request reloads the client
  (`active_client`): disabled, or its secret rotated since the token was issued, and the token
  stops at that very request, as a disabled user's does.
- A client's token acts as a stand-in `User` (`principal_for`) with the role integrator and a
  `client_scope`: its branches (workflows/access.py reads them) and its channels and partner id
  (`intake_channel` checks an application's against them).
- Head office's administrators manage every client; a branch's administrators manage the clients
  of their own branch alone (and make only such clients).
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.administration import USERNAME, audit, is_admin, refused
from workflows.directory import _dummy_hash, hash_password, verify_password
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.models import HQ, Branch, IntegratorClient, User

CHANNELS = ("mobile", "counter", "partner")
STAFF_CHANNEL = "counter"  # a person at a branch takes the application at the counter
PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# How often a client's last use is written: not on every request (a write per read), but often
# enough that an administrator sees which clients are still in use.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ClientScope:
    """What a client's token may do: its branches (None: every branch), channels and partner id."""
    client_id: str
    branches: frozenset[str] | None
    channels: tuple[str, ...]
    partner_id: str | None


@dataclass(frozen=True)
class IssuedSecret:
    """A client with the secret just made for it: the only moment the secret exists in clear."""
    client: IntegratorClient
    secret: str


# -- views -------------------------------------------------------------------------------------
def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None


def client_view(client: IntegratorClient) -> dict:
    return {"client_id": client.client_id, "name": client.name, "branches": sorted(client.branch_set),
            "channels": client.channel_list, "partner_id": client.partner_id, "enabled": bool(client.enabled),
            "created_by": client.created_by, "created_at": _iso(client.created_at),
            "rotated_at": _iso(client.rotated_at), "last_used_at": _iso(client.last_used_at)}


def issued_view(issued: IssuedSecret) -> dict:
    return {**client_view(issued.client), "client_secret": issued.secret}


def _snapshot(client: IntegratorClient) -> dict:
    view = client_view(client)
    return {k: view[k] for k in ("name", "branches", "channels", "partner_id", "enabled")}


def home_branch(client: IntegratorClient) -> str:
    """The branch whose administrators manage the client: its one branch, else head office."""
    branches = client.branch_set
    return next(iter(branches)) if len(branches) == 1 else HQ


# -- administration ----------------------------------------------------------------------------
def _manages(actor: User, client: IntegratorClient) -> bool:
    return is_admin(actor) and actor.branch_code in (HQ, home_branch(client))


def _require_admin(actor: User) -> None:
    if not is_admin(actor):
        raise Forbidden("Only administrators may do this")


def list_clients(session: Session, actor: User) -> dict:
    _require_admin(actor)
    clients = session.scalars(select(IntegratorClient).order_by(IntegratorClient.client_id))
    return {"items": [client_view(c) for c in clients if _manages(actor, c)]}


def client_for(session: Session, actor: User, client_id: str) -> IntegratorClient:
    """A client the actor administers; another branch's (or an unknown one) does not exist for them."""
    _require_admin(actor)
    client = session.get(IntegratorClient, client_id)
    if client is None or not _manages(actor, client):
        raise NotFound(f"Integrator client {client_id} was not found")
    return client


def _branch_problems(session: Session, actor: User, branches: list[str]) -> list[str]:
    if not branches:
        return ["give one or more branch codes, or HQ for every branch"]
    if HQ in branches and len(branches) > 1:
        return ["HQ already means every branch: give HQ alone or the branches"]
    unknown = [b for b in branches if b != HQ and (session.get(Branch, b) is None)]
    if unknown:
        return [f"unknown branch(es): {', '.join(unknown)}"]
    if actor.branch_code != HQ and branches != [actor.branch_code]:
        raise Forbidden(f"{actor.username} administers {actor.branch_code} only: its clients work for "
                        f"{actor.branch_code} alone, not {', '.join(branches)}", field="branches")
    return []


def _channel_problems(channels: list[str]) -> list[str]:
    if not channels:
        return [f"give one or more of {', '.join(CHANNELS)}"]
    unknown = sorted(set(channels) - set(CHANNELS))
    return [f"unknown channel(s): {', '.join(unknown)}; one of {', '.join(CHANNELS)}"] if unknown else []


def _partner_problems(channels: list[str], partner_id: str | None) -> list[str]:
    if "partner" in channels:
        if not partner_id:
            return ["a client of the partner channel carries its partner's id"]
        if not PARTNER_ID.match(partner_id):
            return ["1 to 64 letters, digits, '.', '_' or '-'"]
    elif partner_id:
        return ["only a client of the partner channel has a partner id"]
    return []


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def create_client(session: Session, actor: User, data: dict, now: dt.datetime, *,
                  secret: str | None = None, secret_hash: str | None = None) -> IssuedSecret:
    """A new client and its first secret. `secret` (with its `secret_hash`): the demo seed's
    published one; otherwise a random one, shown this once."""
    _require_admin(actor)
    client_id = data.get("client_id") or f"client-{secrets.token_hex(4)}"
    branches = sorted(set(data.get("branches") or []))
    channels = sorted(set(data.get("channels") or []))
    partner_id = data.get("partner_id") or None
    problems: dict[str, list[str]] = {}
    if not USERNAME.match(client_id):
        problems["client_id"] = ["2 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"]
    if not (data.get("name") or "").strip():
        problems["name"] = ["the integrator's name, as administrators know it"]
    for field, found in (("branches", _branch_problems(session, actor, branches)),
                         ("channels", _channel_problems(channels)),
                         ("partner_id", _partner_problems(channels, partner_id))):
        if found:
            problems[field] = found
    if problems:
        raise refused("The integrator client cannot be created", problems)
    # One name space with users: a token's subject, the audit trail and idempotency keys name either.
    if session.get(IntegratorClient, client_id) is not None or session.get(User, client_id) is not None:
        raise Conflict(f"A client or user {client_id} already exists", field="client_id")
    secret = secret or _new_secret()
    client = IntegratorClient(client_id=client_id, name=data["name"].strip(), branches=",".join(branches),
                              channels=",".join(channels), partner_id=partner_id,
                              secret_hash=secret_hash or hash_password(secret),
                              enabled=data.get("enabled", True) is not False, generation=1,
                              created_by=actor.username, created_at=now)
    session.add(client)
    session.flush()
    audit(session, actor, now, "integrator_created", "integrator", client_id, home_branch(client), {},
          {**_snapshot(client), "secret": "issued"})
    return IssuedSecret(client, secret)


CHANGEABLE = ("name", "enabled", "branches", "channels", "partner_id")


def change_client(session: Session, actor: User, client_id: str, changes: dict, now: dt.datetime) -> IntegratorClient:
    """Enable or disable a client, or change its name, branches, channels or partner id. A change
    holds from the client's next request: its tokens are checked against it every time."""
    client = client_for(session, actor, client_id)
    changes = {k: v for k, v in changes.items() if k in CHANGEABLE and v is not None}
    if not changes:
        raise InvalidInput("Nothing to change: give one of " + ", ".join(CHANGEABLE))
    before = _snapshot(client)
    branches = sorted(set(changes["branches"])) if "branches" in changes else sorted(client.branch_set)
    channels = sorted(set(changes["channels"])) if "channels" in changes else client.channel_list
    partner_id = changes.get("partner_id", client.partner_id) or None
    if "partner" not in channels and "partner_id" not in changes:
        partner_id = None  # the partner channel taken away takes its partner id with it
    problems: dict[str, list[str]] = {}
    if "name" in changes and not changes["name"].strip():
        problems["name"] = ["must not be blank"]
    if "branches" in changes and (found := _branch_problems(session, actor, branches)):
        problems["branches"] = found
    if "channels" in changes and (found := _channel_problems(channels)):
        problems["channels"] = found
    if found := _partner_problems(channels, partner_id):
        problems["partner_id"] = found
    if problems:
        raise refused("The integrator client cannot be changed", problems)
    client.branches, client.channels, client.partner_id = ",".join(branches), ",".join(channels), partner_id
    if "name" in changes:
        client.name = changes["name"].strip()
    if "enabled" in changes:
        client.enabled = bool(changes["enabled"])
    after = _snapshot(client)
    diff = [k for k in after if after[k] != before[k]]
    if diff:
        audit(session, actor, now, "integrator_changed", "integrator", client_id, home_branch(client),
              {k: before[k] for k in diff}, {k: after[k] for k in diff})
    return client


def rotate_secret(session: Session, actor: User, client_id: str, now: dt.datetime) -> IssuedSecret:
    """A new secret; the old one and every token issued with it stop at once."""
    client = client_for(session, actor, client_id)
    secret = _new_secret()
    client.secret_hash = hash_password(secret)
    client.generation += 1
    client.rotated_at = now
    audit(session, actor, now, "integrator_secret_rotated", "integrator", client_id, home_branch(client),
          {"generation": client.generation - 1}, {"generation": client.generation, "secret": "rotated"})
    return IssuedSecret(client, secret)


# -- signing in --------------------------------------------------------------------------------
def authenticate(session: Session, client_id: str, secret: str, now: dt.datetime) -> IntegratorClient | None:
    """The enabled client whose secret this is, or None (unknown, wrong secret or disabled: one
    answer, so that client ids cannot be probed)."""
    client = session.get(IntegratorClient, client_id)
    if client is None:
        verify_password(secret, _dummy_hash())  # as long as for a real client: no timing tell
        return None
    if not verify_password(secret, client.secret_hash) or not client.enabled:
        return None
    client.last_used_at = now
    return client


def active_client(session: Session, client_id: str, generation: int) -> IntegratorClient | None:
    """The client a token of `generation` stands for, if it is enabled and its secret unrotated."""
    client = session.get(IntegratorClient, client_id)
    if client is None or not client.enabled or client.generation != generation:
        return None
    return client


def needs_last_used(client: IntegratorClient, now: dt.datetime) -> bool:
    return client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION


def principal_for(client: IntegratorClient) -> User:
    """The stand-in User a client's token acts as: never stored; the role integrator; a client of
    one branch in that branch, of several (or all) at head office, with its `client_scope`."""
    branches = None if HQ in client.branch_set else client.branch_set
    user = User(username=client.client_id, full_name=client.name, branch_code=home_branch(client),
                roles="integrator", password_hash="", enabled=True, failed_sign_ins=0)
    user.client_scope = ClientScope(client.client_id, branches, tuple(client.channel_list), client.partner_id)
    return user


# -- applications' channels --------------------------------------------------------------------
def intake_channel(actor: User, form: dict) -> tuple[str, str | None]:
    """The channel and partner id of an application `actor` submits. Staff: the counter unless
    they say otherwise; a client: its one channel unless it says which, and only its own channels
    and its own partner id. InvalidInput naming `channel` or `partner_id` otherwise."""
    scope = actor.client_scope
    channel, partner_id = form.get("channel"), form.get("partner_id") or None
    problems: dict[str, list[str]] = {}
    if scope is None:
        channel = channel or STAFF_CHANNEL
    else:
        if channel is None and len(scope.channels) == 1:
            channel = scope.channels[0]
        if channel is None:
            problems["channel"] = [f"{scope.client_id} sends through {', '.join(scope.channels)}: say which"]
        elif channel not in scope.channels:
            problems["channel"] = [f"{scope.client_id} may send applications through "
                                   f"{', '.join(scope.channels)} only, not {channel}"]
        elif channel == "partner":
            partner_id = partner_id or scope.partner_id
            if partner_id != scope.partner_id:
                problems["partner_id"] = [f"{scope.client_id} sends for partner {scope.partner_id} only"]
    if not problems:
        if channel == "partner" and not partner_id:
            problems["partner_id"] = ["required for the partner channel: the partner's id"]
        elif channel != "partner" and partner_id:
            problems["partner_id"] = ["only for the partner channel"]
    if problems:
        raise refused("The application's channel is not allowed", problems)
    return channel, partner_id
