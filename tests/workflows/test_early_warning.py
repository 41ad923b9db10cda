"""Early warning (预警) on a controlled clock: `catch_up` (what `loanflow tick` runs) closes each
business date at 00:30 China time and runs the after-EOD steps, of which early warning is one;
signals are stored once per loan, kind and date, levelled per customer by warning_level.dmn,
and become work orders for the loan's customer manager (and, at level 3, the risk officer)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger import service as ledger
from scoring.dmn import load_dmn
from scoring.limits import parse_limits_config
from scoring.risk_lists import add_entry
from tests.ledger.helpers import open_and_disburse
from tests.web.journeys import example, signature_for, submit
from workflows.catch_up import catch_up
from workflows.clock import CHINA
from workflows.early_warning import EarlyWarningRefused, assign_levels, early_warning_after_eod, store_signals
from workflows.models import ProcessInstance, WarningSignal
from workflows.process_state import current_data
from workflows.timers import clock_at


def disbursed_loan(client, token_for) -> dict:
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    assert application["status"] == "awaiting_signature", application
    signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                         json=signature_for(application), headers=integrator).get_json()
    assert signed["status"] == "disbursed", signed
    return signed


def first_due_date(services, loan_id: str) -> dt.date:
    with services.db.sessions() as session:
        return dt.date.fromisoformat(ledger.loan_view(session, loan_id)["schedule"][0]["due_date"])


def china(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA)


def tick_to_morning_after(services, business_date: dt.date) -> None:
    """Catch up to 09:00 the day after `business_date`: its batch and after-EOD steps have run."""
    catch_up(services.db, services.origination, at=china(business_date + dt.timedelta(days=1), 9))


def signals_of(services, loan_id: str) -> list[WarningSignal]:
    with services.db.sessions() as session:
        rows = session.scalars(sa.select(WarningSignal).where(WarningSignal.loan_number == loan_id)
                               .order_by(WarningSignal.id)).all()
        session.expunge_all()
        return rows


def warning_tasks(client, headers) -> list[dict]:
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [t for t in response.get_json()["items"] if t["process"] == "early_warning"]


def instance_count(services) -> int:
    with services.db.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)
                              .where(ProcessInstance.process_id == "early_warning"))


def test_a_loan_going_overdue_gets_a_level_one_signal_and_one_work_order_with_its_facts(
        client, token_for, services):
    loan = disbursed_loan(client, token_for)
    due = first_due_date(services, loan["loan_id"])
    cm = token_for("cm-BR001")

    tick_to_morning_after(services, due)  # the batch of the due date itself finds nothing past due yet
    assert signals_of(services, loan["loan_id"]) == []
    assert warning_tasks(client, cm) == []

    overdue_day = due + dt.timedelta(days=1)
    tick_to_morning_after(services, overdue_day)
    [signal] = signals_of(services, loan["loan_id"])
    assert (signal.kind, signal.level, signal.business_date) == ("first_overdue", 1, overdue_day)
    assert signal.branch_code == "BR001" and signal.work_order_id is not None
    assert signal.facts["days_past_due"] == 1 and signal.facts["overdue_since"] == due.isoformat()

    [task] = warning_tasks(client, cm)
    assert task["task_key"] == "handle_warning" and task["loan_id"] == loan["loan_id"]
    assert task["instance_id"] == signal.work_order_id
    assert task["context"]["kind"] == "first_overdue" and task["context"]["level"] == 1
    assert task["context"]["business_date"] == overdue_day.isoformat()
    assert task["context"]["facts"]["days_past_due"] == 1
    assert warning_tasks(client, token_for("risk-BR001")) == []  # level 1: the customer manager only
    assert warning_tasks(client, token_for("cm-BR002")) == []
    view = client.get(f"/api/v1/instances/{task['instance_id']}", headers=cm).get_json()
    assert view["correlation"] == {"loan_id": loan["loan_id"], "signal_id": str(signal.id)}

    # The night again (a second worker, an operator re-running the step): nothing new.
    run = early_warning_after_eod(services.db, services.processes, overdue_day)
    assert run.summary()["signals"] == 0 and run.work_orders == ()
    assert len(signals_of(services, loan["loan_id"])) == 1
    assert instance_count(services) == 1
    assert len(warning_tasks(client, cm)) == 1


def test_crossing_thirty_days_past_due_is_a_signal_of_its_own_and_the_days_between_are_quiet(
        client, token_for, services):
    loan = disbursed_loan(client, token_for)
    due = first_due_date(services, loan["loan_id"])
    tick_to_morning_after(services, due + dt.timedelta(days=29))
    assert [s.kind for s in signals_of(services, loan["loan_id"])] == ["first_overdue"]

    tick_to_morning_after(services, due + dt.timedelta(days=30))
    signals = signals_of(services, loan["loan_id"])
    assert [s.kind for s in signals] == ["first_overdue", "dpd_30"]
    crossing = signals[1]
    assert crossing.business_date == due + dt.timedelta(days=30) and crossing.level == 1
    assert crossing.facts["days_past_due"] == 30 and crossing.facts["threshold"] == 30
    tasks = warning_tasks(client, token_for("cm-BR001"))
    assert sorted(t["context"]["kind"] for t in tasks) == ["dpd_30", "first_overdue"]
    assert {t["instance_id"] for t in tasks} == {s.work_order_id for s in signals}


def test_linked_signals_on_one_customer_raise_level_three_and_reach_the_branch_risk_officer(
        client, token_for, services):
    loan = disbursed_loan(client, token_for)
    due = first_due_date(services, loan["loan_id"])
    tick_to_morning_after(services, due)
    overdue_day = due + dt.timedelta(days=1)
    # The same day the court's enforcement list puts the borrower on the blacklist.
    with services.db.unit_of_work() as session:
        add_entry(session, "blacklist", example("application-auto.json")["applicant"]["id_number"],
                  reason="court enforcement (失信被执行人)", actor="hq-risk",
                  at=china(overdue_day, 15).astimezone(dt.timezone.utc))
        session.commit()
    tick_to_morning_after(services, overdue_day)

    signals = signals_of(services, loan["loan_id"])
    assert sorted(s.kind for s in signals) == ["first_overdue", "risk_list"]
    assert {s.level for s in signals} == {3}
    listed = next(s for s in signals if s.kind == "risk_list")
    assert listed.facts["list"] == "blacklist" and "court enforcement" in listed.facts["reason"]

    risk_tasks = warning_tasks(client, token_for("risk-BR001"))
    assert sorted(t["context"]["kind"] for t in risk_tasks) == ["first_overdue", "risk_list"]
    assert {t["task_key"] for t in risk_tasks} == {"risk_officer_review"}
    assert {t["context"]["level"] for t in risk_tasks} == {3}
    assert len(warning_tasks(client, token_for("cm-BR001"))) == 2  # the customer manager's, beside them
    assert warning_tasks(client, token_for("risk-BR002")) == []


def test_completing_the_work_order_records_the_measures_taken_and_closes_it(client, token_for, services):
    loan = disbursed_loan(client, token_for)
    due = first_due_date(services, loan["loan_id"])
    tick_to_morning_after(services, due + dt.timedelta(days=1))
    cm = token_for("cm-BR001")
    [task] = warning_tasks(client, cm)

    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm, json={"comment": "called"})
    assert refused.status_code == 422 and "measures" in refused.get_json()["fields"]
    with clock_at(lambda: china(due + dt.timedelta(days=2), 10)):
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm, json={
            "measures": ["contacted_borrower", "monitor"],
            "comment": "harvest sold late; will pay on Friday"})
    assert done.status_code == 200, done.get_json()
    assert warning_tasks(client, cm) == []

    with services.db.sessions() as session:
        instance = session.get(ProcessInstance, task["instance_id"])
        assert (instance.status, instance.stage) == ("completed", "work_order_closed")
        data = current_data(services.processes.runner.load(session, instance))
    assert data["measures"] == ["contacted_borrower", "monitor"]
    assert data["completed_by"] == "cm-BR001"
    assert data["comment"] == "harvest sold late; will pay on Friday"


def test_signals_are_read_only_for_the_last_closed_date(client, token_for, services):
    loan = disbursed_loan(client, token_for)
    due = first_due_date(services, loan["loan_id"])
    tick_to_morning_after(services, due + dt.timedelta(days=1))
    with pytest.raises(EarlyWarningRefused, match="last closed business date is"):
        early_warning_after_eod(services.db, services.processes, due)


# -- the books alone: signals straight from the ledger's batch, without processes -----------------

LEVELS = Path(__file__).resolve().parents[2] / "bpmn" / "default" / "warning_level.dmn"
HQ_LIMITS = Path(__file__).resolve().parents[2] / "bpmn" / "default" / "scoring" / "limits.json"


def close_and_signal(database, day: dt.date, limits: dict | None = None) -> list[tuple[str, int]]:
    """The batch of `day`, then the signals of `day` with HQ's level table and limits (or
    `limits`): (kind, level) found."""
    table = load_dmn(LEVELS.read_text(encoding="utf-8"))
    config = limits or parse_limits_config(HQ_LIMITS.read_text(encoding="utf-8"))
    with database.unit_of_work() as session:
        ledger.run_eod(session, day)
        store_signals(session, day, lambda _branch: config)
        assign_levels(session, lambda _branch: table, day)
        session.commit()
    with database.sessions() as session:
        return [(s.kind, s.level) for s in session.scalars(
            sa.select(WarningSignal).where(WarningSignal.business_date == day).order_by(WarningSignal.id))]


def test_an_unpaid_loan_signals_each_kind_once_on_its_day_and_nothing_in_between(database):
    with database.unit_of_work() as session:
        open_and_disburse(session, "EW1")   # first installment due 2024-02-15, never paid
        session.commit()
    due = dt.date(2024, 2, 15)
    found = {}
    for offset in range(-1, 93):
        day = due + dt.timedelta(days=offset)
        signals = close_and_signal(database, day)
        if signals:
            found[offset] = signals
    # dpd 1 moves the loan to 关注 as well: that is the first_overdue signal, not a downgrade; at 91
    # days the batch moves it to 次级, a downgrade of its own.
    assert found == {1: [("first_overdue", 1)], 30: [("dpd_30", 1)], 60: [("dpd_60", 1)],
                     90: [("dpd_90", 1)], 91: [("downgrade", 1)]}
    with database.sessions() as session:
        downgrade = session.scalar(sa.select(WarningSignal).where(WarningSignal.kind == "downgrade"))
    assert (downgrade.facts["from_class"], downgrade.facts["to_class"]) == ("special_mention", "substandard")
    assert downgrade.customer_id == "C-EW1" and downgrade.branch_code == "B01"


def test_a_batch_after_skipped_dates_still_sees_the_thresholds_crossed_meanwhile(database):
    with database.unit_of_work() as session:
        open_and_disburse(session, "EW2")
        session.commit()
    assert close_and_signal(database, dt.date(2024, 2, 14)) == []
    # The next batch runs for 2024-03-20: 34 days past due, never seen at 1 or 30. Two kinds of
    # signal on one customer at once: level 2.
    assert sorted(close_and_signal(database, dt.date(2024, 3, 20))) == [("dpd_30", 2), ("first_overdue", 2)]


def test_a_customer_already_overdue_on_another_loan_gets_level_two_for_one_new_signal(database):
    from ledger.tables import LoanAccount

    with database.unit_of_work() as session:
        open_and_disburse(session, "EW3", start=dt.date(2024, 1, 10))   # due 2024-02-10, never paid
        open_and_disburse(session, "EW4", branch="B02")                 # due 2024-02-15, the same borrower
        session.execute(sa.update(LoanAccount).where(LoanAccount.loan_number == "EW4").values(customer_id="C-EW3"))
        session.commit()
    days = [dt.date(2024, 2, 9) + dt.timedelta(days=n) for n in range(8)]
    found = {day: signals for day in days if (signals := close_and_signal(database, day))}
    assert found == {dt.date(2024, 2, 11): [("first_overdue", 1)],   # one loan overdue: one signal
                     dt.date(2024, 2, 16): [("first_overdue", 2)]}   # overdue elsewhere in the group too


def test_a_loan_that_brings_its_borrower_to_ninety_per_cent_of_the_single_customer_limit_signals_once(database):
    from ledger.tables import LoanAccount

    # A branch whose single-customer limit is 100,000 yuan, warning at 90 %.
    limits = {"warn_at": "0.90", "single_customer": {"max_amount": "100000"}}

    def second_loan(number: str, principal: str, start: dt.date) -> None:
        with database.unit_of_work() as session:
            open_and_disburse(session, number, principal=principal, start=start)
            session.execute(sa.update(LoanAccount).where(LoanAccount.loan_number == number).values(customer_id="C-LU1"))
            session.commit()

    with database.unit_of_work() as session:
        open_and_disburse(session, "LU1", principal="50000.00", start=dt.date(2024, 1, 15))
        session.commit()
    quiet = [close_and_signal(database, dt.date(2024, 1, 15) + dt.timedelta(days=n), limits) for n in range(5)]
    assert quiet == [[]] * 5   # 50,000 of 100,000: half the limit
    second_loan("LU2", "42000.00", dt.date(2024, 1, 20))
    assert close_and_signal(database, dt.date(2024, 1, 20), limits) == [("limit_usage", 1)]
    [signal] = signals_of_loan(database, "LU2")
    # Worked by hand: nothing falls due before 15 February, so 50,000 + 42,000 = 92,000 outstanding,
    # 92 % of the limit.
    assert signal.customer_id == "C-LU1" and signal.facts["limit_id"] == "single_customer"
    assert (signal.facts["customer_outstanding"], signal.facts["limit"], signal.facts["usage_share"],
            signal.facts["over_limit"]) == ("92000.00", "100000.00", "0.9200", False)
    with database.unit_of_work() as session:   # the night run again stores nothing new
        assert store_signals(session, dt.date(2024, 1, 20), lambda _branch: limits)["limit_usage"] == 0
        session.commit()
    assert close_and_signal(database, dt.date(2024, 1, 21), limits) == []   # no new money: quiet
    second_loan("LU3", "10000.00", dt.date(2024, 1, 22))
    assert close_and_signal(database, dt.date(2024, 1, 22), limits) == [("limit_usage", 1)]
    [over] = signals_of_loan(database, "LU3")
    assert (over.facts["customer_outstanding"], over.facts["over_limit"]) == ("102000.00", True)
    assert signals_of_loan(database, "LU1") == []   # the loans that brought no new money stay quiet


def signals_of_loan(database, loan_number: str) -> list[WarningSignal]:
    with database.sessions() as session:
        rows = session.scalars(sa.select(WarningSignal).where(WarningSignal.loan_number == loan_number)).all()
        session.expunge_all()
        return rows
