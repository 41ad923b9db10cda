"""Personal data (PIPL): sealed at rest, found by keyed hash, masked for whoever does not work it,
never in a URL, a webhook, an error or the log.

The scan reads every column of every table with raw SQL (whatever tables the schema has), so a
new table or column that stores an ID number, phone or account in clear fails here.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from privacy import mask_account, mask_id_number, mask_phone
from tests.support.personal_data import clear_values_in
from tests.web.journeys import decide, example, signature_for, submit
from workflows.callbacks import CallbackHosts
from workflows.outbox import deliver_due

REVIEW = example("application-review.json")
APPLICANT = REVIEW["applicant"]
SECRETS = (APPLICANT["id_number"], APPLICANT["phone"], APPLICANT["deposit_account"])
BLACKLISTED = "11010519491231002X"


@pytest.fixture
def settings_overrides():
    # The webhook receivers run on this machine: loopback is refused unless the settings allow it.
    return {"callback_hosts": CallbackHosts.parse("api-demo=127.0.0.1")}


def a_whole_journey(client, token_for, receiver_url):
    """BR001's two-level review, signature and disbursement, a replayed submission, a risk-list
    entry added, searched and removed, and the webhooks delivered."""
    api = token_for("api-demo")
    body = example("application-review.json", callback_url=receiver_url)
    key = str(uuid.uuid4())
    application = submit(client, api, body, key=key).get_json()
    assert submit(client, api, body, key=key).get_json()["id"] == application["id"]  # the stored answer
    for user in ("cm-BR001", "rev-BR001", "appr-BR001"):
        decide(client, token_for(user), application["id"], comment=f"called {APPLICANT['phone']}, fine")
    application = client.get(f"/api/v1/applications/{application['id']}", headers=api).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application)).get_json()
    assert signed["status"] == "disbursed", signed
    approver = token_for("appr-BR001")
    added = client.post("/api/v1/risk-lists/graylist/entries", headers=approver,
                        json={"id_number": BLACKLISTED, "reason": "court judgment"})
    assert added.status_code == 201, added.get_json()
    found = client.post("/api/v1/risk-lists/graylist/search", headers=approver, json={"id_number": BLACKLISTED})
    assert found.get_json()["total"] == 1
    removed = client.delete(f"/api/v1/risk-lists/graylist/entries/{added.get_json()['id']}?reason=cleared",
                            headers=approver)
    assert removed.status_code == 204
    return signed


def test_after_a_whole_journey_no_table_holds_an_id_number_phone_or_account_in_clear(
        client, token_for, services, receiver):
    url, received, _ = receiver
    a_whole_journey(client, token_for, url)
    assert deliver_due(services.db) >= 1
    assert clear_values_in(services.db.engine, SECRETS + (BLACKLISTED,)) == []


def test_the_log_of_a_whole_journey_holds_none_of_the_values(client, token_for, services, receiver, caplog):
    url, _, _ = receiver
    with caplog.at_level(logging.DEBUG):
        a_whole_journey(client, token_for, url)
        deliver_due(services.db)
        # an incident and a failing webhook, whose messages would be the likeliest to quote values
        bad = example("application-review.json", callback_url="http://127.0.0.1:9/hooks")
        submit(client, token_for("api-demo"), bad)
        deliver_due(services.db)
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert logged, "the journey logs something"
    assert not [secret for secret in SECRETS + (BLACKLISTED,) if secret in logged]


def test_the_roles_that_work_an_application_see_it_whole_and_everyone_else_masked(client, token_for):
    application = submit(client, token_for("api-demo"), example("application-review.json")).get_json()
    path = f"/api/v1/applications/{application['id']}"
    whole = {"id_number": APPLICANT["id_number"], "phone": APPLICANT["phone"],
             "deposit_account": APPLICANT["deposit_account"], "name": APPLICANT["name"]}
    masked = {"id_number": mask_id_number(APPLICANT["id_number"]), "phone": mask_phone(APPLICANT["phone"]),
              "deposit_account": mask_account(APPLICANT["deposit_account"]), "name": APPLICANT["name"]}
    for user in ("cm-BR001", "rev-BR001", "appr-BR001", "hq-approver"):
        assert client.get(path, headers=token_for(user)).get_json()["applicant"] == whole, user
    for user in ("api-demo", "analyst"):
        assert client.get(path, headers=token_for(user)).get_json()["applicant"] == masked, user
    assert client.get(path, headers=token_for("cm-BR002")).status_code == 404
    decide(client, token_for("cm-BR001"), application["id"], comment=f"called {APPLICANT['phone']}, fine")
    seen_by_integrator = client.get(path, headers=token_for("api-demo")).get_data(as_text=True)
    assert not [secret for secret in SECRETS if secret in seen_by_integrator]
    inbox = client.get("/api/v1/tasks", headers=token_for("rev-BR001")).get_data(as_text=True)  # the trail so far
    assert mask_phone(APPLICANT["phone"]) in inbox and APPLICANT["phone"] not in inbox
    seen_by_reviewer = client.get(path, headers=token_for("rev-BR001")).get_data(as_text=True)
    assert APPLICANT["phone"] in seen_by_reviewer
    assert application["applicant"] == masked  # the submitting integrator's answer
    assert masked["id_number"] == APPLICANT["id_number"][:6] + "********" + APPLICANT["id_number"][-4:]
    assert masked["phone"] == APPLICANT["phone"][:3] + "****" + APPLICANT["phone"][-4:]
    assert masked["deposit_account"] == "****" + APPLICANT["deposit_account"][-4:]


def test_the_channel_sees_the_contract_masked_and_can_still_sign_it(client, token_for):
    api = token_for("api-demo")
    application = submit(client, api, example("application-auto.json")).get_json()
    terms = application["contract"]["terms"]
    auto = example("application-auto.json")["applicant"]
    assert terms["borrower"]["id_number"] == mask_id_number(auto["id_number"])
    assert terms["deposit_account"] == mask_account(auto["deposit_account"])
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application))
    assert signed.get_json()["status"] == "disbursed"
    loan = client.get(f"/api/v1/loans/{signed.get_json()['loan_id']}", headers=api).get_json()
    assert loan["terms"]["deposit_account"] == mask_account(auto["deposit_account"])
    assert re.fullmatch(r"[0-9a-f]{64}", loan["customer_id"])  # a reference, not the ID number


def test_webhooks_carry_masked_values(client, token_for, services, receiver):
    url, received, _ = receiver
    submit(client, token_for("api-demo"), example("application-review.json", callback_url=url))
    assert deliver_due(services.db) == 1
    assert received[0]["body"]["applicant"] == {"id_number": mask_id_number(APPLICANT["id_number"]),
                                        "phone": mask_phone(APPLICANT["phone"])}
    assert not [secret for secret in SECRETS if secret in json.dumps(received, default=lambda raw: raw.decode())]


def test_a_blacklisted_id_number_is_still_declined_and_limits_per_customer_still_count(client, token_for, services):
    api = token_for("api-demo")
    client.post("/api/v1/risk-lists/blacklist/entries", headers=token_for("appr-BR001"),
                json={"id_number": APPLICANT["id_number"].lower(), "reason": "fraud"})
    declined = submit(client, api, example("application-review.json")).get_json()
    assert declined["status"] == "declined" and "R001" in [r["code"] for r in declined["reasons"]]

    from workflows.exposure import live_exposure

    auto = example("application-auto.json")
    first = submit(client, api, auto).get_json()
    client.post(f"/api/v1/applications/{first['id']}/signature", headers=api, json=signature_for(first))
    with services.db.read_sessions() as session:
        exposure = live_exposure(session, branch="BR001", id_number=auto["applicant"]["id_number"],
                                 needed=[], key_of=str)
    assert exposure["customer"] == Decimal("30000.00")


def test_risk_list_routes_carry_no_id_number_in_a_path_and_refuse_it_in_a_query(client, token_for, app):
    for rule in app.url_map.iter_rules():
        if "risk-lists" in rule.rule:
            assert "id_number" not in rule.rule, rule.rule
    staff = token_for("rev-BR001")
    for path in ("/api/v1/risk-lists/blacklist/entries", "/api/v1/risk-lists/blacklist/changes"):
        refused = client.get(f"{path}?id_number={BLACKLISTED}", headers=staff)
        assert refused.status_code == 400 and refused.get_json()["error"] == "id_number_in_url"
    approver = token_for("appr-BR001")
    added = client.post("/api/v1/risk-lists/blacklist/entries", headers=approver,
                        json={"id_number": BLACKLISTED, "reason": "fraud"}).get_json()
    assert added["id_number"] == mask_id_number(BLACKLISTED)
    again = client.post("/api/v1/risk-lists/blacklist/entries", headers=approver,
                        json={"id_number": BLACKLISTED, "reason": "fraud"})
    assert again.status_code == 409 and BLACKLISTED not in again.get_data(as_text=True)
    listed = client.get("/api/v1/risk-lists/blacklist/entries", headers=staff).get_json()
    assert [item["id_number"] for item in listed["items"]] == [mask_id_number(BLACKLISTED)]
    search = client.post("/api/v1/risk-lists/blacklist/search", headers=staff,
                         json={"id_number": BLACKLISTED.lower()}).get_json()
    assert [item["id"] for item in search["items"]] == [added["id"]]
    assert [change["action"] for change in search["changes"]] == ["add"]
    assert client.post("/api/v1/risk-lists/blacklist/search", headers=staff,
                       json={"id_number": "110105194912310038"}).get_json()["total"] == 0


@pytest.mark.parametrize("command", [["serve"], ["worker", "--once"]])
def test_serve_and_worker_refuse_to_start_without_a_data_key_outside_the_demo(command, monkeypatch, capsys, tmp_path):
    from privacy import DEMO_DATA_KEY
    from tests.support.web_app import TEST_SECRET_KEY
    from web.cli import main

    monkeypatch.setenv("LOANFLOW_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    monkeypatch.setenv("LOANFLOW_SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.delenv("LOANFLOW_DATA_KEY", raising=False)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "LOANFLOW_DATA_KEY is not set" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("LOANFLOW_DATA_KEY", "00" * 16)
    assert main(command) == 2
    assert "must be 32 bytes" in capsys.readouterr().err
    monkeypatch.setenv("LOANFLOW_DATA_KEY", DEMO_DATA_KEY)
    assert main(command) == 2
    assert "public demo key" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite3").exists()
