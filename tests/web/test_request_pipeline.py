"""One request pipeline for every command: a key posts once however many copies race."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import requests
import sqlalchemy as sa

from ledger import service
from ledger.tables import JournalEntry
from web.simulators import start_in_thread
from workflows.models import IdempotentRequest

COPIES = 8


def _loan(services) -> int:
    with services.db.unit_of_work() as s:
        loan = service.open_loan(s, loan_number="RACE-1", branch="BR001", customer_id="C1", product_code="AGRI",
                                 principal="12000", annual_rate="0.06", term_months=12, method="equal_principal",
                                 start_date=date(2024, 1, 15), deposit_account="D1")
        service.disburse(s, loan.id, posting_key="race-disb")
        return loan.id


def test_eight_identical_repayments_racing_with_one_key_post_once_and_all_get_the_first_answer(app, services,
                                                                                               token_for):
    loan_id = _loan(services)
    headers = {**token_for("cm-BR001"), "Idempotency-Key": "race-pay-1"}
    body = {"amount": "1060.00", "value_date": "2024-02-15"}
    server = start_in_thread(app)  # a real threaded HTTP server: the copies really run at once
    try:
        with ThreadPoolExecutor(COPIES) as pool:
            answers = list(pool.map(
                lambda _: requests.post(f"{server.url}/api/v1/loans/{loan_id}/repayments", json=body,
                                        headers=headers, timeout=60), range(COPIES)))
    finally:
        server.stop()
    assert [a.status_code for a in answers] == [201] * COPIES, [a.text for a in answers]
    assert len({a.text for a in answers}) == 1
    with services.db.sessions() as session:
        repayments = session.scalars(sa.select(JournalEntry).where(JournalEntry.loan_id == loan_id,
                                                                   JournalEntry.kind == "repayment")).all()
        stored = session.scalars(sa.select(IdempotentRequest).where(IdempotentRequest.key.like("%race-pay-1"))).all()
    assert len(repayments) == 1
    assert len(stored) == 1
    assert answers[0].json()["entry_id"] == repayments[0].id


def test_the_same_key_on_another_loan_or_kind_is_another_request(client, services, token_for):
    loan_id = _loan(services)
    headers = {**token_for("cm-BR001"), "Idempotency-Key": "shared-key"}
    paid = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "1060.00", "value_date": "2024-02-15"},
                       headers=headers)
    assert paid.status_code == 201, paid.get_json()
    drawn = client.post(f"/api/v1/loans/{loan_id}/draws", json={"amount": "100.00", "business_date": "2024-02-16"},
                        headers=headers)
    # Not a replay of the repayment: the draw is judged on its own (this loan is not revolving).
    assert drawn.status_code == 409, drawn.get_json()
    assert "revolving" in drawn.get_json()["message"]


def test_a_task_completed_twice_with_one_key_is_completed_once(client, token_for):
    from tests.web.journeys import example, open_task, submit

    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-review.json")).get_json()
    cm = token_for("cm-BR001")
    task = open_task(client, cm, application["id"])
    headers = {**cm, "Idempotency-Key": "complete-once"}
    body = {"decision": "approve", "comment": "farm visited"}
    first = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=headers)
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    without_key = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=cm)
    assert without_key.status_code == 409  # the task is done; only the key makes a retry harmless
