"""/account: one's own account — who one is, changing one's own password (required after an
administrator set it), and one's delegations: give one to a colleague for a leave, see those
received, end one early. Through workflows.account and workflows.delegation, as the API."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from forms.compiler import load_form
from web.api.context import read_only, services
from web.errors import STATUS_BY_KIND as STATUS
from web.pages import errors
from web.pages.admin import problems_of
from web.pages.guard import local_target, page, password_changed
from web.pages.i18n import _
from workflows import delegation
from workflows.account import account_view, change_own_password
from workflows.errors import WorkflowError
from workflows.models import User

blueprint = Blueprint("pages_account", __name__)
errors.install_on(blueprint)

FORM_LABELS = {"delegate": "Delegate", "starts_at": "From (China time)", "ends_at": "To (China time)",
               "roles": "Roles", "reason": "Reason", "current_password": "Current password",
               "new_password": "New password"}


def _colleagues(session) -> list[User]:
    """Whom the user may delegate to: enabled colleagues of the branch sharing an inbox role."""
    mine = g.user.role_set & delegation.DELEGABLE
    if not mine:
        return []
    rows = session.scalars(select(User).where(User.branch_code == g.user.branch_code, User.enabled.is_(True),
                                              User.username != g.user.username).order_by(User.username))
    return [u for u in rows if u.role_set & mine]


def _render(*, status: int = 200, password_problems=(), delegation_problems=(), values=None):
    with read_only() as session:
        me = session.get(User, g.user.username)
        html = render_template(
            "account.html", me=account_view(me), colleagues=_colleagues(session),
            may_delegate=bool(g.user.role_set & delegation.DELEGABLE),
            delegations=delegation.delegations_of(session, g.user, services().processes.now())["items"],
            password_problems=password_problems, delegation_problems=delegation_problems, values=values or {},
            next=local_target(request.values.get("next"), ""))
    return html, status


def _form_problems(err: ValidationError) -> list[str]:
    return [_("%(field)s: %(reason)s", field=_(FORM_LABELS.get(name, name)), reason=_(str(reason)))
            for name, reasons in err.messages.items() for reason in (reasons if isinstance(reasons, list) else [reasons])]


@blueprint.get("/account")
@page()
def account():
    return _render()


@blueprint.post("/account/password")
@page()
def change_password():
    try:
        body = load_form("password_change", {"current_password": request.form.get("current_password", ""),
                                             "new_password": request.form.get("new_password", "")})
    except ValidationError as err:
        return _render(status=422, password_problems=_form_problems(err))
    if body["new_password"] != request.form.get("repeat_password", ""):
        return _render(status=422, password_problems=[_("%(field)s: %(reason)s", field=_("Repeat the new password"),
                                                          reason=_("is not the same as the new password"))])
    try:
        with services().db.unit_of_work() as session:  # a wrong current password is counted, as at sign-in
            outcome = change_own_password(session, g.user.username, body["current_password"], body["new_password"],
                                          services().processes.now())
            new_hash = session.get(User, g.user.username).password_hash
        outcome.raise_if_refused()
    except WorkflowError as err:
        return _render(status=STATUS.get(err.kind, 422), password_problems=problems_of(err, FORM_LABELS))
    password_changed(new_hash)  # this session goes on; every other session and token of the user ends
    flash(_("Your password is changed"), "ok")
    return redirect(local_target(request.form.get("next"), url_for("pages_account.account")))


@blueprint.post("/account/delegations")
@page(*delegation.DELEGABLE)
def create_delegation():
    values = {"delegate": request.form.get("delegate", ""), "starts_at": request.form.get("starts_at", ""),
              "ends_at": request.form.get("ends_at", ""), "reason": request.form.get("reason", "")}
    try:
        body = load_form("delegation", {k: v for k, v in values.items() if v})
        with services().db.unit_of_work() as session:
            made = delegation.create_delegation(session, g.user, body, services().processes.now())
            delegate = made.delegate
    except ValidationError as err:
        return _render(status=422, delegation_problems=_form_problems(err), values=values)
    except WorkflowError as err:
        return _render(status=STATUS.get(err.kind, 422), delegation_problems=problems_of(err, FORM_LABELS), values=values)
    flash(_("Your tasks are delegated to %(delegate)s for the period", delegate=delegate), "ok")
    return redirect(url_for("pages_account.account"))


@blueprint.post("/account/delegations/<int:delegation_id>/end")
@page(*delegation.DELEGABLE)
def end_delegation(delegation_id: int):
    try:
        with services().db.unit_of_work() as session:
            delegation.end_delegation(session, g.user, delegation_id, services().processes.now())
    except WorkflowError as err:
        return _render(status=STATUS.get(err.kind, 422), delegation_problems=problems_of(err, FORM_LABELS))
    flash(_("The delegation is ended"), "ok")
    return redirect(url_for("pages_account.account"))
