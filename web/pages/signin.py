"""Sign-in, sign-out, the language switch, and `/`, which sends people where they belong."""
from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from web.api.context import services
from web.pages import errors
from web.pages.guard import local_target, sign_in, sign_out, signed_in_user
from web.pages.i18n import LANGUAGE_COOKIE, LANGUAGES, _
from web.pages.inbox import WORKERS

blueprint = Blueprint("pages_signin", __name__)
errors.install_on(blueprint)


@blueprint.get("/")
def home():
    return redirect(_start_page(signed_in_user()))


def _start_page(user) -> str:
    """Where a signed-in user starts: an analyst (with no inbox role) in the studio, operations staff
    in the console."""
    if user is None:
        return url_for("pages_signin.login")
    if "analyst" in user.role_set and not user.role_set & set(WORKERS):
        return url_for("pages_studio.studio")
    if "admin" in user.role_set and not user.role_set & set(WORKERS):
        return url_for("pages_admin.index")

    if "operations" in user.role_set and not user.role_set & set(WORKERS):
        return url_for("pages_operations.console")
    return url_for("pages_inbox.inbox")


@blueprint.route("/login", methods=("GET", "POST"))
def login():
    target = local_target(request.values.get("next"), "")  # none: the user's own start page
    if request.method == "GET":
        return render_template("login.html", next=target, username="", error=None)
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    problem = None
    if not username:
        problem = _("Username: enter your username")
    elif not password:
        problem = _("Password: enter your password")
    else:
        with services().db.unit_of_work() as session:  # a failed attempt is counted
            outcome = services().directory.sign_in(session, username[:64], password[:200], services().processes.now())
            user = outcome.user
            username = user.username if user is not None else username
            start = _start_page(user) if user is not None else ""
            password_hash = user.password_hash if user is not None else ""  # as committed (rehashed if due)
        if user is None:
            problem = _(outcome.message)
    if problem:
        return render_template("login.html", next=target, username=username, error=problem), 401
    sign_in(username, password_hash)
    return redirect(target or start)


@blueprint.post("/logout")
def logout():
    sign_out()
    return redirect(url_for("pages_signin.login"))


@blueprint.get("/language/<code>")
def language(code: str):
    """Switch the interface language (a preference cookie, a year long) and go back."""
    response = make_response(redirect(local_target(request.args.get("next"), url_for("pages_signin.home"))))
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response
