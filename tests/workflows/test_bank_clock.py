"""The API reads the clock the worker and `tick` run on: after a tick into the future, a repayment
dated on the ticked business day is taken, and a task is stamped on the ticked morning."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.web.journeys import example, signature_for, submit
from workflows.bank_clock import BankClock
from workflows.catch_up import catch_up
from workflows.clock import CHINA, china_today
from workflows.models import HumanTask

UTC = dt.timezone.utc


def test_on_books_never_closed_or_closed_up_to_yesterday_the_clock_is_the_walls(services):
    wall = dt.datetime(2026, 12, 2, 3, 0)
    clock = BankClock(services.db, wall=lambda: wall, wall_today=lambda: dt.date(2026, 12, 2))
    assert (clock.now(), clock.today()) == (wall, dt.date(2026, 12, 2))
    catch_up(services.db, services.origination, at=dt.datetime(2026, 12, 2, 9, 0, tzinfo=CHINA))
    # 2026-12-01 is closed (its batch ran at 00:30 on the 2nd): the wall is still later.
    assert (clock.now(), clock.today()) == (wall, dt.date(2026, 12, 2))


def test_after_a_tick_into_the_future_the_clock_starts_at_the_ticked_morning(services):
    wall = dt.datetime(2026, 12, 2, 3, 0)
    clock = BankClock(services.db, wall=lambda: wall, wall_today=lambda: dt.date(2026, 12, 2))
    catch_up(services.db, services.origination, at=dt.datetime(2026, 12, 2, 9, 0, tzinfo=CHINA))
    catch_up(services.db, services.origination, at=dt.datetime(2027, 1, 18, 9, 0, tzinfo=CHINA))
    # 2027-01-17 closed at 00:30 China on the 18th = 16:30 UTC on the 17th.
    assert clock.now() == dt.datetime(2027, 1, 17, 16, 30)
    assert clock.today() == dt.date(2027, 1, 18)


def test_the_api_follows_a_tick_a_repayment_on_the_ticked_day_and_tasks_stamped_then(client, token_for, services):
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", json=signature_for(application),
                         headers=integrator).get_json()
    loan = client.get(f"/api/v1/loans/{signed['loan_id']}", headers=integrator).get_json()
    due = dt.date.fromisoformat(loan["schedule"][0]["due_date"])
    ticked_day = due + dt.timedelta(days=4)
    catch_up(services.db, services.origination, at=dt.datetime.combine(ticked_day, dt.time(9), CHINA))
    assert ticked_day > china_today()

    paid = client.post(f"/api/v1/loans/{loan['loan_number']}/repayments", headers={**integrator, "Idempotency-Key": "r1"},
                       json={"amount": loan["schedule"][0]["total"], "value_date": ticked_day.isoformat()})
    assert paid.status_code == 201, paid.get_json()
    later = client.post(f"/api/v1/loans/{loan['loan_number']}/repayments", headers={**integrator, "Idempotency-Key": "r2"},
                        json={"amount": "10.00", "value_date": (ticked_day + dt.timedelta(days=1)).isoformat()})
    assert later.status_code == 422 and "cannot be in the future" in later.get_json()["fields"]["value_date"][0]

    # A task the API opens now is stamped on the ticked morning, not on the wall's date.
    cm = token_for("cm-BR001")
    [call] = client.get(f"/api/v1/tasks?process=collections&loan_id={loan['loan_number']}", headers=cm).get_json()["items"]
    claimed = client.post(f"/api/v1/tasks/{call['id']}/claim", headers=cm)
    assert claimed.status_code == 200, claimed.get_json()
    with services.db.sessions() as session:
        opened = session.get(HumanTask, call["id"]).created_at.replace(tzinfo=UTC).astimezone(CHINA)
    assert opened.date() >= due + dt.timedelta(days=3)   # opened by the ladder on D+3, on the ticked clock
