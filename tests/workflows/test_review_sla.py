"""The review SLA is boundary timers in review.bpmn: a reminder (the task stays with its reviewer),
then an escalation (the task goes to the next role's inbox). Time moves by firing due timers at a
chosen moment, never by waiting."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import sqlalchemy as sa

from tests.web.journeys import decide, example, open_task, submit
from workflows.models import AuditEvent, DueTimer, HumanTask, OutboxMessage, ProcessInstance
from workflows.clock import CHINA
from workflows.timer_jobs import fire_due_timers
from workflows.timers import clock_at

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
HOUR = dt.timedelta(hours=1)


def in_first_review(client, token_for, branch="BR001") -> str:
    """An application of 300,000 yuan (two review levels) whose investigation is done."""
    body = example("application-review.json", branch=branch)
    application = submit(client, token_for("api-demo"), body).get_json()
    assert application["status"] == "in_review", application
    decide(client, token_for(f"cm-{branch}"), application["id"])
    return application["id"]


def unfired(services, application_id: str) -> dict[str, dt.datetime]:
    """The application's waiting timers: element id -> due (aware UTC)."""
    with services.db.sessions() as session:
        found = session.execute(
            sa.select(DueTimer.element_id, DueTimer.due_at)
            .join(ProcessInstance, ProcessInstance.id == DueTimer.instance_id)
            .where(ProcessInstance.application_id == application_id, DueTimer.fired_at.is_(None))).all()
    return {element: due.replace(tzinfo=dt.timezone.utc) for element, due in found}


def rows(services, model, **where):
    with services.db.sessions() as session:
        return session.scalars(sa.select(model).filter_by(**where).order_by(model.id)).all()


def china(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA).astimezone(dt.timezone.utc)


def test_a_review_sla_of_two_working_days_set_on_the_friday_before_national_day_falls_due_on_the_right_working_day(
        client, token_for, services):
    # The State Council's 2026 calendar (bpmn/calendar/2026.json): 中秋节 Fri 25 – Sun 27 September,
    # 国庆节 Thu 1 – Wed 7 October; Sunday 20 September and Saturday 10 October are worked (调休).
    # Friday 25 September is already the Mid-Autumn holiday, so the last working Friday before the
    # holidays is 18 September. A review handed over then at 10:00: one working day later is the
    # swapped working Sunday the 20th, two working days later Monday the 21st, both at 10:00.
    friday = china(2026, 9, 18, 10, 0)
    with clock_at(lambda: friday):
        application_id = in_first_review(client, token_for)
    timers = unfired(services, application_id)
    assert timers == {"first_review_reminder": china(2026, 9, 20, 10, 0),
                      "first_review_escalation": china(2026, 9, 21, 10, 0)}
    # The inbox's due date is the SLA's first step, the reminder.
    task = open_task(client, token_for("rev-BR001"), application_id)
    assert task["due_at"] == "2026-09-20T02:00:00Z"

    # Handed over on Wednesday 30 September at 15:00, the last working day before National Day:
    # the seven days off are skipped; Thursday 8 and Friday 9 October at 15:00.
    with clock_at(lambda: china(2026, 9, 30, 15, 0)):
        before_holiday = in_first_review(client, token_for)
    assert unfired(services, before_holiday) == {"first_review_reminder": china(2026, 10, 8, 15, 0),
                                                 "first_review_escalation": china(2026, 10, 9, 15, 0)}

    # The escalation fires on Monday the 21st, not before.
    assert [t.element_id for t in fire_due_timers(services.db, services.origination,
                                                  at=china(2026, 9, 20, 10, 0))] == ["first_review_reminder"]
    assert fire_due_timers(services.db, services.origination, at=china(2026, 9, 21, 9, 59)) == []
    fired = fire_due_timers(services.db, services.origination, at=china(2026, 9, 21, 10, 0))
    assert [(t.application_id, t.element_id) for t in fired] == [(application_id, "first_review_escalation")]
    escalated = open_task(client, token_for("appr-BR001"), application_id)
    assert escalated["title"] == "Credit review (escalated)"
    # The escalated task has no timers: it is due nine working hours (one working day) later.
    assert escalated["due_at"] == "2026-09-22T02:00:00Z"


def test_the_investigation_is_due_after_eighteen_working_hours(client, token_for):
    # Opened on Friday 18 September 2026 at 10:00: 7½ hours that Friday (to 17:30), 9 on the
    # swapped working Sunday the 20th, and 1½ on Monday the 21st from 08:30: due at 10:00 that Monday.
    with clock_at(lambda: china(2026, 9, 18, 10, 0)):
        application = submit(client, token_for("api-demo"), example("application-review.json")).get_json()
    task = open_task(client, token_for("cm-BR001"), application["id"])
    assert (task["title"], task["due_at"]) == ("Customer manager's investigation", "2026-09-21T02:00:00Z")


def test_the_reminder_fires_once_and_the_reviewer_keeps_the_task(client, token_for, services):
    application_id = in_first_review(client, token_for)
    reviewer = token_for("rev-BR001")
    task = open_task(client, reviewer, application_id)
    assert client.post(f"/api/v1/tasks/{task['id']}/claim", headers=reviewer).status_code == 200
    reminder_due = unfired(services, application_id)["first_review_reminder"]

    fired = fire_due_timers(services.db, services.origination, at=reminder_due + HOUR)
    assert [(t.application_id, t.element_id, t.status) for t in fired] == [
        (application_id, "first_review_reminder", "in_review")]
    assert fire_due_timers(services.db, services.origination, at=reminder_due + 20 * HOUR) == []  # once

    still = open_task(client, reviewer, application_id)
    assert (still["id"], still["assignee"], still["role"]) == (task["id"], "rev-BR001", "reviewer")
    assert still["context"]["sla"]["reminders"] == 1
    assert still["context"]["sla"]["reminded_at"] == (reminder_due + HOUR).replace(tzinfo=None).isoformat() + "Z"
    [audit] = rows(services, AuditEvent, application_id=application_id, event="task_reminder_sent")
    assert (audit.actor, audit.detail["task"], audit.detail["assignee"]) == ("system", "Credit review", "rev-BR001")
    assert audit.at == (reminder_due + HOUR).replace(tzinfo=None)  # at the tick's moment, not the wall clock's
    [notice] = rows(services, OutboxMessage, application_id=application_id, topic="task.reminder")
    assert notice.payload["task_id"] == task["id"] and notice.payload["role"] == "reviewer"
    assert set(unfired(services, application_id)) == {"first_review_escalation"}

    # The reminder's path ended beside the review: the reviewer's decision is what counts.
    decide(client, reviewer, application_id)
    decide(client, token_for("appr-BR001"), application_id)
    view = client.get(f"/api/v1/applications/{application_id}", headers=token_for("api-demo")).get_json()
    assert (view["status"], view["decision"]) == ("awaiting_signature", "approved")
    assert unfired(services, application_id) == {}


def test_the_escalation_takes_the_review_away_and_gives_it_to_the_approver(client, token_for, services):
    application_id = in_first_review(client, token_for)
    reviewer, approver = token_for("rev-BR001"), token_for("appr-BR001")
    task = open_task(client, reviewer, application_id)
    escalation_due = unfired(services, application_id)["first_review_escalation"]

    # One tick past both: the reminder and then the escalation, each at its own due moment.
    fired = fire_due_timers(services.db, services.origination, at=escalation_due - HOUR)
    fired += fire_due_timers(services.db, services.origination, at=escalation_due)
    assert [t.element_id for t in fired] == ["first_review_reminder", "first_review_escalation"]

    assert client.get(f"/api/v1/tasks?application_id={application_id}", headers=reviewer).get_json()["total"] == 0
    escalated = open_task(client, approver, application_id)
    assert (escalated["title"], escalated["role"], escalated["form"], escalated["level"]) == (
        "Credit review (escalated)", "approver", "review", 1)
    [trail] = escalated["context"]["escalations"]
    assert (trail["task"], trail["from_role"], trail["task_key"]) == ("Credit review", "reviewer", "first_review")
    [old] = rows(services, HumanTask, id=task["id"])
    assert old.status == "cancelled"
    [audit] = rows(services, AuditEvent, application_id=application_id, event="task_escalated")
    assert audit.detail["role"] == "reviewer" and audit.at == escalation_due.replace(tzinfo=None)
    assert len(rows(services, OutboxMessage, application_id=application_id, topic="task.escalated")) == 1
    assert unfired(services, application_id) == {}  # the escalated task carries no timers of its own

    # The same decision semantics: approving it moves on to the branch approval level.
    decide(client, approver, application_id)
    view = client.get(f"/api/v1/applications/{application_id}", headers=token_for("api-demo")).get_json()
    assert [t["title"] for t in view["open_tasks"]] == ["Branch approval"]
    assert set(unfired(services, application_id)) == {"branch_approval_reminder", "branch_approval_escalation"}


def test_a_review_completed_in_time_cancels_its_timers_and_the_branch_approval_escalates_to_head_office(
        client, token_for, services):
    application_id = in_first_review(client, token_for)
    decide(client, token_for("rev-BR001"), application_id)
    timers = unfired(services, application_id)
    assert set(timers) == {"branch_approval_reminder", "branch_approval_escalation"}
    with services.db.sessions() as session:
        left = session.scalars(sa.select(DueTimer.element_id).where(DueTimer.element_id.like("first_review%"))).all()
    assert left == []  # cancelled with the task: nothing left to fire for it

    fire_due_timers(services.db, services.origination, at=timers["branch_approval_escalation"] + HOUR)
    assert client.get(f"/api/v1/tasks?application_id={application_id}",
                      headers=token_for("appr-BR001")).get_json()["total"] == 0
    escalated = open_task(client, token_for("hq-approver"), application_id)
    assert (escalated["title"], escalated["role"], escalated["level"]) == (
        "Branch approval (escalated)", "hq_approver", 2)
    decide(client, token_for("hq-approver"), application_id)
    view = client.get(f"/api/v1/applications/{application_id}", headers=token_for("api-demo")).get_json()
    assert view["status"] == "awaiting_signature"


def deploy(client, token_for, scope: str, text: str):
    data = {"scope": scope, "files": [(io.BytesIO(text.encode()), "review.bpmn")]}
    return client.post("/api/v1/deployments", headers=token_for("analyst"), data=data,
                       content_type="multipart/form-data")


def test_an_analyst_changes_the_sla_by_deploying_review_bpmn_and_only_new_applications_follow(
        client, token_for, services):
    # Tuesday 8 December 2026, 10:00: the shipped SLA is one working day to the reminder, two to
    # the escalation (Wednesday and Thursday at 10:00).
    tuesday = china(2026, 12, 8, 10, 0)
    with clock_at(lambda: tuesday):
        running = in_first_review(client, token_for)
    text = (BPMN / "default" / "review.bpmn").read_text()
    faster = text.replace("'working_days(1)'", "'PT2H'").replace("'working_days(2)'", "'PT4H'")
    assert faster != text
    assert deploy(client, token_for, "BR001", faster).status_code == 201
    with clock_at(lambda: tuesday):
        new = in_first_review(client, token_for)

    old_timers, new_timers = unfired(services, running), unfired(services, new)
    assert old_timers["first_review_escalation"] - old_timers["first_review_reminder"] == 24 * HOUR
    assert new_timers["first_review_escalation"] - new_timers["first_review_reminder"] == 2 * HOUR
    assert new_timers["first_review_reminder"] < old_timers["first_review_reminder"]
    due = {a: open_task(client, token_for("rev-BR001"), a)["due_at"] for a in (running, new)}
    assert due == {a: t["first_review_reminder"].replace(tzinfo=None).isoformat() + "Z"
                   for a, t in ((running, old_timers), (new, new_timers))}
    # BR002 resolves its own review.bpmn, untouched by BR001's deployment.
    with clock_at(lambda: tuesday):
        other = in_first_review(client, token_for, branch="BR002")
    other_timers = unfired(services, other)
    assert other_timers["first_review_escalation"] - other_timers["first_review_reminder"] == 24 * HOUR


def test_an_invalid_sla_timer_is_refused_at_deployment_naming_the_boundary_event(client, token_for):
    text = (BPMN / "default" / "review.bpmn").read_text().replace("'working_days(2)'", "'PT48X'", 1)
    response = deploy(client, token_for, "BR001", text)
    assert response.status_code == 422
    reasons = [r for rs in response.get_json()["fields"].values() for r in rs]
    assert any(r.startswith("first_review_escalation: ") and "'PT48X' is not a valid ISO-8601 timer" in r
               for r in reasons), reasons
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_reminder_that_names_another_task_is_refused_at_deployment(client, token_for):
    text = (BPMN / "default" / "review.bpmn").read_text()
    slipped = text.replace('''<spiffworkflow:parameter id="task_key" type="str" value="'first_review'"/>''',
                           '''<spiffworkflow:parameter id="task_key" type="str" value="'branch_approval'"/>''', 1)
    assert slipped != text
    response = deploy(client, token_for, "BR001", slipped)
    assert response.status_code == 422
    reasons = [r for rs in response.get_json()["fields"].values() for r in rs]
    assert reasons == ["remind_first_review: parameter task_key must name the task its boundary event "
                       "first_review_reminder is attached to: 'first_review'"], reasons
