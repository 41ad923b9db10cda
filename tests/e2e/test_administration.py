"""Administration and delegation in the browser: the branch's administrator creates a reviewer on
/admin; the new reviewer signs in, replaces the administrator's password, claims a task, goes on
leave and delegates to a colleague on their account page; the colleague finds it marked in their
inbox, decides it, and the case history names both."""
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
    # the administrator chose this password: the new reviewer replaces it before anything else
    reviewer.wait_for_url("**/account?next=**")
    assert "您的密码由管理员设置" in reviewer.locator("#password-due").inner_text()
    password = "Own-choice-2027"
    reviewer.fill("#current-password", "Leave-2027")
    reviewer.fill("#new-password", password)
    reviewer.fill("#repeat-password", password)
    shot(reviewer, screenshots, "account-password-due")
    reviewer.click("#save-password")
    reviewer.wait_for_url("**/inbox**")
    assert "密码已修改" in reviewer.locator(".flash.ok").inner_text()
    reviewer.goto("/inbox?tab=unclaimed")
    row = reviewer.locator("tr[data-task-id]", has_text=customer)
    assert row.count() == 1
    row.locator("button.claim").click()
    reviewer.wait_for_url("**/inbox**")

    # on leave: the reviewer delegates to a colleague on their account page
    reviewer.click("#nav-account")
    reviewer.wait_for_url("**/account")
    reviewer.select_option("#delegate", SECOND_REVIEWER)
    reviewer.fill("#starts-at", "2026-01-01T09:00")
    reviewer.fill("#ends-at", "2099-12-31T18:00")
    reviewer.fill("#reason", "年假")
    reviewer.click("#save-delegation")
    reviewer.wait_for_url("**/account")
    assert "您的任务已在期间内委托给 " + SECOND_REVIEWER in reviewer.locator(".flash.ok").inner_text()
    listed = reviewer.locator("#delegation-list tr[data-delegation-id]")
    assert listed.count() == 1 and "生效中" in listed.inner_text() and "年假" in listed.inner_text()
    shot(reviewer, screenshots, "account-delegations")

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
