"""Integrator clients: credentials per integrator (client id and secret), limited to branches and
channels; administered and audited; their tokens stop when disabled or rotated; rate-limited apart."""
from __future__ import annotations

import base64

import pytest

from tests.web.journeys import example, submit
from workflows.models import IntegratorClient
from workflows.seed import DEMO_CLIENT_SECRET

TOKEN = "/api/v1/auth/token"
ADMIN = "/api/v1/admin/integrators"


def client_token(client, client_id, secret=DEMO_CLIENT_SECRET):
    return client.post(TOKEN, json={"grant_type": "client_credentials", "client_id": client_id,
                                    "client_secret": secret})


def bearer(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def create(client, admin, **fields):
    body = {"client_id": "mobile-app", "name": "掌上银行", "branches": ["BR001", "BR002"],
            "channels": ["mobile", "counter"], **fields}
    return client.post(ADMIN, headers=admin, json=body)


def application(branch="BR001", **changes):
    return example("application-review.json", branch=branch, **changes)


def test_a_demo_client_signs_in_with_its_secret_and_submits_for_its_partner(client):
    signed_in = client_token(client, "partner-BR001")
    assert signed_in.status_code == 200, signed_in.get_json()
    body = signed_in.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["client"] == {"client_id": "partner-BR001", "branches": ["BR001"], "channels": ["partner"],
                              "partner_id": "huinong-mall"}
    submitted = submit(client, bearer(signed_in), application())
    assert submitted.status_code == 201, submitted.get_json()
    created = submitted.get_json()
    # the client's one channel and its partner by default; the client is who submitted it
    assert (created["channel"], created["partner_id"]) == ("partner", "huinong-mall")
    read = client.get(f"/api/v1/applications/{created['id']}", headers=bearer(signed_in)).get_json()
    assert (read["channel"], read["partner_id"], read["branch"]) == ("partner", "huinong-mall", "BR001")
    assert read["history"][0]["actor"] == "partner-BR001"


def test_http_basic_gives_the_same_token(client):
    basic = base64.b64encode(f"partner-BR002:{DEMO_CLIENT_SECRET}".encode()).decode()
    answer = client.post(TOKEN, headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["client"]["client_id"] == "partner-BR002"
    with_grant = client.post(TOKEN, headers={"Authorization": f"Basic {basic}"},
                             json={"grant_type": "client_credentials"})
    assert with_grant.status_code == 200
    wrong = base64.b64encode(b"partner-BR002:not-the-secret").decode()
    refused = client.post(TOKEN, headers={"Authorization": f"Basic {wrong}"})
    assert (refused.status_code, refused.get_json()["error"]) == (401, "invalid_client")


def test_wrong_or_unknown_client_credentials_are_one_401(client):
    for client_id, secret in (("partner-BR001", "wrong"), ("nobody", DEMO_CLIENT_SECRET)):
        refused = client_token(client, client_id, secret)
        assert (refused.status_code, refused.get_json()["error"]) == (401, "invalid_client")
    missing = client.post(TOKEN, json={"grant_type": "client_credentials", "client_id": "partner-BR001"})
    assert missing.status_code == 422 and "client_secret" in missing.get_json()["fields"]


def test_the_demo_integrator_user_still_signs_in_with_a_password(client, token_for):
    submitted = submit(client, token_for("api-demo"), application(branch="BR002"))
    assert submitted.status_code == 201, submitted.get_json()
    assert (submitted.get_json()["channel"], submitted.get_json()["partner_id"]) == ("counter", None)


def test_a_client_is_limited_to_its_branches(client, token_for):
    partner = bearer(client_token(client, "partner-BR001"))
    refused = submit(client, partner, application(branch="BR002"))
    assert refused.status_code == 403, refused.get_json()
    assert "BR002" in refused.get_json()["message"] and "branch" in refused.get_json()["fields"]
    # another branch's application, customer and instance do not exist for it, as for BR001's staff
    other = submit(client, token_for("api-demo"), application(branch="BR002")).get_json()
    assert client.get(f"/api/v1/applications/{other['id']}", headers=partner).status_code == 404
    assert client.get(f"/api/v1/instances/{other['instance_id']}", headers=partner).status_code == 404
    assert client.get(f"/api/v1/customers/{other['customer_id']}", headers=partner).status_code == 404
    assert submit(client, partner, application()).status_code == 201
    listed = client.get("/api/v1/customers", headers=partner).get_json()["customers"]
    assert listed and {c["branch"] for c in listed} == {"BR001"}


def test_a_client_starts_processes_only_in_its_branches_and_administers_nothing(client):
    import uuid

    partner = bearer(client_token(client, "partner-BR001"))
    data = example("application-auto.json")
    del data["branch"]
    for branch, status in (("BR002", 403), ("BR001", 201)):
        started = client.post("/api/v1/processes/loan_origination/instances", json={"branch": branch, "data": data},
                              headers={**partner, "Idempotency-Key": str(uuid.uuid4())})
        assert started.status_code == status, started.get_json()
    assert "BR002" in client.post("/api/v1/processes/loan_origination/instances", json={
        "branch": "BR002", "data": data}, headers={**partner, "Idempotency-Key": "k"}).get_json()["message"]
    assert client.get(ADMIN, headers=partner).status_code == 403
    assert client.get("/api/v1/tasks", headers=partner).status_code == 403


def test_a_change_of_channels_holds_from_the_clients_next_request(client, token_for):
    partner = bearer(client_token(client, "partner-BR001"))
    changed = client.patch(f"{ADMIN}/partner-BR001", headers=token_for("admin"), json={"channels": ["mobile"]})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["partner_id"] is None   # the partner channel went, its partner id with it
    made = submit(client, partner, application())      # the same token: its scope is read per request
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["channel"], made.get_json()["partner_id"]) == ("mobile", None)


def test_a_client_of_two_branches_reaches_both_and_no_third(client, token_for):
    admin = token_for("admin")
    assert client.post("/api/v1/admin/org-units", headers=admin, json={
        "kind": "branch", "code": "BR003", "name": "Changle branch", "region": "Weifang",
        "tier1_capital_net": "200000000"}).status_code == 201
    secret = create(client, admin).get_json()["client_secret"]
    app_token = bearer(client_token(client, "mobile-app", secret))
    for branch in ("BR001", "BR002"):
        made = submit(client, app_token, application(branch=branch, channel="mobile"))
        assert made.status_code == 201, made.get_json()
    refused = submit(client, app_token, application(branch="BR003", channel="mobile"))
    assert refused.status_code == 403 and "BR003" in refused.get_json()["message"]
    staff_app = submit(client, token_for("api-demo"), application(branch="BR003")).get_json()
    assert client.get(f"/api/v1/applications/{staff_app['id']}", headers=app_token).status_code == 404
    customers = client.get("/api/v1/customers", headers=app_token).get_json()["customers"]
    assert {c["branch"] for c in customers} == {"BR001", "BR002"}


def test_a_client_sends_only_through_its_channels_and_for_its_own_partner(client, token_for):
    secret = create(client, token_for("admin")).get_json()["client_secret"]
    two = bearer(client_token(client, "mobile-app", secret))
    unsaid = submit(client, two, application())
    assert unsaid.status_code == 422 and list(unsaid.get_json()["fields"]) == ["channel"]
    assert "counter, mobile: say which" in unsaid.get_json()["fields"]["channel"][0]
    other = submit(client, two, application(channel="partner", partner_id="huinong-mall"))
    assert other.status_code == 422 and "channel" in other.get_json()["fields"]
    counter = submit(client, two, application(channel="counter"))
    assert counter.status_code == 201 and counter.get_json()["channel"] == "counter"
    partner = bearer(client_token(client, "partner-BR001"))
    foreign = submit(client, partner, application(partner_id="linqu-coop"))
    assert foreign.status_code == 422 and list(foreign.get_json()["fields"]) == ["partner_id"]
    mobile = submit(client, partner, application(channel="mobile"))
    assert mobile.status_code == 422 and list(mobile.get_json()["fields"]) == ["channel"]
    unknown = submit(client, partner, application(channel="fax"))
    assert unknown.status_code == 422 and "channel" in unknown.get_json()["fields"]


def test_staff_default_to_the_counter_and_a_partner_channel_needs_a_partner(client, token_for):
    manager = token_for("cm-BR001")
    counter = submit(client, manager, application())
    assert counter.status_code == 201 and counter.get_json()["channel"] == "counter"
    no_partner = submit(client, manager, application(channel="partner"))
    assert no_partner.status_code == 422 and list(no_partner.get_json()["fields"]) == ["partner_id"]
    stray = submit(client, manager, application(channel="mobile", partner_id="huinong-mall"))
    assert stray.status_code == 422 and list(stray.get_json()["fields"]) == ["partner_id"]
    assert submit(client, manager, application(channel="partner", partner_id="walk-in-agent")).status_code == 201


def test_a_disabled_client_or_a_rotated_secret_stops_its_tokens_at_the_next_request(client, token_for):
    admin = token_for("admin-BR001")
    partner = bearer(client_token(client, "partner-BR001"))
    events = "/api/v1/webhooks/events"
    assert client.get(events, headers=partner).status_code == 200
    disabled = client.patch(f"{ADMIN}/partner-BR001", headers=admin, json={"enabled": False})
    assert disabled.status_code == 200 and disabled.get_json()["enabled"] is False
    stopped = client.get(events, headers=partner)
    assert (stopped.status_code, stopped.get_json()["error"]) == (401, "invalid_token")
    assert client_token(client, "partner-BR001").status_code == 401
    assert client.patch(f"{ADMIN}/partner-BR001", headers=admin, json={"enabled": True}).status_code == 200
    assert client.get(events, headers=partner).status_code == 200
    rotated = client.post(f"{ADMIN}/partner-BR001/secret", headers=admin)
    assert rotated.status_code == 200, rotated.get_json()
    new_secret = rotated.get_json()["client_secret"]
    assert new_secret != DEMO_CLIENT_SECRET and rotated.get_json()["rotated_at"]
    assert client.get(events, headers=partner).status_code == 401
    assert client_token(client, "partner-BR001").status_code == 401   # the old secret no longer
    fresh = bearer(client_token(client, "partner-BR001", new_secret))
    assert client.get(events, headers=fresh).status_code == 200


def test_administrators_create_list_and_change_clients_and_every_change_is_audited(client, token_for, services):
    admin = token_for("admin")
    created = create(client, admin)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    secret = body.pop("client_secret")
    assert len(secret) >= 40
    assert body == {"client_id": "mobile-app", "name": "掌上银行", "branches": ["BR001", "BR002"],
                    "channels": ["counter", "mobile"], "partner_id": None, "enabled": True, "created_by": "admin",
                    "created_at": body["created_at"], "rotated_at": None, "last_used_at": None}
    listed = client.get(ADMIN, headers=admin).get_json()["items"]
    assert [c["client_id"] for c in listed] == ["mobile-app", "partner-BR001", "partner-BR002"]
    assert all("client_secret" not in c and "secret_hash" not in c for c in listed)
    client_token(client, "mobile-app", secret)
    used = {c["client_id"]: c for c in client.get(ADMIN, headers=admin).get_json()["items"]}["mobile-app"]
    assert used["last_used_at"] is not None
    with services.db.read_sessions() as session:  # kept as a scrypt hash, never in clear
        stored = session.get(IntegratorClient, "mobile-app").secret_hash
    assert stored.startswith("scrypt$") and secret not in stored
    changed = client.patch(f"{ADMIN}/mobile-app", headers=admin,
                           json={"channels": ["partner"], "partner_id": "weifang-agent", "branches": ["BR002"]})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["channels"], changed.get_json()["partner_id"],
            changed.get_json()["branches"]) == (["partner"], "weifang-agent", ["BR002"])
    client.post(f"{ADMIN}/mobile-app/secret", headers=admin)
    trail = client.get("/api/v1/admin/audit?target=mobile-app", headers=admin).get_json()["items"]
    assert [a["action"] for a in trail] == ["integrator_secret_rotated", "integrator_changed", "integrator_created"]
    assert trail[2]["after"]["secret"] == "issued" and trail[0]["after"]["secret"] == "rotated"
    assert trail[1]["before"] == {"branches": ["BR001", "BR002"], "channels": ["counter", "mobile"],
                                  "partner_id": None}
    everything = str(trail)
    assert secret not in everything and "scrypt$" not in everything


def test_bad_client_input_names_every_field_at_once(client, token_for):
    admin = token_for("admin")
    refused = create(client, admin, name=" ", branches=["BR009"], channels=["partner"])
    assert refused.status_code == 422
    assert set(refused.get_json()["fields"]) == {"name", "branches", "partner_id"}
    bad_form = create(client, admin, branches=["br 1"], channels=["fax"])
    assert bad_form.status_code == 422 and {"branches", "channels"} <= set(bad_form.get_json()["fields"])
    taken = create(client, admin, client_id="api-demo")
    assert taken.status_code == 409 and "client_id" in taken.get_json()["fields"]
    also = create(client, admin, branches=["HQ", "BR001"])
    assert also.status_code == 422 and "branches" in also.get_json()["fields"]


def test_a_branch_administrator_manages_only_its_own_branchs_clients(client, token_for):
    branch_admin = token_for("admin-BR001")
    listed = client.get(ADMIN, headers=branch_admin).get_json()["items"]
    assert [c["client_id"] for c in listed] == ["partner-BR001"]
    wider = create(client, branch_admin)
    assert wider.status_code == 403 and "branches" in wider.get_json()["fields"]
    own = create(client, branch_admin, client_id="anqiu-kiosk", branches=["BR001"], channels=["counter"])
    assert own.status_code == 201, own.get_json()
    assert client.patch(f"{ADMIN}/partner-BR002", headers=branch_admin, json={"enabled": False}).status_code == 404
    assert client.post(f"{ADMIN}/partner-BR002/secret", headers=branch_admin).status_code == 404
    assert client.get(ADMIN, headers=token_for("cm-BR001")).status_code == 403
    # HQ's administrator sees the branch's client too
    assert "anqiu-kiosk" in {c["client_id"] for c in client.get(ADMIN, headers=token_for("admin")).get_json()["items"]}


class TestRateLimit:
    @pytest.fixture
    def settings_overrides(self):
        return {"integrator_requests_per_minute": 2}

    def test_the_rate_limit_counts_per_client(self, client, app, token_for):
        now = [1000.0]
        app.extensions["loanflow_rate_limit"].clock = lambda: now[0]
        one, two = bearer(client_token(client, "partner-BR001")), bearer(client_token(client, "partner-BR002"))
        events = "/api/v1/webhooks/events"
        assert [client.get(events, headers=one).status_code for _ in range(3)] == [200, 200, 429]
        assert client.get(events, headers=two).status_code == 200   # another client: its own count
        assert client.get(events, headers=token_for("api-demo")).status_code == 200
        now[0] = 1060.0
        assert client.get(events, headers=one).status_code == 200


def test_the_admin_page_lists_creates_disables_and_rotates_clients_showing_the_secret_once(client):
    from tests.web.test_pages import csrf_of, sign_in as sign_in_page

    sign_in_page(client, "admin-BR001")
    listing = client.get("/admin").get_data(as_text=True)
    assert "渠道接入方" in listing and 'data-client-id="partner-BR001"' in listing
    assert 'data-client-id="partner-BR002"' not in listing and "huinong-mall" in listing
    token = csrf_of(client, "/admin")
    bad = client.post("/admin/integrators", data={"client_id": "kiosk", "name": "", "branches": ["BR001"],
                                                  "channels": ["partner"], "csrf_token": token})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "名称：" in text and "合作方编号：" in text and 'value="kiosk"' in text
    made = client.post("/admin/integrators", data={"client_id": "anqiu-kiosk", "name": "安丘自助机",
                                                   "branches": ["BR001"], "channels": ["counter"], "csrf_token": token})
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    page = made.get_data(as_text=True)
    secret = page.split('id="issued-client-secret">')[1].split("<")[0]
    assert len(secret) >= 40 and "只显示这一次" in page
    assert client_token(client, "anqiu-kiosk", secret).status_code == 200
    assert secret not in client.get("/admin").get_data(as_text=True)   # shown once, then never
    disabled = client.post("/admin/integrators/anqiu-kiosk", data={"csrf_token": token})
    assert disabled.status_code == 302
    assert client_token(client, "anqiu-kiosk", secret).status_code == 401
    assert client.post("/admin/integrators/anqiu-kiosk", data={"enabled": "on", "csrf_token": token}).status_code == 302
    rotated = client.post("/admin/integrators/anqiu-kiosk/secret", data={"csrf_token": token})
    new_secret = rotated.get_data(as_text=True).split('id="issued-client-secret">')[1].split("<")[0]
    assert new_secret != secret and client_token(client, "anqiu-kiosk", new_secret).status_code == 200
    trail = client.get("/admin").get_data(as_text=True)
    assert "新增渠道接入方" in trail and "更换接入方密钥" in trail and new_secret not in trail
    assert client.post("/admin/integrators/partner-BR002/secret", data={"csrf_token": token}).status_code == 404


def test_the_case_page_shows_the_channel(client):
    from tests.web.test_pages import sign_in as sign_in_page

    made = submit(client, bearer(client_token(client, "partner-BR001")), application()).get_json()
    sign_in_page(client, "rev-BR001")
    page = client.get(f"/applications/{made['id']}").get_data(as_text=True)
    assert "渠道 合作平台 (合作方 huinong-mall)" in page
