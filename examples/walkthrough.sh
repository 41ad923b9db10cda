#!/usr/bin/env bash
# The README's curl walkthrough as one script: both demo branches from application to disbursement.
# Start the product first (`make run`), then: bash examples/walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
API=${API:-http://127.0.0.1:${LOANFLOW_PORT:-8000}/api/v1}

# jget a.b.0.c: read one value from the JSON on stdin (python3 instead of jq, which may be absent)
jget() { python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[int(k)] if k.isdigit() else v[k]
print(v)' "$1"; }
token() { curl -sf -X POST "$API/auth/token" -H 'Content-Type: application/json' \
          -d "{\"username\":\"$1\",\"password\":\"demo\"}" | jget token; }
submit() { curl -sf -X POST "$API/applications" -H "Authorization: Bearer $API_TOKEN" \
           -H 'Content-Type: application/json' -H "Idempotency-Key: $(python3 -c 'import uuid;print(uuid.uuid4())')" \
           --data @-; }
show() { curl -sf "$API/applications/$1" -H "Authorization: Bearer $API_TOKEN"; }
sign() {
  local app=$1 number hash
  number=$(show "$app" | jget contract.number)
  hash=$(show "$app" | jget contract.content_hash)
  sed -e "s/<contract.number[^\"]*>/$number/" -e "s/<contract.content_hash[^\"]*>/$hash/" examples/signature.json |
    curl -sf -X POST "$API/applications/$app/signature" -H "Authorization: Bearer $API_TOKEN" \
         -H 'Content-Type: application/json' --data @- | jget status
}
review() {  # review APP USER DECISION: the user's open task on APP, completed with DECISION
  local app=$1 user=$2 decision=$3 tok task
  tok=$(token "$user")
  task=$(curl -sf "$API/tasks?application_id=$app" -H "Authorization: Bearer $tok" | jget items.0.id)
  curl -sf -X POST "$API/tasks/$task/complete" -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
       -d "{\"decision\":\"$decision\",\"comment\":\"checked by $user\"}" | jget title
}

API_TOKEN=$(token api-demo)

echo "== BR001: a small loan to a good applicant is auto-approved"
APP=$(submit < examples/application-auto.json | jget id)
echo "application $APP: $(show "$APP" | jget status)"
echo "signed -> $(sign "$APP")"
LOAN=$(show "$APP" | jget loan_id)
echo "loan $LOAN, first installment due $(curl -sf "$API/loans/$LOAN" -H "Authorization: Bearer $API_TOKEN" | jget schedule.0.due_date)"

echo "== BR001: 300,000 goes to investigation, review and branch approval"
APP=$(submit < examples/application-review.json | jget id)
echo "application $APP: $(show "$APP" | jget status), review levels $(show "$APP" | jget rating.review_levels)"
for user in cm-BR001 rev-BR001 appr-BR001; do echo "  $user completed: $(review "$APP" "$user" approve)"; done
echo "status: $(show "$APP" | jget status); signed -> $(sign "$APP")"

echo "== BR002: the same application takes BR002's extra head-office level"
APP=$(sed 's/"BR001"/"BR002"/' examples/application-review.json | submit | jget id)
echo "application $APP runs review.bpmn deployed by $(show "$APP" | python3 -c 'import json,sys
print(json.load(sys.stdin)["process_files"]["review.bpmn"]["scope"])')"
for user in cm-BR002 rev-BR002 appr-BR002 hq-approver; do echo "  $user completed: $(review "$APP" "$user" approve)"; done
echo "status: $(show "$APP" | jget status); signed -> $(sign "$APP")"
