"""Products as deployable data (issue 12, item 1): HQ's products.json sets the bounds, a branch's
may only narrow them, intake and pricing follow what the branch offers."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.web.journeys import example, submit
from tests.web.test_deployments_api import deploy, deployment_count

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def hq_products() -> dict:
    return json.loads((BPMN / "default" / "products.json").read_text(encoding="utf-8"))


def br002_products() -> dict:
    return json.loads((BPMN / "branches" / "BR002" / "products.json").read_text(encoding="utf-8"))


def override(products: dict) -> str:
    return json.dumps({"products": products})


def offered(client, headers, branch, code):
    response = client.get(f"/api/v1/products/{code}?branch={branch}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# -- what a branch offers, and where each value comes from ---------------------------------------
def test_br002_offers_hq_products_narrowed_by_its_override_naming_each_values_source(client, token_for):
    body = client.get("/api/v1/products?branch=BR002", headers=token_for("cm-BR002")).get_json()
    assert body["branch"] == "BR002"
    assert set(body["files"]) == {"HQ", "BR002"}
    by_code = {item["code"]: item for item in body["items"]}
    assert sorted(by_code) == ["AGRI_BUSINESS", "CONSUMER_SMALL", "FARM_EASY", "LARGE_CORP"]
    assert by_code["CONSUMER_SMALL"]["enabled"] is False
    assert by_code["CONSUMER_SMALL"]["fields"]["enabled"] == {"value": False, "source": "BR002"}
    farm = by_code["FARM_EASY"]["fields"]
    assert farm["max_amount"] == {"value": "200000", "source": "BR002"}
    assert farm["min_amount"] == {"value": "1000", "source": "HQ"}
    assert farm["channels"] == {"value": ["counter", "mobile"], "source": "BR002"}
    assert farm["base_rate"] == {"value": "0.0435", "source": "HQ"}
    assert farm["name"] == {"value": "惠农易贷", "source": "HQ"}
    rules = by_code["FARM_EASY"]["required_documents"]
    assert rules[0] == {"when": {}, "documents": ["id_card", "household_register"], "source": "HQ"}
    assert rules[-1] == {"when": {"min_amount": "50000"}, "documents": ["village_committee_reference"],
                         "source": "BR002"}
    # AGRI_BUSINESS is untouched by BR002: every value is head office's.
    assert {f["source"] for f in by_code["AGRI_BUSINESS"]["fields"].values()} == {"HQ"}


def test_br001_without_an_override_offers_head_offices_products_as_they_are(client, token_for):
    farm = offered(client, token_for("cm-BR001"), "BR001", "FARM_EASY")
    assert farm["enabled"] is True
    assert farm["fields"]["max_amount"] == {"value": "300000", "source": "HQ"}
    assert farm["fields"]["channels"]["value"] == ["mobile", "counter", "partner"]
    assert set(farm["files"]) == {"HQ"}


def test_without_a_branch_a_user_sees_their_own_branch_and_an_unknown_product_or_branch_is_404(client, token_for):
    mine = client.get("/api/v1/products", headers=token_for("cm-BR002")).get_json()
    assert mine["branch"] == "BR002"
    missing = client.get("/api/v1/products/NO_SUCH?branch=BR002", headers=token_for("cm-BR002"))
    assert missing.status_code == 404
    assert missing.get_json()["fields"] == {"product": ["Unknown product 'NO_SUCH'"]}
    nowhere = client.get("/api/v1/products?branch=BR999", headers=token_for("cm-BR002"))
    assert nowhere.status_code == 404


# -- deployment: a branch may only narrow ----------------------------------------------------------
def test_a_br002_override_that_widens_hqs_amount_bound_is_refused_naming_field_and_bound(client, token_for):
    analyst = token_for("analyst")
    before = deployment_count(client, analyst)
    wider = br002_products()
    wider["products"]["FARM_EASY"]["max_amount"] = "500000"
    response = deploy(client, analyst, "BR002", {"products.json": json.dumps(wider)})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "deployment_rejected"
    assert body["fields"]["products.json"] == ["products.FARM_EASY.max_amount: 500000 is above head office's 300000"]
    assert deployment_count(client, analyst) == before
    assert offered(client, analyst, "BR002", "FARM_EASY")["fields"]["max_amount"]["value"] == "200000"


def test_every_way_a_branch_file_leaves_hqs_bounds_is_named_at_once(client, token_for):
    response = deploy(client, token_for("analyst"), "BR002", {"products.json": override({
        "FARM_EASY": {"min_amount": "500", "max_term_months": 48, "channels": ["partner", "kiosk"],
                      "guarantee_methods": ["credit"], "base_rate": "0.0300", "rate_ceiling": "0.0900"},
        "AGRI_BUSINESS": {"min_amount": "6000000"},
        "GOLD_LOAN": {"enabled": True},
    })})
    assert response.status_code == 422
    reasons = response.get_json()["fields"]["products.json"]
    assert sorted(reasons) == sorted([
        "products.FARM_EASY.base_rate: a branch may not change it (head office sets it)",
        "products.FARM_EASY.channels: unknown value(s) kiosk (known: mobile, counter, partner)",
        "products.FARM_EASY.min_amount: 500 is below head office's 1000",
        "products.FARM_EASY.max_term_months: 48 is above head office's 36",
        "products.FARM_EASY.rate_ceiling: 0.0900 is above head office's 0.0800",
        "products.AGRI_BUSINESS.min_amount: 6000000 is above the product's max_amount 5000000",
        "products.GOLD_LOAN: head office has no product GOLD_LOAN (a branch may only narrow HQ's products)",
    ])


def test_a_narrower_branch_file_deploys_and_a_list_outside_hqs_is_refused(client, token_for):
    analyst = token_for("analyst")
    ok = deploy(client, analyst, "BR001", {"products.json": override(
        {"AGRI_BUSINESS": {"min_amount": "20000", "max_term_months": 36, "channels": ["counter"]}})})
    assert ok.status_code == 201, ok.get_json()
    agri = offered(client, analyst, "BR001", "AGRI_BUSINESS")["fields"]
    assert agri["min_amount"] == {"value": "20000", "source": "BR001"}
    assert agri["max_term_months"] == {"value": 36, "source": "BR001"}
    refused = deploy(client, analyst, "BR001", {"products.json": override({"LARGE_CORP": {"channels": ["mobile"]}})})
    assert refused.get_json()["fields"]["products.json"] == [
        "products.LARGE_CORP.channels: mobile not among head office's channels (counter)"]


def test_hqs_products_json_is_checked_by_its_schema_with_every_problem_naming_its_json_path(client, token_for):
    broken = hq_products()
    farm = broken["products"]["FARM_EASY"]
    farm["max_amount"] = 300000.5            # a float: money is written as a string
    farm["min_term_months"] = 40             # above max_term_months 36
    del farm["holiday_rule"]
    farm["repayment_methods"] = ["balloon"]
    farm["required_documents"][1]["when"]["guarantee_method"] = "handshake"
    broken["products"]["CONSUMER_SMALL"]["base_rate"] = "0.1000"   # above its ceiling 0.0900
    broken["products"]["CONSUMER_SMALL"]["colour"] = "red"
    response = deploy(client, token_for("analyst"), "HQ", {"products.json": json.dumps(broken)})
    assert response.status_code == 422
    assert sorted(response.get_json()["fields"]["products.json"]) == sorted([
        'products.FARM_EASY.max_amount: must be a decimal number written as a string, e.g. "300000"',
        "products.FARM_EASY.min_term_months: 40 is above the product's max_term_months 36",
        "products.FARM_EASY.holiday_rule: is required",
        "products.FARM_EASY.repayment_methods: unknown value(s) balloon "
        "(known: equal_installment, equal_principal, bullet, interest_only)",
        "products.FARM_EASY.required_documents[1].when.guarantee_method: unknown guarantee method 'handshake' "
        "(known: credit, guarantee, mortgage, pledge)",
        "products.CONSUMER_SMALL.colour: unknown field (known: name, enabled, min_amount, max_amount, "
        "min_term_months, max_term_months, base_rate, rate_floor, rate_ceiling, repayment_methods, "
        "guarantee_methods, customer_types, channels, required_documents, holiday_rule, allows_large_amount)",
        "products.CONSUMER_SMALL.base_rate: 0.1000 is outside the product's rate_floor 0.0250 and rate_ceiling 0.0900",
    ])


def test_an_hq_file_that_would_leave_a_branch_override_outside_its_bounds_is_refused_naming_the_branch(
        client, token_for):
    analyst = token_for("analyst")
    lower = hq_products()
    lower["products"]["FARM_EASY"]["max_amount"] = "150000"
    del lower["products"]["CONSUMER_SMALL"]
    response = deploy(client, analyst, "HQ", {"products.json": json.dumps(lower)})
    assert response.status_code == 422
    assert sorted(response.get_json()["fields"]["products.json"]) == [
        "BR002's products.json would break: products.CONSUMER_SMALL: head office has no product CONSUMER_SMALL "
        "(a branch may only narrow HQ's products)",
        "BR002's products.json would break: products.FARM_EASY.max_amount: 200000 is above head office's 150000",
    ]
    # Within the branch's narrowing HQ may change its bounds; BR002 keeps its own, BR001 follows HQ.
    lower = hq_products()
    lower["products"]["FARM_EASY"]["max_amount"] = "250000"
    assert deploy(client, analyst, "HQ", {"products.json": json.dumps(lower)}).status_code == 201
    assert offered(client, analyst, "BR001", "FARM_EASY")["fields"]["max_amount"]["value"] == "250000"
    assert offered(client, analyst, "BR002", "FARM_EASY")["fields"]["max_amount"]["value"] == "200000"


# -- intake follows the branch's products -----------------------------------------------------------
def test_disabling_a_product_for_br002_makes_a_new_br002_application_a_422_naming_the_product(client, token_for):
    api = token_for("api-demo")
    consumer = dict(product="CONSUMER_SMALL", purpose="consumption")
    refused = submit(client, api, example("application-auto.json", branch="BR002", **consumer))
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["fields"] == {"product": ["CONSUMER_SMALL is disabled for branch BR002"]}
    assert "CONSUMER_SMALL" in body["message"]
    elsewhere = submit(client, api, example("application-auto.json", **consumer))
    assert elsewhere.status_code == 201, elsewhere.get_json()


def test_an_application_outside_the_branchs_narrowed_bounds_is_refused_naming_every_field(client, token_for):
    api = token_for("api-demo")
    too_big = submit(client, api, example("application-auto.json", branch="BR002", amount="250000.00",
                                          term_months=48, repayment_method="bullet"))
    assert too_big.status_code == 422
    assert too_big.get_json()["fields"] == {
        "amount": ["must be between 1000 and 200000 for product FARM_EASY at BR002"],
        "term_months": ["must be between 3 and 36 months for product FARM_EASY"],
        "repayment_method": ["bullet is not offered for product FARM_EASY at BR002 "
                             "(offered: equal_installment, equal_principal)"],
    }
    # The same amount is within head office's bounds, which BR001 runs.
    assert submit(client, api, example("application-auto.json", amount="250000.00")).status_code == 201


def test_a_guarantee_method_or_customer_type_the_branch_does_not_offer_is_refused(client, token_for):
    analyst, api = token_for("analyst"), token_for("api-demo")
    narrowed = deploy(client, analyst, "BR001", {"products.json": override(
        {"FARM_EASY": {"guarantee_methods": ["guarantee"], "customer_types": ["farm_household", "salaried"]}})})
    assert narrowed.status_code == 201, narrowed.get_json()
    body = example("application-auto.json")
    body["applicant"]["customer_type"] = "individual_business"
    refused = submit(client, api, body)
    assert refused.status_code == 422
    assert refused.get_json()["fields"] == {
        "guarantee_method": ["credit is not offered for product FARM_EASY at BR001 (offered: guarantee)"],
        "applicant.customer_type": ["individual_business is not offered for product FARM_EASY at BR001 "
                                    "(offered: farm_household, salaried)"],
    }


def test_a_br002_application_pins_both_products_files_it_was_started_with(client, token_for):
    application = submit(client, token_for("api-demo"), example("application-auto.json", branch="BR002")).get_json()
    assert application["process_files"]["products.json"]["scope"] == "BR002"
    assert application["process_files"]["products.json@HQ"]["scope"] == "HQ"


# -- pricing: the rate floor and ceiling clamp the annual rate ------------------------------------
def test_a_branchs_rate_floor_raises_a_price_below_it(client, token_for):
    api = token_for("api-demo")
    before = submit(client, api, example("application-auto.json")).get_json()
    # Premium tier: 4.35 % x 0.85 - 0.25 % - 0.25 % = 3.1975 %, below the floor BR001 sets next.
    assert Decimal(before["rating"]["annual_rate"]) == Decimal("0.031975")
    floor = deploy(client, token_for("analyst"), "BR001", {"products.json": override(
        {"FARM_EASY": {"rate_floor": "0.0350"}})})
    assert floor.status_code == 201, floor.get_json()
    after = submit(client, api, example("application-auto.json")).get_json()
    assert Decimal(after["rating"]["annual_rate"]) == Decimal("0.0350")


def test_the_rate_ceiling_caps_a_price_the_pricing_table_puts_above_it(client, token_for):
    pricing = (BPMN / "default" / "scoring" / "pricing.dmn").read_text().replace("<text>-0.15</text>",
                                                                                 "<text>0.50</text>")
    response = deploy(client, token_for("analyst"), "BR001", {
        "pricing.dmn": pricing, "products.json": override({"FARM_EASY": {"rate_ceiling": "0.0500"}})})
    assert response.status_code == 201, response.get_json()
    # Uncapped: 4.35 % x 1.50 - 0.50 % = 6.025 %; BR001's ceiling is 5 %.
    application = submit(client, token_for("api-demo"), example("application-auto.json")).get_json()
    assert Decimal(application["rating"]["annual_rate"]) == Decimal("0.0500")


# -- the product table follows HQ's file --------------------------------------------------------
def test_a_product_hq_adds_by_deployment_takes_applications(client, token_for):
    added = hq_products()
    added["products"]["SPRING_SOWING"] = {**added["products"]["FARM_EASY"], "name": "春耕贷",
                                          "max_amount": "50000", "max_term_months": 12}
    response = deploy(client, token_for("analyst"), "HQ", {"products.json": json.dumps(added)})
    assert response.status_code == 201, response.get_json()
    api = token_for("api-demo")
    application = submit(client, api, example("application-auto.json", product="SPRING_SOWING", term_months=12))
    assert application.status_code == 201, application.get_json()
    assert application.get_json()["product"] == "SPRING_SOWING"
    too_long = submit(client, api, example("application-auto.json", product="SPRING_SOWING", term_months=24))
    assert too_long.get_json()["fields"] == {"term_months": ["must be between 3 and 12 months for product SPRING_SOWING"]}


def test_documents_required_follow_amount_band_and_guarantee_and_add_the_branchs(services):
    from workflows.products import effective_product

    with services.db.unit_of_work() as session:
        farm_br002 = effective_product(session, "BR002", "FARM_EASY")
        farm_br001 = effective_product(session, "BR001", "FARM_EASY")
    assert farm_br001.documents_for(Decimal("30000"), "credit") == ["id_card", "household_register"]
    assert farm_br001.documents_for(Decimal("150000"), "guarantee") == [
        "id_card", "household_register", "income_proof", "guarantor_id", "guarantee_letter"]
    assert farm_br002.documents_for(Decimal("60000"), "mortgage") == [
        "id_card", "household_register", "collateral_certificate", "valuation_report", "village_committee_reference"]


# -- a simulation runs a draft products.json like any draft ------------------------------------------
def test_a_simulated_br002_products_draft_refuses_what_it_no_longer_offers_and_keeps_nothing(client, token_for):
    import io

    api = token_for("api-demo")
    for amount in ("60000.00", "250000.00"):
        assert submit(client, api, example("application-review.json", branch="BR002", amount=amount)).status_code == 201
    draft = br002_products()
    draft["products"]["AGRI_BUSINESS"] = {"max_amount": "100000"}
    response = client.post("/api/v1/simulations", headers=token_for("analyst"), content_type="multipart/form-data",
                           data={"scope": "BR002", "sample": "2",
                                 "files": [(io.BytesIO(json.dumps(draft).encode()), "products.json")]})
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["published"]["by_status"] == {"in_review": 2}
    assert result["draft"]["by_status"] == {"in_review": 1, "refused": 1}
    [changed] = result["changed"]
    assert changed["amount"] == "250000.00" and changed["draft"]["status"] == "refused"
    # Published BR002 is as it was.
    assert offered(client, api, "BR002", "AGRI_BUSINESS")["fields"]["max_amount"]["value"] == "5000000"


def test_hq_cannot_withdraw_products_a_branch_narrows_and_a_branch_withdrawing_its_own_offers_hqs(client, token_for):
    analyst = token_for("analyst")

    def withdraw(scope):
        return client.post("/api/v1/deployments", headers=analyst, content_type="multipart/form-data",
                           data={"scope": scope, "comment": "products", "withdraw": ["products.json"]})

    refused = withdraw("HQ")
    assert refused.status_code == 422
    assert refused.get_json()["fields"]["products.json"] == ["branches BR002 narrow it; withdraw their files first"]
    assert withdraw("BR002").status_code == 201
    consumer = offered(client, analyst, "BR002", "CONSUMER_SMALL")
    assert consumer["enabled"] is True and consumer["fields"]["enabled"]["source"] == "HQ"
    assert set(consumer["files"]) == {"HQ"}
    # With no branch narrowing it, head office may withdraw its file; then no product is offered.
    assert withdraw("HQ").status_code == 201
    assert client.get("/api/v1/products?branch=BR002", headers=analyst).get_json()["items"] == []
    refused = submit(client, token_for("api-demo"), example("application-auto.json"))
    assert refused.get_json()["fields"] == {"product": ["Unknown product 'FARM_EASY'"]}


def test_a_channel_is_checked_once_an_application_carries_one(services):
    """`channel` is not in the application form yet (issue 12, item 2 adds it): the check is ready."""
    import pytest

    from workflows.errors import InvalidInput
    from workflows.products import check_application, effective_product

    with services.db.unit_of_work() as session:
        farm = effective_product(session, "BR002", "FARM_EASY")
    form = {"amount": Decimal("30000"), "term_months": 12, "guarantee_method": "credit",
            "applicant": {"customer_type": "farm_household"}}
    check_application(farm, "BR002", {**form, "channel": "counter"})
    check_application(farm, "BR002", form)
    with pytest.raises(InvalidInput) as refused:
        check_application(farm, "BR002", {**form, "channel": "partner"})
    assert refused.value.fields == {"channel": ["partner is not offered for product FARM_EASY at BR002 "
                                                "(offered: counter, mobile)"]}
