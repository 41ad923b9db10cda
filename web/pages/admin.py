"""/admin: administrators' page — users (list, create, edit, password reset, unlock), the org
tree (HQ -> branches -> outlets) and integrator clients (list, create, enable/disable, rotate the
secret), through workflows.administration and workflows.integrators as the API does.

A client's secret is shown on the page that answers its creation or rotation, never through a
redirect's flash message (that would carry it in the session cookie), and that page is not cached."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from sqlalchemy import select

from web.api.context import read_only, services
from web.errors import STATUS_BY_KIND as STATUS
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from workflows import administration, integrators
from workflows.errors import NotFound, WorkflowError
from workflows.models import HQ, Branch, Outlet

blueprint = Blueprint("pages_admin", __name__)
errors.install_on(blueprint)

FIELD_LABELS = {"client_id": "Client id", "branches": "Branches", "channels": "Channels",
                "partner_id": "Partner id", "username": "Username", "full_name": "Full name", "branch": "Branch", "outlet": "Outlet",
                "roles": "Roles", "password": "Password", "code": "Code", "name": "Name", "parent": "Branch",
                "tier1_capital_net": "Net tier-1 capital (yuan)", "kind": "Kind", "enabled": "Enabled"}


def problems_of(err: WorkflowError, labels: dict[str, str] = FIELD_LABELS) -> list[str]:
    """Each bad field as '<label>: <reason>' (every one at once), else the error's message."""
    fields = dict(err.fields or {})
    if err.field and err.field not in fields:
        fields[err.field] = [err.message]
    if not fields:
        return [_(err.message)]
    return [_("%(field)s: %(reason)s", field=_(labels.get(name, name)), reason=_(reason))
            for name, reasons in fields.items() for reason in reasons]


def _choices(session) -> dict:
    """The branches and outlets the administrator may put people in."""
    branches = [b for b in session.scalars(select(Branch).order_by(Branch.is_hq.desc(), Branch.code))
                if administration.manages(g.user, b.code)]
    outlets = [o for o in session.scalars(select(Outlet).order_by(Outlet.code))
               if administration.manages(g.user, o.branch_code)]
    roles = [r for r in administration.ROLES if g.user.branch_code == HQ or r not in administration.HQ_ROLES]
    return {"branches": branches, "outlets": outlets, "roles": roles}


def _render_index(*, status: int = 200, problems=(), values=None, unit_problems=(), unit_values=None,
                  client_problems=(), client_values=None, issued=None):
    branch = request.args.get("branch") or None
    with read_only() as session:
        html = render_template(
            "admin.html", users=administration.list_users(session, g.user, branch=branch)["items"],
            tree=administration.org_tree(session, g.user), trail=administration.audit_trail(session, g.user, limit=20)["items"],
            chosen_branch=branch, problems=problems, values=values or {}, unit_problems=unit_problems,
            unit_values=unit_values or {}, clients=integrators.list_clients(session, g.user)["items"],
            channels=integrators.CHANNELS, client_problems=client_problems, client_values=client_values or {},
            issued=issued, **_choices(session))
    if issued is not None:  # the page holds a secret: no cache, no proxy keeps it
        return html, status, {"Cache-Control": "no-store"}
    return html, status


@blueprint.get("/admin")
@page("admin")
def index():
    return _render_index()


@blueprint.post("/admin/users")
@page("admin")
def create_user():
    values = {"username": request.form.get("username", "").strip(), "full_name": request.form.get("full_name", ""),
              "branch": request.form.get("branch", ""), "outlet": request.form.get("outlet") or None,
              "roles": request.form.getlist("roles"), "password": request.form.get("password", "")}
    try:
        with services().db.unit_of_work() as session:
            administration.create_user(session, g.user, values, services().processes.now())
    except WorkflowError as err:
        values.pop("password")
        return _render_index(status=STATUS.get(err.kind, 422), problems=problems_of(err), values=values)
    flash(_("User %(username)s created", username=values["username"]), "ok")
    return redirect(url_for("pages_admin.user", username=values["username"]))


def _render_user(username: str, *, status: int = 200, problems=()):
    with read_only() as session:
        try:
            user = administration.user_for(session, g.user, username)
        except NotFound:
            return errors.error_page(404)
        html = render_template("admin_user.html", user=administration.user_view(user), problems=problems,
                               trail=administration.audit_trail(session, g.user, target=username)["items"],
                               own=user.username == g.user.username, **_choices(session))
    return html, status


@blueprint.get("/admin/users/<username>")
@page("admin")
def user(username: str):
    return _render_user(username)


def _change(username: str, changes: dict, done: str):
    try:
        with services().db.unit_of_work() as session:
            administration.change_user(session, g.user, username, changes, services().processes.now())
    except WorkflowError as err:
        return _render_user(username, status=STATUS.get(err.kind, 422), problems=problems_of(err))
    flash(done, "ok")
    return redirect(url_for("pages_admin.user", username=username))


@blueprint.post("/admin/users/<username>")
@page("admin")
def change_user(username: str):
    changes = {"full_name": request.form.get("full_name", ""), "outlet": request.form.get("outlet") or "",
               "enabled": request.form.get("enabled") == "on"}
    if "roles" in request.form or request.form.get("roles_shown"):
        changes["roles"] = request.form.getlist("roles")
    if request.form.get("own"):  # one's own roles and access are another administrator's to change
        changes.pop("roles", None)
        changes.pop("enabled")
    return _change(username, changes, _("Saved"))


@blueprint.post("/admin/users/<username>/password")
@page("admin")
def reset_password(username: str):
    return _change(username, {"password": request.form.get("password", "")},
                   _("New password set; tell %(username)s in person", username=username))


@blueprint.post("/admin/users/<username>/unlock")
@page("admin")
def unlock(username: str):
    return _change(username, {"unlock": True}, _("Unlocked"))


@blueprint.post("/admin/org-units")
@page("admin")
def create_org_unit():
    values = {key: request.form.get(key, "").strip() for key in ("kind", "code", "name", "parent", "region")}
    capital = request.form.get("tier1_capital_net", "").replace(",", "").strip()
    try:
        values["tier1_capital_net"] = Decimal(capital) if capital else None
    except InvalidOperation:
        values["tier1_capital_net"] = Decimal("-1")  # named below as the field's problem
    try:
        with services().db.unit_of_work() as session:
            administration.create_org_unit(session, g.user, values, services().processes.now())
    except WorkflowError as err:
        return _render_index(status=STATUS.get(err.kind, 422), unit_problems=problems_of(err), unit_values=values)
    flash(_("%(code)s added to the org tree", code=values["code"]), "ok")
    return redirect(url_for("pages_admin.index") + "#org-tree")


@blueprint.post("/admin/org-units/<code>")
@page("admin")
def change_org_unit(code: str):
    changes = {"name": request.form.get("name", "")}
    if "enabled_shown" in request.form:
        changes["enabled"] = request.form.get("enabled") == "on"
    try:
        with services().db.unit_of_work() as session:
            administration.change_org_unit(session, g.user, code, changes, services().processes.now())
    except WorkflowError as err:
        return _render_index(status=STATUS.get(err.kind, 422), unit_problems=problems_of(err))
    flash(_("Saved"), "ok")
    return redirect(url_for("pages_admin.index") + "#org-tree")



# -- integrator clients ------------------------------------------------------------------------
@blueprint.post("/admin/integrators")
@page("admin")
def create_client():
    values = {"client_id": request.form.get("client_id", "").strip() or None, "name": request.form.get("name", ""),
              "branches": request.form.getlist("branches"), "channels": request.form.getlist("channels"),
              "partner_id": request.form.get("partner_id", "").strip() or None}
    try:
        with services().db.unit_of_work() as session:
            issued = integrators.issued_view(integrators.create_client(session, g.user, values,
                                                                       services().processes.now()))
    except WorkflowError as err:
        return _render_index(status=STATUS.get(err.kind, 422), client_problems=problems_of(err), client_values=values)
    return _render_index(status=201, issued=issued)


@blueprint.post("/admin/integrators/<client_id>")
@page("admin")
def change_client(client_id: str):
    try:
        with services().db.unit_of_work() as session:
            integrators.change_client(session, g.user, client_id, {"enabled": request.form.get("enabled") == "on"},
                                      services().processes.now())
    except NotFound:
        return errors.error_page(404)
    except WorkflowError as err:
        return _render_index(status=STATUS.get(err.kind, 422), client_problems=problems_of(err))
    flash(_("Saved"), "ok")
    return redirect(url_for("pages_admin.index") + "#integrators")


@blueprint.post("/admin/integrators/<client_id>/secret")
@page("admin")
def rotate_secret(client_id: str):
    try:
        with services().db.unit_of_work() as session:
            issued = integrators.issued_view(integrators.rotate_secret(session, g.user, client_id,
                                                                       services().processes.now()))
    except NotFound:
        return errors.error_page(404)
    return _render_index(issued=issued)
