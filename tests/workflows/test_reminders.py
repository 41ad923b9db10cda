"""Repayment reminders by SMS: three days before a due date (HQ's reminder_days.dmn), and on the
due date when the installment is still unpaid; a second run of the same night texts nobody twice."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import requests

from ledger import service as ledger
from tests.web.journeys import example, signature_for, submit
from web.simulators import start_in_thread
from web.simulators.sms import create_app as sms_app
from workflows.reminders import send_reminders


@pytest.fixture(scope="module")
def sms_gateway():
    server = start_in_thread(sms_app())
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(sms_gateway):
    requests.post(f"{sms_gateway.url}/control", json={"reset": True}, timeout=5)
    return {"sms_url": sms_gateway.url}


def texts(gateway) -> list[dict]:
    return requests.get(f"{gateway.url}/v1/messages", timeout=5).json()["items"]


def test_a_borrower_is_reminded_three_days_before_and_on_the_due_date_if_unpaid(client, token_for, services, sms_gateway):
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    loan = client.post(f"/api/v1/applications/{application['id']}/signature", json=signature_for(application),
                       headers=integrator).get_json()
    with services.db.sessions() as session:
        first = ledger.loan_view(session, loan["loan_id"])["schedule"][0]
    due = dt.date.fromisoformat(first["due_date"])

    # The night after the EOD of D-5 is the morning of D-4: nothing is three days away yet.
    assert send_reminders(services.db, services.processes, due - dt.timedelta(days=5)).before_due == 0
    run = send_reminders(services.db, services.processes, due - dt.timedelta(days=4))
    assert (run.before_due, run.debit_failed, run.not_sent) == (1, 0, 0)
    [text] = texts(sms_gateway)
    assert text["to"] == "13805361234" and loan["loan_id"] in text["text"]
    assert f"¥{Decimal(first['total']):,.2f}" in text["text"] and due.strftime("%m月%d日") in text["text"]

    # The night before the due date closes D-1; on D the installment is still unpaid after the auto-debit.
    run = send_reminders(services.db, services.processes, due - dt.timedelta(days=1))
    assert (run.before_due, run.debit_failed) == (0, 1)
    assert "自动扣款未成功" in texts(sms_gateway)[-1]["text"]
    send_reminders(services.db, services.processes, due - dt.timedelta(days=1))
    assert len(texts(sms_gateway)) == 2  # the same night again: the gateway got the same references
