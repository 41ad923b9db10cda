"""Each integrator's requests are limited per sliding minute: past the limit a clear 429 with
Retry-After, for that integrator only; a minute later it may call again. The limiter's clock is
moved, never slept on."""
from __future__ import annotations

import pytest

from web.rate_limit import RateLimiter


@pytest.fixture
def settings_overrides():
    return {"integrator_requests_per_minute": 3}


@pytest.fixture
def moment(app):
    now = [1000.0]
    app.extensions["loanflow_rate_limit"].clock = lambda: now[0]
    return now


def test_an_integrator_past_its_limit_gets_a_429_saying_when_to_come_back(client, token_for, moment):
    api = token_for("api-demo")
    for second in (0, 10, 20):
        moment[0] = 1000.0 + second
        assert client.get("/api/v1/webhooks/events", headers=api).status_code == 200
    moment[0] = 1030.0
    refused = client.get("/api/v1/webhooks/events", headers=api)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "30"   # the first of the three is a minute old at 1060
    body = refused.get_json()
    assert body["error"] == "rate_limited" and "more than 3 requests in a minute" in body["message"]
    assert body["request_id"]
    # staff are not integrators' systems: not limited
    for _ in range(5):
        assert client.get("/api/v1/webhooks/events", headers=token_for("cm-BR001")).status_code == 200
    moment[0] = 1060.0
    assert client.get("/api/v1/webhooks/events", headers=api).status_code == 200


def test_the_window_slides_and_keys_are_counted_apart():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.allow("a") is None and limiter.allow("a") is None
    assert limiter.allow("a") == 60 and limiter.allow("b") is None
    now[0] = 59.5
    assert limiter.allow("a") == 1      # half a second left rounds up to a whole one
    now[0] = 60.0
    assert limiter.allow("a") is None   # both first requests left the window together
    assert limiter.allow("a") is None and limiter.allow("a") == 60
