#!/usr/bin/env bash
# The README's "Products" block, word for word (tests/test_readme_products.py checks that they
# match and runs it). It runs the curl walkthrough first, for its helpers. Start the product first
# (`make run`), then:
# bash examples/products.sh   (export LOANFLOW_PORT if you changed it)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. BR002 narrows head office's farm loan; each value says where it comes from.
curl -s "$API/products/FARM_EASY?branch=BR002" -H "$AUTH" | jget fields.max_amount.value   # 200000
curl -s "$API/products/FARM_EASY?branch=BR002" -H "$AUTH" | jget fields.max_amount.source  # BR002
curl -s "$API/products/FARM_EASY?branch=BR002" -H "$AUTH" | jget fields.base_rate.source   # HQ
curl -s "$API/products/CONSUMER_SMALL?branch=BR002" -H "$AUTH" | jget enabled              # False

# 12. So a BR002 application for a small consumer loan is refused, naming the product.
sed -e 's/"BR001"/"BR002"/' -e 's/"FARM_EASY"/"CONSUMER_SMALL"/' examples/application-auto.json > $WORK/consumer.json
curl -s -X POST $API/applications -H "$AUTH" -H 'Content-Type: application/json' \
     -H "Idempotency-Key: demo-consumer-$RUN" --data @$WORK/consumer.json | jget fields.product.0  # CONSUMER_SMALL is disabled for branch BR002

# 13. A branch file that widens head office's bound is refused at deployment, naming field and bound.
echo '{"products": {"FARM_EASY": {"max_amount": "500000"}}}' > $WORK/products.json
curl -s -X POST $API/deployments -H "Authorization: Bearer $(token analyst)" -F scope=BR002 \
     -F "files=@$WORK/products.json" | jget message     # Deployment rejected: products.json: products.FARM_EASY.max_amount: 500000 is above head office's 300000
