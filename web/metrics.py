"""GET /metrics: Prometheus metrics (prometheus_client).

Two kinds. What a web process sees itself — requests by route template, method and status, and
their latency — are counters and a histogram in this process; with several gunicorn workers set
PROMETHEUS_MULTIPROC_DIR (an empty folder, the same for all of them, before they start) and each
scrape adds up every worker's files. What the bank's state says — instances started and completed
by process, open tasks by role, open incidents, timers due, the webhook backlog, the end-of-day
batch's duration — is read from the database at each scrape (`StateCollector`), so it is the same
whichever process answers and counts the worker's doings too.
"""
from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily

from web.api_docs import documented
from workflows.operations import bank_state

blueprint = Blueprint("metrics", __name__)
EXTENSION = "loanflow_metrics"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """This app's request counter and latency histogram, in a registry of its own (one per app, so
    several apps in one process — the tests — never collide)."""

    def __init__(self, services) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("loanflow_http_requests", "HTTP requests by route template, method and status",
                                ("route", "method", "status"), registry=self.registry)
        self.latency = Histogram("loanflow_http_request_duration_seconds", "HTTP request latency by route template",
                                 ("route", "method"), buckets=LATENCY_BUCKETS, registry=self.registry)
        self.state = StateCollector(services)
        self.registry.register(self.state)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def exposition(self) -> bytes:
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self.state)
        return generate_latest(registry)


class StateCollector:
    """The bank's state as metrics (workflows.operations.bank_state), read at each scrape."""

    def __init__(self, services) -> None:
        self.services = services

    def describe(self):
        return []  # read at scrape time only: never at registration

    def collect(self):
        state = bank_state(self.services.db, now=self.services.wall_clock())
        started = CounterMetricFamily("loanflow_process_instances_started", "Process instances started, by process",
                                      labels=("process",))
        completed = CounterMetricFamily("loanflow_process_instances_completed",
                                        "Process instances completed, by process", labels=("process",))
        incidents = GaugeMetricFamily("loanflow_open_incidents", "Instances stopped with an incident, by process",
                                      labels=("process",))
        for process, figures in state.processes.items():
            started.add_metric((process,), figures.started)
            completed.add_metric((process,), figures.completed)
            incidents.add_metric((process,), figures.incidents)
        yield from (started, completed, incidents)
        tasks = GaugeMetricFamily("loanflow_open_tasks", "Open human tasks, by role", labels=("role",))
        for role, count in state.open_tasks.items():
            tasks.add_metric((role,), count)
        yield tasks
        yield GaugeMetricFamily("loanflow_timers_due", "BPMN timers due and not fired", value=state.timers_due)
        yield GaugeMetricFamily("loanflow_timers_overdue", "BPMN timers more than 5 minutes past due, not fired",
                                value=state.timers_overdue)
        yield GaugeMetricFamily("loanflow_webhook_backlog", "Webhooks waiting for delivery (not given up)",
                                value=state.webhook_backlog)
        yield GaugeMetricFamily("loanflow_webhook_dead_letters", "Webhooks the worker gave up on",
                                value=state.webhook_dead_letters)
        yield SummaryMetricFamily("loanflow_eod_duration_seconds", "End-of-day batch runs and their duration",
                                  count_value=state.eod_runs, sum_value=state.eod_seconds_total)
        yield GaugeMetricFamily("loanflow_eod_last_duration_seconds", "The last end-of-day batch's duration",
                                value=state.eod_last_seconds)
        age = state.heartbeat_age_seconds
        yield GaugeMetricFamily("loanflow_worker_heartbeat_age_seconds",
                                "Seconds since the newest worker heartbeat (-1: none yet)",
                                value=-1 if age is None else age)


def install_metrics(app: Flask, services) -> None:
    metrics = app.extensions[EXTENSION] = RequestMetrics(services)

    @app.before_request
    def _start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.get("metrics_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else "unmatched"
            metrics.observe(route, request.method, response.status_code, time.perf_counter() - started)
        return response


@blueprint.get("/metrics")
@documented("Prometheus metrics: requests and latency by route, instances by process, open tasks by role, "
            "incidents, timers due, webhook backlog, end-of-day duration (text exposition format)", errors=())
def metrics():
    body = current_app.extensions[EXTENSION].exposition()
    return Response(body, content_type=CONTENT_TYPE_LATEST)
