"""What a JSON body must be, checked once for every endpoint: application/json, UTF-8, and text
without NUL characters or unpaired surrogates. Each is a clear 4xx, never a 500."""
from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa

from tests.web.journeys import example, open_task
from web.requests import text_problems
from workflows.models import Application

LONE_SURROGATE = "\ud800"


def count_applications(services) -> int:
    with services.db.sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Application))


def post_raw(client, path, text: str | bytes, headers, content_type="application/json"):
    # json.dumps writes a lone surrogate as the escape \ud800, which is how a client sends one.
    return client.post(path, data=text, headers=headers, content_type=content_type)


def submit_raw(client, headers, text, content_type="application/json"):
    return post_raw(client, "/api/v1/applications", text, {**headers, "Idempotency-Key": str(uuid.uuid4())},
                    content_type)


def test_a_lone_surrogate_in_the_applicants_name_is_422_naming_the_field(client, token_for, services):
    body = example("application-auto.json")
    body["applicant"]["name"] = "王" + LONE_SURROGATE
    text = json.dumps(body)
    assert "\\ud800" in text
    response = submit_raw(client, token_for("api-demo"), text)
    assert response.status_code == 422
    payload = response.get_json()
    assert payload["error"] == "validation_failed"
    assert payload["fields"] == {"applicant.name": ["contains an unpaired surrogate (\\ud800), which is not valid Unicode"]}
    assert "applicant.name" in payload["message"]
    assert count_applications(services) == 0


def test_every_bad_string_is_named_at_once_values_field_names_and_list_items(client, token_for, services):
    body = example("application-auto.json")
    body["applicant"]["name"] = "Wang\x00"
    body["purpose"] = "\udfff"
    body["applicant"]["notes"] = ["fine", "bad\x00"]
    body["extra" + LONE_SURROGATE] = "x"
    response = submit_raw(client, token_for("api-demo"), json.dumps(body))
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert fields == {
        "applicant.name": ["contains a NUL character (\\u0000)"],
        "purpose": ["contains an unpaired surrogate (\\udfff), which is not valid Unicode"],
        "applicant.notes.1": ["contains a NUL character (\\u0000)"],
        "extra\\ud800": ["the field name contains an unpaired surrogate (\\ud800), which is not valid Unicode"],
    }
    assert count_applications(services) == 0


def test_the_check_covers_every_json_endpoint_not_only_forms(client, token_for, services):
    token = post_raw(client, "/api/v1/auth/token", json.dumps({"username": "api-demo\x00", "password": "demo"}), {})
    assert token.status_code == 422 and set(token.get_json()["fields"]) == {"username"}
    rating = post_raw(client, "/api/v1/rating/batch",
                      json.dumps({"product": "FARM_EASY", "applicants": [{"name": "a"}, {"name": LONE_SURROGATE}]}),
                      token_for("cm-BR001"))
    assert rating.status_code == 422 and set(rating.get_json()["fields"]) == {"applicants.1.name"}


def test_a_task_comment_with_a_nul_is_422_and_the_task_stays_open(client, token_for):
    api, cm = token_for("api-demo"), token_for("cm-BR001")
    created = submit_raw(client, api, json.dumps(example("application-review.json")))
    assert created.status_code == 201, created.get_json()
    task = open_task(client, cm, created.get_json()["id"])
    response = post_raw(client, f"/api/v1/tasks/{task['id']}/complete",
                        json.dumps({"decision": "approve", "comment": "visited\x00"}), cm)
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {"comment"}
    assert open_task(client, cm, created.get_json()["id"])["id"] == task["id"]


def test_a_surrogate_pair_is_one_character_and_is_fine():
    assert text_problems(json.loads(json.dumps({"name": "田\U0001F33E"}))) == {}


def test_a_deeply_nested_body_is_walked_without_recursion():
    deep: object = "bad\x00"
    for _ in range(100_000):
        deep = [deep]
    assert text_problems({"x": deep}) == {"x" + ".0" * 100_000: ["contains a NUL character (\\u0000)"]}


def test_a_body_that_is_not_utf8_is_400(client, token_for):
    application = example("application-auto.json")
    application["applicant"]["name"] = "王建国"
    body = json.dumps(application, ensure_ascii=False).encode("gbk")  # what a legacy counter system sends
    response = submit_raw(client, token_for("api-demo"), body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json" and "not UTF-8" in response.get_json()["message"]


def test_json_nested_deeper_than_the_parser_goes_is_400(client, token_for):
    response = submit_raw(client, token_for("api-demo"), '{"a":' + "[" * 100_000 + "]" * 100_000 + "}")
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/json; charset=latin-1", "application/jsonp", None,
])
def test_a_json_endpoint_refuses_another_content_type_with_415(client, token_for, services, content_type):
    headers = {**token_for("api-demo"), "Idempotency-Key": str(uuid.uuid4())}
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/v1/applications", data=json.dumps(example("application-auto.json")), headers=headers)
    assert response.status_code == 415
    body = response.get_json()
    assert body["error"] == "unsupported_media_type" and body["fields"] == {}
    assert "application/json" in body["message"]
    assert count_applications(services) == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON; charset=UTF-8"])
def test_application_json_with_or_without_a_utf8_charset_is_accepted(client, token_for, content_type):
    response = submit_raw(client, token_for("api-demo"), json.dumps(example("application-auto.json")), content_type)
    assert response.status_code == 201, response.get_json()


def test_a_form_post_to_the_token_endpoint_is_415(client):
    response = client.post("/api/v1/auth/token", data={"username": "api-demo", "password": "demo"})
    assert response.status_code == 415


def test_deployments_take_multipart_and_refuse_json_with_415(client, token_for):
    response = client.post("/api/v1/deployments", headers=token_for("analyst"), json={"scope": "HQ"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.get_json()["message"]


@pytest.mark.parametrize("path", ["/api/v1/applications/%00", "/api/v1/loans/a%00b", "/api/v1/risk-lists/%00/entries"])
def test_a_nul_in_the_address_is_404_not_a_database_error(client, token_for, path):
    response = client.get(path, headers=token_for("hq-approver"))
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("query, field", [("tasks?application_id=%00", "application_id"),
                                          ("deployments/resolved?branch=BR%00", "branch"),
                                          ("risk-lists/blacklist/entries?id_number=%00", "id_number"),
                                          ("ledger/loan-book?product=%00", "product")])
def test_a_nul_in_a_query_parameter_is_422_naming_it(client, token_for, query, field):
    response = client.get(f"/api/v1/{query}", headers=token_for("hq-approver"))
    assert response.status_code == 422
    assert response.get_json()["fields"] == {field: ["contains a NUL character (\\u0000)"]}


def test_a_nul_in_a_deployments_form_field_or_file_name_is_422_naming_it(client, token_for):
    import io

    response = client.post("/api/v1/deployments", headers=token_for("analyst"), content_type="multipart/form-data",
                           data={"scope": "HQ\x00", "files": [(io.BytesIO(b"<x/>"), "a\x00.bpmn")]})
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"scope", "files"}
