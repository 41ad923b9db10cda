#!/usr/bin/env bash
# The README's "Walkthrough with curl" block, word for word (tests/test_readme_walkthrough.py checks
# that they match, and runs this twice on one `loanflow serve --demo`). Start the product first
# (`make run`), then: bash examples/walkthrough.sh   (export LOANFLOW_PORT if it is not 8000)
set -euo pipefail
cd "$(dirname "$0")/.."

API=http://127.0.0.1:${LOANFLOW_PORT:-8000}/api/v1   # the port `make run` serves on: LOANFLOW_PORT, 8000 by default
RUN=$(date +%Y%m%d%H%M%S)-$RANDOM                   # this run's suffix for Idempotency-Keys: new keys, new applications
WORK=$(mktemp -d)                                   # this run's scratch files (two runs at once never share one)
jget() { python3 -c 'import json,sys
v=body=json.load(sys.stdin)
try:
    for k in sys.argv[1].split("."): v=v[int(k)] if k.isdigit() else v[k]
except (KeyError, IndexError, TypeError): sys.exit("no %s in %s" % (sys.argv[1], json.dumps(body)))
print(v)' "$1"; }                                    # jget a.0.b prints one value of the JSON on stdin (or use jq)
token() { curl -s -X POST $API/auth/token -H 'Content-Type: application/json' \
          -d "{\"username\":\"$1\",\"password\":\"demo\"}" | jget token; }
AUTH="Authorization: Bearer $(token api-demo)"      # the integrator (mobile banking)
submit() { curl -s -X POST $API/applications -H "$AUTH" -H 'Content-Type: application/json' \
           -H "Idempotency-Key: $1-$RUN" --data @"$2" | jget id; }
status() { curl -s $API/applications/$1 -H "$AUTH" | jget status; }

# 1. A small loan to a good applicant in BR001: auto-approved, no human review.
APP=$(submit demo-auto examples/application-auto.json)
status $APP                                         # awaiting_signature

# 2. The customer signs in mobile banking; the channel calls back with the contract's number and
#    content hash; disbursement follows.
sign() {
  local number hash
  number=$(curl -s $API/applications/$1 -H "$AUTH" | jget contract.number)
  hash=$(curl -s $API/applications/$1 -H "$AUTH" | jget contract.content_hash)
  sed -e "s/<contract.number[^\"]*>/$number/" -e "s/<contract.content_hash[^\"]*>/$hash/" \
      examples/signature.json > $WORK/signature.json
  curl -s -X POST $API/applications/$1/signature -H "$AUTH" -H 'Content-Type: application/json' \
       --data @$WORK/signature.json | jget status
}
sign $APP                                           # disbursed
LOAN=$(curl -s $API/applications/$APP -H "$AUTH" | jget loan_id)
curl -s $API/loans/$LOAN -H "$AUTH" | jget status   # active (drop the jget for schedule, balances, postings)

# 3. 300,000 yuan in BR001: the customer manager's investigation, credit review and branch
#    approval, each by its own user; then the customer signs as in 2.
review() {  # review APP USER: USER approves their open task on APP; prints the task's title
  local tok task
  tok=$(token $2)
  task=$(curl -s "$API/tasks?application_id=$1" -H "Authorization: Bearer $tok" | jget items.0.id)
  curl -s -X POST $API/tasks/$task/complete -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
       -d "{\"decision\":\"approve\",\"comment\":\"checked by $2\"}" | jget title
}
APP=$(submit demo-review examples/application-review.json)
status $APP                                         # in_review
review $APP cm-BR001                                # Customer manager's investigation
review $APP rev-BR001                               # Credit review
review $APP appr-BR001                              # Branch approval
status $APP                                         # awaiting_signature
sign $APP                                           # disbursed

# 4. The same application in BR002 runs BR002's own review.bpmn: above 200,000 yuan head office
#    approves after the branch (hq-approver).
sed 's/"BR001"/"BR002"/' examples/application-review.json > $WORK/application-br002.json
APP=$(submit demo-br002 $WORK/application-br002.json)
status $APP                                         # in_review
review $APP cm-BR002                                # Customer manager's investigation
review $APP rev-BR002                               # Credit review
review $APP appr-BR002                              # Branch approval
review $APP hq-approver                             # Head office approval
status $APP                                         # awaiting_signature
sign $APP                                           # disbursed

# 5. 25 million yuan in BR001 is a large-amount loan (above 2.5 % of the branch's tier-1 capital):
#    it is reported to head office and needs hq-approver after the branch levels.
APP=$(submit demo-large examples/application-large.json)
status $APP                                         # in_review
curl -s $API/applications/$APP -H "$AUTH" | jget rating.is_large_amount   # True
