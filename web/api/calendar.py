"""The business calendar: a year's holidays and swapped working weekends (调休), kept by head office."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from web.api.context import read_only, services
from web.api_docs import documented
from web.auth import require
from web.pipeline import command
from workflows.business_calendar import read_year, replace_year

blueprint = Blueprint("calendar", __name__)

# Head office's analysts keep the calendar (checked again in replace_year: an HQ user only); an
# `admin` role, when the bank has one, may too.
KEEPERS = ("analyst", "admin")


@blueprint.get("/calendar/<int:year>")
@documented("A year's business calendar: holidays, working weekends (调休), whether it is provisional; 404 "
            "for a year without one (its dates count Monday to Friday as working days)")
@require()
def show(year: int):
    with read_only() as session:
        return jsonify(read_year(session, year))


@blueprint.put("/calendar/<int:year>")
@documented("Replace a year's business calendar (head office): {year, provisional, source, holidays: [{name, "
            "first, last}], working_weekends: [{date, name}]}; refused naming every bad field")
@require(*KEEPERS)
def replace(year: int):
    return command(lambda session, body, key: replace_year(session, year, body, g.user,
                                                           now=services().processes.now()))
