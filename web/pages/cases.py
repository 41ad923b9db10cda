"""/applications/<id> and /instances/<id>: the process diagram (bpmn-js, from web/static/vendor)
with the path taken, current tasks and any incident marked, the history as a timeline, and which
deployment each file came from. A retry button for an incident, for the roles that may retry."""
from __future__ import annotations

import html
import re

from flask import Blueprint, flash, g, redirect, render_template, url_for

from web.api.context import read_only, services
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from workflows.diagram_marks import instance_marks, process_diagrams
from workflows.errors import WorkflowError
from workflows.origination import application_view

blueprint = Blueprint("pages_cases", __name__)
errors.install_on(blueprint)

VIEWERS = ("customer_manager", "reviewer", "approver", "hq_approver", "risk_officer", "hq_risk", "analyst",
           "integrator", "operations")  # operations staff open an incident's case from the console
RETRIERS = ("integrator", "approver", "hq_approver")  # as POST /applications/{id}/retry


# The names a diagram shows: BPMN elements' (not extensions', not messages', which are correlation keys).
NAME = re.compile(r'(<(?:bpmn2?:)?(?!message\s)[A-Za-z]+\s[^>]*?\bname=")([^"]*)(")')


def translated_xml(xml: str) -> str:
    """The diagram with its element and lane names in the interface language (the files are in
    English, lanes named by role); a name without a translation stays as it is."""
    return NAME.sub(lambda m: m.group(1) + html.escape(_(html.unescape(m.group(2))), quote=True) + m.group(3), xml)


def _render_instance(session, instance, application=None):
    layer = services().processes
    marks = instance_marks(layer.runner, session, instance)
    diagrams = [dict(d, xml=translated_xml(d["xml"]), marks={p: marks.get(p, {}) for p in d["processes"]})
                for d in process_diagrams(session, instance)
                if instance.process_id in d["processes"] or any(p in marks for p in d["processes"])]
    return render_template("case.html", instance=instance, view=layer.view(session, instance, g.user),
                           application=application, diagrams=diagrams,
                           may_retry=bool(g.user.role_set & set(RETRIERS)))


@blueprint.get("/applications/<application_id>")
@page(*VIEWERS)
def application(application_id: str):
    with read_only() as session:
        row = services().origination.application_for(session, application_id, g.user)
        view = application_view(session, row, g.user)
        view["purpose"], view["guarantee_method"] = row.purpose, row.guarantee_method
        instance = services().processes.instance_for(session, view["instance_id"], g.user)
        return _render_instance(session, instance, view)


@blueprint.get("/instances/<instance_id>")
@page(*VIEWERS)
def instance(instance_id: str):
    with read_only() as session:
        found = services().processes.instance_for(session, instance_id, g.user)
        if found.application_id:
            return redirect(url_for("pages_cases.application", application_id=found.application_id))
        return _render_instance(session, found)


@blueprint.post("/instances/<instance_id>/retry")
@page(*RETRIERS)
def retry(instance_id: str):
    try:
        with services().db.unit_of_work() as session:
            found = services().processes.instance_for(session, instance_id, g.user)
            if found.application_id:
                services().origination.retry(session, found.application_id, g.user)
            else:
                services().processes.retry(session, services().processes.lock(session, instance_id), g.user.username)
        flash(_("Retried the step that had stopped"), "ok")
    except WorkflowError as err:
        flash(_("Not retried: %(reason)s", reason=err.message), "error")
    return redirect(url_for("pages_cases.instance", instance_id=instance_id))
