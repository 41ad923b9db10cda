"""Origination end to end through the REST API, with the real diagrams, database and bureau."""
from __future__ import annotations

from decimal import Decimal

from tests.web.journeys import decide, example, open_task, signature_for, submit


def test_a_small_loan_to_a_good_applicant_is_auto_approved_signed_and_disbursed(client, token_for):
    api = token_for("api-demo")
    response = submit(client, api, example("application-auto.json"))
    assert response.status_code == 201, response.get_json()
    application = response.get_json()
    assert application["status"] == "awaiting_signature"
    assert application["decision"] == "approved"
    assert application["rating"]["review_levels"] == 0
    assert application["tasks"] == []
    assert application["contract"]["terms"]["principal"] == "30000.00"

    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application))
    assert signed.status_code == 200, signed.get_json()
    disbursed = signed.get_json()
    assert disbursed["status"] == "disbursed"
    assert disbursed["stage"] == "closed"
    assert disbursed["loan_id"] == application["contract"]["number"]

    loan = client.get(f"/api/v1/loans/{disbursed['loan_id']}", headers=api).get_json()
    assert loan["status"] == "active"
    assert Decimal(loan["terms"]["principal"]) == Decimal("30000.00")
    assert len(loan["schedule"]) == 12
    assert sum(Decimal(row["principal"]) for row in loan["schedule"]) == Decimal("30000.00")
    kinds = [tx["kind"] for tx in loan["transactions"]]
    assert kinds == ["disbursement"]
    lines = {line["account"]: line for line in loan["transactions"][0]["lines"]}
    assert Decimal(lines["customer_deposits"]["credit"]) == Decimal("30000.00")
    events = [e["event"] for e in disbursed["history"]]
    assert events[0] == "application_submitted" and "signature_received" in events


def test_br001_reviews_a_300k_loan_at_two_levels_after_the_investigation(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-review.json")).get_json()
    assert application["status"] == "in_review"
    assert application["rating"]["review_levels"] == 2
    app_id = application["id"]

    decide(client, token_for("cm-BR001"), app_id, comment="visited the farm, machinery quote verified")
    decide(client, token_for("rev-BR001"), app_id)
    decide(client, token_for("appr-BR001"), app_id)

    after = client.get(f"/api/v1/applications/{app_id}", headers=api).get_json()
    assert after["status"] == "awaiting_signature"
    assert [t["role"] for t in after["tasks"]] == ["customer_manager", "reviewer", "approver"]
    assert client.get("/api/v1/tasks", headers=token_for("hq-approver")).get_json()["total"] == 0


def test_br002_sends_the_same_loan_to_head_office_as_one_more_level(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-review.json", branch="BR002")).get_json()
    app_id = application["id"]
    assert application["process_files"]["review.bpmn"]["scope"] == "BR002"

    decide(client, token_for("cm-BR002"), app_id)
    decide(client, token_for("rev-BR002"), app_id)
    decide(client, token_for("appr-BR002"), app_id)
    hq_task = decide(client, token_for("hq-approver"), app_id)
    assert hq_task["role"] == "hq_approver" and hq_task["branch"] == "BR002"

    after = client.get(f"/api/v1/applications/{app_id}", headers=api).get_json()
    assert after["status"] == "awaiting_signature"
    signed = client.post(f"/api/v1/applications/{app_id}/signature", headers=api, json=signature_for(after))
    assert signed.get_json()["status"] == "disbursed"


def test_a_rejection_declines_the_application_with_the_reviewers_reason(client, token_for):
    api = token_for("api-demo")
    app_id = submit(client, api, example("application-review.json")).get_json()["id"]
    decide(client, token_for("cm-BR001"), app_id)
    decide(client, token_for("rev-BR001"), app_id, decision="reject", comment="machinery quote is inflated")
    after = client.get(f"/api/v1/applications/{app_id}", headers=api).get_json()
    assert after["status"] == "declined"
    assert after["decision"] == "declined"
    assert any("machinery quote is inflated" in r["message"] for r in after["reasons"])
    assert after["open_tasks"] == []


def test_a_return_sends_the_file_back_to_the_customer_manager(client, token_for):
    api = token_for("api-demo")
    app_id = submit(client, api, example("application-review.json")).get_json()["id"]
    decide(client, token_for("cm-BR001"), app_id)
    decide(client, token_for("rev-BR001"), app_id, decision="return", comment="need the land contract")
    task = open_task(client, token_for("cm-BR001"), app_id)
    assert task["task_key"] == "investigation"


def test_a_large_amount_is_reported_to_head_office_and_needs_its_approval(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-large.json")).get_json()
    assert application["status"] == "in_review", application
    assert application["rating"]["is_large_amount"] is True
    assert application["rating"]["review_levels"] == 3
    app_id = application["id"]
    decide(client, token_for("cm-BR001"), app_id)
    decide(client, token_for("rev-BR001"), app_id)
    decide(client, token_for("appr-BR001"), app_id)
    hq_task = open_task(client, token_for("hq-approver"), app_id)
    report = hq_task["context"]["large_amount_report"]
    assert report["amount"] == "25000000.00"
    assert Decimal(report["share_of_capital"]) == Decimal("0.0313")  # 25M of BR001's 800M
    decide(client, token_for("hq-approver"), app_id)
    assert client.get(f"/api/v1/applications/{app_id}", headers=api).get_json()["status"] == "awaiting_signature"
