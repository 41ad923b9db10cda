"""Administration and delegation in the browser: the branch's administrator creates a reviewer on
/admin; the new reviewer signs in, claims a task, goes on leave and delegates to a colleague, who
finds it marked in their inbox, decides it, and the case history names both."""
from __future__ import annotations

import uuid

from tests.e2e.conftest import SECOND_REVIEWER
from tests.web import journeys


def shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def test_an_administrator_creates_a_reviewer_whose_delegated_task_a_colleague_decides(
        sign_in, new_context, api, application_in_review, screenshots):
    client, token = api
    username, full_name, password = f"rev-{uuid.uuid4().hex[:6]}", "孙八", "Leave-2027"

    admin = sign_in("admin-BR001", lands="**/admin")
    assert "rev-BR002" not in admin.locator("#user-list").inner_text()  # another branch's staff
    admin.fill("#new-username", username)
    admin.fill("#new-full-name", full_name)
    admin.select_option("#new-outlet", "BR001-02")
    admin.check("#new-roles input[value=reviewer]")
    admin.fill("#new-password", password)
    shot(admin, screenshots, "admin-new-user")
    admin.click("#create-user")
    admin.wait_for_url(f"**/admin/users/{username}")
    assert "用户 " + username + " 已创建" in admin.locator(".flash.ok").inner_text()
    assert "创建用户" in admin.locator("#audit").inner_text()
    shot(admin, screenshots, "admin-user")

    application_id, customer = application_in_review()
    journeys.decide(client, token("cm-BR001"), application_id)

    reviewer = new_context().new_page()
    reviewer.goto("/login")
    reviewer.fill("input[name=username]", username)
    reviewer.fill("input[name=password]", password)
    reviewer.click("button[type=submit]")
    reviewer.wait_for_url("**/inbox**")
    reviewer.goto("/inbox?tab=unclaimed")
    row = reviewer.locator("tr[data-task-id]", has_text=customer)
    assert row.count() == 1
    row.locator("button.claim").click()
    reviewer.wait_for_url("**/inbox**")

    signed = client.post("/api/v1/auth/token", json={"username": username, "password": password}).get_json()
    leave = client.post("/api/v1/delegations", headers={"Authorization": f"Bearer {signed['token']}"}, json={
        "delegate": SECOND_REVIEWER, "starts_at": "2026-01-01T09:00:00", "ends_at": "2099-12-31T18:00:00",
        "reason": "年假"})
    assert leave.status_code == 201, leave.get_json()

    colleague = sign_in(SECOND_REVIEWER)
    colleague.goto("/inbox?tab=mine")
    row = colleague.locator("tr[data-task-id]", has_text=customer)
    assert f"代 {full_name} 处理" in row.locator(".badge.delegated").inner_text()
    shot(colleague, screenshots, "inbox-delegated")
    row.locator("a").first.click()
    colleague.wait_for_url("**/tasks/**")
    assert full_name in colleague.locator("#on-behalf").inner_text()
    colleague.fill("textarea[name=comment]", "代审：资料齐全")
    colleague.click("#decide-approve")
    colleague.wait_for_url("**/inbox**")

    colleague.goto(f"/applications/{application_id}")
    history = colleague.locator("#history")
    assert f"信贷审查员（二） 代 {full_name}" in history.locator("strong.delegate").inner_text()
    history.scroll_into_view_if_needed()
    shot(colleague, screenshots, "case-history-delegated")
