"""Integrator clients in the browser: head office's administrator creates a client on /admin, sees
its secret once, the client signs in with it; a rotation shows a new one and stops the old."""
from __future__ import annotations

import uuid


def shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    page.locator("#integrators").screenshot(path=str(screenshots / f"{name}-card.png"))


def test_an_administrator_creates_a_client_and_sees_its_secret_once(sign_in, api, screenshots):
    client, _ = api
    client_id = f"kiosk-{uuid.uuid4().hex[:6]}"
    admin = sign_in("admin", lands="**/admin")
    assert "partner-BR001" in admin.locator("#client-list").inner_text()
    admin.fill("#new-client-id", client_id)
    admin.fill("#new-client-name", "昌乐自助机")
    admin.check("#new-client-branches input[value=BR002]")
    admin.check("#new-client-channels input[value=counter]")
    admin.click("#create-client")
    secret = admin.locator("#issued-client-secret").inner_text()
    assert "只显示这一次" in admin.locator("#issued-secret").inner_text()
    assert admin.locator(f"tr[data-client-id='{client_id}']").inner_text().count("柜面") == 1
    shot(admin, screenshots, "admin-integrator-secret")
    signed = client.post("/api/v1/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                     "client_secret": secret})
    assert signed.status_code == 200, signed.get_json()

    admin.goto("/admin")
    assert admin.locator("#issued-secret").count() == 0
    admin.locator(f"tr[data-client-id='{client_id}'] button", has_text="更换密钥").click()
    rotated = admin.locator("#issued-client-secret").inner_text()
    assert rotated != secret
    assert client.post("/api/v1/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret}).status_code == 401
    admin.goto("/admin")
    admin.locator(f"tr[data-client-id='{client_id}'] button", has_text="停用").click()
    assert "已停用" in admin.locator(f"tr[data-client-id='{client_id}']").inner_text()
    shot(admin, screenshots, "admin-integrators")
