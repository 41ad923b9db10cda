"""Credit lines through the API (授信 / 用信): a line is granted by the same stages as a loan and
drawn on many times; what it has available is its limit less the outstanding principal of its
drawdowns in the ledger, so a repayment releases it. Each drawdown is refused for a frozen or
expired line, an amount above what is available, and a borrower on a risk list."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import func, select

from ledger.tables import LoanAccount
from tests.web.journeys import decide, example, signature_for, submit
from workflows.models import CreditLine, CreditLineDrawdown, Customer

WANG = "370784198605210015"  # examples/application-auto.json's applicant
USER_PREFIX = {"customer_manager": "cm", "reviewer": "rev", "approver": "appr"}


def apply_for_line(client, headers, key=None, **changes):
    body = example("application-auto.json", amount="100000.00", **changes)
    return client.post("/api/v1/credit-lines", json=body,
                       headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())})


def grant_line(client, token_for, branch="BR001", **changes) -> dict:
    """Apply for a line of 100,000 for Wang, have the customer manager approve it (one review level,
    as for a loan of that amount), and sign the line contract: the line is active."""
    api = token_for("api-demo")
    response = apply_for_line(client, api, branch=branch, **changes)
    assert response.status_code == 201, response.get_json()
    application = response.get_json()
    assert application["status"] == "in_review" and application["rating"]["review_levels"] == 1
    while application["status"] == "in_review":  # investigation, then the one review level
        role = application["open_tasks"][0]["role"]
        decide(client, token_for(f"{USER_PREFIX[role]}-{branch}"), application["id"], comment="visited the household")
        application = client.get(f"/api/v1/applications/{application['id']}", headers=api).get_json()
    assert application["status"] == "awaiting_signature"
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application))
    assert signed.status_code == 200, signed.get_json()
    assert signed.get_json()["status"] == "line_active" and signed.get_json()["loan_id"] is None
    line_id = signed.get_json()["credit_line_id"]
    return client.get(f"/api/v1/credit-lines/{line_id}", headers=api).get_json()


def draw(client, headers, line_id, amount, key=None, **extra):
    return client.post(f"/api/v1/credit-lines/{line_id}/drawdowns", json={"amount": amount, **extra},
                       headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())})


def test_a_line_is_granted_by_the_loan_stages_and_activated_without_paying_out(client, token_for, services):
    line = grant_line(client, token_for)
    assert line["status"] == "active" and line["limit"] == "100000.00"
    assert line["available"] == "100000.00" and line["outstanding"] == "0.00"
    assert line["annual_rate"] == "0.031975" and line["term_months"] == 12 and line["revolving"] is False
    granted = dt.date.fromisoformat(line["granted_on"])
    assert line["expires_on"] == granted.replace(year=granted.year + 1).isoformat()  # 12 months
    assert line["drawdowns"] == [] and [e["kind"] for e in line["events"]] == ["granted"]
    with services.db.unit_of_work() as session:  # no loan: the money moves at the drawdowns
        assert session.scalar(select(func.count()).select_from(LoanAccount)) == 0


def test_a_line_application_and_a_loan_application_with_one_id_number_are_one_customer(client, token_for,
                                                                                        services):
    line = grant_line(client, token_for)
    loan_application = submit(client, token_for("api-demo"), example("application-auto.json")).get_json()
    assert loan_application["customer_id"] == line["customer_id"]
    customer = client.get(f"/api/v1/customers/{line['customer_id']}", headers=token_for("cm-BR001")).get_json()
    assert customer["id_number"] == WANG
    assert [(c["id"], c["status"], c["limit"]) for c in customer["credit_lines"]] == [
        (line["id"], "active", "100000.00")]
    with services.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_a_line_of_100000_takes_two_drawdowns_of_40000_and_refuses_a_third_of_30000_naming_20000(
        client, token_for, services):
    line = grant_line(client, token_for)
    api = token_for("api-demo")
    first = draw(client, api, line["id"], "40000.00")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["credit_line"]["available"] == "60000.00"
    second = draw(client, api, line["id"], "40000.00").get_json()
    assert second["credit_line"]["available"] == "20000.00"
    assert second["credit_line"]["outstanding"] == "80000.00"
    # one ledger loan per drawdown on a non-revolving line, on the line's rate and the product's method
    assert first.get_json()["loan_id"] != second["loan_id"]
    loan = client.get(f"/api/v1/loans/{second['loan_id']}", headers=api).get_json()
    assert loan["status"] == "active" and Decimal(loan["terms"]["principal"]) == Decimal("40000")
    assert Decimal(loan["terms"]["annual_rate"]) == Decimal("0.031975")

    third = draw(client, api, line["id"], "30000.00")
    assert third.status_code == 422
    answer = third.get_json()
    assert answer["error"] == "above_available" and "available 20000.00" in answer["message"]
    assert answer["fields"]["amount"] == ["must be at most the line's available 20000.00"]
    with services.db.unit_of_work() as session:  # the refusal paid nothing out
        assert session.scalar(select(func.count()).select_from(LoanAccount)) == 2


def test_a_repayment_releases_the_line(client, token_for):
    line = grant_line(client, token_for)
    api = token_for("api-demo")
    loan_id = draw(client, api, line["id"], "40000.00").get_json()["loan_id"]
    draw(client, api, line["id"], "40000.00")
    # Repaid the same day: no interest has accrued, so all 10,000 is principal (a prepayment).
    repaid = client.post(f"/api/v1/loans/{loan_id}/repayments", json={"amount": "10000.00"},
                         headers={**api, "Idempotency-Key": str(uuid.uuid4())})
    assert repaid.status_code == 201, repaid.get_json()
    assert Decimal(repaid.get_json()["principal"]) + Decimal(repaid.get_json()["prepaid_principal"]) \
        == Decimal("10000.00")
    after = client.get(f"/api/v1/credit-lines/{line['id']}", headers=api).get_json()
    # 100,000 − (30,000 + 40,000) = 30,000: the 30,000 refused before now fits
    assert after["outstanding"] == "70000.00" and after["available"] == "30000.00"
    assert draw(client, api, line["id"], "30000.00").status_code == 201


def test_a_frozen_line_refuses_a_drawdown_until_an_approver_unfreezes_it(client, token_for):
    line = grant_line(client, token_for)
    api = token_for("api-demo")
    refused = client.post(f"/api/v1/credit-lines/{line['id']}/freeze", json={"reason": "warning signal"},
                          headers=token_for("cm-BR001"))
    assert refused.status_code == 403  # a freeze is a risk measure: approver or risk officer
    frozen = client.post(f"/api/v1/credit-lines/{line['id']}/freeze",
                         json={"reason": "borrower's loan elsewhere overdue"}, headers=token_for("risk-BR001"))
    assert frozen.status_code == 200, frozen.get_json()
    assert frozen.get_json()["status"] == "frozen"

    answer = draw(client, api, line["id"], "1000.00")
    assert answer.status_code == 409 and answer.get_json()["error"] == "line_frozen"
    assert client.post(f"/api/v1/credit-lines/{line['id']}/unfreeze", json={"reason": "cleared"},
                       headers=token_for("risk-BR001")).status_code == 403
    unfrozen = client.post(f"/api/v1/credit-lines/{line['id']}/unfreeze", json={"reason": "cleared"},
                           headers=token_for("appr-BR001")).get_json()
    assert unfrozen["status"] == "active"
    assert [e["kind"] for e in unfrozen["events"]] == ["granted", "frozen", "unfrozen"]
    assert unfrozen["events"][1]["actor"] == "risk-BR001"
    # reasons are staff's free text: sealed at rest, masked to whoever does not work the branch
    phone = client.post(f"/api/v1/credit-lines/{line['id']}/freeze", headers=token_for("risk-BR001"),
                        json={"reason": "called 13905361234: no answer"})
    assert phone.get_json()["events"][-1]["reason"] == "called 13905361234: no answer"
    masked = client.get(f"/api/v1/credit-lines/{line['id']}", headers=api).get_json()["events"][-1]["reason"]
    assert masked == "called 139****1234: no answer"
    client.post(f"/api/v1/credit-lines/{line['id']}/unfreeze", json={"reason": "answered"},
                headers=token_for("appr-BR001"))
    assert draw(client, api, line["id"], "1000.00").status_code == 201


def test_an_expired_line_refuses_a_drawdown_and_offers_renewal(client, token_for, services, monkeypatch):
    line = grant_line(client, token_for)
    api = token_for("api-demo")
    book = services.origination.credit_lines
    expires_on = dt.date.fromisoformat(line["expires_on"])
    # The bank's clock on the morning after the expiry date (China), as the book reads it.
    monkeypatch.setattr(book, "clock", lambda: dt.datetime.combine(expires_on + dt.timedelta(days=1), dt.time(2, 0)))
    answer = draw(client, api, line["id"], "1000.00")
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"] == "line_expired" and line["expires_on"] in body["message"]
    assert body["renewal"] == {"href": "/api/v1/credit-lines", "method": "POST", "renews_line_id": line["id"],
                               "note": "a renewal (续贷) is a new line application: rated and reviewed again"}
    shown = client.get(f"/api/v1/credit-lines/{line['id']}", headers=api).get_json()
    assert shown["status"] == "expired" and shown["renewal"]["renews_line_id"] == line["id"]

    # the nightly step records it
    with services.db.unit_of_work() as session:
        assert book.expire_due(session, expires_on + dt.timedelta(days=1)) == 1
    with services.db.unit_of_work() as session:
        assert session.get(CreditLine, line["id"]).status == "expired"

    # renewal (续贷): a new line application naming the old line, rated and reviewed again; once
    # the new line is active the old one is closed (one limit, not two)
    renewed = grant_line(client, token_for, renews_line_id=line["id"])
    assert renewed["status"] == "active" and renewed["renews_line_id"] == line["id"]
    assert renewed["granted_on"] == (expires_on + dt.timedelta(days=1)).isoformat()
    old = client.get(f"/api/v1/credit-lines/{line['id']}", headers=token_for("cm-BR001")).get_json()
    assert old["status"] == "closed" and old["events"][-1]["kind"] == "renewed"
    assert old["events"][-1]["reason"] == f"renewed by line {renewed['id']}"


def test_an_expiry_date_still_to_come_is_drawn_on(client, token_for, services, monkeypatch):
    line = grant_line(client, token_for)
    expires_on = dt.date.fromisoformat(line["expires_on"])
    # the expiry date itself is the line's last day (China): 23:00 UTC the day before is 07:00 on it
    monkeypatch.setattr(services.origination.credit_lines, "clock",
                        lambda: dt.datetime.combine(expires_on - dt.timedelta(days=1), dt.time(23, 0)))
    with services.db.unit_of_work() as session:
        assert services.origination.credit_lines.expire_due(session, expires_on) == 0


def test_a_graylisted_borrowers_drawdown_is_stopped_at_the_drawdown_checkpoint(client, token_for, services):
    line = grant_line(client, token_for)
    api = token_for("api-demo")
    added = client.post("/api/v1/risk-lists/graylist/entries", headers=token_for("appr-BR001"),
                        json={"id_number": WANG, "reason": "guarantor of an overdue loan"})
    assert added.status_code == 201, added.get_json()
    answer = draw(client, api, line["id"], "40000.00")
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"] == "risk_intercepted" and "drawdown checkpoint" in body["message"]
    assert [f.split(":")[0] for f in body["fields"]["borrower"]] == ["W001"]
    after = client.get(f"/api/v1/credit-lines/{line['id']}", headers=api).get_json()
    assert after["available"] == "100000.00" and after["drawdowns"] == []


def test_a_blacklisted_borrowers_drawdown_is_stopped_too(client, token_for):
    line = grant_line(client, token_for)
    client.post("/api/v1/risk-lists/blacklist/entries", headers=token_for("appr-BR001"),
                json={"id_number": WANG, "reason": "fraud case"})
    body = draw(client, token_for("api-demo"), line["id"], "40000.00").get_json()
    assert body["error"] == "risk_intercepted" and body["fields"]["borrower"][0].startswith("R001")


def test_a_replayed_drawdown_gives_one_loan(client, token_for, services):
    line = grant_line(client, token_for)
    api = token_for("api-demo")
    key = str(uuid.uuid4())
    first = draw(client, api, line["id"], "40000.00", key=key)
    again = draw(client, api, line["id"], "40000.00", key=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    other_body = draw(client, api, line["id"], "50000.00", key=key)
    assert other_body.status_code == 422
    with services.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(LoanAccount)) == 1
        assert session.scalar(select(func.count()).select_from(CreditLineDrawdown)) == 1


def test_a_line_is_reduced_by_an_approver_never_below_its_outstanding(client, token_for):
    line = grant_line(client, token_for)
    api, approver = token_for("api-demo"), token_for("appr-BR001")
    draw(client, api, line["id"], "40000.00")
    draw(client, api, line["id"], "40000.00")
    url = f"/api/v1/credit-lines/{line['id']}/reduce"
    below = client.post(url, json={"new_limit": "50000.00", "reason": "income fell"}, headers=approver)
    assert below.status_code == 422
    assert below.get_json()["fields"]["new_limit"] == ["must be at least the outstanding 80000.00"]
    by_manager = client.post(url, json={"new_limit": "90000.00", "reason": "x"}, headers=token_for("cm-BR001"))
    assert by_manager.status_code == 403
    reduced = client.post(url, json={"new_limit": "90000.00", "reason": "income fell"}, headers=approver).get_json()
    assert reduced["limit"] == "90000.00" and reduced["available"] == "10000.00"
    assert draw(client, api, line["id"], "20000.00").get_json()["message"].endswith("available 10000.00")


def test_a_revolving_line_draws_on_one_loan_and_is_drawn_again_after_repayment(client, token_for):
    line = grant_line(client, token_for, revolving=True)
    assert line["revolving"] is True
    api = token_for("api-demo")
    first = draw(client, api, line["id"], "40000.00").get_json()
    second = draw(client, api, line["id"], "40000.00").get_json()
    assert first["loan_id"] == second["loan_id"] == line["contract_number"] + "-D001"
    assert second["credit_line"]["available"] == "20000.00"
    loan = client.get(f"/api/v1/loans/{first['loan_id']}", headers=api).get_json()
    assert loan["terms"]["method"] == "revolving"
    assert Decimal(loan["balances"]["principal_outstanding"]) == Decimal("80000.00")
    assert draw(client, api, line["id"], "30000.00").status_code == 422
    client.post(f"/api/v1/loans/{first['loan_id']}/repayments", json={"amount": "10000.00"},
                headers={**api, "Idempotency-Key": str(uuid.uuid4())})
    third = draw(client, api, line["id"], "30000.00")
    assert third.status_code == 201, third.get_json()
    assert third.get_json()["credit_line"]["available"] == "0.00"


def test_another_branchs_line_is_not_found(client, token_for):
    line = grant_line(client, token_for)
    assert client.get(f"/api/v1/credit-lines/{line['id']}", headers=token_for("cm-BR002")).status_code == 404
    assert draw(client, token_for("cm-BR002"), line["id"], "1000.00").status_code == 404


def test_drawdowns_racing_on_one_line_never_draw_more_than_its_limit(app, client, token_for, services):
    """Six drawdowns of 30,000 at once on a line of 100,000 (a real threaded server): the line row
    is locked per drawdown, so three are paid out and three are refused naming what is left."""
    import requests
    from concurrent.futures import ThreadPoolExecutor

    from web.simulators import start_in_thread

    line = grant_line(client, token_for)
    api = token_for("api-demo")
    server = start_in_thread(app)
    try:
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda n: requests.post(
                f"{server.url}/api/v1/credit-lines/{line['id']}/drawdowns", json={"amount": "30000.00"},
                headers={**api, "Idempotency-Key": f"race-{n}"}, timeout=60), range(6)))
    finally:
        server.stop()
    assert sorted(a.status_code for a in answers) == [201] * 3 + [422] * 3, [a.text for a in answers]
    assert {a.json()["message"] for a in answers if a.status_code == 422} == {
        "The drawdown of 30000.00 is above the line: available 10000.00"}
    after = client.get(f"/api/v1/credit-lines/{line['id']}", headers=api).get_json()
    assert after["outstanding"] == "90000.00" and len(after["drawdowns"]) == 3
    assert len({d["loan_id"] for d in after["drawdowns"]}) == 3


def line_change_task(client, headers, line_id):
    tasks = client.get("/api/v1/tasks", headers=headers).get_json()["items"]
    return [t for t in tasks if t["process"] == "credit_line_change"]


def test_where_the_branch_requires_an_approval_a_reduction_waits_for_its_approver(client, token_for):
    """BR002 deploys its own credit_line_change.bpmn with an approver's task: the customer manager
    asks, nothing changes until the approver (never the one who asked) approves."""
    line = grant_line(client, token_for, branch="BR002")
    api = token_for("api-demo")
    draw(client, api, line["id"], "40000.00")
    url = f"/api/v1/credit-lines/{line['id']}/reduce"
    asked = client.post(url, json={"new_limit": "60000.00", "reason": "harvest failed"}, headers=token_for("cm-BR002"))
    assert asked.status_code == 200, asked.get_json()
    assert asked.get_json()["change"]["status"] == "pending_approval"
    assert asked.get_json()["limit"] == "100000.00"  # not yet
    [task] = line_change_task(client, token_for("appr-BR002"), line["id"])
    assert task["title"] == "Approve the line change" and task["amount"] == "60000.00"
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=token_for("appr-BR002"),
                       json={"decision": "approve", "comment": "agreed"})
    assert done.status_code == 200, done.get_json()
    after = client.get(f"/api/v1/credit-lines/{line['id']}", headers=api).get_json()
    assert after["limit"] == "60000.00" and after["available"] == "20000.00"
    assert after["events"][-1]["kind"] == "reduced" and after["events"][-1]["actor"] == "appr-BR002"
    assert after["events"][-1]["reason"] == "harvest failed (asked by cm-BR002, approved by appr-BR002)"

    # the approver asking is the maker: another approver must decide
    mine = client.post(url, json={"new_limit": "50000.00", "reason": "again"}, headers=token_for("appr-BR002"))
    assert mine.get_json()["change"]["status"] == "pending_approval"
    [task] = line_change_task(client, token_for("appr-BR002"), line["id"])
    refused = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=token_for("appr-BR002"),
                          json={"decision": "approve", "comment": "self"})
    assert refused.status_code == 403


def test_a_rejected_line_change_changes_nothing(client, token_for):
    line = grant_line(client, token_for, branch="BR002")
    client.post(f"/api/v1/credit-lines/{line['id']}/reduce", json={"new_limit": "60000.00", "reason": "x"},
                headers=token_for("cm-BR002"))
    [task] = line_change_task(client, token_for("appr-BR002"), line["id"])
    client.post(f"/api/v1/tasks/{task['id']}/complete", headers=token_for("appr-BR002"),
                json={"decision": "reject", "comment": "income is fine"})
    after = client.get(f"/api/v1/credit-lines/{line['id']}", headers=token_for("api-demo")).get_json()
    assert after["limit"] == "100000.00" and [e["kind"] for e in after["events"]] == ["granted"]


def test_limits_at_a_drawdown_count_what_the_line_has_out(client, token_for):
    """BR001 deploys a single-customer limit of 90,000: with 80,000 drawn, 10,000 more is within it,
    15,000 more (95,000) is stopped naming the limit, though the line has 20,000 available."""
    import json
    from pathlib import Path

    from tests.web.test_deployments_api import deploy

    line = grant_line(client, token_for)
    api = token_for("api-demo")
    draw(client, api, line["id"], "40000.00")
    draw(client, api, line["id"], "40000.00")
    limits = json.loads((Path(__file__).resolve().parents[2] / "bpmn" / "default" / "scoring" / "limits.json")
                        .read_text())
    limits["single_customer"] = {"max_amount": "90000"}
    assert deploy(client, token_for("analyst"), "BR001", {"limits.json": json.dumps(limits)}).status_code == 201
    stopped = draw(client, api, line["id"], "15000.00")
    assert stopped.status_code == 409, stopped.get_json()
    body = stopped.get_json()
    assert body["error"] == "limit_exceeded" and "95000.00" in body["message"] and "90000" in body["message"]
    assert draw(client, api, line["id"], "10000.00").status_code == 201


def test_the_line_applications_webhook_says_line_active_as_the_catalogue_lists(client, token_for, services):
    from workflows.events import APPLICATION_STATUSES
    from workflows.models import OutboxMessage

    line = grant_line(client, token_for)
    with services.db.unit_of_work() as session:
        statuses = [m.payload["status"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.application_id == line["application_id"])
            .order_by(OutboxMessage.id))]
    assert statuses == ["in_review", "awaiting_signature", "line_active"]
    assert set(statuses) <= set(APPLICATION_STATUSES)


def test_the_approver_works_a_line_change_in_the_pages_and_the_line_application_page_shows(client, token_for):
    from tests.web.test_pages import sign_in

    line = grant_line(client, token_for, branch="BR002")
    client.post(f"/api/v1/credit-lines/{line['id']}/reduce", json={"new_limit": "60000.00", "reason": "x"},
                headers=token_for("cm-BR002"))
    [task] = line_change_task(client, token_for("appr-BR002"), line["id"])
    sign_in(client, "appr-BR002")
    inbox = client.get("/inbox")
    assert inbox.status_code == 200 and "审批授信变更" in inbox.get_data(as_text=True)
    page = client.get(f"/tasks/{task['id']}")
    assert page.status_code == 200 and "审批授信变更" in page.get_data(as_text=True)
    case = client.get(f"/applications/{line['application_id']}")
    assert case.status_code == 200 and "授信已生效" in case.get_data(as_text=True)
