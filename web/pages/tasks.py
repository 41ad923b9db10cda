"""/tasks/<id>: everything a reviewer decides on, and the task's form from forms/ (the same
definition the API validates with). A task someone else completed meanwhile is a message."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from forms.definitions import CHOICES, FORMS
from web.api.context import read_only, services
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from web.pages.inbox import WORKERS
from workflows.delegation import acting_for
from workflows.errors import Conflict, Forbidden, InvalidInput
from workflows.inbox import may_work
from workflows.models import User
from workflows.origination import application_view
from workflows.processes import REASSIGNERS
from workflows.worklist import colleagues_for, task_for_viewer

blueprint = Blueprint("pages_tasks", __name__)
errors.install_on(blueprint)

# Task data shown in their own panels; anything else a diagram asks a task to show is listed as is.
PANELLED = {"score", "grade", "credit_line", "annual_rate", "approved_amount", "reason_codes", "risk_hits",
            "limit_hits", "limit_usage", "review_levels", "review_route_reason", "is_large_amount", "decision_trail",
            "applicant_age", "large_amount_report", "escalations", "sla"}


def form_fields(form_name: str) -> list[dict]:
    """The form's fields as the page draws them: the definition's own, choices spelt out."""
    fields = []
    for spec in FORMS.get(form_name, {}).get("fields", []):
        field = dict(spec)
        if spec.get("choices"):
            field["options"] = CHOICES[spec["choices"]]
        field["long"] = spec["type"] == "string" and spec.get("max_length", 0) > 200
        fields.append(field)
    return fields


def _payload(form_name: str) -> dict:
    """The posted form as the definition's types expect it; empty optional inputs are left out."""
    payload: dict = {}
    for spec in FORMS.get(form_name, {}).get("fields", []):
        name = spec["name"]
        if spec["type"] == "choice_list":
            values = request.form.getlist(name)
            if values or spec.get("required"):
                payload[name] = values
        elif spec["type"] == "boolean":
            payload[name] = request.form.get(name) == "on"
        else:
            value = request.form.get(name, "").strip()
            if value:
                payload[name] = value
    return payload


def _field_messages(messages) -> dict[str, list[str]]:
    if not isinstance(messages, dict):
        return {"_schema": [str(messages)]}
    return {name: [_(str(m)) for m in (found if isinstance(found, list) else [found])]
            for name, found in messages.items()}


def _render(task_id: str, *, status: int = 200, field_errors=None, notice=None, values=None):
    with read_only() as session:
        row = task_for_viewer(session, task_id, g.user)
        application = None
        if row.application_id:
            application_row = services().origination.application_for(session, row.application_id, g.user)
            application = application_view(session, application_row, g.user)
            application["purpose"] = application_row.purpose
            application["guarantee_method"] = application_row.guarantee_method
        context = dict(row.context or {})
        others = {k: v for k, v in context.items() if k not in PANELLED}
        on_behalf_of = acting_for(session, row, g.user, services().processes.now()) if row.status == "open" else None
        html = render_template(
            "task.html", task=row, application=application, context=context, others=others,
            fields=form_fields(row.form), form_title=FORMS.get(row.form, {}).get("title", row.form),
            can_work=row.status == "open" and may_work(g.user, row) and (
                row.assignee in (None, g.user.username) or on_behalf_of is not None),
            on_behalf_of=on_behalf_of and (session.get(User, on_behalf_of).full_name or on_behalf_of),
            field_errors=field_errors or {}, notice=notice, values=values or {},
            colleagues=colleagues_for(session, row) if row.status == "open" and g.user.role_set & REASSIGNERS else [])
    return html, status


@blueprint.get("/tasks/<task_id>")
@page(*WORKERS)
def task(task_id: str):
    return _render(task_id)


@blueprint.post("/tasks/<task_id>")
@page(*WORKERS)
def complete(task_id: str):
    with read_only() as session:
        form_name = task_for_viewer(session, task_id, g.user).form
    payload = _payload(form_name)
    try:
        with services().db.unit_of_work() as session:
            row = services().processes.complete(session, task_id, g.user, payload)
            title = row.title
    except ValidationError as err:
        return _render(task_id, status=422, field_errors=_field_messages(err.messages), values=payload)
    except Conflict:
        # Someone else was quicker: the page says so and shows who decided.
        return _render(task_id, status=409, notice=_("Someone else has already completed or claimed this task; "
                                                     "nothing you entered was saved."))
    except (Forbidden, InvalidInput) as err:
        return _render(task_id, status=422, notice=err.message, values=payload)
    flash(_("Submitted: %(task)s", task=_(title)), "ok")
    return redirect(url_for("pages_inbox.inbox"))


@blueprint.post("/tasks/<task_id>/reassign")
@page(*REASSIGNERS)
def reassign(task_id: str):
    colleague = request.form.get("assignee", "").strip()
    if not colleague:
        return _render(task_id, status=422, notice=_("Reassign to: choose a colleague"))
    try:
        with services().db.unit_of_work() as session:
            services().processes.reassign(session, task_id, g.user, colleague)
    except Conflict:
        return _render(task_id, status=409, notice=_("Someone else has already completed or claimed this task; "
                                                     "nothing you entered was saved."))
    except (Forbidden, InvalidInput) as err:
        return _render(task_id, status=422, notice=err.message)
    flash(_("Reassigned to %(who)s", who=colleague), "ok")
    return redirect(url_for("pages_tasks.task", task_id=task_id))
