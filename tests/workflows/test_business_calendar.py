"""Working days and working time on the State Council's 2026 calendar, worked out by hand.

2026 (国务院办公厅, 2025-11-04): 元旦 1–3 Jan (4 Jan, a Sunday, worked); 春节 15–23 Feb (Saturdays 14
and 28 Feb worked); 清明 4–6 Apr; 劳动节 1–5 May (Saturday 9 May worked); 端午 19–21 Jun; 中秋 25–27 Sep
(a Friday to a Sunday); 国庆 1–7 Oct (Sunday 20 Sep and Saturday 10 Oct worked). Working hours are
08:30–17:30 China time.
"""
from __future__ import annotations

import datetime as dt

import pytest

from ledger.errors import InvalidInput as LedgerInvalidInput
from tests.web.journeys import example, signature_for, submit
from tests.workflows.test_timers import WAIT, start, step
from workflows.business_calendar import (BusinessCalendar, YearCalendar, calendar_from, check_calendar,
                                         shipped_calendar)
from workflows.catch_up import catch_up
from workflows.clock import CHINA
from workflows.errors import InvalidInput
from workflows.loan_servicing import preview_schedule
from workflows.timers import clock_at, due_timers

CALENDAR = shipped_calendar()
D = dt.date


def china(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA)


def disbursed_on(client, integrator, *day) -> str:
    """A FARM_EASY loan of 30,000 over 12 months applied for, signed and disbursed on `day` at
    11:00 China time; its loan number."""
    with clock_at(lambda: china(*day, 11, 0)):
        application = submit(client, integrator, example("application-auto.json")).get_json()
        signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                             json=signature_for(application), headers=integrator).get_json()
    return signed["loan_id"]


@pytest.mark.parametrize("day, working", [
    (D(2026, 10, 10), True),    # Saturday, worked for National Day (调休)
    (D(2026, 9, 20), True),     # Sunday, worked for National Day
    (D(2026, 9, 25), False),    # Friday, Mid-Autumn
    (D(2026, 10, 7), False),    # Wednesday, the last day of National Day
    (D(2026, 10, 8), True),     # Thursday, back at work
    (D(2026, 10, 17), False),   # an ordinary Saturday
    (D(2026, 2, 23), False),    # Monday, the last day of Spring Festival
    (D(2031, 1, 1), True),      # no calendar for 2031: Monday to Friday only (a Wednesday)
    (D(2031, 1, 4), False),     # ... and its Saturday is off
])
def test_a_day_is_a_working_day_as_the_state_council_says(day, working):
    assert CALENDAR.is_working_day(day) is working


def test_the_next_working_day_skips_holidays_and_stops_on_a_swapped_working_weekend():
    assert CALENDAR.next_working_day(D(2026, 9, 30)) == D(2026, 10, 8)
    assert CALENDAR.next_working_day(D(2026, 10, 9)) == D(2026, 10, 10)   # the 调休 Saturday
    assert CALENDAR.next_working_day(D(2026, 2, 14)) == D(2026, 2, 24)    # over the nine days of Spring Festival
    assert CALENDAR.next_working_day(D(2026, 12, 31)) == D(2027, 1, 4)    # 2027: 1 Jan a holiday, then a weekend


def test_a_due_date_on_a_holiday_rolls_to_the_next_working_day():
    assert CALENDAR.roll_forward(D(2026, 10, 1)) == D(2026, 10, 8)
    assert CALENDAR.roll_forward(D(2026, 5, 1)) == D(2026, 5, 6)
    assert CALENDAR.roll_forward(D(2026, 10, 10)) == D(2026, 10, 10)       # worked: stays


@pytest.mark.parametrize("moment, days, due", [
    (china(2026, 9, 18, 10, 0), 2, china(2026, 9, 21, 10, 0)),    # Fri → Sun 20 (worked) → Mon 21
    (china(2026, 10, 9, 10, 0), 1, china(2026, 10, 10, 10, 0)),   # a 调休 Saturday counts
    (china(2026, 9, 24, 16, 0), 1, china(2026, 9, 28, 16, 0)),    # over Mid-Autumn (Fri–Sun)
    (china(2026, 9, 25, 11, 0), 1, china(2026, 9, 29, 8, 30)),    # begun on a holiday: from Monday's opening
    (china(2026, 9, 29, 18, 0), 1, china(2026, 10, 8, 8, 30)),    # after hours: from Wednesday's opening
    (china(2026, 9, 30, 15, 0), 2, china(2026, 10, 9, 15, 0)),    # over National Day
])
def test_working_days_keep_the_time_of_day(moment, days, due):
    assert CALENDAR.add_working_days(moment, days) == due.astimezone(dt.timezone.utc)


@pytest.mark.parametrize("moment, hours, due", [
    (china(2026, 9, 30, 16, 0), 4, china(2026, 10, 8, 11, 0)),    # 1½ h on Wednesday, 2½ h after the holiday
    (china(2026, 10, 9, 17, 0), 2, china(2026, 10, 10, 10, 0)),   # ½ h on Friday, 1½ h on the worked Saturday
    (china(2026, 9, 28, 7, 0), 9, china(2026, 9, 28, 17, 30)),    # before opening: one whole working day
])
def test_working_hours_count_only_0830_to_1730_on_working_days(moment, hours, due):
    assert CALENDAR.add_working_hours(moment, hours) == due.astimezone(dt.timezone.utc)


def test_a_timer_in_working_days_waits_over_the_national_day_holiday():
    text = WAIT.format(kind="timeDuration", timer="'working_days(2)'")
    with calendar_from(lambda: CALENDAR):
        workflow = start(text, "wait", china(2026, 9, 30, 9, 0))
        [timer] = due_timers(workflow)
        assert timer.due_at == china(2026, 10, 9, 9, 0).astimezone(dt.timezone.utc)
        step(workflow, china(2026, 10, 9, 8, 59))
        assert not workflow.completed
        step(workflow, china(2026, 10, 9, 9, 0))
        assert workflow.completed and workflow.data["checked"] is True


def test_a_computed_timer_in_working_hours_and_one_without_a_calendar():
    text = WAIT.format(kind="timeDuration", timer="f'working_hours({hours})'")
    with calendar_from(lambda: CALENDAR):
        workflow = start(text, "wait", china(2026, 9, 30, 16, 0), hours=4)
    assert [t.due_at for t in due_timers(workflow)] == [china(2026, 10, 8, 11, 0).astimezone(dt.timezone.utc)]
    # Outside a unit of work's calendar (nothing stored for the year): Monday to Friday.
    plain = start(WAIT.format(kind="timeDuration", timer="'working_days(2)'"), "wait", china(2026, 9, 30, 9, 0))
    assert [t.due_at for t in due_timers(plain)] == [china(2026, 10, 2, 9, 0).astimezone(dt.timezone.utc)]


def test_the_shipped_calendars_pass_their_own_checks():
    year = CALENDAR.years[2026]
    assert len(year.holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert sorted(year.working_weekends) == [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                                             D(2026, 9, 20), D(2026, 10, 10)]
    assert CALENDAR.years[2027].provisional is True and not CALENDAR.years[2026].provisional


def test_a_calendar_with_overlapping_or_overlong_holidays_is_refused_naming_them():
    document = {"year": 2026, "provisional": False, "source": "",
                "holidays": [{"name": "国庆节", "first": "2026-10-01", "last": "2026-10-07"},
                             {"name": "重复", "first": "2026-10-05", "last": "2026-10-06"},
                             {"name": "太长", "first": "2026-07-01", "last": "2026-08-15"}],
                "working_weekends": [{"date": "2026-10-03", "name": "假期中"}]}
    with pytest.raises(InvalidInput) as refused:
        check_calendar(document, year=2026)
    assert refused.value.fields == {
        "holidays[1].first": ["overlaps 国庆节 on 2026-10-05"],
        "holidays[2].last": ["a holiday lasts at most 31 days"],
        "working_weekends[0].date": ["2026-10-03 is also a holiday (国庆节)"]}


def test_a_calendar_given_by_hand_needs_no_file():
    year = YearCalendar(2026, frozenset({D(2026, 12, 14)}), frozenset())
    calendar = BusinessCalendar({2026: year})
    assert calendar.add_working_days(china(2026, 12, 11, 10, 0), 1) == china(2026, 12, 15, 10, 0)


def test_a_repayment_due_on_a_holiday_is_due_on_the_next_working_day_as_the_product_says(client, token_for):
    # FARM_EASY rolls a due date off a holiday. Disbursed on Tuesday 1 September 2026, a 12-month
    # loan's contractual due dates are the 1st of each month: 1 October is National Day (due Thursday
    # 8 October, the first working day after it), 1 November a Sunday (due Monday the 2nd),
    # 1 December a Tuesday (stays), 1 January 2027 New Year's Day, then a weekend (due Monday the
    # 4th). The amounts are the contractual schedule's: only the day moves.
    integrator = token_for("api-demo")
    loan = client.get(f"/api/v1/loans/{disbursed_on(client, integrator, 2026, 9, 1)}", headers=integrator).get_json()
    terms = loan["terms"]
    assert (loan["product_code"], terms["start_date"]) == ("FARM_EASY", "2026-09-01")
    assert [row["due_date"] for row in loan["schedule"][:5]] == [
        "2026-10-08", "2026-11-02", "2026-12-01", "2027-01-04", "2027-02-01"]
    contractual = preview_schedule({"principal": terms["principal"], "annual_rate": terms["annual_rate"],
                                    "term_months": "12", "method": terms["method"], "start_date": "2026-09-01"})
    assert [row["due_date"] for row in contractual["installments"][:2]] == ["2026-10-01", "2026-11-01"]
    assert [(r["principal"], r["interest"]) for r in loan["schedule"]] == [
        (r["principal"], r["interest"]) for r in contractual["installments"]]


def test_a_product_without_the_holiday_rule_keeps_a_due_date_on_a_holiday():
    from ledger.schedules import build_schedule, roll_due_dates
    schedule = build_schedule("120000", "0.0420", 12, "equal_principal", "2026-09-01")
    assert schedule.installments[0].due_date == D(2026, 10, 1)     # what a LARGE_CORP loan is due on
    rolled = roll_due_dates(schedule, CALENDAR.roll_forward)
    assert rolled.installments[0].due_date == D(2026, 10, 8)
    with pytest.raises(LedgerInvalidInput):
        roll_due_dates(schedule, lambda day: day - dt.timedelta(days=1))   # a due date never moves back


def test_the_eod_ages_a_loan_from_its_rolled_due_date(client, token_for, services):
    # Disbursed on Tuesday 1 December 2026, FARM_EASY's first installment is contractually due on
    # 1 January 2027, New Year's Day; the 2nd and 3rd are a weekend, so it is due on Monday the 4th.
    # Unpaid, it is not past due after the EOD of the 4th, and one day past due after that of the
    # 5th (on its contractual date it would be four).
    integrator = token_for("api-demo")
    loan_id = disbursed_on(client, integrator, 2026, 12, 1)
    assert client.get(f"/api/v1/loans/{loan_id}", headers=integrator).get_json()["schedule"][0]["due_date"] == \
        "2027-01-04"

    catch_up(services.db, services.origination, at=china(2027, 1, 5, 9, 0))      # closes the 4th
    assert client.get(f"/api/v1/loans/{loan_id}", headers=integrator).get_json()["days_past_due"] == 0
    catch_up(services.db, services.origination, at=china(2027, 1, 6, 9, 0))      # closes the 5th
    assert client.get(f"/api/v1/loans/{loan_id}", headers=integrator).get_json()["days_past_due"] == 1
