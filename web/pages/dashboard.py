"""/dashboard: a week of the branch (head office: every branch) at a glance, with charts."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from web.api.context import read_only
from web.pages import errors
from web.pages.guard import page
from web.pages.i18n import _
from workflows.dashboard import dashboard as dashboard_figures

blueprint = Blueprint("pages_dashboard", __name__)
errors.install_on(blueprint)


@blueprint.get("/dashboard")
@page("approver", "hq_approver", "hq_risk")
def dashboard():
    with read_only() as session:
        figures = dashboard_figures(session, g.user)
    charts = {name: {"labels": [_(k) for k in counts], "values": list(counts.values())}
              for name, counts in (("status", figures["by_status"]), ("roles", figures["waiting_by_role"]))}
    return render_template("dashboard.html", figures=figures, charts=charts)
