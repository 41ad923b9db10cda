"""Risk interception, the credit bureau and per-branch pricing, through the API."""
from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import requests

from tests.web.journeys import decide, example, open_task, signature_for, submit
from tests.web.test_deployments_api import deploy

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
AUTO = example("application-auto.json")
ID_NUMBER = AUTO["applicant"]["id_number"]


def add_to_list(client, headers, name, id_number, reason="test"):
    response = client.post(f"/api/v1/risk-lists/{name}/entries", headers=headers,
                           json={"id_number": id_number, "reason": reason})
    assert response.status_code == 201, response.get_json()


def test_a_blacklisted_applicant_is_declined_at_intake_naming_the_rule(client, token_for):
    add_to_list(client, token_for("appr-BR001"), "blacklist", ID_NUMBER, "fraud case 2026-117")
    application = submit(client, token_for("api-demo"), example("application-auto.json")).get_json()
    assert application["status"] == "declined"
    assert [r["code"] for r in application["reasons"]] == ["R001"]
    assert application["rating"].get("score") is None  # never scored


def test_a_graylisted_applicant_reaches_review_with_the_warning_on_the_task(client, token_for):
    add_to_list(client, token_for("appr-BR001"), "graylist", ID_NUMBER, "guarantor of an overdue loan")
    application = submit(client, token_for("api-demo"), example("application-auto.json")).get_json()
    assert application["status"] == "in_review"  # the warning rules out auto-approval
    task = open_task(client, token_for("cm-BR001"), application["id"])
    codes = [h["code"] for h in task["context"]["risk_hits"]]
    assert codes == ["W001"]


def test_a_blacklisting_after_approval_blocks_at_the_contract_checkpoint(client, token_for):
    api = token_for("api-demo")
    app_id = submit(client, api, example("application-review.json")).get_json()["id"]
    decide(client, token_for("cm-BR001"), app_id)
    decide(client, token_for("rev-BR001"), app_id)
    add_to_list(client, token_for("appr-BR001"), "blacklist",
                example("application-review.json")["applicant"]["id_number"], "court judgment")
    decide(client, token_for("appr-BR001"), app_id)
    after = client.get(f"/api/v1/applications/{app_id}", headers=api).get_json()
    assert after["status"] == "declined"
    assert any(r["code"] == "R001" and "contract checkpoint" in r["message"] for r in after["reasons"])
    assert after["loan_id"] is None


def test_bureau_down_gives_an_incident_and_a_retry_carries_on(client, token_for, bureau):
    api = token_for("api-demo")
    requests.post(f"{bureau.url}/control", json={"down": True}, timeout=5)
    try:
        application = submit(client, api, example("application-auto.json")).get_json()
    finally:
        requests.post(f"{bureau.url}/control", json={"down": False}, timeout=5)
    assert application["status"] == "incident"
    assert "bureau" in application["incident"].lower()
    assert application["stage"] == "intake"
    retried = client.post(f"/api/v1/applications/{application['id']}/retry", headers=api)
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["status"] == "awaiting_signature"
    assert retried.get_json()["incident"] is None


def test_a_branchs_new_pricing_row_changes_its_next_price_and_no_other_branchs(client, token_for):
    api, analyst = token_for("api-demo"), token_for("analyst")
    br002_before = submit(client, api, example("application-auto.json", branch="BR002")).get_json()
    before = submit(client, api, example("application-auto.json")).get_json()
    # Premium tier: base 4.35 % x (1 - 0.15) - 0.25 % credit village - 0.25 % credit household.
    assert Decimal(before["rating"]["annual_rate"]) == Decimal("0.031975")
    pricing = (BPMN / "default" / "scoring" / "pricing.dmn").read_text()
    assert pricing.count("<text>-0.15</text>") == 1
    response = deploy(client, analyst, "BR001", {"pricing.dmn": pricing.replace("<text>-0.15</text>",
                                                                                "<text>-0.20</text>")})
    assert response.status_code == 201, response.get_json()
    after = submit(client, api, example("application-auto.json")).get_json()
    # 4.35 % x 0.80 - 0.50 % = 2.98 %
    assert Decimal(after["rating"]["annual_rate"]) == Decimal("0.0298")
    br002_after = submit(client, api, example("application-auto.json", branch="BR002")).get_json()
    assert br002_after["rating"]["annual_rate"] == br002_before["rating"]["annual_rate"]
    signed = client.post(f"/api/v1/applications/{after['id']}/signature", headers=api, json=signature_for(after))
    assert Decimal(signed.get_json()["contract"]["terms"]["annual_rate"]) == Decimal("0.0298")


def test_an_application_over_a_dimension_limit_is_declined_naming_the_dimension(client, token_for):
    api = token_for("api-demo")
    limits = json.loads((BPMN / "default" / "scoring" / "limits.json").read_text())
    limits["dimension_limits"].append({"id": "machinery-loans", "dimensions": {"loan_purpose": "agri_machinery"},
                                       "max_amount": "500000"})
    assert deploy(client, token_for("analyst"), "BR001", {"limits.json": json.dumps(limits)}).status_code == 201
    first = submit(client, api, example("application-review.json")).get_json()
    for user in ("cm-BR001", "rev-BR001", "appr-BR001"):
        decide(client, token_for(user), first["id"])
    ready = client.get(f"/api/v1/applications/{first['id']}", headers=api).get_json()
    signed = client.post(f"/api/v1/applications/{first['id']}/signature", headers=api, json=signature_for(ready))
    assert signed.get_json()["status"] == "disbursed"  # 300,000 now outstanding for agri machinery

    second = example("application-review.json")
    second["applicant"]["id_number"] = "370724198003121086"
    declined = submit(client, api, second).get_json()
    assert declined["status"] == "declined"
    [reason] = declined["reasons"]
    assert reason["code"] == "LIMIT_machinery-loans"
    assert reason["dimension"] == "loan_purpose"
    assert (Decimal(reason["limit"]), Decimal(reason["usage"])) == (Decimal("500000"), Decimal("600000"))


def test_a_risk_list_entry_needs_a_resident_id_number_and_a_reason(client, token_for):
    approver = token_for("appr-BR001")
    response = client.post("/api/v1/risk-lists/blacklist/entries", headers=approver,
                           json={"id_number": "123", "reason": {"a": 1}})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"id_number", "reason"}
    removal = client.delete("/api/v1/risk-lists/blacklist/entries/1", headers=approver)
    assert removal.status_code == 422 and "reason" in removal.get_json()["fields"]


def test_the_worker_retries_an_incident_by_itself_once_the_bureau_is_back(client, token_for, bureau, services):
    import datetime as dt

    from scoring.bureau import BureauClient, CircuitBreaker
    from workflows.incidents import retry_due_incidents
    from workflows.models import utcnow

    # A breaker that closes again within the test (production waits 30 s before a trial call).
    services.origination.services["bureau"] = BureauClient(
        bureau.url, backoff_base=0.01, breaker=CircuitBreaker(failure_threshold=5, reset_after=0.2))
    api = token_for("api-demo")
    requests.post(f"{bureau.url}/control", json={"down": True}, timeout=5)
    try:
        application = submit(client, api, example("application-auto.json")).get_json()
        assert application["status"] == "incident"
        # Still down at the first automatic attempt: the incident stays and backs off.
        assert retry_due_incidents(services.db, services.origination, now=utcnow() + dt.timedelta(minutes=2)) == 0
    finally:
        requests.post(f"{bureau.url}/control", json={"down": False}, timeout=5)
    assert retry_due_incidents(services.db, services.origination, now=utcnow()) == 0  # not due yet
    time.sleep(0.3)  # the breaker's trial call may go through now
    assert retry_due_incidents(services.db, services.origination, now=utcnow() + dt.timedelta(hours=1)) == 1
    after = client.get(f"/api/v1/applications/{application['id']}", headers=api).get_json()
    assert after["status"] == "awaiting_signature"
    assert [e["actor"] for e in after["history"] if e["event"] == "incident_retried"] == ["system", "system"]
