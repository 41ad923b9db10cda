#!/usr/bin/env bash
# The README's "Operations: the console, health and metrics" block, word for word
# (tests/test_readme_walkthrough.py checks that they match and runs it). It runs the curl
# walkthrough first, for its applications and helpers. Start the product first (`make run`) with
# no worker running, then: bash examples/operations.sh   (export LOANFLOW_PORT, and
# LOANFLOW_DATABASE_URL, if you changed them)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. Health: the process is up, but not ready while no worker has sent a heartbeat.
SERVER=${API%/api/v1}
curl -s $SERVER/healthz | jget status                        # up
curl -s -o /dev/null -w '%{http_code}\n' $SERVER/readyz      # 503 (worker: no worker has sent a heartbeat)
.venv/bin/loanflow worker --demo --once > $WORK/worker.txt 2>&1   # one round: a heartbeat, the webhooks due
curl -s $SERVER/readyz | jget status                         # ready (database, schema and worker ok)

# 12. Metrics for Prometheus: the three loans disbursed above completed their origination.
curl -s $SERVER/metrics | grep '^loanflow_process_instances_completed_total{process="loan_origination"}' \
     | cut -d' ' -f2                                         # 3.0 (on a fresh demo database)

# 13. The operations console's API (its page is /ops), as head office's operations officer.
OPS="Authorization: Bearer $(token ops)"
curl -s $API/operations/overview -H "$OPS" | jget open_incidents   # 0
curl -s $API/operations/workers -H "$OPS" | jget items.0.fresh     # True
curl -s -X POST $API/operations/incidents/retry -H "$OPS" -H 'Content-Type: application/json' \
     -d '{"ids":["no-such-instance"]}' | jget results.0.outcome     # not_found

# 14. Every answer carries a request id (yours, if you send a well-formed X-Request-Id), and so
#     do the error answer and the server's JSON log line for it.
curl -s $API/applications/no-such-application -H "$AUTH" -H 'X-Request-Id: readme-0000001' | jget request_id   # readme-0000001
