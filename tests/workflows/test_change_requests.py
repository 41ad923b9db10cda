"""Change requests (合同变更): a rate change, approved, regenerates the rest of the schedule at the
new rate (checked against the annuity formula worked here, not against the ledger's own code);
rejected, it changes nothing. Bad requests name their fields."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from tests.web.journeys import example, signature_for, submit

CENT = Decimal("0.01")


def disbursed(client, token_for) -> dict:
    integrator = token_for("api-demo")
    application = submit(client, integrator, example("application-auto.json")).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature",
                         json=signature_for(application), headers=integrator).get_json()
    assert signed["status"] == "disbursed", signed
    return signed


def annuity(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    """等额本息: the level monthly payment, P·r / (1 − (1 + r)^−n), r the monthly rate (30/360)."""
    r = annual_rate / 12
    return (principal * r / (1 - (1 + r) ** -months)).quantize(CENT, ROUND_HALF_UP)


def ask(client, headers, loan_id, **body):
    return client.post(f"/api/v1/loans/{loan_id}/change-requests", json=body,
                       headers={**headers, "Idempotency-Key": str(uuid.uuid4())})


def decide(client, headers, instance_id, decision):
    view = client.get(f"/api/v1/instances/{instance_id}", headers=headers).get_json()
    [task] = view["open_tasks"]
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers,
                       json={"decision": decision, "comment": f"{decision}d after review"})
    assert done.status_code == 200, done.get_json()
    return task


def test_an_approved_rate_change_regenerates_the_remaining_schedule_at_the_new_rate(client, token_for):
    loan = disbursed(client, token_for)
    cm, approver = token_for("cm-BR001"), token_for("appr-BR001")
    before = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    first_due = before["schedule"][0]["due_date"]
    rate = Decimal(before["terms"]["annual_rate"])  # as priced for this borrower (credit village)
    # The worked example: 30,000.00 over 12 months at that rate, a level payment ...
    assert Decimal(before["schedule"][0]["total"]) == annuity(Decimal("30000"), rate, 12)

    asked = ask(client, cm, loan["loan_id"], type="rate_change", new_rate="0.0295", effective_date=first_due,
                reason="the borrower joined the credit-village programme")
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    assert request["process"] == "change_request" and request["status"] == "pending"
    [task] = request["open_tasks"]
    assert task["role"] == "approver" and task["context"]["change"] == {"new_rate": "0.0295", "effective_date": first_due}
    assert task["context"]["change_route_reason"] == "the branch approver decides"
    listed = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()["change_requests"]
    assert [(c["type"], c["status"]) for c in listed] == [("rate_change", "pending")]

    decide(client, approver, request["id"], "approve")
    after = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    assert after["terms"]["annual_rate"] == "0.0295"
    assert [(c["type"], c["status"]) for c in after["change_requests"]] == [("rate_change", "applied")]
    # ... the first installment keeps its interest at the old rate (a month on 30,000.00), and the
    # balance left after it is spread over the 11 months left at 2.95 %.
    first = after["schedule"][0]
    first_interest = (Decimal("30000") * rate / 12).quantize(CENT, ROUND_HALF_UP)
    assert Decimal(first["interest"]) == first_interest and first["due_date"] == first_due
    balance = Decimal("30000") - (annuity(Decimal("30000"), rate, 12) - first_interest)
    assert Decimal(after["schedule"][1]["total"]) == annuity(balance, Decimal("0.0295"), 11)
    assert Decimal(after["schedule"][1]["total"]) < Decimal(before["schedule"][1]["total"])
    assert len(after["schedule"]) == 12


def test_an_extension_goes_to_head_office_and_spreads_what_is_left_over_the_longer_term(client, token_for):
    loan = disbursed(client, token_for)
    cm = token_for("cm-BR001")
    before = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    first_due = before["schedule"][0]["due_date"]
    rate = Decimal(before["terms"]["annual_rate"])
    asked = ask(client, cm, loan["loan_id"], type="extension", extra_months=6, effective_date=first_due,
                reason="the orchard's first harvest comes a year later than planned")
    assert asked.status_code == 201, asked.get_json()
    request = asked.get_json()
    [task] = request["open_tasks"]
    assert task["context"]["change"] == {"extra_months": 6, "effective_date": first_due}
    assert task["context"]["change_route_reason"] == "an extension (展期) of any amount: head office approves too"
    decide(client, token_for("appr-BR001"), request["id"], "approve")
    assert client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()["schedule"] == before["schedule"]
    decide(client, token_for("hq-approver"), request["id"], "approve")

    after = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    assert [(c["type"], c["status"]) for c in after["change_requests"]] == [("extension", "applied")]
    # Worked here: the first installment stands (due on the effective date); what is left after it,
    # 30,000 less its principal, is a level payment over the 11 + 6 = 17 months that follow.
    assert after["schedule"][0] == before["schedule"][0] and len(after["schedule"]) == 18
    first_interest = (Decimal("30000") * rate / 12).quantize(CENT, ROUND_HALF_UP)
    balance = Decimal("30000") - (annuity(Decimal("30000"), rate, 12) - first_interest)
    assert Decimal(after["schedule"][1]["total"]) == annuity(balance, rate, 17)
    start = dt.date.fromisoformat(before["terms"]["start_date"])
    maturity = dt.date.fromisoformat(after["schedule"][-1]["due_date"])
    assert (maturity.year - start.year) * 12 + maturity.month - start.month == 18
    # Once only (贷款通则): a second extension is refused at the request, naming the field.
    again = ask(client, cm, loan["loan_id"], type="extension", extra_months=3, effective_date=first_due,
                reason="again")
    assert again.status_code == 422 and "extended once" in again.get_json()["fields"]["type"][0]


def test_a_rejected_change_changes_nothing(client, token_for):
    loan = disbursed(client, token_for)
    cm = token_for("cm-BR001")
    before = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    asked = ask(client, cm, loan["loan_id"], type="repayment_method", new_method="equal_principal",
                effective_date=before["schedule"][0]["due_date"], reason="customer asked")
    assert asked.status_code == 201, asked.get_json()
    decide(client, token_for("appr-BR001"), asked.get_json()["id"], "reject")
    after = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    assert after["schedule"] == before["schedule"] and after["terms"] == before["terms"]
    assert [(c["type"], c["status"]) for c in after["change_requests"]] == [("repayment_method", "rejected")]


def test_a_bad_change_request_names_every_field_and_starts_nothing(client, token_for):
    loan = disbursed(client, token_for)
    cm = token_for("cm-BR001")
    missing = ask(client, cm, loan["loan_id"], type="rate_change", effective_date="2020-01-01", reason="x")
    assert missing.status_code == 422 and set(missing.get_json()["fields"]) == {"new_rate"}
    outside = ask(client, cm, loan["loan_id"], type="rate_change", new_rate="0.04", effective_date="2020-01-01",
                  reason="x", new_method="bullet")
    assert outside.status_code == 422
    assert set(outside.get_json()["fields"]) == {"effective_date", "new_method"}
    other_branch = ask(client, token_for("cm-BR002"), loan["loan_id"], type="rate_change", new_rate="0.04",
                       effective_date=dt.date.today().isoformat(), reason="x")
    assert other_branch.status_code == 404
    assert client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()["change_requests"] == []


def application_of(services, loan_id: str):
    from workflows.models import Application

    with services.db.sessions() as session:
        application = session.scalar(sa.select(Application).where(Application.loan_id == loan_id))
        session.expunge(application)
        return application


def change_history(services, loan_id: str) -> list[tuple]:
    from ledger.tables import LoanAccount, LoanChange

    with services.db.sessions() as session:
        return session.execute(sa.select(LoanChange.kind, LoanChange.old_value, LoanChange.new_value, LoanChange.approved_by)
                               .join(LoanAccount, LoanAccount.id == LoanChange.loan_id)
                               .where(LoanAccount.loan_number == loan_id)).all()


def test_an_approved_guarantee_change_is_recorded_and_the_loan_is_secured_by_the_new_method(client, token_for, services):
    loan = disbursed(client, token_for)
    cm, approver = token_for("cm-BR001"), token_for("appr-BR001")
    before = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    assert application_of(services, loan["loan_id"]).guarantee_method == "credit"   # as applied for
    asked = ask(client, cm, loan["loan_id"], type="guarantee", guarantee_method="guarantee",
                guarantee_details="guarantor Wang Wu, the village co-operative's chairman; contract BZ-2027-0031",
                effective_date=before["schedule"][0]["due_date"], reason="the credit line is renewed with a guarantor")
    assert asked.status_code == 201, asked.get_json()
    [task] = asked.get_json()["open_tasks"]
    assert task["context"]["current_terms"]["guarantee_method"] == "credit"
    assert task["context"]["change"]["guarantee_method"] == "guarantee"
    assert task["context"]["change_route_reason"] == "the branch approver decides"   # 30,000 outstanding

    decide(client, approver, asked.get_json()["id"], "approve")
    after = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()
    assert after["schedule"] == before["schedule"] and after["terms"] == before["terms"]   # no money moves
    assert [(c["type"], c["status"]) for c in after["change_requests"]] == [("guarantee", "applied")]
    # The limits by guarantee method read the application: it is a guaranteed loan now.
    assert application_of(services, loan["loan_id"]).guarantee_method == "guarantee"
    assert change_history(services, loan["loan_id"]) == [("guarantee", "credit", "guarantee", "appr-BR001")]


def test_an_approved_customer_data_change_gives_reminders_the_new_phone_and_keeps_it_masked(client, token_for, services):
    loan = disbursed(client, token_for)
    cm, approver = token_for("cm-BR001"), token_for("appr-BR001")
    effective = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()["schedule"][0]["due_date"]
    asked = ask(client, cm, loan["loan_id"], type="customer_data", phone="13905367788", effective_date=effective,
                reason="the borrower changed his number")
    assert asked.status_code == 201, asked.get_json()
    decide(client, approver, asked.get_json()["id"], "approve")

    application = application_of(services, loan["loan_id"])
    assert application.payload["applicant"]["phone"] == "13905367788"   # what reminders and collections text
    assert application.region == "Anqiu"                                  # not asked for, not changed
    # The ledger's history is not sealed: the numbers in it are masked.
    [(kind, old, new, by)] = change_history(services, loan["loan_id"])
    assert (kind, by) == ("customer_data", "appr-BR001")
    assert "13805361234" not in old and "13905367788" not in new and new.startswith("phone=139") and new.endswith("7788")
    shown = client.get(f"/api/v1/applications/{application.id}", headers=token_for("api-demo")).get_json()
    assert "13905367788" not in str(shown)


def test_a_guarantee_or_customer_data_change_that_changes_nothing_is_refused_naming_the_fields(client, token_for):
    loan = disbursed(client, token_for)
    cm = token_for("cm-BR001")
    when = client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()["schedule"][0]["due_date"]
    nothing = ask(client, cm, loan["loan_id"], type="customer_data", effective_date=when, reason="x")
    assert nothing.status_code == 422 and set(nothing.get_json()["fields"]) == {"phone", "region"}
    same = ask(client, cm, loan["loan_id"], type="customer_data", phone="13805361234", region="Weifang",
               effective_date=when, reason="x")
    assert same.status_code == 422 and set(same.get_json()["fields"]) == {"phone"}
    assert "already" in same.get_json()["fields"]["phone"][0]
    mixed = ask(client, cm, loan["loan_id"], type="guarantee", guarantee_method="credit", effective_date=when,
                reason="x", phone="13905367788", guarantee_details="none")
    assert mixed.status_code == 422
    assert set(mixed.get_json()["fields"]) == {"guarantee_method", "phone"}   # credit already; phone is not a guarantee's
    unsaid = ask(client, cm, loan["loan_id"], type="guarantee", guarantee_method="mortgage", effective_date=when, reason="x")
    assert unsaid.status_code == 422 and set(unsaid.get_json()["fields"]) == {"guarantee_details"}
    assert client.get(f"/api/v1/loans/{loan['loan_id']}", headers=cm).get_json()["change_requests"] == []
