"""The collection ladder (催收) on a controlled clock: each business day the end-of-day batch runs
at 00:30 China time, the ladder starts and stops collections, and the timers due by 09:05 fire,
as the worker would. Nothing sleeps; the days are moved by hand."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pathlib import Path
import sqlalchemy as sa

from ledger import service as ledger
from ledger.tables import JournalEntry, JournalLine
from tests.web.journeys import example, signature_for, submit
from web.simulators import start_in_thread
from web.simulators.sms import create_app as sms_app
from workflows.clock import CHINA
from workflows.collection_ladder import collections_after_eod
from workflows.models import AuditEvent, CorrelationKey, DueTimer, HumanTask, ProcessInstance
from workflows.timer_jobs import fire_due_timers


@pytest.fixture(scope="module")
def sms_gateway():
    server = start_in_thread(sms_app())
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(sms_gateway):
    return {"sms_url": sms_gateway.url}


def disbursed_loan(client, token_for, **applicant) -> dict:
    integrator = token_for("api-demo")
    body = example("application-auto.json")
    body["applicant"].update(applicant)
    application = submit(client, integrator, body).get_json()
    assert application["status"] == "awaiting_signature", application
    signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                         json=signature_for(application), headers=integrator).get_json()
    assert signed["status"] == "disbursed", signed
    return signed


class Days:
    """The bank's days from `first`: each `live(day)` is the night batch of the day before, then
    the morning's timers, on the database the services run on."""

    def __init__(self, services, first: dt.date):
        self.services = services
        self.closed = first - dt.timedelta(days=1)
        self.repayments: dict[dt.date, list[tuple[str, Decimal | None]]] = {}

    def repay_on(self, day: dt.date, loan_id: str, amount: Decimal | None = None) -> None:
        """A repayment at the counter that day: `amount`, or (None) everything past due by then."""
        self.repayments.setdefault(day, []).append((loan_id, amount))

    def live_until(self, day: dt.date) -> None:
        while self.closed < day - dt.timedelta(days=1):
            business_date = self.closed + dt.timedelta(days=1)
            for loan_id, amount in self.repayments.pop(business_date, []):  # paid at the counter that day
                with self.services.db.unit_of_work() as session:
                    if amount is None:
                        amount = ledger.loan_standing(session, loan_id, business_date).overdue_amount
                    ledger.repay(session, loan_id, amount, posting_key=f"test:{loan_id}:{business_date}",
                                 value_date=business_date.isoformat())
            night = dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(0, 30), CHINA)
            with self.services.db.unit_of_work() as session:
                ledger.run_eod(session, business_date)
                assert ledger.trial_balance(session, "BR001").is_balanced, business_date  # the books balance throughout
            collections_after_eod(self.services.db, self.services.processes, business_date, at=night)
            self.closed = business_date
            morning = dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(9, 5), CHINA)
            fire_due_timers(self.services.db, self.services.processes, at=morning)


def collection_of(services, loan_id: str) -> ProcessInstance:
    with services.db.sessions() as session:
        [instance] = session.scalars(sa.select(ProcessInstance).where(
            ProcessInstance.process_id == "collections", ProcessInstance.id.in_(
                sa.select(CorrelationKey.instance_id).where(CorrelationKey.name == "loan_id",
                                                            CorrelationKey.value == loan_id)))).all()
        session.expunge(instance)
        return instance


def open_work_orders(client, headers) -> list[dict]:
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [t for t in response.get_json()["items"] if t["process"] == "collections"]


def work(client, headers, task: dict, body: dict, moment: dt.datetime, services) -> None:
    from workflows.timers import clock_at

    with clock_at(lambda: moment):  # the person works the order that day, not on the wall clock's
        response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers, json=body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "completed"   # not "cancelled" by the step's own inbox sync
    done = client.get("/api/v1/tasks?status=completed&process=collections&per_page=100", headers=headers)
    assert task["id"] in [t["id"] for t in done.get_json()["items"]]   # and so it is stored


def test_a_loan_walks_the_whole_ladder_and_another_that_repays_on_d20_leaves_it(
        client, token_for, services, sms_gateway):
    sms_gateway_reset = __import__("requests").post(f"{sms_gateway.url}/control", json={"reset": True})
    assert sms_gateway_reset.status_code == 200
    defaulted = disbursed_loan(client, token_for)
    repaid = disbursed_loan(client, token_for, id_number="370784198003120055", name="Li Xiuying",
                            phone="13905367788")
    with services.db.sessions() as session:
        schedule = ledger.loan_view(session, defaulted["loan_id"])["schedule"]
    due = dt.date.fromisoformat(schedule[0]["due_date"])  # D: the first installment, never paid
    days = Days(services, due)
    cm, risk, hq = token_for("cm-BR001"), token_for("risk-BR001"), token_for("hq-approver")

    # D+1: the batch of D+1 ... no: of D, found nothing past due yet; the batch of D+1 starts the ladder.
    days.live_until(due + dt.timedelta(days=1))
    assert open_work_orders(client, cm) == []
    days.live_until(due + dt.timedelta(days=2))
    texts = __import__("requests").get(f"{sms_gateway.url}/v1/messages").json()["items"]
    assert [t["to"] for t in texts] == ["13805361234", "13905367788"]
    assert defaulted["loan_id"] in texts[0]["text"] and "已逾期1天" in texts[0]["text"]
    assert open_work_orders(client, cm) == []  # the call is on D+3

    days.live_until(due + dt.timedelta(days=3))
    orders = open_work_orders(client, cm)
    assert sorted(o["loan_id"] for o in orders) == sorted([defaulted["loan_id"], repaid["loan_id"]])
    assert {o["task_key"] for o in orders} == {"phone_call"}
    call = next(o for o in orders if o["loan_id"] == defaulted["loan_id"])
    assert call["context"]["days_past_due"] == 2 and Decimal(call["context"]["overdue_amount"]) > 0
    on_d3 = dt.datetime.combine(due + dt.timedelta(days=3), dt.time(10, 0), CHINA)
    promised = (due + dt.timedelta(days=10)).isoformat()
    work(client, cm, call, {"contact_outcome": "promise_to_pay", "promise_date": promised,
                            "comment": "will pay after selling the harvest"}, on_d3, services)
    other = next(o for o in orders if o["loan_id"] == repaid["loan_id"])
    work(client, cm, other, {"contact_outcome": "unreachable", "comment": "no answer"}, on_d3, services)

    # The promise pauses the ladder: nothing until the day after the promised date.
    assert collection_of(services, defaulted["loan_id"]).stage.startswith("wait_promise")
    days.live_until(due + dt.timedelta(days=14))
    assert open_work_orders(client, cm) == []
    # Missed: the ladder resumes with the on-site visit on D+15.
    days.live_until(due + dt.timedelta(days=15))
    visits = open_work_orders(client, cm)
    assert sorted((o["loan_id"], o["task_key"]) for o in visits) == sorted(
        [(defaulted["loan_id"], "field_visit"), (repaid["loan_id"], "field_visit")])
    on_d15 = dt.datetime.combine(due + dt.timedelta(days=15), dt.time(11, 0), CHINA)
    for visit in visits:
        work(client, cm, visit, {"contact_outcome": "dispute", "comment": "disputes the penalty"}, on_d15, services)

    # D+20: the second borrower pays everything overdue, and each installment on its due date from
    # then on; the night's batch takes the loan off the ladder.
    with services.db.sessions() as session:
        later = ledger.loan_view(session, repaid["loan_id"])["schedule"][1:]
    days.repay_on(due + dt.timedelta(days=20), repaid["loan_id"])
    for row in later:
        days.repay_on(dt.date.fromisoformat(row["due_date"]), repaid["loan_id"],
                      Decimal(row["principal"]) + Decimal(row["interest"]))
    days.live_until(due + dt.timedelta(days=21))
    assert collection_of(services, repaid["loan_id"]).status == "completed"
    assert collection_of(services, repaid["loan_id"]).stage == "current_end"  # by the batch's message

    # D+60 the agency (automatic), D+90 legal action for the branch risk officer.
    days.live_until(due + dt.timedelta(days=90))
    assert open_work_orders(client, cm) == []
    [legal] = open_work_orders(client, risk)
    assert legal["task_key"] == "legal_action" and legal["loan_id"] == defaulted["loan_id"]
    work(client, risk, legal, {"legal_measure": "lawsuit_filed", "comment": "filed at the county court"},
         dt.datetime.combine(due + dt.timedelta(days=90), dt.time(15, 0), CHINA), services)

    # D+180: the write-off proposal reaches head office; approval posts the write-off.
    days.live_until(due + dt.timedelta(days=179))
    assert open_work_orders(client, hq) == []
    days.live_until(due + dt.timedelta(days=180))
    [proposal] = open_work_orders(client, hq)
    assert proposal["task_key"] == "write_off_proposal" and proposal["branch"] == "BR001"
    work(client, hq, proposal, {"decision": "approve", "comment": "recovery exhausted"},
         dt.datetime.combine(due + dt.timedelta(days=180), dt.time(16, 0), CHINA), services)

    instance = collection_of(services, defaulted["loan_id"])
    assert instance.status == "completed" and instance.stage == "written_off_end"
    with services.db.sessions() as session:
        loan = ledger.load_loan(session, defaulted["loan_id"])
        assert loan.status == "written_off"
        assert ledger.trial_balance(session, "BR001").is_balanced
        [entry] = session.scalars(sa.select(JournalEntry).where(JournalEntry.loan_id == loan.id,
                                                                JournalEntry.kind == "write_off")).all()
        lines = session.scalars(sa.select(JournalLine).where(JournalLine.entry_id == entry.id)).all()
        # Nothing of the 30,000.00 principal was ever repaid: all of it is written off, with the
        # interest and penalty receivable, against the loan-loss provision.
        principal_line = [line.credit for line in lines if line.credit == Decimal("30000.00")]
        assert principal_line == [Decimal("30000.00")]
        assert sum(line.debit for line in lines) == sum(line.credit for line in lines) > Decimal("30000.00")
        assert loan.principal_outstanding == 0
        steps = [e.detail.get("element") for e in session.scalars(sa.select(AuditEvent).where(
            AuditEvent.instance_id == instance.id, AuditEvent.event == "timer_fired").order_by(AuditEvent.id))]
        tasks = session.scalars(sa.select(HumanTask.task_key).where(HumanTask.instance_id == instance.id)
                                .order_by(HumanTask.created_at)).all()
    assert steps == ["step_due", "step_due", "wait_promise", "step_due", "step_due", "step_due", "step_due"]
    assert tasks == ["phone_call", "field_visit", "legal_action", "write_off_proposal"]


def test_a_borrower_who_pays_while_the_phone_call_is_open_has_the_call_withdrawn_that_night(
        client, token_for, services):
    loan = disbursed_loan(client, token_for)
    with services.db.sessions() as session:
        due = dt.date.fromisoformat(ledger.loan_view(session, loan["loan_id"])["schedule"][0]["due_date"])
    days = Days(services, due)
    cm = token_for("cm-BR001")
    days.live_until(due + dt.timedelta(days=3))
    [call] = open_work_orders(client, cm)
    assert call["task_key"] == "phone_call"

    days.repay_on(due + dt.timedelta(days=3), loan["loan_id"])   # paid at the counter before anyone called
    days.live_until(due + dt.timedelta(days=4))

    assert open_work_orders(client, cm) == []
    with services.db.sessions() as session:
        assert session.get(HumanTask, call["id"]).status == "cancelled"
    ladder = collection_of(services, loan["loan_id"])
    assert (ladder.status, ladder.stage) == ("completed", "current_end")


def test_an_analyst_moves_the_phone_call_and_new_collections_follow_while_a_running_one_keeps_its_version(
        client, token_for, services):
    import io

    first = disbursed_loan(client, token_for)
    later = disbursed_loan(client, token_for, id_number="370784198003120055", name="Li Xiuying", phone="13905367788")
    with services.db.sessions() as session:
        schedule = ledger.loan_view(session, later["loan_id"])["schedule"]
    due, second_due = (dt.date.fromisoformat(row["due_date"]) for row in schedule[:2])
    days = Days(services, due)
    days.repay_on(due, later["loan_id"], Decimal(schedule[0]["total"]))  # on time once, then not
    days.live_until(due + dt.timedelta(days=2))  # the first loan's ladder is running, on HQ's table

    text = (Path(__file__).resolve().parents[2] / "bpmn" / "default" / "collection_ladder.dmn").read_text()
    moved = text.replace('<outputEntry id="step_1_day"><text>3</text></outputEntry>',
                         '<outputEntry id="step_1_day"><text>5</text></outputEntry>')
    assert moved != text
    deployed = client.post("/api/v1/deployments", headers=token_for("analyst"), content_type="multipart/form-data",
                           data={"scope": "BR001", "comment": "phone calls on D+5",
                                 "files": [(io.BytesIO(moved.encode()), "collection_ladder.dmn")]})
    assert deployed.status_code == 201, deployed.get_json()

    days.live_until(second_due + dt.timedelta(days=2))  # the later loan missed its second installment
    later_collection = collection_of(services, later["loan_id"])
    with services.db.sessions() as session:
        [call] = session.scalars(sa.select(HumanTask).where(HumanTask.loan_id == first["loan_id"],
                                                            HumanTask.task_key == "phone_call")).all()
        [next_call] = session.scalars(sa.select(DueTimer).where(
            DueTimer.instance_id == later_collection.id, DueTimer.fired_at.is_(None))).all()
    nine = dt.time(1, 0)  # 09:00 China time, as stored (UTC)
    # The running ladder kept HQ's D+3 (deployed after it started) ...
    assert call.created_at == dt.datetime.combine(due + dt.timedelta(days=3), dt.time(1, 5))
    # ... the new one calls on D+5 of its own missed date.
    assert next_call.due_at == dt.datetime.combine(second_due + dt.timedelta(days=5), nine)
