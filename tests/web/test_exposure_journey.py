"""Through the API: loans disbursed by the origination process carry their application's dimensions,
a repayment through the API moves the exposure rows with the principal, and the limit check's
figures (Exposure.live) equal the sums from the books for every combination limits.json asks."""
from __future__ import annotations

import json
from decimal import Decimal

from scoring.limits import exposure_key, needed_exposures
from tests.support.exposure import rows_from_books, rows_in_table
from tests.web.journeys import example, signature_for, submit
from workflows.exposure import Exposure, exposure_from_books
from workflows.models import Application
from web.config import PROJECT_ROOT

LIMITS = json.loads((PROJECT_ROOT / "bpmn" / "default" / "scoring" / "limits.json").read_text())


def disburse(client, api, **changes) -> dict:
    application = submit(client, api, example("application-auto.json", **changes)).get_json()
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application))
    assert signed.status_code == 200, signed.get_json()
    return signed.get_json()


def figures(session, application_id: str, id_number: str) -> tuple[dict, dict]:
    exposure = Exposure()
    dims = exposure.dimensions(session, application_id)
    # as an unsecured business loan would be asked, so the combined limit is among the combinations
    application = {**dims, "guarantee_method": "credit", "customer_type": "individual_business",
                   "amount": Decimal("1"), "id_number": id_number}
    needed = needed_exposures(application, LIMITS)
    assert any(len(values) > 1 for values in needed)
    ask = {"branch": dims["institution"], "id_number": id_number, "needed": needed, "key_of": exposure_key}
    return exposure.live(session, **ask), exposure_from_books(session, **ask)


def test_disbursements_and_a_repayment_through_the_api_keep_the_rows_equal_to_the_books(client, token_for, services):
    api = token_for("api-demo")
    first = disburse(client, api)
    second = disburse(client, api, amount="20000.00", guarantee_method="credit")
    id_number = example("application-auto.json")["applicant"]["id_number"]
    with services.db.read_sessions() as session:
        live, books = figures(session, first["id"], id_number)
        assert live == books
        assert live["customer"] == Decimal("50000.00")  # 30,000 + 20,000, nothing repaid yet
        assert rows_in_table(session) == rows_from_books(session)
        tagged = session.get(Application, second["id"])
        assert tagged.guarantee_method == "credit"

    repaid = client.post(f"/api/v1/loans/{first['loan_id']}/repayments", json={"amount": "5000.00"},
                         headers={**api, "Idempotency-Key": "exposure-repay"})
    assert repaid.status_code == 201, repaid.get_json()
    paid = repaid.get_json()
    principal_paid = Decimal(paid["principal"]) + Decimal(paid["prepaid_principal"])  # nothing due yet: early
    assert principal_paid > 0
    with services.db.read_sessions() as session:
        live, books = figures(session, first["id"], id_number)
        assert live == books
        assert live["customer"] == Decimal("50000.00") - principal_paid
        assert rows_in_table(session) == rows_from_books(session)
