#!/usr/bin/env bash
# The README's "Customer register walkthrough" block, word for word (tests/test_readme_walkthrough.py
# checks that they match and runs it, twice on one database). It runs the curl walkthrough first,
# for its applications and its helpers. Start the product first (`make run`), then:
# bash examples/customers.sh   (export LOANFLOW_PORT if you changed it)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. Step 1's application registered its applicant in BR001's customer register (客户档案). Found
#     by ID number (in the body: ID numbers never go in URLs), the customer manager sees the household
#     whole, the integrator masked; the loan of step 2 is the customer's.
CM="Authorization: Bearer $(token cm-BR001)"
curl -s -X POST $API/customers/search -H "$CM" -H 'Content-Type: application/json' \
     -d '{"id_number": "370784198605210015"}' > $WORK/found.json
CUSTOMER=$(jget customers.0.id < $WORK/found.json)
jget customers.0.name < $WORK/found.json                   # Wang Jianguo
jget customers.0.household_size < $WORK/found.json         # 4
curl -s $API/customers/$CUSTOMER -H "$AUTH" | jget id_number   # 370784********0015
curl -s $API/customers/$CUSTOMER -H "$CM" | jget loans | grep -c "$LOAN"   # 1
# 12. After a visit the customer manager records the herd and the village group; the history keeps
#     who changed what, when and why (its first entry is step 1's application). The same change
#     again changes nothing.
echo '{"livestock_head": 55, "address": {"village": "Dongguan", "village_group": "3"},
      "reason": "visit: 15 calves bought"}' > $WORK/visit.json
curl -s -X PATCH $API/customers/$CUSTOMER -H "$CM" -H 'Content-Type: application/json' \
     -d @$WORK/visit.json | jget livestock_head               # 55
curl -s $API/customers/$CUSTOMER/history -H "$CM" | jget changes.0.actor   # api-demo
