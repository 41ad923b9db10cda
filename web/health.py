"""GET /healthz (the process is up) and GET /readyz (it can serve: database, schema, worker), for
load balancers and orchestrators. Both outside /api/v1 and without sign-in; they say nothing a
stranger could use beyond "up" and the reasons it is not ready."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify

from web.api.context import services
from web.api_docs import documented
from workflows.operations import readiness

blueprint = Blueprint("health", __name__)


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=services().settings.heartbeat_stale_seconds)


@blueprint.get("/healthz")
@documented("The process is up (touches no database)", errors=())
def healthz():
    return jsonify({"status": "up"})


@blueprint.get("/readyz")
@documented("Ready to serve: the database answers, its schema is at head, a worker's heartbeat is fresh "
            "(LOANFLOW_HEARTBEAT_STALE_SECONDS, default 60); 503 listing the reasons otherwise", errors=(503,))
def readyz():
    answer = readiness(services().db, now=services().wall_clock(), stale_after=stale_after())
    return jsonify(answer.to_dict()), 200 if answer.ready else 503
