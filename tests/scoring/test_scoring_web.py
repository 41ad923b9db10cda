"""The risk-list and batch-rating endpoints and the rate-batch command, on both backends."""
from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from web.cli import main as loanflow

PERSON = "330102199001011234"


@pytest.fixture
def as_user(token_for):
    """Headers of a demo user (client, services and token_for come from tests/support/web_app.py)."""
    return token_for


def test_an_approver_blacklists_a_person_with_a_reason_and_staff_see_it(client, as_user):
    added = client.post("/api/v1/risk-lists/blacklist/entries", headers=as_user("appr-BR001"),
                        json={"id_number": PERSON, "reason": "forged land certificate"})
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["added_by"] == "appr-BR001"
    listed = client.get("/api/v1/risk-lists/blacklist/entries", headers=as_user("rev-BR002")).get_json()
    assert listed["total"] == 1 and listed["items"][0]["reason"] == "forged land certificate"


def test_adding_without_a_reason_is_refused_naming_the_field(client, as_user):
    response = client.post("/api/v1/risk-lists/graylist/entries", headers=as_user("hq-approver"),
                           json={"id_number": PERSON})
    assert response.status_code == 422
    assert "reason" in response.get_json()["fields"]


def test_adding_the_same_person_twice_is_a_conflict(client, as_user):
    body = {"id_number": PERSON, "reason": "late twice"}
    client.post("/api/v1/risk-lists/graylist/entries", headers=as_user("hq-approver"), json=body)
    again = client.post("/api/v1/risk-lists/graylist/entries", headers=as_user("hq-approver"), json=body)
    assert again.status_code == 409 and again.get_json()["error"] == "risk_list_entry_exists"


def test_a_customer_manager_cannot_change_a_risk_list(client, as_user):
    response = client.post("/api/v1/risk-lists/blacklist/entries", headers=as_user("cm-BR001"),
                           json={"id_number": PERSON, "reason": "x"})
    assert response.status_code == 403


def test_removing_an_entry_needs_a_reason_and_is_audited(client, as_user):
    approver = as_user("appr-BR002")
    entry = client.post("/api/v1/risk-lists/aml/entries", headers=approver,
                        json={"id_number": PERSON, "reason": "match"}).get_json()["id"]
    no_reason = client.delete(f"/api/v1/risk-lists/aml/entries/{entry}", headers=approver)
    assert no_reason.status_code == 422
    removed = client.delete(f"/api/v1/risk-lists/aml/entries/{entry}?reason=false+positive", headers=approver)
    assert removed.status_code == 204
    again = client.delete(f"/api/v1/risk-lists/aml/entries/{entry}?reason=x", headers=approver)
    assert again.status_code == 404
    changes = client.get("/api/v1/risk-lists/aml/changes", headers=approver).get_json()["items"]
    assert [(c["action"], c["actor"], c["reason"]) for c in changes] == [
        ("add", "appr-BR002", "match"), ("remove", "appr-BR002", "false positive")]


def test_an_unknown_list_is_not_found(client, as_user):
    response = client.get("/api/v1/risk-lists/whitelist/entries", headers=as_user("rev-BR001"))
    assert response.status_code == 404 and response.get_json()["error"] == "unknown_risk_list"


FARMER = {"id_number": PERSON, "customer_type": "farm_household", "age": 40, "monthly_income": "6000",
          "years_at_address": 8, "land_mu": 12.5, "livestock_head": 6, "family_members": 5, "labourers": 3,
          "income_sources": ["crop", "livestock"], "existing_debt": "20000", "credit_village": True,
          "credit_household": False}


def test_a_batch_is_rated_with_the_branchs_own_files_and_bad_applicants_reported(client, as_user):
    body = {"product": "FARM_EASY", "applicants": [FARMER, {**FARMER, "age": 15}, FARMER]}
    br001 = client.post("/api/v1/rating/batch", headers=as_user("cm-BR001"), json=body).get_json()
    br002 = client.post("/api/v1/rating/batch", headers=as_user("cm-BR002"), json=body).get_json()
    assert (br001["rated"], br001["failed"]) == (2, 1)
    assert br001["items"][1]["error"]["fields"] == {"age": ["must be between 18 and 100, got 15"]}
    assert br001["items"][1]["index"] == 2
    assert br001["items"][0]["result"]["grade"] == br002["items"][0]["result"]["grade"] == "B"
    # BR002 deploys its own pricing.dmn (a 50bp credit-village discount instead of 25bp).
    assert Decimal(br001["items"][0]["result"]["annual_rate"]) == Decimal("0.041")
    assert Decimal(br002["items"][0]["result"]["annual_rate"]) == Decimal("0.0385")


def test_branch_staff_cannot_rate_for_another_branch(client, as_user):
    response = client.post("/api/v1/rating/batch", headers=as_user("cm-BR001"),
                           json={"branch": "BR002", "product": "FARM_EASY", "applicants": [FARMER]})
    assert response.status_code == 403


def test_an_unknown_product_is_not_found(client, as_user):
    response = client.post("/api/v1/rating/batch", headers=as_user("cm-BR001"),
                           json={"product": "NOPE", "applicants": [FARMER]})
    assert response.status_code == 404


def test_the_rate_batch_command_writes_an_example_and_rates_it(services, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOANFLOW_DATABASE_URL", services.settings.database_url)
    example, result = tmp_path / "customers.csv", tmp_path / "result.csv"
    assert loanflow(["rate-batch", "--example", "300", "--out", str(example)]) == 0
    with example.open(encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    lines[5] = lines[5].replace(",farm_household,", ",martian,", 1).replace(",salaried,", ",martian,", 1) \
        .replace(",individual_business,", ",martian,", 1)
    example.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = loanflow(["rate-batch", str(example), "--branch", "BR002", "--product", "FARM_EASY", "--out", str(result)])
    err = capsys.readouterr().err
    assert status == 1
    assert "bad row: line 6: customer_type: unknown customer type 'martian'" in err
    assert "rated 299 of 300 rows (1 bad)" in err and "300/300" in err
    with result.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 300 and sum(1 for row in rows if row["error"]) == 1
