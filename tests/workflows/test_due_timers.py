"""A deployed diagram with a timer waits for it; `loanflow tick` (and the worker) fire it once,
at the moment asked for, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import sqlalchemy as sa

from tests.web.journeys import example, signature_for, submit
from workflows.models import AuditEvent, DueTimer
from workflows.timer_jobs import fire_due_timers

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
UTC = dt.timezone.utc


def disbursement_with_cooling_off(duration: str) -> str:
    """HQ's disbursement.bpmn with a cooling-off wait (冷静期) before the risk check."""
    text = (BPMN / "default" / "disbursement.bpmn").read_text()
    text = re.sub(r"\s*<bpmndi:BPMNDiagram.*</bpmndi:BPMNDiagram>", "", text, flags=re.S)
    text = text.replace('<bpmn:sequenceFlow id="to_disburse" sourceRef="disbursement_start" '
                        'targetRef="disbursement_risk_check"/>',
                        '<bpmn:sequenceFlow id="to_disburse" sourceRef="disbursement_start" targetRef="cooling_off"/>'
                        '<bpmn:sequenceFlow id="cooling_off_over" sourceRef="cooling_off" '
                        'targetRef="disbursement_risk_check"/>')
    text = text.replace('<bpmn:incoming>to_disburse</bpmn:incoming>', '<bpmn:incoming>cooling_off_over</bpmn:incoming>')
    timer = (f'<bpmn:intermediateCatchEvent id="cooling_off" name="Cooling-off period">'
             f'<bpmn:incoming>to_disburse</bpmn:incoming><bpmn:outgoing>cooling_off_over</bpmn:outgoing>'
             f'<bpmn:timerEventDefinition><bpmn:timeDuration>{duration}</bpmn:timeDuration>'
             f'</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    return text.replace("</bpmn:process>", timer + "</bpmn:process>")


def deploy_cooling_off(client, token_for, duration="'P1D'"):
    files = {"disbursement.bpmn": disbursement_with_cooling_off(duration)}
    data = {"scope": "BR001", "files": [(io.BytesIO(t.encode()), n) for n, t in files.items()]}
    response = client.post("/api/v1/deployments", headers=token_for("analyst"), data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()


def signed_application(client, token_for) -> dict:
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    assert application["status"] == "awaiting_signature", application
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", json=signature_for(application),
                         headers=integrator)
    assert signed.status_code == 200, signed.get_json()
    return signed.get_json()


def test_a_cooling_off_timer_holds_disbursement_until_tick_passes_it_and_fires_once(client, token_for, services):
    deploy_cooling_off(client, token_for)
    application = signed_application(client, token_for)
    assert application["status"] == "running"  # waiting for the timer, not disbursed
    with services.db.sessions() as session:
        [timer] = session.scalars(sa.select(DueTimer).where(DueTimer.element_id == "cooling_off")).all()
    assert timer.element_id == "cooling_off" and timer.fired_at is None
    due = timer.due_at.replace(tzinfo=UTC)
    assert dt.timedelta(hours=23) < due - dt.datetime.now(UTC) <= dt.timedelta(days=1)

    assert fire_due_timers(services.db, services.origination, at=due - dt.timedelta(minutes=1)) == []
    fired = fire_due_timers(services.db, services.origination, at=due + dt.timedelta(minutes=5))
    assert [(t.application_id, t.element_id, t.status) for t in fired] == [(application["id"], "cooling_off",
                                                                            "disbursed")]
    later = fire_due_timers(services.db, services.origination, at=due + dt.timedelta(days=30))
    assert [t.process_id for t in later] == ["post_loan_check"]  # the loan's first check, not the cooling-off again

    view = client.get(f"/api/v1/applications/{application['id']}", headers=token_for("api-demo")).get_json()
    assert view["status"] == "disbursed" and view["loan_id"]
    with services.db.sessions() as session:
        fired_rows = session.scalars(sa.select(DueTimer).where(DueTimer.fired_at.is_not(None),
                                                               DueTimer.element_id == "cooling_off")).all()
        audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.application_id == application["id"],
                                                            AuditEvent.event == "timer_fired")).all()
    assert len(fired_rows) == 1 and len(audit) == 1
    # The step happened at the tick's moment, not at the wall clock's.
    assert audit[0].at == (due + dt.timedelta(minutes=5)).replace(tzinfo=None)


def test_running_instances_keep_their_version_when_a_timer_is_deployed(client, token_for, services):
    before = signed_application(client, token_for)  # started on HQ's disbursement: no timer
    assert before["status"] == "disbursed"
    deploy_cooling_off(client, token_for, duration="f'PT{2 * 2}H'")  # computed in the script language
    after = signed_application(client, token_for)
    assert after["status"] == "running"
    with services.db.sessions() as session:
        [timer] = session.scalars(sa.select(DueTimer).where(DueTimer.element_id == "cooling_off")).all()
    assert dt.timedelta(hours=3) < timer.due_at.replace(tzinfo=UTC) - dt.datetime.now(UTC) <= dt.timedelta(hours=4)


def test_the_tick_command_fires_what_is_due_and_says_so(client, token_for, services, monkeypatch, capsys):
    from web.cli import main

    deploy_cooling_off(client, token_for)
    application = signed_application(client, token_for)
    monkeypatch.setenv("LOANFLOW_DATABASE_URL", services.settings.database_url)
    later = (dt.datetime.now(UTC) + dt.timedelta(days=2)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert main(["tick", "--at", later.strftime("%Y-%m-%dT%H:%M")]) == 0  # no zone: China time
    out = capsys.readouterr().out.splitlines()
    # The nightly batches of the days passed come in their turn (tests/workflows/test_catch_up.py).
    [fired] = [line for line in out if line.startswith("fired ")]
    assert fired.startswith("fired cooling_off due ") and fired.endswith(f"application {application['id']} -> disbursed")
    assert " 1 timer(s) fired, " in out[-1]
    assert main(["tick", "--at", "next tuesday"]) == 2
    assert "is not an ISO time" in capsys.readouterr().err
