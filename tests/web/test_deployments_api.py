"""Analysts deploy diagrams per scope; bad diagrams are refused with the reason, nothing deployed."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.web.journeys import decide, example, open_task, submit

BPMN = Path(__file__).resolve().parents[2] / "bpmn"

SCRIPT_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="housekeeping" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="tidy_up" name="Tidy up">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="tidy_up"/>
    <bpmn:sequenceFlow id="f2" sourceRef="tidy_up" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def deploy(client, headers, scope, files: dict[str, str]):
    data = {"scope": scope, "files": [(io.BytesIO(text.encode()), name) for name, text in files.items()]}
    return client.post("/api/v1/deployments", headers=headers, data=data, content_type="multipart/form-data")


def deployment_count(client, headers) -> int:
    return len(client.get("/api/v1/deployments", headers=headers).get_json()["items"])


@pytest.mark.parametrize("script, reason", [
    ("import os\nos.system('id')", "line 1: imports are not part of the script language"),
    ("data = open('/etc/passwd').read()", "'open' is not a function of the script language"),
    ("leak = ().__class__.__base__.__subclasses__()", "the attribute '.__class__' is not part of"),
    ("x = '{0.__class__}'.format(1)", "'.format()' is not a method of the script language"),
    ("x = 10 ** 10 ** 10", "this constant expression would exceed 4096 bits"),
])
def test_a_script_the_sandbox_refuses_is_not_deployed(client, token_for, script, reason):
    analyst = token_for("analyst")
    before = deployment_count(client, analyst)
    response = deploy(client, analyst, "BR001", {"housekeeping.bpmn": SCRIPT_PROCESS.format(script=script)})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "deployment_rejected"
    assert reason in body["message"]
    assert "housekeeping.bpmn" in body["fields"]
    assert deployment_count(client, analyst) == before


def test_a_harmless_script_deploys(client, token_for):
    response = deploy(client, token_for("analyst"), "BR001",
                      {"housekeeping.bpmn": SCRIPT_PROCESS.format(script="total = sum([1, 2, 3])")})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["definitions"] == [{"id": "housekeeping", "kind": "process", "version": 1}]


def test_xml_that_does_not_parse_is_refused(client, token_for):
    response = deploy(client, token_for("analyst"), "HQ", {"broken.bpmn": "<bpmn:definitions"})
    assert response.status_code == 422
    assert "not well-formed XML" in response.get_json()["message"]


def test_an_entity_expansion_is_refused_before_parsing(client, token_for):
    evil = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</bpmn:definitions>')
    response = deploy(client, token_for("analyst"), "HQ", {"evil.bpmn": evil})
    assert response.status_code == 422
    assert "DOCTYPE" in response.get_json()["message"]


def test_a_service_task_naming_an_unknown_handler_is_refused(client, token_for):
    intake = (BPMN / "default" / "intake.bpmn").read_text().replace("intake.precheck", "intake.teleport")
    response = deploy(client, token_for("analyst"), "BR001", {"intake.bpmn": intake})
    assert response.status_code == 422
    assert "unknown handler 'intake.teleport'" in response.get_json()["message"]


def test_a_user_task_naming_an_unknown_form_is_refused(client, token_for):
    review = (BPMN / "default" / "review.bpmn").read_text().replace('value="investigation"', 'value="horoscope"')
    response = deploy(client, token_for("analyst"), "BR001", {"review.bpmn": review})
    assert response.status_code == 422
    assert "unknown form 'horoscope'" in response.get_json()["message"]


def test_a_broken_pricing_table_is_refused(client, token_for):
    response = deploy(client, token_for("analyst"), "BR001", {"pricing.dmn": "<definitions/>"})
    assert response.status_code == 422
    assert "pricing.dmn" in response.get_json()["fields"]


def test_only_analysts_deploy(client, token_for):
    response = deploy(client, token_for("rev-BR001"), "BR001", {"x.bpmn": "<x/>"})
    assert response.status_code == 403


def test_an_unknown_scope_is_422(client, token_for):
    response = deploy(client, token_for("analyst"), "BR404",
                      {"housekeeping.bpmn": SCRIPT_PROCESS.format(script="x = 1")})
    assert response.status_code == 422
    assert "scope" in response.get_json()["fields"]


def test_resolution_shows_br002s_own_review_process_and_br001_inheriting_hqs(client, token_for):
    analyst = token_for("analyst")
    br001 = client.get("/api/v1/deployments/resolved?branch=BR001", headers=analyst).get_json()
    br002 = client.get("/api/v1/deployments/resolved?branch=BR002", headers=analyst).get_json()
    review = {d["id"]: d for d in br001["definitions"]}["review"]
    assert review["scope"] == "HQ"
    assert {d["id"]: d for d in br002["definitions"]}["review"]["scope"] == "BR002"


def test_a_new_branch_version_applies_to_new_applications_only(client, token_for):
    api, analyst = token_for("api-demo"), token_for("analyst")
    running = submit(client, api, example("application-review.json")).get_json()
    # BR001 now sends everything above 100,000 to head office as well.
    review = (BPMN / "branches" / "BR002" / "review.bpmn").read_text().replace("amount &gt; 200000",
                                                                               "amount &gt; 100000")
    response = deploy(client, analyst, "BR001", {"review.bpmn": review})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["version"] == 1 and response.get_json()["scope"] == "BR001"

    fresh = submit(client, api, example("application-review.json")).get_json()
    assert fresh["process_files"]["review.bpmn"]["scope"] == "BR001"
    assert running["process_files"]["review.bpmn"]["scope"] == "HQ"
    for app_id, expect_hq in ((running["id"], False), (fresh["id"], True)):
        decide(client, token_for("cm-BR001"), app_id)
        decide(client, token_for("rev-BR001"), app_id)
        decide(client, token_for("appr-BR001"), app_id)
        status = client.get(f"/api/v1/applications/{app_id}", headers=api).get_json()["status"]
        assert status == ("in_review" if expect_hq else "awaiting_signature")
    assert open_task(client, token_for("hq-approver"), fresh["id"])["role"] == "hq_approver"


def test_a_data_file_holding_nan_is_refused(client, token_for):
    response = deploy(client, token_for("analyst"), "BR002", {"limits.json": '{"warn_at": NaN}'})
    assert response.status_code == 422
    assert "NaN" in response.get_json()["fields"]["limits.json"][0]
