"""Head office keeps the business calendar through the API; anyone signed in reads it."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from tests.web.journeys import decide, example, submit
from tests.workflows.test_review_sla import unfired
from workflows.clock import CHINA
from workflows.models import AuditEvent, User
from workflows.timers import clock_at

CALENDARS = Path(__file__).resolve().parents[2] / "bpmn" / "calendar"


def shipped(year: int) -> dict:
    return json.loads((CALENDARS / f"{year}.json").read_text(encoding="utf-8"))


def test_anyone_signed_in_reads_the_shipped_2026_calendar_and_the_provisional_2027_one(client, token_for):
    answer = client.get("/api/v1/calendar/2026", headers=token_for("rev-BR001"))
    assert answer.status_code == 200
    year = answer.get_json()
    assert (year["year"], year["provisional"], year["updated_by"]) == (2026, False, "seed")
    assert {"name": "国庆节", "first": "2026-10-01", "last": "2026-10-07"} in year["holidays"]
    assert [w["date"] for w in year["working_weekends"]] == [
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    later = client.get("/api/v1/calendar/2027", headers=token_for("cm-BR002")).get_json()
    assert later["provisional"] is True and "暂定" in later["source"]
    assert client.get("/api/v1/calendar/2026").status_code == 401


def test_a_year_without_a_calendar_is_a_404_that_says_what_its_dates_count_as(client, token_for):
    answer = client.get("/api/v1/calendar/2031", headers=token_for("analyst"))
    assert answer.status_code == 404
    assert "Monday to Friday" in answer.get_json()["message"]


def test_a_bad_calendar_is_refused_naming_every_bad_field_and_nothing_is_stored(client, token_for, services):
    bad = {
        "year": 2026, "provisional": "yes", "colour": "red",
        "holidays": [
            {"name": "国庆节", "first": "2026-10-07", "last": "2026-10-01"},      # backwards
            {"name": "", "first": "2026-02-30", "last": "2026-03-01"},             # no name, no such day
            {"name": "元旦", "first": "2027-01-01", "last": "2027-01-01"},         # another year
        ],
        "working_weekends": [{"date": "2026-09-21", "name": "周一"},              # a Monday
                             {"date": "20260920"}],                                # no name, not a date
    }
    answer = client.put("/api/v1/calendar/2026", json=bad, headers=token_for("analyst"))
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["error"] == "calendar_invalid"
    assert set(body["fields"]) == {
        "colour", "provisional", "holidays[0].last", "holidays[1].name", "holidays[1].first",
        "holidays[2].first", "holidays[2].last", "working_weekends[0].date", "working_weekends[1].name",
        "working_weekends[1].date"}
    assert body["fields"]["holidays[0].last"] == ["is before first (2026-10-07)"]
    assert body["fields"]["working_weekends[0].date"] == [
        "2026-09-21 is a weekday: only a Saturday or Sunday can be a working weekend"]
    assert "2027-01-01 is not in 2026" in body["fields"]["holidays[2].first"][0]
    # The stored calendar is the shipped one still.
    assert client.get("/api/v1/calendar/2026", headers=token_for("analyst")).get_json()["updated_by"] == "seed"

    for hostile in ([1, 2], "2026"):  # not an object: the request pipeline's own 400
        assert client.put("/api/v1/calendar/2026", json=hostile, headers=token_for("analyst")).status_code == 400
    other_year = client.put("/api/v1/calendar/2026", json={"year": 2025, "holidays": [], "working_weekends": []},
                            headers=token_for("analyst"))
    assert other_year.status_code == 422
    assert other_year.get_json()["fields"] == {"year": ["says 2025 but the calendar is stored as 2026"]}
    assert client.put("/api/v1/calendar/2026", data="{", content_type="application/json",
                      headers=token_for("analyst")).status_code == 400


def test_only_head_office_keeps_the_calendar(client, token_for, services):
    assert client.put("/api/v1/calendar/2026", json=shipped(2026), headers=token_for("rev-BR001")).status_code == 403
    with services.db.unit_of_work() as session:
        branch_analyst = session.get(User, "analyst")
        session.add(User(username="analyst-BR001", full_name="支行分析师", branch_code="BR001", roles="analyst",
                         password_hash=branch_analyst.password_hash))
        session.commit()
    answer = client.put("/api/v1/calendar/2026", json=shipped(2026), headers=token_for("analyst-BR001"))
    assert answer.status_code == 403 and "head office" in answer.get_json()["message"]


def test_head_office_adds_a_holiday_and_the_next_review_sla_skips_it(client, token_for, services):
    # Say the bank closes on Monday 14 December 2026. A review handed over on Friday the 11th at
    # 10:00 is then reminded on Tuesday the 15th (the weekend and the Monday are not worked) and
    # escalated on Wednesday the 16th, both at 10:00.
    calendar = shipped(2026)
    calendar["holidays"].append({"name": "行庆日", "first": "2026-12-14", "last": "2026-12-14"})
    answer = client.put("/api/v1/calendar/2026", json=calendar, headers=token_for("analyst"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["updated_by"] == "analyst"
    assert client.get("/api/v1/calendar/2026", headers=token_for("cm-BR001")).get_json()["holidays"][-1] == {
        "name": "行庆日", "first": "2026-12-14", "last": "2026-12-14"}

    friday = dt.datetime(2026, 12, 11, 10, 0, tzinfo=CHINA)
    with clock_at(lambda: friday):
        application = submit(client, token_for("api-demo"), example("application-review.json")).get_json()
        decide(client, token_for("cm-BR001"), application["id"])
    assert unfired(services, application["id"]) == {
        "first_review_reminder": dt.datetime(2026, 12, 15, 10, 0, tzinfo=CHINA),
        "first_review_escalation": dt.datetime(2026, 12, 16, 10, 0, tzinfo=CHINA)}
    with services.db.sessions() as session:
        [audit] = session.scalars(sa.select(AuditEvent).where(AuditEvent.event == "business_calendar_replaced")).all()
    assert (audit.actor, audit.detail["year"], audit.detail["holidays"]) == ("analyst", 2026, 8)
