#!/usr/bin/env bash
# The README's "Credit line and drawdown walkthrough" block, word for word (tests/test_readme_walkthrough.py
# checks that they match and runs it, twice on one database). It runs the curl walkthrough first,
# for its helpers. Start the product first (`make run`), then:
# bash examples/credit_lines.sh   (export LOANFLOW_PORT if you changed it)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. Wang Jianguo applies for a credit line (授信) of 100,000 yuan for 12 months: the same intake,
#     rating and review as a loan of that amount (the customer manager's investigation and a credit
#     review), then he signs the line contract and the line is active; nothing is paid out yet.
sed 's/"30000.00"/"100000.00"/' examples/application-auto.json > $WORK/line.json
LINE_APP=$(curl -s -X POST $API/credit-lines -H "$AUTH" -H 'Content-Type: application/json' \
           -H "Idempotency-Key: demo-line-$RUN" --data @$WORK/line.json | jget id)
status $LINE_APP                                    # in_review
review $LINE_APP cm-BR001                           # Customer manager's investigation
review $LINE_APP rev-BR001                          # Credit review
sign $LINE_APP                                      # line_active
LINE=$(curl -s $API/applications/$LINE_APP -H "$AUTH" | jget credit_line_id)
curl -s $API/credit-lines/$LINE -H "$AUTH" | jget available   # 100000.00
# 12. Two drawdowns (用信) of 40,000, each its own loan; a third of 30,000 is refused, naming what
#     is available.
drawdown() {  # drawdown LINE AMOUNT KEY: prints the field asked for from the answer
  curl -s -X POST $API/credit-lines/$1/drawdowns -H "$AUTH" -H 'Content-Type: application/json' \
       -H "Idempotency-Key: $3-$RUN" -d "{\"amount\": \"$2\"}"
}
FIRST=$(drawdown $LINE 40000.00 demo-draw-1 | jget loan_id)
drawdown $LINE 40000.00 demo-draw-2 | jget credit_line.available   # 20000.00
drawdown $LINE 30000.00 demo-draw-3 | jget message  # The drawdown of 30000.00 is above the line: available 20000.00
# 13. Repaying 10,000 of the first drawdown's principal releases the line by as much.
curl -s -X POST $API/loans/$FIRST/repayments -H "$AUTH" -H 'Content-Type: application/json' \
     -H "Idempotency-Key: demo-line-repay-$RUN" -d '{"amount": "10000.00"}' > /dev/null
curl -s $API/credit-lines/$LINE -H "$AUTH" | jget available   # 30000.00
# 14. The branch risk officer freezes the line: a drawdown is refused until an approver unfreezes it.
curl -s -X POST $API/credit-lines/$LINE/freeze -H "Authorization: Bearer $(token risk-BR001)" \
     -H 'Content-Type: application/json' -d '{"reason": "warning signal"}' | jget status   # frozen
drawdown $LINE 1000.00 demo-draw-4 | jget error     # line_frozen
curl -s -X POST $API/credit-lines/$LINE/unfreeze -H "Authorization: Bearer $(token appr-BR001)" \
     -H 'Content-Type: application/json' -d '{"reason": "cleared"}' | jget status   # active
