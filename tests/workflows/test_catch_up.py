"""`loanflow tick --at T` catches up as the worker would have: for each day passed, auto-debit at
00:10 and the EOD of the day before at 00:30 (China time) with the after-EOD steps, the BPMN timers
due before each of them fired at their own moments, then the timers due by T, then webhooks."""
from __future__ import annotations

import datetime as dt

import pytest
import requests
import sqlalchemy as sa

from ledger import service
from tests.ledger.helpers import assert_books_consistent, open_and_disburse
from tests.web.journeys import decide, example, open_task, submit
from web.simulators import start_in_thread
from web.simulators.payment_channel import create_app as channel_app
from workflows.catch_up import TickRefused, catch_up
from workflows.clock import CHINA, china_today
from workflows.daily_steps import DailyStep
from workflows.models import Application, AuditEvent, DueTimer, OutboxMessage
from workflows.timers import moment_override
from workflows.worker import end_of_day

UTC = dt.timezone.utc


def china(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


@pytest.fixture
def channel():
    server = start_in_thread(channel_app())
    yield server.url
    server.stop()


def test_each_day_is_debited_then_closed_then_its_after_eod_steps_run_in_order(services, channel):
    # A loan started 2024-01-15 owes its first installment (1,000.00) on 2024-02-15.
    with services.db.unit_of_work() as session:
        loan = open_and_disburse(session, "TICK", rate="0", method="equal_installment")
    requests.post(f"{channel}/control", json={"balances": {"DEP-TICK": "5000.00"}}, timeout=5)
    end_of_day(services.db, dt.date(2024, 2, 13))
    seen = []

    def signals(day):
        seen.append((day.business_date, day.at, moment_override()))
        return {"signals": 0}

    result = catch_up(services.db, services.origination, at=china(dt.date(2024, 2, 16), 9),
                      payment_channel_url=channel, steps=[DailyStep("signals", signals)])

    assert [h.line for h in result.happened] == [
        "auto-debit 2024-02-15: 1 of 1 loan(s) collected (1000.00), 0 insufficient funds",
        "eod 2024-02-14: 0 accrual, 0 penalty, 0 reclassified",  # 0 %: no interest to accrue
        'signals 2024-02-14: {"signals": 0}',
        "auto-debit 2024-02-16: 0 of 0 loan(s) collected (0.00), 0 insufficient funds",
        "eod 2024-02-15: 0 accrual, 0 penalty, 0 reclassified",
        'signals 2024-02-15: {"signals": 0}',
    ]
    assert [h.at for h in result.happened[:3]] == [china(dt.date(2024, 2, 15), 0, 10)] + \
        [china(dt.date(2024, 2, 15), 0, 30)] * 2
    # Each step ran on the clock of its own moment: 00:30 the day after the date it follows.
    assert seen == [(dt.date(2024, 2, 14), china(dt.date(2024, 2, 15), 0, 30), china(dt.date(2024, 2, 15), 0, 30)),
                    (dt.date(2024, 2, 15), china(dt.date(2024, 2, 16), 0, 30), china(dt.date(2024, 2, 16), 0, 30))]
    assert result.summary() == "tick 2024-02-16T09:00+08:00: 0 timer(s) fired, 2 business date(s) closed, " \
                               "0 webhook(s) delivered"
    with services.db.unit_of_work() as session:
        assert service.last_closed_date(session.connection()) == dt.date(2024, 2, 15)
        assert service.loan_view(session, loan.id)["schedule"][0]["settled"]
        assert_books_consistent(session, [loan.id], ["B01"])
    # Caught up: the same moment again finds nothing to do.
    assert catch_up(services.db, services.origination, at=china(dt.date(2024, 2, 16), 9),
                    payment_channel_url=channel).happened == []


def test_a_moment_on_or_before_the_last_closed_business_date_is_refused_and_nothing_runs(services):
    end_of_day(services.db, dt.date(2024, 2, 13))
    for refused in (china(dt.date(2024, 2, 13), 23, 59), china(dt.date(2024, 1, 1), 9)):
        with pytest.raises(TickRefused) as caught:
            catch_up(services.db, services.origination, at=refused)
        assert "on or before the last closed business date 2024-02-13" in caught.value.message
    assert catch_up(services.db, services.origination, at=china(dt.date(2024, 2, 14), 0, 20)).happened == []


def test_review_timers_fire_at_their_own_moments_between_the_nightly_batches(client, token_for, services):
    yesterday = china_today() - dt.timedelta(days=1)
    end_of_day(services.db, yesterday)
    application = submit(client, token_for("api-demo"), example("application-review.json")).get_json()
    decide(client, token_for("cm-BR001"), application["id"])
    with services.db.sessions() as session:
        due = dict(session.execute(sa.select(DueTimer.element_id, DueTimer.due_at)).all())
    reminder = due["first_review_reminder"].replace(tzinfo=UTC)
    escalation = due["first_review_escalation"].replace(tzinfo=UTC)
    until = reminder + dt.timedelta(days=2)

    result = catch_up(services.db, services.origination, at=until)

    batches = [china(yesterday + dt.timedelta(days=n), 0, 30) for n in range(2, 30)]  # those before `until`
    steps = ("end_of_day", "collections", "classification", "reminders", "early_warning", "credit_lines")
    nightly = [(b, kind) for b in batches if b <= until for kind in steps]
    expected = sorted([(reminder, "timer"), (escalation, "timer")] + nightly, key=lambda h: h[0])
    assert [(h.at, h.kind) for h in result.happened] == expected
    timer_lines = [h.line for h in result.happened if h.kind == "timer"]
    assert timer_lines[0].startswith("fired first_review_reminder due ")
    assert timer_lines[1].startswith("fired first_review_escalation due ")
    assert timer_lines[1].endswith(f"application {application['id']} -> in_review")
    escalated = open_task(client, token_for("appr-BR001"), application["id"])
    assert escalated["title"] == "Credit review (escalated)"
    with services.db.sessions() as session:
        [reminded] = session.scalars(sa.select(AuditEvent).where(AuditEvent.event == "task_reminder_sent")).all()
    assert reminded.at == reminder.replace(tzinfo=None)  # its own moment, not `until`


def test_the_tick_command_prints_a_line_per_thing_done_and_refuses_a_closed_date(services, monkeypatch, capsys):
    from web.cli import main

    monkeypatch.setenv("LOANFLOW_DATABASE_URL", services.settings.database_url)
    monkeypatch.delenv("LOANFLOW_PAYMENT_CHANNEL_URL", raising=False)
    end_of_day(services.db, dt.date(2024, 2, 13))
    assert main(["tick", "--at", "2024-02-15T09:00"]) == 0   # no zone: China time
    assert capsys.readouterr().out.splitlines() == [
        "eod 2024-02-14: 0 accrual, 0 penalty, 0 reclassified",
        'collections 2024-02-14: {"started": 0, "stopped": 0}',
        'classification 2024-02-14: {"started": 0, "withdrawn": 0}',
        'reminders 2024-02-14: {"before_due": 0, "debit_failed": 0, "not_sent": 0, "today": "2024-02-15"}',
        'early_warning 2024-02-14: {"signals": 0, "work_orders": 0}',
        'credit_lines 2024-02-14: {"expired": 0}',
        "tick 2024-02-15T09:00+08:00: 0 timer(s) fired, 1 business date(s) closed, 0 webhook(s) delivered",
    ]
    assert main(["tick", "--at", "2024-02-14T12:00+08:00"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == ("loanflow tick: 2024-02-14T12:00+08:00 is on or before the last closed business "
                                    "date 2024-02-14; a tick only moves forward (from 2024-02-15 on)")


def test_the_workers_nightly_batch_runs_the_same_after_eod_steps_once(services, monkeypatch):
    from workflows import daily_steps
    from workflows.worker import nightly_end_of_day

    ran = []
    monkeypatch.setattr(daily_steps, "AFTER_END_OF_DAY",
                        [DailyStep("signals", lambda day: ran.append(("signals", day.business_date))),
                         DailyStep("sms_reminders", lambda day: ran.append(("sms_reminders", day.business_date)))])
    yesterday = china_today() - dt.timedelta(days=1)
    assert nightly_end_of_day(services.db, services.origination)["business_date"] == yesterday.isoformat()
    assert nightly_end_of_day(services.db, services.origination) is None   # a second worker: closed already
    assert ran == [("signals", yesterday), ("sms_reminders", yesterday)]


def test_webhooks_go_out_last_and_a_refused_one_waits_for_its_backoff(services, receiver):
    url, received, state = receiver
    end_of_day(services.db, dt.date(2024, 2, 13))
    with services.db.unit_of_work() as session:
        # an application of the demo integrator, so the webhook is signed with its secret
        session.add(Application(id="app-webhook", branch_code="BR001", product_code="FARM_EASY", customer_name="x",
                                id_number="110101199003070019", id_number_hash="x", amount=1000, term_months=12,
                                region="", industry="", purpose="", guarantee_method="credit", customer_type="",
                                payload={}, status="disbursed", stage="done", reasons=[], summary={},
                                created_by="api-demo"))
        session.flush()
        session.add(OutboxMessage(topic="application.status_changed", application_id="app-webhook",
                                  payload={"callback_url": url, "status": "disbursed"}))
    state["fail"] = True
    refused = catch_up(services.db, services.origination, at=china(dt.date(2024, 2, 14), 9))
    assert (refused.happened, refused.webhooks_delivered, received) == ([], 0, [])   # tried once, put off
    state["fail"] = False
    sent = catch_up(services.db, services.origination, at=china(dt.date(2024, 2, 14), 9, 1))
    assert [h.line for h in sent.happened] == ["delivered 1 webhook(s)"]
    assert [r["body"]["status"] for r in received] == ["disbursed"]
    assert sent.summary().endswith("0 business date(s) closed, 1 webhook(s) delivered")
