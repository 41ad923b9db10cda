"""A Flask test client on a fresh database (each backend) with the demo data and diagrams."""
from __future__ import annotations

import pytest

from tests.conftest import TEST_DATA_KEY
from web.app import create_app
from web.config import PROJECT_ROOT, Settings
from web.services import build_services

TEST_SECRET_KEY = "loanflow-test-signing-key-0123456789abcdef"


@pytest.fixture(scope="session")
def bureau():
    """The credit-bureau simulator on 127.0.0.1 (a real HTTP server)."""
    from web.simulators import start_in_thread
    from web.simulators.bureau import create_app as bureau_app

    server = start_in_thread(bureau_app())
    yield server
    server.stop()


@pytest.fixture
def settings_overrides() -> dict:
    """Settings fields for the test app beyond the defaults; a test module overrides this fixture
    (e.g. with callback_hosts for its webhook receiver)."""
    return {}


@pytest.fixture
def services(database_url, bureau, settings_overrides):
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, bpmn_dir=PROJECT_ROOT / "bpmn",
                        bureau_url=bureau.url, data_key=TEST_DATA_KEY, **settings_overrides)
    svc = build_services(settings)
    svc.seed_demo()
    yield svc
    svc.db.dispose()


@pytest.fixture
def app(services):
    return create_app(services.settings, services=services)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token_for(client):
    cache: dict[str, str] = {}

    def token(username: str) -> dict:
        if username not in cache:
            response = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
            assert response.status_code == 200, response.get_json()
            cache[username] = response.get_json()["token"]
        return {"Authorization": f"Bearer {cache[username]}"}

    return token


@pytest.fixture
def receiver():
    """An integrator's webhook endpoint on 127.0.0.1: (url, received, state). Each delivery is
    recorded as {"body", "event", "raw" (the bytes), "headers"}; state["fail"] = True makes it answer state["status"] (503)."""
    import json

    from flask import Flask, request

    from web.simulators import start_in_thread

    app = Flask("receiver")
    received: list[dict] = []
    state = {"fail": False, "status": 503}

    @app.post("/hooks")
    def hook():
        if state["fail"]:
            return "busy", state["status"]
        received.append({"body": json.loads(request.data), "event": request.headers["X-Loanflow-Event"],
                         "raw": request.get_data(), "headers": dict(request.headers)})
        return "", 204

    server = start_in_thread(app)
    yield server.url + "/hooks", received, state
    server.stop()
