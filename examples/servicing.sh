#!/usr/bin/env bash
# The README's "Servicing walkthrough with loanflow tick" block, word for word
# (tests/test_readme_walkthrough.py checks that they match and runs it). It runs the curl
# walkthrough first, for its loan and its helpers. Only on a fresh demo database: `tick` moves the
# database's business dates forward for good. Start the product first (`make run`), then:
# bash examples/servicing.sh   (export LOANFLOW_PORT, and LOANFLOW_DATABASE_URL, if you changed them)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 6. Nobody pays the loan from step 2 (the demo has no payment channel, so no auto-debit). Move
#    time to four days after its first due date, as the worker would have: each night's EOD ages
#    the loan, the collection ladder texts the borrower on D+1 (an SMS simulator takes the texts)
#    and gives the customer manager a phone call on D+3.
DUE=$(curl -s $API/loans/$LOAN -H "$AUTH" | jget schedule.0.due_date)
.venv/bin/loanflow tick --demo --at "$(date -d "$DUE + 4 days" +%F)T09:00+08:00" > $WORK/tick.txt
curl -s $API/loans/$LOAN -H "$AUTH" | jget days_past_due   # 3
CM="Authorization: Bearer $(token cm-BR001)"
curl -s "$API/tasks?process=collections&loan_id=$LOAN" -H "$CM" > $WORK/calls.json
jget items.0.title < $WORK/calls.json                      # Phone the borrower
CALL=$(jget items.0.id < $WORK/calls.json)
LADDER=$(jget items.0.instance_id < $WORK/calls.json)

# 7. The borrower promises to pay in a week: the ladder waits for that date instead of escalating.
curl -s -X POST $API/tasks/$CALL/complete -H "$CM" -H 'Content-Type: application/json' \
     -d "{\"contact_outcome\":\"promise_to_pay\",\"promise_date\":\"$(date -d "$DUE + 10 days" +%F)\",\"comment\":\"will pay after the market\"}" | jget status   # completed
curl -s $API/instances/$LADDER -H "$CM" | jget stage       # wait_promise (Day after the promised date)

# 8. The promised date passes and nothing is paid: the ladder resumes where it was, and on D+15
#    the customer manager is sent to the farm.
.venv/bin/loanflow tick --demo --at "$(date -d "$DUE + 16 days" +%F)T09:00+08:00" >> $WORK/tick.txt
curl -s "$API/tasks?process=collections&loan_id=$LOAN" -H "$CM" | jget items.0.title   # Visit the borrower
curl -s $API/loans/$LOAN -H "$AUTH" | jget days_past_due   # 15

# 9. The borrower pays the installment with its penalty interest; after that night's EOD the loan
#    is current again and its collection ends. (The API follows the tick's clock: "today" is the
#    ticked business day.)
curl -s -X POST $API/loans/$LOAN/repayments -H "$AUTH" -H 'Content-Type: application/json' \
     -H "Idempotency-Key: repay-$RUN" -d '{"amount":"3000.00"}' > $WORK/repayment.json
.venv/bin/loanflow tick --demo --at "$(date -d "$DUE + 17 days" +%F)T09:00+08:00" >> $WORK/tick.txt
curl -s $API/loans/$LOAN -H "$AUTH" | jget days_past_due   # 0
curl -s $API/instances/$LADDER -H "$CM" | jget status      # completed

# 10. Current again, the loan is still 关注 (special mention): the batch does not upgrade it on its
#     own. The customer manager gives the reason and the branch risk officer approves (maker-checker,
#     two people); only then does the ledger move it back to 正常.
curl -s "$API/tasks?process=classification_review&loan_id=$LOAN" -H "$CM" > $WORK/class.json
jget items.0.title < $WORK/class.json                      # Give the reason for the class
CLASS=$(jget items.0.id < $WORK/class.json)
curl -s -X POST $API/tasks/$CLASS/complete -H "$CM" -H 'Content-Type: application/json' \
     -d '{"decision":"propose","reason":"arrears paid, the farm is selling again"}' | jget status   # completed
RISK="Authorization: Bearer $(token risk-BR001)"
APPROVAL=$(curl -s "$API/tasks?process=classification_review&loan_id=$LOAN" -H "$RISK" | jget items.0.id)
curl -s -X POST $API/tasks/$APPROVAL/complete -H "$RISK" -H 'Content-Type: application/json' \
     -d '{"decision":"approve","comment":"agreed"}' | jget status   # completed
curl -s $API/loans/$LOAN -H "$AUTH" | jget classification   # normal
