"""Operations (issue 14): health and readiness, metrics, request ids in answers and logs, and the
operations console's API — incidents retried in bulk, failed webhooks redelivered, overdue timers,
EOD runs, heartbeats — each branch's operations staff seeing their branch only."""
from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from scoring.bureau import BureauClient, CircuitBreaker
from tests.web.journeys import decide, example, signature_for, submit
from web.request_log import json_lines_handler
from workflows.callbacks import CallbackHosts
from workflows.db import Database
from workflows.models import OutboxMessage, utcnow
from workflows.operations import beat, readiness
from workflows.outbox import MAX_ATTEMPTS, deliver_due
from workflows.worker import build_scheduler, end_of_day

NOON = dt.datetime(2026, 12, 3, 4, 0)  # naive UTC, as stored: 12:00 in China


@pytest.fixture
def settings_overrides():
    # The webhook receiver runs on this machine: loopback is allowed for the demo integrator.
    return {"callback_hosts": CallbackHosts.parse("api-demo=127.0.0.1")}


@pytest.fixture
def clock(services):
    """The wall clock operations judges by, moved by the test."""
    moment = {"now": NOON}
    services.wall_clock = lambda: moment["now"]
    return moment


@pytest.fixture
def flaky_receiver(receiver):
    """The integrator's webhook endpoint, answering 500 until the test brings it back."""
    url, received, state = receiver
    state.update(fail=True, status=500)
    return url, received, state


@pytest.fixture
def bureau_switch(services, bureau):
    """Turns the credit-bureau simulator off and on; the client's breaker never opens, so a retry
    right after the bureau is back reaches it."""
    services.origination.services["bureau"] = BureauClient(
        bureau.url, backoff_base=0.001, breaker=CircuitBreaker(failure_threshold=10_000, reset_after=0.0))

    def switch(down: bool):
        requests.post(f"{bureau.url}/control", json={"down": down}, timeout=5)

    yield switch
    switch(False)


def metric(client, name: str, **labels) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


# -- health and readiness -----------------------------------------------------------------------

def test_healthz_answers_without_a_database_or_a_sign_in(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "up"}


def test_readyz_turns_unready_when_the_workers_heartbeat_goes_stale(client, services, clock):
    unready = client.get("/readyz")
    assert unready.status_code == 503
    assert unready.get_json()["reasons"] == ["worker: no worker has sent a heartbeat (is `loanflow worker` running?)"]

    beat(services.db, "worker-a", host="app1", pid=41, now=NOON)
    clock["now"] = NOON + dt.timedelta(seconds=59)
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "worker": "ok"},
                                "reasons": []}

    clock["now"] = NOON + dt.timedelta(seconds=61)  # the default limit is 60 s
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert stale.get_json()["reasons"] == ["worker: stale: the last heartbeat was 61 s ago (limit 60 s)"]

    beat(services.db, "worker-a", now=NOON + dt.timedelta(seconds=60))  # the worker's next tick
    assert client.get("/readyz").status_code == 200


def test_the_workers_scheduler_beats_on_every_tick(services):
    scheduler = build_scheduler(services.db, worker_id="host-1:77", scheduler_factory=_PlainScheduler)
    job = scheduler.get_job("heartbeat")
    assert job.trigger.interval == dt.timedelta(seconds=10)
    job.func(*job.args)
    ready = readiness(services.db, now=utcnow(), stale_after=dt.timedelta(seconds=60))
    assert ready.checks["worker"] == "ok"


def _PlainScheduler(**options):
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(**options)


def test_readiness_names_an_unreachable_database_and_a_schema_that_is_not_current(tmp_path):
    unreachable = readiness(Database("postgresql+psycopg://loanflow@127.0.0.1:1/none"), now=NOON,
                            stale_after=dt.timedelta(seconds=60))
    assert unreachable.reasons == ["database: unreachable (OperationalError)", "schema: not checked",
                                   "worker: not checked"]
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        answer = readiness(empty, now=NOON, stale_after=dt.timedelta(seconds=60))
    finally:
        empty.dispose()
    assert not answer.ready and answer.reasons[0].startswith("schema: none: an empty database")


# -- metrics ------------------------------------------------------------------------------------

def test_metrics_count_a_completed_application_and_the_requests_by_route(client, token_for):
    api = token_for("api-demo")
    completed_before = metric(client, "loanflow_process_instances_completed_total", process="loan_origination")
    application = submit(client, api, example("application-auto.json")).get_json()
    assert application["status"] == "awaiting_signature"
    signed = client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                         json=signature_for(application))
    assert signed.get_json()["status"] == "disbursed"
    assert metric(client, "loanflow_process_instances_completed_total", process="loan_origination") == \
        completed_before + 1
    assert metric(client, "loanflow_process_instances_started_total", process="loan_origination") >= 1
    client.get(f"/api/v1/applications/{application['id']}", headers=api)
    assert metric(client, "loanflow_http_requests_total", route="/api/v1/applications/<application_id>",
                  method="GET", status="200") == 1
    assert metric(client, "loanflow_http_request_duration_seconds_count",
                  route="/api/v1/applications/<application_id>/signature", method="POST") == 1


def test_metrics_show_open_tasks_by_role_timers_due_the_webhook_backlog_and_the_eod(client, token_for, services,
                                                                                      clock):
    application = submit(client, token_for("api-demo"), example("application-review.json")).get_json()
    assert metric(client, "loanflow_open_tasks", role="customer_manager") == 1
    decide(client, token_for("cm-BR001"), application["id"])  # on to the credit review, which has an SLA
    assert metric(client, "loanflow_open_tasks", role="reviewer") == 1
    end_of_day(services.db, "2026-12-01")
    assert metric(client, "loanflow_eod_duration_seconds_count") == 1
    assert metric(client, "loanflow_webhook_backlog") >= 1  # the status change, for a worker to deliver
    clock["now"] = utcnow() + dt.timedelta(days=30)
    assert metric(client, "loanflow_timers_due") >= 1       # the review's SLA reminder, nobody firing it


# -- request ids --------------------------------------------------------------------------------

def test_an_error_answer_and_its_log_line_carry_the_callers_request_id(client, token_for, caplog):
    handler_stream = io.StringIO()
    handler = json_lines_handler(handler_stream)
    requests_log = logging.getLogger("loanflow.requests")
    requests_log.addHandler(handler)
    caplog.set_level(logging.INFO, logger="loanflow.requests")
    try:
        missing = client.get("/api/v1/applications/no-such-application",
                             headers={**token_for("api-demo"), "X-Request-Id": "channel-7f3a-0001"})
        forged = client.get("/api/v1/applications/no-such-application",
                            headers={**token_for("api-demo"), "X-Request-Id": "bad id\"}"})
    finally:
        requests_log.removeHandler(handler)
    assert missing.status_code == 404
    assert missing.get_json()["request_id"] == "channel-7f3a-0001" == missing.headers["X-Request-Id"]
    generated = forged.get_json()["request_id"]
    assert generated != "bad id\"}" and len(generated) == 32 and forged.headers["X-Request-Id"] == generated
    lines = [json.loads(line) for line in handler_stream.getvalue().splitlines()]
    mine = [line for line in lines if line["request_id"] == "channel-7f3a-0001"]
    assert len(mine) == 1
    assert mine[0]["http"]["status"] == 404 and mine[0]["http"]["route"] == "/api/v1/applications/<application_id>"
    assert mine[0]["level"] == "INFO" and mine[0]["logger"] == "loanflow.requests"


def test_a_validation_error_names_its_request_id_too(client, token_for):
    answer = client.post("/api/v1/applications", json={}, headers={**token_for("api-demo"), "Idempotency-Key": "k-1"})
    assert answer.status_code == 422
    assert answer.get_json()["request_id"] == answer.headers["X-Request-Id"]


# -- the console: incidents ---------------------------------------------------------------------

def test_incidents_are_retried_in_bulk_with_each_result_and_a_branch_sees_only_its_own(client, token_for,
                                                                                      bureau_switch):
    api, ops_branch, ops_hq = token_for("api-demo"), token_for("ops-BR001"), token_for("ops")
    bureau_switch(True)
    stuck = [submit(client, api, example("application-auto.json")).get_json() for _ in range(2)]
    elsewhere = submit(client, api, example("application-auto.json", branch="BR002")).get_json()
    assert {a["status"] for a in stuck + [elsewhere]} == {"incident"}
    too_soon = client.post("/api/v1/operations/incidents/retry", json={"ids": [stuck[0]["instance_id"]]},
                           headers=ops_hq).get_json()
    assert too_soon["resumed"] == 0 and too_soon["results"][0]["outcome"] == "failed_again"
    assert "bureau" in too_soon["results"][0]["incident"]
    bureau_switch(False)

    listed = client.get("/api/v1/operations/incidents", headers=ops_branch).get_json()["items"]
    assert {i["instance_id"] for i in listed} == {a["instance_id"] for a in stuck}
    assert all(i["branch"] == "BR001" and "bureau" in i["incident"].lower() for i in listed)
    everyone = client.get("/api/v1/operations/incidents", headers=ops_hq).get_json()["items"]
    assert {i["branch"] for i in everyone} == {"BR001", "BR002"}

    ids = [a["instance_id"] for a in stuck] + [elsewhere["instance_id"], "no-such-instance"]
    retried = client.post("/api/v1/operations/incidents/retry", json={"ids": ids}, headers=ops_branch)
    assert retried.status_code == 200, retried.get_json()
    assert [(r["instance_id"], r["outcome"]) for r in retried.get_json()["results"]] == [
        (stuck[0]["instance_id"], "resumed"), (stuck[1]["instance_id"], "resumed"),
        (elsewhere["instance_id"], "not_found"), ("no-such-instance", "not_found")]
    assert retried.get_json()["resumed"] == 2
    for application, retried_by in zip(stuck, (["ops", "ops-BR001"], ["ops-BR001"])):
        after = client.get(f"/api/v1/applications/{application['id']}", headers=api).get_json()
        assert after["status"] == "awaiting_signature"
        assert [e["actor"] for e in after["history"] if e["event"] == "incident_retried"] == retried_by

    again = client.post("/api/v1/operations/incidents/retry", json={"ids": [stuck[0]["instance_id"]]},
                        headers=ops_hq).get_json()["results"]
    assert again[0]["outcome"] == "refused" and "no incident" in again[0]["message"]
    overview = client.get("/api/v1/operations/overview", headers=ops_hq).get_json()
    assert overview["open_incidents"] == 1 and overview["scope"] == "HQ"
    assert client.get("/api/v1/operations/overview", headers=ops_branch).get_json()["open_incidents"] == 0


def test_a_bulk_request_names_every_bad_id_at_once(client, token_for):
    ops = token_for("ops")
    not_a_list = client.post("/api/v1/operations/incidents/retry", json={"ids": "all"}, headers=ops)
    assert not_a_list.status_code == 422 and set(not_a_list.get_json()["fields"]) == {"ids"}
    bad = client.post("/api/v1/operations/webhooks/redeliver", json={"ids": ["seven", 1.5, 3, True]}, headers=ops)
    assert bad.status_code == 422
    assert set(bad.get_json()["fields"]) == {"ids.0", "ids.1", "ids.3"}
    too_many = client.post("/api/v1/operations/incidents/retry", json={"ids": [f"i{n}" for n in range(101)]},
                           headers=ops)
    assert too_many.status_code == 422


def test_the_console_is_for_the_operations_role(client, token_for):
    assert client.get("/api/v1/operations/overview").status_code == 401
    assert client.get("/api/v1/operations/overview", headers=token_for("rev-BR001")).status_code == 403
    assert client.get("/api/v1/operations/overview", headers=token_for("ops-BR001")).status_code == 200


# -- the console: webhooks ----------------------------------------------------------------------

def test_a_failing_webhook_shows_in_the_console_and_is_redelivered_from_it_once_the_receiver_is_back(
        client, token_for, services, flaky_receiver, clock):
    url, received, state = flaky_receiver
    api, ops_branch, ops_hq = token_for("api-demo"), token_for("ops-BR001"), token_for("ops")
    mine = submit(client, api, example("application-auto.json", callback_url=url)).get_json()
    theirs = submit(client, api, example("application-auto.json", branch="BR002", callback_url=url)).get_json()
    assert deliver_due(services.db) == 0  # the receiver answers 500

    failed = client.get("/api/v1/operations/webhooks", headers=ops_branch).get_json()["items"]
    assert [(w["application_id"], w["state"], w["attempts"], w["last_error"]) for w in failed] == [
        (mine["id"], "retrying", 1, "HTTP 500")]
    assert failed[0]["receiver"] == url.split("/")[2] and failed[0]["topic"] == "application.status_changed"
    everyone = client.get("/api/v1/operations/webhooks", headers=ops_hq).get_json()["items"]
    assert {w["application_id"] for w in everyone} == {mine["id"], theirs["id"]}

    # Still down: redelivery says so and the message stays listed.
    first_try = client.post("/api/v1/operations/webhooks/redeliver", json={"ids": [failed[0]["id"]]},
                            headers=ops_branch).get_json()
    assert first_try["results"] == [{"id": failed[0]["id"], "outcome": "failed", "error": "HTTP 500"}]

    state["fail"] = False
    their_id = next(w["id"] for w in everyone if w["application_id"] == theirs["id"])
    redelivered = client.post("/api/v1/operations/webhooks/redeliver", json={"ids": [failed[0]["id"], their_id]},
                              headers=ops_branch)
    assert redelivered.status_code == 200
    assert redelivered.get_json()["results"] == [{"id": failed[0]["id"], "outcome": "delivered"},
                                                 {"id": their_id, "outcome": "not_found"}]
    assert [(r["body"]["application_id"], r["body"]["status"]) for r in received] == [
        (mine["id"], "awaiting_signature")]
    assert client.get("/api/v1/operations/webhooks", headers=ops_branch).get_json()["items"] == []
    history = client.get(f"/api/v1/applications/{mine['id']}", headers=api).get_json()["history"]
    assert [(e["actor"], e["detail"]["outcome"]) for e in history if e["event"] == "webhook_redelivered"] == [
        ("ops-BR001", "failed"), ("ops-BR001", "delivered")]
    again = client.post("/api/v1/operations/webhooks/redeliver", json={"ids": [failed[0]["id"]]},
                        headers=ops_branch).get_json()["results"]
    assert again == [{"id": failed[0]["id"], "outcome": "already_delivered"}]


def test_a_webhook_the_worker_gave_up_on_is_a_dead_letter_until_it_is_redelivered(client, token_for, services,
                                                                                flaky_receiver, clock):
    url, received, state = flaky_receiver
    ops = token_for("ops")
    submit(client, token_for("api-demo"), example("application-auto.json", callback_url=url))
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        deliver_due(services.db, now=moment)
        moment += dt.timedelta(hours=2)  # past the longest backoff
    [dead] = client.get("/api/v1/operations/webhooks", headers=ops).get_json()["items"]
    assert dead["state"] == "dead" and dead["attempts"] == MAX_ATTEMPTS and dead["next_attempt_at"] is None
    overview = client.get("/api/v1/operations/overview", headers=ops).get_json()
    assert (overview["failed_webhooks"], overview["dead_webhooks"]) == (1, 1)
    assert metric(client, "loanflow_webhook_dead_letters") == 1
    assert deliver_due(services.db, now=moment) == 0  # the worker no longer tries

    state["fail"] = False
    answer = client.post("/api/v1/operations/webhooks/redeliver", json={"ids": [dead["id"]]}, headers=ops).get_json()
    assert answer["delivered"] == 1 and len(received) == 1
    with services.db.sessions() as session:
        assert session.get(OutboxMessage, dead["id"]).delivered_at is not None


# -- the console: timers, EOD runs, workers -----------------------------------------------------

def test_timers_overdue_by_more_than_five_minutes_are_listed_for_their_branch(client, token_for, services, clock):
    api, ops_branch, ops_hq = token_for("api-demo"), token_for("ops-BR001"), token_for("ops")
    for branch in ("BR001", "BR002"):
        application = submit(client, api, example("application-review.json", branch=branch)).get_json()
        decide(client, token_for(f"cm-{branch}"), application["id"])  # the credit review has SLA timers
    clock["now"] = utcnow()
    assert client.get("/api/v1/operations/timers/overdue", headers=ops_hq).get_json()["items"] == []
    clock["now"] = utcnow() + dt.timedelta(days=30)  # a worker that stopped a month ago
    branch = client.get("/api/v1/operations/timers/overdue", headers=ops_branch).get_json()["items"]
    everyone = client.get("/api/v1/operations/timers/overdue", headers=ops_hq).get_json()["items"]
    assert branch and {t["branch"] for t in branch} == {"BR001"}
    assert {t["branch"] for t in everyone} == {"BR001", "BR002"}
    assert all(t["minutes_overdue"] > 5 for t in everyone)
    assert client.get("/api/v1/operations/overview", headers=ops_branch).get_json()["overdue_timers"] == len(branch)


def test_each_end_of_day_run_is_recorded_with_its_figures_and_duration(client, token_for, services):
    end_of_day(services.db, "2026-12-01")
    end_of_day(services.db, "2026-12-02")
    runs = client.get("/api/v1/operations/eod-runs", headers=token_for("ops-BR001")).get_json()["items"]
    assert [r["business_date"] for r in runs] == ["2026-12-02", "2026-12-01"]
    assert set(runs[0]["figures"]) == {"accrual_lines", "penalty_lines", "reclassified", "journal_lines", "proposed"}
    assert float(runs[0]["duration_seconds"]) >= 0 and runs[0]["finished_at"] >= runs[0]["started_at"]
    overview = client.get("/api/v1/operations/overview", headers=token_for("ops")).get_json()
    assert overview["last_eod"]["business_date"] == "2026-12-02"


def test_the_workers_heartbeats_say_which_are_fresh(client, token_for, services, clock):
    beat(services.db, "app1:10", host="app1", pid=10, now=NOON)
    beat(services.db, "app2:20", host="app2", pid=20, now=NOON + dt.timedelta(seconds=100))
    clock["now"] = NOON + dt.timedelta(seconds=120)
    items = client.get("/api/v1/operations/workers", headers=token_for("ops")).get_json()["items"]
    assert [(w["worker_id"], w["seconds_since_beat"], w["fresh"]) for w in items] == [
        ("app2:20", 20, True), ("app1:10", 120, False)]
    overview = client.get("/api/v1/operations/overview", headers=token_for("ops")).get_json()
    assert (overview["workers"], overview["stale_workers"]) == (2, 1)


# -- the console's page -------------------------------------------------------------------------

def test_operations_staff_start_in_the_console_which_shows_the_eod_runs_in_chinese(client, services):
    from tests.web.test_pages import csrf_of, sign_in

    end_of_day(services.db, "2026-12-01")
    sign_in(client, "ops-BR001")
    assert client.get("/").headers["Location"].endswith("/ops")
    page = client.get("/ops").get_data(as_text=True)
    assert "运维控制台" in page and 'id="nav-ops"' in page
    assert "日终批处理记录" in page and "2026-12-01" in page
    assert "没有故障。" in page and "没有后台任务进程发送过心跳" in page
    stale_form = client.post("/ops/incidents/retry", data={"ids": ["x"]})
    assert stale_form.status_code == 400  # no CSRF token
    nothing_ticked = client.post("/ops/incidents/retry", data={"csrf_token": csrf_of(client)})
    assert nothing_ticked.status_code == 302
    assert "请勾选要重试的故障" in client.get("/ops").get_data(as_text=True)


def test_the_console_page_is_closed_to_other_roles(client):
    from tests.web.test_pages import sign_in

    sign_in(client, "rev-BR001")
    assert client.get("/ops").status_code == 403
    assert 'id="nav-ops"' not in client.get("/inbox").get_data(as_text=True)


MULTIPROCESS_SCRIPT = """
import os, sys
from web.app import create_app
from web.config import Settings
from web.services import build_services
from workflows.schema import upgrade

settings = Settings(database_url=sys.argv[1], secret_key="x" * 40, data_key="00" * 32)
services = build_services(settings)
upgrade(services.db.engine)
app = create_app(settings, services=services)
children = []
for requests_made in (2, 3):        # two forked web workers, as gunicorn's
    pid = os.fork()
    if pid == 0:
        services.db.engine.dispose(close=False)
        client = app.test_client()
        for _ in range(requests_made):
            assert client.get("/healthz").status_code == 200
        os._exit(0)
    children.append(pid)
for pid in children:
    assert os.waitpid(pid, 0)[1] == 0
print(app.test_client().get("/metrics").get_data(as_text=True))
"""


def test_with_a_multiprocess_folder_a_scrape_adds_up_every_web_workers_requests(tmp_path):
    import os
    import subprocess
    import sys

    folder = tmp_path / "prometheus"
    folder.mkdir()
    result = subprocess.run([sys.executable, "-c", MULTIPROCESS_SCRIPT, f"sqlite:///{tmp_path / 'mp.sqlite3'}"],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(folder)))
    assert result.returncode == 0, result.stderr
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(result.stdout) for s in family.samples}
    assert samples[("loanflow_http_requests_total",
                    (("method", "GET"), ("route", "/healthz"), ("status", "200")))] == 5
    # The database's figures come once, not once per worker.
    assert [line for line in result.stdout.splitlines() if line.startswith("loanflow_webhook_backlog ")] == [
        "loanflow_webhook_backlog 0.0"]
