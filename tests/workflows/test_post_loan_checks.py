"""Post-loan checks (贷后检查) on a controlled clock: the first check appears N days after
disbursement (15 at HQ, 10 at BR002 by its own DMN), an adverse finding reaches the branch risk
officer, and a risk officer can start an ad-hoc check through the process API."""
from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from tests.web.journeys import example, signature_for, submit
from workflows.clock import CHINA
from workflows.models import DueTimer
from workflows.timer_jobs import fire_due_timers
from workflows.timers import clock_at


def disbursed(client, token_for, branch="BR001") -> dict:
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json", branch=branch)).get_json()
    assert application["status"] == "awaiting_signature", application
    signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                         json=signature_for(application), headers=integrator).get_json()
    assert signed["status"] == "disbursed", signed
    return signed


def checks_in_inbox(client, headers) -> list[dict]:
    items = client.get("/api/v1/tasks", headers=headers).get_json()["items"]
    return [t for t in items if t["process"] == "post_loan_check"]


def at_china(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA)


def check_timer(services) -> DueTimer:
    with services.db.sessions() as session:
        [timer] = session.scalars(sa.select(DueTimer).where(DueTimer.element_id == "check_due",
                                                            DueTimer.fired_at.is_(None))).all()
        session.expunge(timer)
        return timer


def test_the_first_check_appears_fifteen_days_after_disbursement_and_an_adverse_finding_reaches_the_risk_officer(
        client, token_for, services):
    loan = disbursed(client, token_for)
    disbursed_on = dt.date.fromisoformat(
        client.get(f"/api/v1/loans/{loan['loan_id']}", headers=token_for("cm-BR001")).get_json()["terms"]["start_date"])
    cm, risk = token_for("cm-BR001"), token_for("risk-BR001")
    timer = check_timer(services)
    # 15 days after disbursement at 09:00 China time is 01:00 UTC that day.
    assert timer.due_at == dt.datetime.combine(disbursed_on + dt.timedelta(days=15), dt.time(1, 0))
    assert checks_in_inbox(client, cm) == []

    fire_due_timers(services.db, services.processes, at=at_china(disbursed_on + dt.timedelta(days=14), 9, 5))
    assert checks_in_inbox(client, cm) == []
    fire_due_timers(services.db, services.processes, at=at_china(disbursed_on + dt.timedelta(days=15), 9, 5))
    [task] = checks_in_inbox(client, cm)
    assert task["task_key"] == "visit_and_check" and task["loan_id"] == loan["loan_id"]
    assert task["context"]["check_kind"] == "first"

    with clock_at(lambda: at_china(disbursed_on + dt.timedelta(days=16), 10)):
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm, json={
            "visited_on": (disbursed_on + dt.timedelta(days=16)).isoformat(),
            "findings": "greenhouse not built; the money bought a car", "fund_use": "diverted",
            "risk_opinion": "adverse"})
    assert done.status_code == 200, done.get_json()
    assert checks_in_inbox(client, cm) == []
    [review] = checks_in_inbox(client, risk)
    assert review["task_key"] == "risk_review" and review["context"]["fund_use"] == "diverted"
    assert review["context"]["risk_opinion"] == "adverse"
    # Another branch's risk officer does not see it.
    assert checks_in_inbox(client, token_for("risk-BR002")) == []

    instance = client.get(f"/api/v1/instances/{review['instance_id']}", headers=risk).get_json()
    assert instance["process"] == "post_loan_check" and instance["correlation"] == {"loan_id": loan["loan_id"]}
    assert [t["task_key"] for t in instance["open_tasks"]] == ["risk_review"]
    assert [e["event"] for e in instance["history"]][:3] == ["instance_started", "status_changed", "timer_fired"]


def test_branch_002_checks_ten_days_after_disbursement_by_its_own_decision_table(client, token_for, services):
    loan = disbursed(client, token_for, branch="BR002")
    start = dt.date.fromisoformat(client.get(f"/api/v1/loans/{loan['loan_id']}",
                                             headers=token_for("cm-BR002")).get_json()["terms"]["start_date"])
    assert check_timer(services).due_at == dt.datetime.combine(start + dt.timedelta(days=10), dt.time(1, 0))


def test_a_risk_officer_starts_an_ad_hoc_check_that_is_due_at_once(client, token_for, services):
    loan = disbursed(client, token_for)
    risk = token_for("risk-BR001")
    listed = client.get("/api/v1/processes?branch=BR001", headers=risk).get_json()["items"]
    check = next(p for p in listed if p["key"] == "post_loan_check")
    assert set(check["roles"]) == {"customer_manager", "risk_officer"} and check["start_form"] == "post_loan_check_request"
    assert set(check["start_form_schema"]["required"]) == {"loan_id", "check_reason"}
    assert "collections" not in {p["key"] for p in listed}  # started by the batch, not by people

    body = {"branch": "BR001", "data": {"loan_id": loan["loan_id"], "check_reason": "graylist hit on the borrower"}}
    headers = {**risk, "Idempotency-Key": str(uuid.uuid4())}
    with clock_at(lambda: dt.datetime.now(CHINA).replace(hour=10)):
        started = client.post("/api/v1/processes/post_loan_check/instances", headers=headers, json=body)
        again = client.post("/api/v1/processes/post_loan_check/instances", headers=headers, json=body)
    assert started.status_code == 201, started.get_json()
    assert again.get_json()["id"] == started.get_json()["id"]
    view = started.get_json()
    assert [t["task_key"] for t in view["open_tasks"]] == ["visit_and_check"]
    assert view["open_tasks"][0]["context"]["check_reason"] == "graylist hit on the borrower"

    refused = client.post("/api/v1/processes/post_loan_check/instances", json=body,
                          headers={**token_for("rev-BR001"), "Idempotency-Key": str(uuid.uuid4())})
    assert refused.status_code == 403
    wrong_loan = client.post("/api/v1/processes/post_loan_check/instances",
                             json={"branch": "BR002", "data": body["data"]},
                             headers={**token_for("risk-BR002"), "Idempotency-Key": str(uuid.uuid4())})
    assert wrong_loan.status_code == 404 and wrong_loan.get_json()["fields"] == {"loan_id": [
        f"Loan {loan['loan_id']} was not found in branch BR002"]}
    bad = client.post("/api/v1/processes/post_loan_check/instances", json={"branch": "BR001", "data": {}},
                      headers={**risk, "Idempotency-Key": str(uuid.uuid4())})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"loan_id", "check_reason"}


def first_check_done(client, token_for, services, loan, *, on: dt.date) -> None:
    cm = token_for("cm-BR001")
    fire_due_timers(services.db, services.processes, at=at_china(on, 9, 5))
    [task] = checks_in_inbox(client, cm)
    with clock_at(lambda: at_china(on, 15)):
        done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=cm, json={
            "visited_on": on.isoformat(), "findings": "greenhouse built, seedlings planted",
            "fund_use": "as_agreed", "risk_opinion": "normal"})
    assert done.status_code == 200, done.get_json()


def test_a_check_done_schedules_the_next_periodic_check_a_year_later_for_a_normal_loan(client, token_for, services):
    loan = disbursed(client, token_for)
    first_due = check_timer(services).due_at.date()   # 15 days after disbursement
    first_check_done(client, token_for, services, loan, on=first_due)

    periodic = check_timer(services)
    assert periodic.due_at == dt.datetime.combine(first_due + dt.timedelta(days=365), dt.time(1, 0))
    fire_due_timers(services.db, services.processes, at=at_china(first_due + dt.timedelta(days=365), 9, 5))
    [task] = checks_in_inbox(client, token_for("cm-BR001"))
    assert task["context"]["check_kind"] == "periodic" and task["loan_id"] == loan["loan_id"]
    assert task["context"]["check_reason"] == "periodic check (normal)"


def test_a_loan_classed_special_mention_is_checked_again_a_quarter_later(client, token_for, services):
    from ledger import service as ledger

    loan = disbursed(client, token_for)
    first_due = check_timer(services).due_at.date()
    with services.db.unit_of_work() as session:
        ledger.override_classification(session, loan["loan_id"], "special_mention", reason="harvest failed",
                                       approver="appr-BR001", posting_key="test:class", business_date=first_due)
    first_check_done(client, token_for, services, loan, on=first_due)
    assert check_timer(services).due_at == dt.datetime.combine(first_due + dt.timedelta(days=90), dt.time(1, 0))


def test_a_check_not_done_within_seven_days_escalates_to_the_branch_risk_officer(client, token_for, services):
    loan = disbursed(client, token_for)
    due = check_timer(services).due_at.date()
    cm, risk = token_for("cm-BR001"), token_for("risk-BR001")
    fire_due_timers(services.db, services.processes, at=at_china(due, 9, 5))
    [task] = checks_in_inbox(client, cm)
    fire_due_timers(services.db, services.processes, at=at_china(due + dt.timedelta(days=6), 9, 5))
    assert [t["id"] for t in checks_in_inbox(client, cm)] == [task["id"]]   # 6 days: still the customer manager's

    fire_due_timers(services.db, services.processes, at=at_china(due + dt.timedelta(days=7), 9, 5))
    assert checks_in_inbox(client, cm) == []
    [overdue] = checks_in_inbox(client, risk)
    assert overdue["task_key"] == "overdue_check" and overdue["form"] == "post_loan_check"
    assert overdue["loan_id"] == loan["loan_id"]
    with clock_at(lambda: at_china(due + dt.timedelta(days=7), 14)):
        done = client.post(f"/api/v1/tasks/{overdue['id']}/complete", headers=risk, json={
            "visited_on": (due + dt.timedelta(days=7)).isoformat(), "findings": "visited with the village head",
            "fund_use": "as_agreed", "risk_opinion": "normal"})
    assert done.status_code == 200, done.get_json()
    instance = client.get(f"/api/v1/instances/{overdue['instance_id']}", headers=risk).get_json()
    assert (instance["status"], instance["stage"]) == ("completed", "check_done")


def test_an_ad_hoc_check_asked_for_before_nine_in_the_morning_is_due_at_once_too(client, token_for, services):
    # Planned checks appear at 9:00; an ad-hoc one at the moment it is asked for, not at 9:00 that day.
    loan = disbursed(client, token_for)
    body = {"branch": "BR001", "data": {"loan_id": loan["loan_id"], "check_reason": "court enforcement flag"}}
    with clock_at(lambda: dt.datetime.now(CHINA).replace(hour=8, minute=30)):
        started = client.post("/api/v1/processes/post_loan_check/instances", json=body,
                              headers={**token_for("risk-BR001"), "Idempotency-Key": str(uuid.uuid4())})
    assert started.status_code == 201, started.get_json()
    assert [t["task_key"] for t in started.get_json()["open_tasks"]] == ["visit_and_check"]
