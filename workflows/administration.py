"""Administration: users, their branch, outlet and roles, and the org tree (HQ -> branch -> outlet).

One service for the API (`/api/v1/admin/...`), the `/admin` page and the demo seed. Every change
writes an `admin_audit` row (who, when, what, the values before and after; a password only as
"reset"). Who may change what:

- head office's administrators (`admin` at HQ) manage every user and the org tree;
- a branch's administrators (`admin` in a branch) manage their branch's users and outlets only,
  and never grant a head-office role;
- nobody changes their own roles, enables, disables or unlocks themselves: another administrator does.

The roles a person may hold together: several, but the administrator role with no other (who
administers accounts does not also decide loans), and an integrator (a system's account) nothing
else. The four-eyes rules themselves are where they always were (one person decides one level of
a case, `ProcessLayer._check_separation_of_duties`; an analyst cannot approve their own release):
they are about the person, so whatever roles one holds they still hold.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.directory import hash_password
from workflows.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.models import HQ, AdminAudit, Branch, IntegratorClient, Outlet, User

ADMIN = "admin"
BRANCH_ROLES = ("customer_manager", "reviewer", "approver", "risk_officer")
HQ_ROLES = ("integrator", "hq_approver", "hq_risk", "analyst")
# Operations staff work at head office (every branch) or in a branch (its own), as administrators do.
OPERATIONS = "operations"
ROLES = BRANCH_ROLES + HQ_ROLES + (ADMIN, OPERATIONS)
ALONE = (ADMIN, "integrator")  # roles held by nobody who holds another
MIN_PASSWORD = 8
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")
# The seed (and any other setup step) acts as head office's administrator of this name.
SEED_ADMIN = User(username="seed", full_name="loanflow", branch_code=HQ, roles=ADMIN, password_hash="")


def refused(what: str, problems: dict[str, list[str]]) -> InvalidInput:
    """One error naming every bad field: '<what>: field: reason; field: reason'."""
    summary = "; ".join(f"{field}: {', '.join(reasons)}" for field, reasons in problems.items())
    return InvalidInput(f"{what}: {summary}", fields=problems)


def is_admin(user: User) -> bool:
    return ADMIN in user.role_set and user.enabled is not False


def manages(actor: User, branch_code: str) -> bool:
    """Whether `actor` administers the users and outlets of `branch_code`."""
    return is_admin(actor) and actor.branch_code in (HQ, branch_code)


def _require_admin(actor: User) -> None:
    if not is_admin(actor):
        raise Forbidden("Only administrators may do this")


# -- views -------------------------------------------------------------------------------------
def user_view(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "branch": user.branch_code,
            "outlet": user.outlet_code, "roles": sorted(user.role_set), "enabled": bool(user.enabled),
            "locked": user.locked_at is not None, "failed_sign_ins": user.failed_sign_ins or 0,
            "locked_at": user.locked_at.isoformat() + "Z" if user.locked_at else None,
            "password_change_required": bool(user.password_change_required)}


def _snapshot(user: User) -> dict:
    view = user_view(user)
    return {k: view[k] for k in ("full_name", "branch", "outlet", "roles", "enabled", "locked")}


def list_users(session: Session, actor: User, *, branch: str | None = None) -> dict:
    _require_admin(actor)
    query = select(User).order_by(User.branch_code, User.username)
    if actor.branch_code != HQ:
        query = query.where(User.branch_code == actor.branch_code)
    elif branch:
        query = query.where(User.branch_code == branch)
    return {"items": [user_view(u) for u in session.scalars(query)]}


def user_for(session: Session, actor: User, username: str) -> User:
    """A user the actor administers; another branch's (or an unknown one) does not exist for them."""
    _require_admin(actor)
    user = session.get(User, username)
    if user is None or not manages(actor, user.branch_code):
        raise NotFound(f"User {username} was not found")
    return user


# -- users -------------------------------------------------------------------------------------
def _role_problems(branch_code: str, roles: list[str]) -> list[str]:
    problems = []
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        problems.append(f"unknown role(s): {', '.join(unknown)}; one of {', '.join(ROLES)}")
    if not roles:
        problems.append("give at least one role")
    if branch_code == HQ:
        misplaced = [r for r in roles if r in BRANCH_ROLES]
        if misplaced:
            problems.append(f"{', '.join(misplaced)}: a branch's role; head office staff hold {', '.join(HQ_ROLES)}")
    else:
        hq_only = [r for r in roles if r in HQ_ROLES]
        if hq_only:
            problems.append(f"{', '.join(hq_only)}: a head-office role, held only by head office's staff")
    for alone in ALONE:
        if alone in roles and len(set(roles)) > 1:
            problems.append(f"{alone} is held alone (separation of duties): not with {', '.join(sorted(set(roles) - {alone}))}")
    return problems


def _grant_check(actor: User, roles: list[str]) -> None:
    if actor.branch_code != HQ and set(roles) & set(HQ_ROLES):
        raise Forbidden("A branch administrator cannot grant head-office roles", field="roles")


def _outlet_problem(session: Session, branch_code: str, outlet: str | None) -> str | None:
    if not outlet:
        return None
    row = session.get(Outlet, outlet)
    if row is None or row.branch_code != branch_code:
        return f"{outlet} is not an outlet of {branch_code}"
    return None


def password_problem(password: str | None) -> str | None:
    if password is not None and len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    return None


def create_user(session: Session, actor: User, data: dict, now: dt.datetime, *,
                password_hash: str | None = None) -> User:
    """A new user. `password_hash` instead of a password: an account carried over with its hash
    (the demo seed's)."""
    _require_admin(actor)
    username, branch_code = data.get("username") or "", data.get("branch") or ""
    roles = sorted(set(data.get("roles") or []))
    problems: dict[str, list[str]] = {}
    if not USERNAME.match(username):
        problems["username"] = ["2 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"]
    branch = session.get(Branch, branch_code)
    if branch is None:
        problems["branch"] = [f"unknown branch {branch_code!r}"]
    elif not manages(actor, branch_code):
        raise Forbidden(f"{actor.username} administers {actor.branch_code} only, not {branch_code}", field="branch")
    _grant_check(actor, roles)
    if branch is not None and (problem := _outlet_problem(session, branch_code, data.get("outlet"))):
        problems["outlet"] = [problem]
    if role_problems := _role_problems(branch_code, roles):
        problems["roles"] = role_problems
    if not (data.get("full_name") or "").strip():
        problems["full_name"] = ["the person's name as the pages show it"]
    if password_hash is None:
        if not data.get("password"):
            problems["password"] = ["the first password (the user can be told it; at least 8 characters)"]
        elif problem := password_problem(data["password"]):
            problems["password"] = [problem]
    if problems:
        raise refused("The user cannot be created", problems)
    if session.get(User, username) is not None:
        raise Conflict(f"A user {username} already exists", field="username")
    if session.get(IntegratorClient, username) is not None:  # tokens, audit and keys name either
        raise Conflict(f"An integrator client {username} already exists", field="username")
    user = User(username=username, full_name=data["full_name"].strip(), branch_code=branch_code,
                outlet_code=data.get("outlet") or None, roles=",".join(roles),
                password_hash=password_hash or hash_password(data["password"]),
                enabled=data.get("enabled", True) is not False, failed_sign_ins=0, locked_at=None,
                # a first password an administrator chose is changed by its user at the first sign-in
                password_change_required=password_hash is None)
    session.add(user)
    session.flush()
    audit(session, actor, now, "user_created", "user", username, branch_code, {}, _snapshot(user))
    return user


CHANGEABLE = ("full_name", "roles", "enabled", "outlet", "branch", "password", "unlock")


def change_user(session: Session, actor: User, username: str, changes: dict, now: dt.datetime) -> User:
    """Change a user: name, roles, outlet (and, head office only, branch), enabled, a new password
    (set by the administrator; it also unlocks), unlock. Every bad field is named at once."""
    user = user_for(session, actor, username)
    changes = {k: v for k, v in changes.items() if k in CHANGEABLE and v is not None}
    if not changes:
        raise InvalidInput("Nothing to change: give one of " + ", ".join(CHANGEABLE))
    own = actor.username == user.username
    if own and set(changes) & {"roles", "enabled", "unlock", "branch"}:
        raise Forbidden("Administrators cannot change their own roles, branch or access: another administrator does")
    before = _snapshot(user)
    branch_code = changes.get("branch", user.branch_code)
    roles = sorted(set(changes["roles"])) if "roles" in changes else sorted(user.role_set)
    problems: dict[str, list[str]] = {}
    if "branch" in changes and branch_code != user.branch_code:
        if actor.branch_code != HQ:
            raise Forbidden("Only head office's administrators move a user to another branch", field="branch")
        if session.get(Branch, branch_code) is None:
            problems["branch"] = [f"unknown branch {branch_code!r}"]
    if "roles" in changes:
        _grant_check(actor, roles)
    if "roles" in changes or "branch" in changes:
        if role_problems := _role_problems(branch_code, roles):
            problems["roles"] = role_problems
    outlet = changes.get("outlet", user.outlet_code if branch_code == user.branch_code else None)
    if "outlet" in changes or "branch" in changes:
        if problem := _outlet_problem(session, branch_code, outlet):
            problems["outlet"] = [problem]
    if "full_name" in changes and not changes["full_name"].strip():
        problems["full_name"] = ["must not be blank"]
    if problem := password_problem(changes.get("password")):
        problems["password"] = [problem]
    if problems:
        raise refused("The user cannot be changed", problems)
    user.branch_code, user.roles, user.outlet_code = branch_code, ",".join(roles), outlet or None
    if "full_name" in changes:
        user.full_name = changes["full_name"].strip()
    if "enabled" in changes:
        user.enabled = bool(changes["enabled"])
    if "password" in changes and not own:
        user.password_change_required = True  # the administrator knows it too: the user replaces it
    after = _snapshot(user)
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    if "password" in changes or changes.get("unlock"):
        user.failed_sign_ins, user.locked_at = 0, None
        after["locked"] = False
    changed_before = {k: v for k, v in before.items() if after.get(k) != v}
    changed_after = {k: after[k] for k in changed_before}
    if "password" in changes:
        changed_after["password"] = "reset"  # never the password, nor its hash
    if not changed_after:
        return user  # the same values again: nothing changed, nothing to audit
    audit(session, actor, now, "user_changed", "user", username, user.branch_code, changed_before, changed_after)
    return user


# -- the org tree ------------------------------------------------------------------------------
def org_tree(session: Session, actor: User) -> dict:
    """HQ, its branches (a branch administrator: their own) and each branch's outlets."""
    _require_admin(actor)
    branches = session.scalars(select(Branch).where(Branch.code != HQ).order_by(Branch.code)).all()
    if actor.branch_code != HQ:
        branches = [b for b in branches if b.code == actor.branch_code]
    outlets: dict[str, list[Outlet]] = {}
    for outlet in session.scalars(select(Outlet).order_by(Outlet.code)):
        outlets.setdefault(outlet.branch_code, []).append(outlet)
    hq = session.get(Branch, HQ)
    return {"code": HQ, "kind": "hq", "name": hq.name if hq else "Head office",
            "children": [dict(_branch_view(b), children=[_outlet_view(o) for o in outlets.get(b.code, [])])
                         for b in branches]}


def _branch_view(branch: Branch) -> dict:
    return {"code": branch.code, "kind": "branch", "name": branch.name, "parent": HQ, "region": branch.region,
            "tier1_capital_net": str(branch.tier1_capital_net)}


def _outlet_view(outlet: Outlet) -> dict:
    return {"code": outlet.code, "kind": "outlet", "name": outlet.name, "parent": outlet.branch_code,
            "enabled": bool(outlet.enabled)}


def org_unit_view(session: Session, code: str) -> dict:
    branch = session.get(Branch, code)
    if branch is not None:
        return _branch_view(branch)
    return _outlet_view(session.get(Outlet, code))


def create_org_unit(session: Session, actor: User, data: dict, now: dt.datetime) -> dict:
    """A new branch (head office's administrators; it runs HQ's processes until it deploys its
    own) or a new outlet of a branch (that branch's administrators too)."""
    _require_admin(actor)
    kind, code, name = data.get("kind"), data.get("code") or "", (data.get("name") or "").strip()
    problems: dict[str, list[str]] = {}
    if not CODE.match(code):
        problems["code"] = ["2 to 16 capital letters, digits or '-', e.g. BR003 or BR001-02"]
    if not name:
        problems["name"] = ["the unit's name"]
    if kind == "branch":
        if actor.branch_code != HQ:
            raise Forbidden("Only head office's administrators add branches", field="kind")
        capital = data.get("tier1_capital_net")
        if capital is None or Decimal(capital) < 0:
            problems["tier1_capital_net"] = ["the branch's net tier-1 capital in yuan (large-amount loans are "
                                             "judged against it)"]
    elif kind == "outlet":
        parent = session.get(Branch, data.get("parent") or "")
        if parent is None or parent.code == HQ:
            problems["parent"] = [f"an outlet belongs to a branch; unknown branch {data.get('parent')!r}"]
        elif not manages(actor, parent.code):
            raise Forbidden(f"{actor.username} administers {actor.branch_code} only", field="parent")
    else:
        problems["kind"] = ["branch or outlet"]
    if problems:
        raise refused("The unit cannot be added", problems)
    if session.get(Branch, code) is not None or session.get(Outlet, code) is not None:
        raise Conflict(f"A branch or outlet {code} already exists", field="code")
    if kind == "branch":
        session.add(Branch(code=code, name=name, region=(data.get("region") or "").strip(),
                           tier1_capital_net=Decimal(data["tier1_capital_net"]), is_hq=False))
        branch_code = code
    else:
        session.add(Outlet(code=code, branch_code=data["parent"], name=name, enabled=True))
        branch_code = data["parent"]
    session.flush()
    view = org_unit_view(session, code)
    audit(session, actor, now, f"{kind}_created", kind, code, branch_code, {}, view)
    return view


def change_org_unit(session: Session, actor: User, code: str, changes: dict, now: dt.datetime) -> dict:
    _require_admin(actor)
    branch, outlet = session.get(Branch, code), session.get(Outlet, code)
    if branch is not None and branch.code != HQ:
        if actor.branch_code != HQ:
            raise Forbidden("Only head office's administrators change a branch")
        allowed = ("name", "region", "tier1_capital_net")
    elif outlet is not None and manages(actor, outlet.branch_code):
        allowed = ("name", "enabled")
    else:
        raise NotFound(f"No branch or outlet {code} to change")
    changes = {k: v for k, v in changes.items() if k in allowed and v is not None}
    if not changes:
        raise InvalidInput(f"Nothing to change: give one of {', '.join(allowed)}")
    problems = {}
    if "name" in changes and not changes["name"].strip():
        problems["name"] = ["must not be blank"]
    if "tier1_capital_net" in changes and Decimal(changes["tier1_capital_net"]) < 0:
        problems["tier1_capital_net"] = ["must not be negative"]
    if problems:
        raise InvalidInput("The unit cannot be changed", fields=problems)
    before = org_unit_view(session, code)
    target = branch if branch is not None else outlet
    for key, value in changes.items():
        setattr(target, key, value.strip() if isinstance(value, str) else value)
    session.flush()
    after = org_unit_view(session, code)
    kind = "branch" if branch is not None else "outlet"
    diff = {k for k in after if after[k] != before.get(k)}
    if diff:
        audit(session, actor, now, f"{kind}_changed", kind, code, branch.code if branch else outlet.branch_code,
              {k: before[k] for k in diff}, {k: after[k] for k in diff})
    return after


# -- the audit trail ---------------------------------------------------------------------------
def audit(session: Session, actor: User | str, now: dt.datetime, action: str, target_kind: str, target: str,
          branch_code: str, before: dict, after: dict) -> None:
    session.add(AdminAudit(at=now, actor=actor if isinstance(actor, str) else actor.username,
                           branch_code=branch_code, action=action, target_kind=target_kind, target=target,
                           before=before, after=after))


def audit_trail(session: Session, actor: User, *, target: str | None = None, limit: int = 50) -> dict:
    _require_admin(actor)
    query = select(AdminAudit).order_by(AdminAudit.id.desc()).limit(limit)
    if actor.branch_code != HQ:
        query = query.where(AdminAudit.branch_code == actor.branch_code)
    if target:
        query = query.where(AdminAudit.target == target)
    return {"items": [{"id": a.id, "at": a.at.isoformat() + "Z", "actor": a.actor, "action": a.action,
                       "target_kind": a.target_kind, "target": a.target, "branch": a.branch_code,
                       "before": a.before, "after": a.after} for a in session.scalars(query)]}
