"""Signing keys: never the public demo key outside the demo, tokens that name their key and
expire, and key rotation without signing everybody out."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from dataclasses import replace

import pytest
from itsdangerous import URLSafeTimedSerializer

from web.app import create_app
from web.auth import SALT, TokenSigner, key_id
from web.cli import main
from web.config import DEMO_SECRET_KEY, PROJECT_ROOT, Settings, SettingsError

OLD_KEY = "old-signing-key-for-rotation-tests-0001"
NEW_KEY = "new-signing-key-for-rotation-tests-0002"


def app_with_keys(services, current: str, old: tuple[str, ...] = ()):
    settings = replace(services.settings, secret_key=current, old_secret_keys=old)
    return create_app(settings, services=services).test_client()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_from(client, username: str = "analyst") -> str:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": "demo"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def payload_of(token: str) -> dict:
    _kid, payload, _signature = token.split(".")
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_a_token_names_the_key_that_signed_it_and_when_it_expires(client):
    before = time.time()
    body = client.post("/api/v1/auth/token", json={"username": "analyst", "password": "demo"}).get_json()
    claims = payload_of(body["token"])
    assert body["token"].split(".")[0] == claims["kid"]
    assert claims["sub"] == "analyst"
    assert before + body["expires_in"] - 5 <= claims["exp"] <= time.time() + body["expires_in"]


def test_a_token_forged_with_the_demo_key_is_refused_by_an_app_with_a_real_key(client):
    forged = TokenSigner(DEMO_SECRET_KEY, max_age_seconds=3600).issue("analyst")
    response = client.post("/api/v1/deployments", headers=bearer(forged), content_type="multipart/form-data",
                           data={"scope": "HQ"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_a_demo_key_signature_under_the_real_key_id_is_refused(client, app):
    real_kid = key_id(app.config["SECRET_KEY"])
    demo_signed = TokenSigner(DEMO_SECRET_KEY, max_age_seconds=3600).issue("analyst").split(".", 1)[1]
    response = client.get("/api/v1/deployments", headers=bearer(f"{real_kid}.{demo_signed}"))
    assert response.status_code == 401


def test_the_old_token_format_signed_with_the_demo_key_is_refused(client):
    # What an attacker could forge before tokens named their key: the public key, no expiry.
    forged = URLSafeTimedSerializer(DEMO_SECRET_KEY, salt=SALT).dumps({"sub": "analyst"})
    assert client.get("/api/v1/deployments", headers=bearer(forged)).status_code == 401


def test_an_expired_token_is_401_token_expired(client, app):
    an_hour_ago = TokenSigner(app.config["SECRET_KEY"], max_age_seconds=60, clock=lambda: time.time() - 3600)
    response = client.get("/api/v1/deployments", headers=bearer(an_hour_ago.issue("analyst")))
    assert response.status_code == 401
    assert response.get_json()["error"] == "token_expired"


def test_a_token_from_a_rotated_out_key_still_listed_is_accepted(services):
    before_rotation = app_with_keys(services, OLD_KEY)
    token = token_from(before_rotation)
    after_rotation = app_with_keys(services, NEW_KEY, old=(OLD_KEY,))
    assert after_rotation.get("/api/v1/deployments", headers=bearer(token)).status_code == 200
    new_token = token_from(after_rotation)
    assert payload_of(new_token)["kid"] == key_id(NEW_KEY) != payload_of(token)["kid"]


def test_a_token_from_a_removed_key_is_refused(services):
    token = token_from(app_with_keys(services, OLD_KEY))
    removed = app_with_keys(services, NEW_KEY)
    response = removed.get("/api/v1/deployments", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("current, old, complaint", [
    ("", (), "LOANFLOW_SECRET_KEY is not set"),
    ("short-key", (), "LOANFLOW_SECRET_KEY is shorter than 32 bytes"),
    (DEMO_SECRET_KEY, (), "LOANFLOW_SECRET_KEY holds the public demo key"),
    (NEW_KEY, ("too-short",), "LOANFLOW_OLD_SECRET_KEYS is shorter than 32 bytes"),
    (NEW_KEY, (DEMO_SECRET_KEY,), "LOANFLOW_OLD_SECRET_KEYS holds the public demo key"),
])
def test_an_app_is_not_built_on_a_missing_short_or_public_key(current, old, complaint):
    with pytest.raises(SettingsError, match=complaint):
        create_app(Settings(secret_key=current, old_secret_keys=old), services=object())


def test_the_demo_signs_with_the_demo_key_unless_one_is_set():
    assert Settings().for_demo().secret_key == DEMO_SECRET_KEY
    Settings().for_demo().check_secret_keys()
    assert Settings(secret_key=NEW_KEY).for_demo().secret_key == NEW_KEY


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    monkeypatch.delenv("LOANFLOW_SECRET_KEY", raising=False)
    monkeypatch.delenv("LOANFLOW_OLD_SECRET_KEYS", raising=False)
    monkeypatch.setenv("LOANFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/never-created.sqlite3")
    return tmp_path


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_without_a_key_exit_2_with_one_line(command, no_key, capsys):
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"loanflow {command}: LOANFLOW_SECRET_KEY is not set")
    assert not (no_key / "never-created.sqlite3").exists()  # refused before touching the database


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_with_a_short_key_exit_2(command, no_key, monkeypatch, capsys):
    monkeypatch.setenv("LOANFLOW_SECRET_KEY", "change-me")
    assert main([command]) == 2
    assert "shorter than 32 bytes" in capsys.readouterr().err


def test_serve_without_a_key_prints_no_traceback_as_a_process(no_key):
    env = {k: v for k, v in os.environ.items() if k != "LOANFLOW_SECRET_KEY"}
    result = subprocess.run([sys.executable, "-m", "web.cli", "serve"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert "LOANFLOW_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
