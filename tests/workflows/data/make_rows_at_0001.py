"""How rows_at_0001.json.gz was made: the real services filling a database at revision 0001.

Run it only while 0001 is head (the code's models are then 0001's): later code writes later
revisions' rows. The migration tests load the file into a database at 0001 and upgrade it through
every later revision, so it must keep describing 0001, and is not remade.

    .venv/bin/python tests/workflows/data/make_rows_at_0001.py
"""
from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

OUT = Path(__file__).with_name("rows_at_0001.json.gz")


def main() -> int:
    from tests.support import rows
    from tests.support.web_app import TEST_SECRET_KEY
    from tests.web.journeys import example, signature_for, submit
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import build_services
    from web.simulators import start_in_thread
    from web.simulators.bureau import create_app as bureau_app
    from workflows import schema
    from workflows.callbacks import CallbackHosts

    if schema.head_revision() != "0001":
        print("the code's schema is no longer revision 0001: the file must stay as it is", file=sys.stderr)
        return 2
    bureau = start_in_thread(bureau_app())
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/rows.sqlite3", secret_key=TEST_SECRET_KEY,
                            bpmn_dir=PROJECT_ROOT / "bpmn", bureau_url=bureau.url,
                            callback_hosts=CallbackHosts.parse("api-demo=127.0.0.1"))  # the webhook below
        services = build_services(settings)
        schema.upgrade(services.db.engine, target="0001")
        services.seed_demo()
        client = create_app(settings, services=services).test_client()
        fill(client, example, signature_for, submit)
        print(rows.dump(services.db.engine, OUT))
        services.db.dispose()
    bureau.stop()
    return 0


def fill(client, example, signature_for, submit) -> None:
    """A disbursed loan with a closed business day, a repayment and a classification override, an
    application waiting for review, risk-list changes and webhooks: a row in every table but the
    end-of-day batch's scratch table."""
    from ledger.service import repay
    from workflows.worker import end_of_day

    def token(user):
        response = client.post("/api/v1/auth/token", json={"username": user, "password": "demo"})
        return {"Authorization": f"Bearer {response.get_json()['token']}"}

    def ok(response, *statuses):
        assert response.status_code in (statuses or (200, 201)), response.get_json()
        return response.get_json()

    api, approver = token("api-demo"), token("appr-BR001")
    body = example("application-auto.json", callback_url="http://127.0.0.1:9/hooks")
    app_id = ok(submit(client, api, body))["id"]
    application = ok(client.get(f"/api/v1/applications/{app_id}", headers=api))
    ok(client.post(f"/api/v1/applications/{app_id}/signature", headers=api, json=signature_for(application)))
    loan = ok(client.get(f"/api/v1/applications/{app_id}", headers=api))["loan_id"]
    ok(client.post(f"/api/v1/loans/{loan}/repayments", headers={**api, "Idempotency-Key": str(uuid.uuid4())},
                   json={"amount": "100.00"}))
    db = client.application.extensions["loanflow"].db
    end_of_day(db, "2026-12-31")
    # The first installment falls due a month after today's disbursement: the API refuses a future
    # value date, so the ledger's own service books the customer paying it on the day.
    with db.unit_of_work() as session:
        repay(session, loan, "3000.00", posting_key="rows-at-0001:repayment", value_date="2027-01-01")
    ok(client.post(f"/api/v1/loans/{loan}/classification", headers={**approver, "Idempotency-Key": str(uuid.uuid4())},
                   json={"classification": "special_mention", "reason": "harvest failed in the village"}))
    ok(submit(client, api, example("application-review.json")))
    ok(client.post("/api/v1/risk-lists/blacklist/entries", headers=approver,
                   json={"id_number": "110101199003070012", "reason": "fraud case 2026-17"}))
    ok(client.post("/api/v1/risk-lists/graylist/entries", headers=approver,
                   json={"id_number": "110101199003070039", "reason": "late payer"}))
    ok(client.delete("/api/v1/risk-lists/graylist/entries/110101199003070039?reason=paid up", headers=approver), 204)


if __name__ == "__main__":
    sys.exit(main())
