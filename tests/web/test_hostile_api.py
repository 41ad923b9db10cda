"""The hostile corpus through the product: an analyst deploys a hostile BR001 override of a real
diagram over the HTTP API, an integrator submits an application that reaches it, and the
application stops in an incident that names the element and the reason, while nothing from outside
the task data (the signing key, an environment variable) appears in any response and the server
keeps answering. The probes are in tests/web/hostile.py; the full corpus is
tests/workflows/test_hostile_corpus.py.
"""
from __future__ import annotations

import pytest

from tests.conftest import TEST_DATA_KEY
from tests.support.web_app import TEST_SECRET_KEY
from tests.web import hostile
from tests.web.journeys import example, submit
from tests.web.test_deployments_api import deploy, deployment_count

SECRET_KEY = TEST_SECRET_KEY               # the fixtures' signing key (tests/support/web_app.py)
CANARY = "canary-5e0b-environment-value"   # an environment variable of the server process


class Responses:
    """Every response a probe got, to check that none of them shows a secret."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def __call__(self, response):
        self.bodies.append(response.get_data(as_text=True))
        return response

    def assert_nothing_leaked(self) -> None:
        for body in self.bodies:
            assert SECRET_KEY not in body and TEST_DATA_KEY not in body and CANARY not in body, body[:500]
            assert "Traceback" not in body and "Error evaluating" not in body, body[:500]


@pytest.fixture
def seen(monkeypatch):
    monkeypatch.setenv("LOANFLOW_CANARY", CANARY)
    return Responses()


def assert_server_answers(client, seen) -> None:
    response = seen(client.get("/api/v1/openapi.json"))
    assert response.status_code == 200 and response.get_json()["openapi"]


@pytest.mark.parametrize("files, element, shown, reason", [p[1:] for p in hostile.RUNTIME],
                         ids=[p[0] for p in hostile.RUNTIME])
def test_a_hostile_override_stops_the_application_in_an_incident_naming_the_element_and_the_reason(
        client, token_for, seen, files, element, shown, reason):
    deployed = seen(deploy(client, token_for("analyst"), "BR001", files))
    assert deployed.status_code == 201, deployed.get_json()
    api = token_for("api-demo")
    submitted = seen(submit(client, api, example("application-auto.json")))
    assert submitted.status_code == 201, submitted.get_json()

    application = seen(client.get(f"/api/v1/applications/{submitted.get_json()['id']}", headers=api)).get_json()
    assert application["status"] == "incident"
    incident = application["incident"]
    assert incident.startswith(f"{element}: ") and reason in incident, incident
    assert shown in incident.split(" — in: ")[-1], incident
    assert_server_answers(client, seen)
    seen.assert_nothing_leaked()


@pytest.mark.parametrize("files, reason", [p[1:] for p in hostile.REFUSED], ids=[p[0] for p in hostile.REFUSED])
def test_a_hostile_override_is_refused_at_deployment_and_nothing_is_deployed(client, token_for, seen, files, reason):
    analyst = token_for("analyst")
    before = deployment_count(client, analyst)
    response = seen(deploy(client, analyst, "BR001", files))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "deployment_rejected" and reason in body["message"], body
    assert deployment_count(client, analyst) == before
    assert_server_answers(client, seen)
    seen.assert_nothing_leaked()


def test_a_duration_kept_under_a_summary_key_is_saved_not_a_500(client, token_for, seen):
    """Task data may hold durations; the application's JSON summary could not (it was a 500)."""
    deployed = seen(deploy(client, token_for("analyst"), "BR001",
                           hostile.script("large_amount_report = timedelta(days=1)")))
    assert deployed.status_code == 201, deployed.get_json()
    submitted = seen(submit(client, token_for("api-demo"), example("application-auto.json")))
    assert submitted.status_code == 201, submitted.get_json()
    assert submitted.get_json()["status"] == "awaiting_signature"
    seen.assert_nothing_leaked()


def test_task_data_at_the_storage_limits_keeps_an_applications_saved_state_to_a_few_megabytes(
        client, token_for, services, seen):
    """SpiffWorkflow keeps a copy of the task data per task: at the old limits (200,000 values and
    1,000,000 characters) one application saved 10.6 MB at every step."""
    from sqlalchemy import select

    from workflows.models import ProcessInstance

    at_the_limits = "bulk = {str(i): 'x' * 9 for i in range(25000)}\nmore = list(range(24000))"
    deployed = seen(deploy(client, token_for("analyst"), "BR001", hostile.script(at_the_limits)))
    assert deployed.status_code == 201, deployed.get_json()
    submitted = seen(submit(client, token_for("api-demo"), example("application-auto.json")))
    assert submitted.get_json()["status"] == "awaiting_signature"
    with services.db.unit_of_work() as session:
        state = session.scalar(select(ProcessInstance.state).where(
            ProcessInstance.application_id == submitted.get_json()["id"]))
    assert len(state) < 6_000_000
