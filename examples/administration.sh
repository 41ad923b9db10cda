#!/usr/bin/env bash
# The README's "Administration: users, org tree, delegation" block, word for word
# (tests/test_readme_administration.py checks that they match and runs it). It runs the curl
# walkthrough first, for its helpers. Start the product first (`make run`), then:
# bash examples/administration.sh   (export LOANFLOW_PORT if you changed it)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. Head office's administrator (admin) sees the org tree: HQ, the branches, their outlets.
ADMIN="Authorization: Bearer $(token admin)"
curl -s $API/admin/org-units -H "$ADMIN" | jget children.0.children.1.name    # 景芝分理处

# 12. BR001's administrator (admin-BR001) adds a credit reviewer at that outlet with a first
#     password; the new reviewer signs in with it and, before anything else, replaces it with their
#     own (the answer carries a new token: the old one ended with the old password).
BRADMIN="Authorization: Bearer $(token admin-BR001)"
NEW=rev-$(python3 -c 'import secrets; print(secrets.token_hex(3))')   # a new username each run
curl -s -X POST $API/admin/users -H "$BRADMIN" -H 'Content-Type: application/json' \
     -d "{\"username\":\"$NEW\",\"full_name\":\"王五\",\"branch\":\"BR001\",\"outlet\":\"BR001-02\",\"roles\":[\"reviewer\"],\"password\":\"first-$RUN\"}" | jget outlet   # BR001-02
FIRSTAUTH="Authorization: Bearer $(curl -s -X POST $API/auth/token -H 'Content-Type: application/json' \
         -d "{\"username\":\"$NEW\",\"password\":\"first-$RUN\"}" | jget token)"
curl -s "$API/tasks" -H "$FIRSTAUTH" | jget error   # password_change_required
NEWAUTH="Authorization: Bearer $(curl -s -X POST $API/account/password -H "$FIRSTAUTH" -H 'Content-Type: application/json' \
         -d "{\"current_password\":\"first-$RUN\",\"new_password\":\"own-$RUN-choice\"}" | jget token)"

# 13. A loan reaches credit review; the new reviewer claims it, then goes on leave and delegates
#     their tasks to rev-BR001 from yesterday for a year (China time), who finds the claimed task in
#     their inbox and decides it in their own name: the history names both.
APP=$(submit demo-admin examples/application-review.json)
review $APP cm-BR001                                # Customer manager's investigation
TASK=$(curl -s "$API/tasks?application_id=$APP" -H "$NEWAUTH" | jget items.0.id)
curl -s -X POST $API/tasks/$TASK/claim -H "$NEWAUTH" | jget title   # Credit review
curl -s -X POST $API/delegations -H "$NEWAUTH" -H 'Content-Type: application/json' \
     -d "{\"delegate\":\"rev-BR001\",\"starts_at\":\"$(TZ=Asia/Shanghai date -d yesterday +%F)T09:00\",\"ends_at\":\"$(TZ=Asia/Shanghai date -d '1 year' +%F)T18:00\",\"reason\":\"年假\"}" | jget status   # active
review $APP rev-BR001                               # Credit review
delegated() { python3 -c 'import json,sys
print(*[e["actor_name"] + " on behalf of " + e["on_behalf_of_name"] for e in json.load(sys.stdin)["history"] if e.get("on_behalf_of")])'; }
curl -s $API/applications/$APP -H "$AUTH" | delegated    # 信贷审查员 on behalf of 王五

# 14. The administrator disables the new account: its token stops working at once.
curl -s -X PATCH $API/admin/users/$NEW -H "$BRADMIN" -H 'Content-Type: application/json' \
     -d '{"enabled":false}' | jget enabled          # False
curl -s -o /dev/null -w '%{http_code}\n' $API/tasks -H "$NEWAUTH"   # 401

# 15. Five wrong passwords in a row lock an account (even the right one is refused then) until an
#     administrator unlocks it.
for attempt in 1 2 3 4 5; do
  curl -s -X POST $API/auth/token -H 'Content-Type: application/json' \
       -d '{"username":"cm-BR002","password":"guess"}' > $WORK/sign-in.json
done
jget error < $WORK/sign-in.json                     # account_locked
curl -s -X PATCH $API/admin/users/cm-BR002 -H "$ADMIN" -H 'Content-Type: application/json' \
     -d '{"unlock":true}' | jget locked             # False
curl -s $API/admin/audit?target=cm-BR002 -H "$ADMIN" | jget items.1.action   # user_locked
