"""/studio: the analysts' face. A scope's files (each an HQ default or the branch's override), the
editors (bpmn-js and dmn-js Modelers, data files as text), drafts per analyst, comparisons,
validate (the deployment's own checks, every reason at once), simulate, publish as the scope's
next version (or, where the scope asks for four eyes, a release a second analyst approves),
withdraw an override, roll back."""
from __future__ import annotations

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from web.api.context import read_only, services
from web.pages import errors
from web.errors import STATUS_BY_KIND
from web.pages.guard import PageForbidden, page
from web.pages.i18n import _
from workflows.camunda import JUEL, JuelRefused, juel_to_script
from workflows.errors import Conflict, DeploymentRejected, Forbidden, InvalidInput, NotFound
from workflows.models import HQ, Branch
from workflows.releases import (approve_release, four_eyes, pending_releases, reject_release, request_release,
                                set_policy)
from workflows.sandbox.language import problems_in
from workflows.simulation import MAX_SAMPLE, simulate
from workflows.studio import (compare, discard_draft, drafts_of, file_for_editing, publish_drafts, rollback_drafts, save_draft,
                              scope_files, scope_history, split_drafts, validate_drafts, withdraw_override)

blueprint = Blueprint("pages_studio", __name__)
errors.install_on(blueprint)

ANALYSTS = ("analyst",)
MAX_CHECKED = 20_000  # characters of an expression checked as the analyst types
DEFAULT_SAMPLE = "50"


def _scopes(session) -> list[str]:
    """The scopes the analyst may work on: head office's analysts every scope, a branch's its own."""
    if g.user.branch_code != HQ:
        return [g.user.branch_code]
    return [HQ, *session.scalars(select(Branch.code).where(Branch.is_hq.is_(False)).order_by(Branch.code))]


def _allowed(session, scope: str) -> str:
    if scope not in _scopes(session):
        raise PageForbidden(scope)
    return scope


def _render_studio(scope: str, *, status: int = 200, problems=None, notice=None, validated=False, comment="",
                   simulation=None):
    with read_only() as session:
        _allowed(session, scope)
        html = render_template("studio.html", scope=scope, scopes=_scopes(session),
                               files=scope_files(session, scope, g.user.username),
                               drafts=drafts_of(session, scope, g.user.username), problems=problems or [],
                               history=scope_history(session, scope), four_eyes=four_eyes(session, scope),
                               releases=pending_releases(session, scope),
                               notice=notice, validated=validated, comment=comment, simulation=simulation,
                               sample=request.form.get("sample", DEFAULT_SAMPLE))
    return html, status


@blueprint.get("/studio")
@page(*ANALYSTS)
def studio():
    with read_only() as session:
        scopes = _scopes(session)
    scope = request.args.get("scope") or scopes[0]
    return _render_studio(scope)


@blueprint.get("/studio/<scope>/files/<name>")
@page(*ANALYSTS)
def edit(scope: str, name: str):
    with read_only() as session:
        _allowed(session, scope)
        try:
            editable = file_for_editing(session, scope, name, g.user.username)
        except NotFound:
            return errors.error_page(404)
    return render_template("studio_edit.html", file=editable)


@blueprint.get("/studio/<scope>/files/<name>/diff")
@page(*ANALYSTS)
def diff(scope: str, name: str):
    """The file against HQ's (against=hq) or the analyst's draft against the version in use
    (against=published): each change in a table, and for BPMN the diagram with them marked."""
    with read_only() as session:
        _allowed(session, scope)
        try:
            comparison = compare(session, scope, name, g.user.username, request.args.get("against", "hq"))
        except NotFound:
            return errors.error_page(404)
        except InvalidInput as err:
            return errors.error_page(404, err.message)
    return render_template("studio_diff.html", comparison=comparison)


@blueprint.post("/studio/check-expression")
@page(*ANALYSTS)
def check_expression():
    """The properties panel's check as the analyst types: the sandbox's own verdict on a condition
    (or a script), and for a Camunda JUEL condition what it becomes here."""
    source = request.form.get("expression", "")[:MAX_CHECKED]
    mode = "exec" if request.form.get("mode") == "script" else "eval"
    juel = JUEL.match(source)
    if juel and mode == "eval":
        try:
            suggestion = juel_to_script(juel.group(1))
        except JuelRefused as err:
            return jsonify({"ok": False, "problems": [str(err)]})
        return jsonify({"ok": False, "problems": [_("A Camunda JUEL expression: write it as %(ours)s", ours=suggestion)],
                        "suggestion": suggestion})
    problems = problems_in(source, mode) if source.strip() else [_("The condition is empty")]
    return jsonify({"ok": not problems, "problems": problems})


@blueprint.post("/studio/<scope>/files/<name>/draft")
@page(*ANALYSTS)
def save(scope: str, name: str):
    """The editor's save (fetch, JSON answer): the content becomes the analyst's draft."""
    try:
        with services().db.unit_of_work() as session:
            _allowed(session, scope)
            draft = save_draft(session, scope, name, request.form.get("content", ""), g.user.username)
            saved_at = draft.updated_at
    except InvalidInput as err:
        return jsonify({"saved": False, "fields": {k: [_(m) for m in v] for k, v in err.fields.items()}}), 422
    return jsonify({"saved": True, "saved_at": saved_at.isoformat() + "Z"})


@blueprint.post("/studio/<scope>/files/<name>/discard")
@page(*ANALYSTS)
def discard(scope: str, name: str):
    with services().db.unit_of_work() as session:
        _allowed(session, scope)
        try:
            discard_draft(session, scope, name, g.user.username)
        except NotFound:
            return errors.error_page(404)
    flash(_("Draft discarded: %(name)s", name=name), "ok")
    return redirect(url_for("pages_studio.studio", scope=scope))


@blueprint.post("/studio/<scope>/files/<name>/withdraw")
@page(*ANALYSTS)
def withdraw(scope: str, name: str):
    """"Remove override": a draft that, once published, gives the branch HQ's file again."""
    try:
        with services().db.unit_of_work() as session:
            _allowed(session, scope)
            withdraw_override(session, scope, name, g.user.username)
    except InvalidInput as err:
        return _render_studio(scope, status=422, notice=err.message)
    flash(_("Drafted: remove %(scope)s's override of %(name)s (validate and publish to apply)", scope=scope, name=name),
          "ok")
    return redirect(url_for("pages_studio.studio", scope=scope))


@blueprint.post("/studio/<scope>/rollback")
@page(*ANALYSTS)
def rollback(scope: str):
    """Drafts that bring the scope back to an earlier version; publishing them is the rollback."""
    version = request.form.get("version", "")
    try:
        with services().db.unit_of_work() as session:
            _allowed(session, scope)
            drafts = rollback_drafts(session, scope, int(version) if version.isdigit() else -1, g.user.username)
            count = len(drafts)
    except (InvalidInput, NotFound) as err:
        return _render_studio(scope, status=422, notice=err.message)
    flash(_("Drafted the return to version %(version)s (%(count)s files): validate and publish to roll back",
            version=version, count=count), "ok")
    return redirect(url_for("pages_studio.studio", scope=scope))


@blueprint.post("/studio/<scope>/validate")
@page(*ANALYSTS)
def validate(scope: str):
    svc = services()
    try:
        with read_only() as session:
            _allowed(session, scope)
            problems = validate_drafts(session, scope, g.user.username, operations=svc.operations, forms=svc.forms)
    except InvalidInput as err:
        return _render_studio(scope, status=422, notice=_(err.message))
    return _render_studio(scope, status=422 if problems else 200, problems=problems, validated=not problems)


@blueprint.post("/studio/<scope>/simulate")
@page(*ANALYSTS)
def simulate_drafts(scope: str):
    """The analyst's drafts on the scope's most recent applications, beside the published version."""
    svc = services()
    sample = request.form.get("sample", DEFAULT_SAMPLE).strip()
    if not sample.isdigit() or not 1 <= int(sample) <= MAX_SAMPLE:
        return _render_studio(scope, status=422, notice=_("Sample: a whole number from 1 to %(most)s", most=MAX_SAMPLE))
    try:
        with read_only() as session:
            _allowed(session, scope)
            drafts, withdraw = split_drafts(drafts_of(session, scope, g.user.username))
        result = simulate(svc.db, svc.origination, scope, drafts, withdraw=withdraw, sample=int(sample), actor=g.user,
                          operations=svc.operations, forms=svc.forms)
    except DeploymentRejected as err:
        return _render_studio(scope, status=422, problems=err.problems)
    except InvalidInput as err:
        return _render_studio(scope, status=422, notice=err.message)
    return _render_studio(scope, simulation=result)


@blueprint.post("/studio/<scope>/publish")
@page(*ANALYSTS)
def publish(scope: str):
    svc = services()
    comment = request.form.get("comment", "").strip()
    try:
        with svc.db.unit_of_work() as session:
            _allowed(session, scope)
            if four_eyes(session, scope):
                release = request_release(session, scope, g.user.username, comment, operations=svc.operations,
                                          forms=svc.forms)
                flash(_("Release %(id)s asked for: another analyst approves it before it is published",
                        id=release.id), "ok")
                return redirect(url_for("pages_studio.studio", scope=scope))
            deployment = publish_drafts(session, scope, g.user.username, comment, operations=svc.operations,
                                        forms=svc.forms)
            version = deployment.version
    except DeploymentRejected as err:
        return _render_studio(scope, status=422, problems=err.problems, comment=comment)
    except (InvalidInput, Conflict) as err:
        return _render_studio(scope, status=STATUS_BY_KIND[err.kind], notice=err.message, comment=comment)
    flash(_("Published %(scope)s version %(version)s: new applications use it; running ones keep their version",
            scope=scope, version=version), "ok")
    return redirect(url_for("pages_studio.studio", scope=scope))


@blueprint.post("/studio/<scope>/policy")
@page(*ANALYSTS)
def policy(scope: str):
    """Whether the scope publishes only with a second analyst's approval (head office's analysts)."""
    if g.user.branch_code != HQ:
        raise PageForbidden("policy")
    wanted = request.form.get("four_eyes") == "on"
    with services().db.unit_of_work() as session:
        _allowed(session, scope)
        set_policy(session, scope, four_eyes=wanted, actor=g.user.username)
    flash(_("%(scope)s now publishes with a second analyst's approval", scope=scope) if wanted
          else _("%(scope)s now publishes at once", scope=scope), "ok")
    return redirect(url_for("pages_studio.studio", scope=scope))


@blueprint.post("/studio/<scope>/releases/<int:release_id>/<decision>")
@page(*ANALYSTS)
def decide_release(scope: str, release_id: int, decision: str):
    svc = services()
    comment = request.form.get("comment", "")
    if decision not in ("approve", "reject"):
        return errors.error_page(404)
    try:
        with svc.db.unit_of_work() as session:
            _allowed(session, scope)
            if decision == "approve":
                version = approve_release(session, scope, release_id, g.user.username, comment,
                                          operations=svc.operations, forms=svc.forms).version
                message = _("Release %(id)s approved: %(scope)s version %(version)s is published",
                            id=release_id, scope=scope, version=version)
            else:
                reject_release(session, scope, release_id, g.user.username, comment)
                message = _("Release %(id)s set aside: its drafts are back with their author", id=release_id)
    except (Forbidden, Conflict, NotFound) as err:
        return _render_studio(scope, status=STATUS_BY_KIND[err.kind], notice=err.message)
    except DeploymentRejected as err:
        return _render_studio(scope, status=422, problems=err.problems)
    flash(message, "ok")
    return redirect(url_for("pages_studio.studio", scope=scope))
