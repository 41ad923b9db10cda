#!/usr/bin/env bash
# The README's "Integrator credentials" block, word for word (tests/test_readme_integrators.py
# checks that they match and runs it). It runs the curl walkthrough first, for its helpers. Start
# the product first (`make run`), then:
# bash examples/integrators.sh   (export LOANFLOW_PORT if you changed it)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. The demo's partner platform of BR001 signs in as its client, partner-BR001, with the demo's
#     published secret, and submits an application: it comes in through the partner channel, for
#     the client's partner.
ctoken() { curl -s -X POST $API/auth/token -H 'Content-Type: application/json' \
           -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$1\",\"client_secret\":\"$2\"}" | jget token; }
PARTNER="Authorization: Bearer $(ctoken partner-BR001 demo-client-secret)"
curl -s -X POST $API/applications -H "$PARTNER" -H 'Content-Type: application/json' \
     -H "Idempotency-Key: partner-$RUN" --data @examples/application-review.json > $WORK/partner.json
jget channel < $WORK/partner.json                   # partner
jget partner_id < $WORK/partner.json                # huinong-mall

# 12. Its branch is BR001 alone and its channel partner alone: BR002's application is refused
#     (403, naming BR002), and so is the mobile channel (422, naming the field channel).
fields() { python3 -c 'import json,sys; print(*json.load(sys.stdin)["fields"])'; }
sed 's/"BR001"/"BR002"/' examples/application-review.json > $WORK/br002.json
curl -s -o $WORK/refused.json -w '%{http_code}\n' -X POST $API/applications -H "$PARTNER" \
     -H 'Content-Type: application/json' -H "Idempotency-Key: partner-br002-$RUN" --data @$WORK/br002.json   # 403
jget message < $WORK/refused.json                   # User partner-BR001 may not submit applications for branch BR002
sed 's/"branch"/"channel": "mobile", "branch"/' examples/application-review.json > $WORK/mobile.json
curl -s -X POST $API/applications -H "$PARTNER" -H 'Content-Type: application/json' \
     -H "Idempotency-Key: partner-mobile-$RUN" --data @$WORK/mobile.json | fields   # channel

# 13. Head office's administrator gives mobile banking a client of its own for both branches; the
#     answer shows its secret this once. The client signs in with HTTP Basic and submits for BR002.
ADMIN="Authorization: Bearer $(token admin)"
MOBILE=mobile-$(python3 -c 'import secrets; print(secrets.token_hex(3))')   # a new client id each run
curl -s -X POST $API/admin/integrators -H "$ADMIN" -H 'Content-Type: application/json' \
     -d "{\"client_id\":\"$MOBILE\",\"name\":\"掌上银行\",\"branches\":[\"BR001\",\"BR002\"],\"channels\":[\"mobile\"]}" > $WORK/client.json
SECRET=$(jget client_secret < $WORK/client.json)
MAUTH="Authorization: Bearer $(curl -s -X POST $API/auth/token -u "$MOBILE:$SECRET" | jget token)"
curl -s -X POST $API/applications -H "$MAUTH" -H 'Content-Type: application/json' \
     -H "Idempotency-Key: mobile-$RUN" --data @$WORK/br002.json | jget channel   # mobile

# 14. A new secret stops the old one and its tokens at the next request; disabling the client
#     stops the new one too. The audit trail has it all, never a secret.
curl -s -X POST $API/admin/integrators/$MOBILE/secret -H "$ADMIN" > $WORK/rotated.json
curl -s -o /dev/null -w '%{http_code}\n' $API/webhooks/events -H "$MAUTH"   # 401
NEWAUTH="Authorization: Bearer $(ctoken $MOBILE "$(jget client_secret < $WORK/rotated.json)")"
curl -s -X PATCH $API/admin/integrators/$MOBILE -H "$ADMIN" -H 'Content-Type: application/json' \
     -d '{"enabled":false}' | jget enabled          # False
curl -s -o /dev/null -w '%{http_code}\n' $API/webhooks/events -H "$NEWAUTH"   # 401
curl -s "$API/admin/audit?target=$MOBILE" -H "$ADMIN" | jget items.1.after.secret   # rotated
