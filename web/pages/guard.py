"""Who is signed in to the pages: a Flask session cookie (signed with LOANFLOW_SECRET_KEY) holds
the username; the user, roles and branch are the API's (workflows.models.User). Every POST form
carries the session's CSRF token."""
from __future__ import annotations

import hmac
import secrets
from functools import wraps
from urllib.parse import urlparse

from flask import abort, g, redirect, request, session, url_for

from web.auth import _load_user, password_stamp

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
STAFF = ("customer_manager", "reviewer", "approver", "hq_approver", "risk_officer", "hq_risk", "analyst", "admin",
         "integrator", "operations")


# Where a user whose password must be changed may go (the rest sends them there first).
PASSWORD_PAGES = frozenset({"pages_account.account", "pages_account.change_password"})


class PageForbidden(Exception):
    """Signed in, but the page needs a role the user does not hold (the 403 page)."""


def signed_in_user():
    username = session.get("username")
    # the password's stamp: a password changed elsewhere (or reset) ends this session too
    return _load_user(username, session.get("pwd") or "") if username else None


def sign_in(username: str, password_hash: str) -> None:
    session.clear()  # a fresh session: nothing chosen before sign-in survives it (session fixation)
    session["username"] = username
    session["pwd"] = password_stamp(password_hash)


def password_changed(password_hash: str) -> None:
    """This session's own password change: it stays signed in (other sessions and tokens end)."""
    session["pwd"] = password_stamp(password_hash)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    session.permanent = True


def sign_out() -> None:
    session.clear()


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Before every POST to a page: the form's (or htmx's header) token must be the session's."""
    if request.method != "POST":
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


def page(*roles: str):
    """A page for signed-in staff; with roles, one of them. Not signed in: to the sign-in page."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = signed_in_user()
            if user is None:
                return redirect(url_for("pages_signin.login", next=request.full_path.rstrip("?")))
            g.user = user
            if user.password_change_required and request.endpoint not in PASSWORD_PAGES:
                # an administrator's password (a first one, a reset) is replaced before any work
                return redirect(url_for("pages_account.account", next=request.full_path.rstrip("?")))
            if roles and not (user.role_set & set(roles)):
                raise PageForbidden(", ".join(roles))
            return view(*args, **kwargs)
        return wrapper
    return decorator


def local_target(target: str | None, default: str) -> str:
    """A redirect target from a form or query: a path on this server only (no open redirect)."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
