"""The operations console in the browser: a branch's operations officer signs in, sees the
branch's stuck incident and the webhook a receiver refused with 500, retries the one and
redelivers the other once the receiver is back; head office's officer sees every branch."""
from __future__ import annotations

import uuid

import pytest
import requests

from scoring.bureau import BureauClient, CircuitBreaker
from tests.e2e.conftest import valid_id_number
from tests.web import journeys
from workflows.callbacks import CallbackHosts
from workflows.operations import beat
from workflows.outbox import deliver_due


def shot(page, screenshots, name):
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


@pytest.fixture
def flaky_receiver(receiver, live, monkeypatch):
    """The integrator's webhook endpoint on 127.0.0.1 (allowed for api-demo), answering 500 until
    the test brings it back."""
    url, received, state = receiver
    state.update(fail=True, status=500)
    monkeypatch.setattr(live[2].origination, "callback_hosts", CallbackHosts.parse("api-demo=127.0.0.1"))
    return url, received, state


def an_application(api, branch="BR001", **changes):
    client, token = api
    body = journeys.example("application-auto.json", branch=branch, **changes)
    body["applicant"] = dict(body["applicant"], name=f"李建国{uuid.uuid4().hex[:4]}",
                             id_number=valid_id_number("37072419800101" + f"{uuid.uuid4().int % 1000:03d}"))
    response = journeys.submit(client, token("api-demo"), body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_an_operations_officer_retries_an_incident_and_redelivers_a_failed_webhook_from_the_console(
        sign_in, api, live, bureau, flaky_receiver, monkeypatch, screenshots):
    url, received, state = flaky_receiver
    services = live[2]
    # The breaker never opens here, so the retry right after the bureau is back reaches it.
    monkeypatch.setitem(services.origination.services, "bureau", BureauClient(
        bureau.url, backoff_base=0.001, breaker=CircuitBreaker(failure_threshold=10_000, reset_after=0.0)))
    requests.post(f"{bureau.url}/control", json={"down": True}, timeout=5)
    try:
        stuck = an_application(api)
        other_branch = an_application(api, branch="BR002")
    finally:
        requests.post(f"{bureau.url}/control", json={"down": False}, timeout=5)
    assert stuck["status"] == other_branch["status"] == "incident"
    announced = an_application(api, callback_url=url)
    deliver_due(services.db)  # the worker's attempt: the receiver answers 500
    beat(services.db, "e2e-worker:1", host="e2e", pid=1)

    officer = sign_in("ops-BR001", lands="**/ops")
    assert "运维控制台" in officer.locator("h1").inner_text()
    incidents = officer.locator("#ops-incidents")
    assert incidents.locator(f"input[value='{stuck['instance_id']}']").count() == 1
    assert incidents.locator(f"input[value='{other_branch['instance_id']}']").count() == 0  # BR002's
    assert "征信系统不可用" in incidents.inner_text()
    webhook_row = officer.locator("#ops-webhooks tbody tr", has_text="HTTP 500").first
    assert "HTTP 500" in webhook_row.inner_text() and "重试中" in webhook_row.inner_text()
    assert "正常" in officer.locator("#ops-workers").inner_text()
    shot(officer, screenshots, "ops-console")

    incidents.locator(f"input[value='{stuck['instance_id']}']").check()
    officer.click("#retry-selected")
    assert "已重试 1 个：1 个已继续运行" in officer.locator(".flash.ok").inner_text()
    assert officer.locator(f"#ops-incidents input[value='{stuck['instance_id']}']").count() == 0
    client, token = api
    after = client.get(f"/api/v1/applications/{stuck['id']}", headers=token("api-demo")).get_json()
    assert after["status"] != "incident" and after["incident"] is None, after

    state["fail"] = False
    mine = [row for row in officer.locator("#ops-webhooks tbody tr").all() if "HTTP 500" in row.inner_text()]
    for row in mine:
        row.locator("input[name=ids]").check()
    officer.click("#redeliver-selected")
    assert f"已重新推送 {len(mine)} 条：{len(mine)} 条送达" in officer.locator(".flash.ok").inner_text()
    assert announced["id"] in [r["body"]["application_id"] for r in received]
    assert "没有推送失败的回调。" in officer.locator("#ops-webhooks").inner_text()
    shot(officer, screenshots, "ops-console-after")

    head_office = sign_in("ops", lands="**/ops")
    assert head_office.locator(f"#ops-incidents input[value='{other_branch['instance_id']}']").count() == 1
    head_office.click("#switch-language")
    assert "Operations console" in head_office.locator("h1").inner_text()
    shot(head_office, screenshots, "ops-console-hq-en")


def test_an_operations_officer_resolves_a_reconciliation_difference_from_the_console(sign_in, live, screenshots):
    import datetime as dt
    from decimal import Decimal

    from workflows import reconciliation
    from workflows.collection import StatementLine
    from workflows.models import utcnow

    ghost = f"autodebit:GHOST-{uuid.uuid4().hex[:6]}:2026-12-03"
    with live[2].db.unit_of_work() as session:  # the channel's statement lists a debit we never booked
        reconciliation.reconcile(session, [StatementLine(ghost, "6222000011112222", Decimal("500.00"))],
                                 dt.date(2026, 12, 3), "system", utcnow())
    officer = sign_in("ops", lands="**/ops")
    row = officer.locator("#ops-reconciliation tr[data-work-order]", has_text=ghost.split(":")[1])
    assert row.count() == 1
    text = row.inner_text()
    assert "渠道已扣款、本行未记账" in text and "¥500.00" in text and "****2222" in text and "6222000011112222" not in text
    row.scroll_into_view_if_needed()
    shot(officer, screenshots, "ops-reconciliation")
    row.locator("input[name=note]").fill("核心系统冲正，客户账户已退回")
    row.locator("button").click()
    officer.wait_for_url("**/ops**")
    assert "已处理" in officer.locator(".flash.ok").inner_text()
    assert officer.locator("#ops-reconciliation tr[data-work-order]", has_text=ghost.split(":")[1]).count() == 0
