#!/usr/bin/env bash
# The README's "Business calendar" block, word for word (tests/test_readme_calendar.py checks that
# they match and runs it). It runs the curl walkthrough first, for its helpers. Start the product
# first (`make run`), then:
# bash examples/calendar.sh   (export LOANFLOW_PORT if you changed it)
set -euo pipefail
cd "$(dirname "$0")/.."
source examples/walkthrough.sh > /dev/null

# 11. The State Council's calendars ship with the demo (bpmn/calendar): anyone signed in reads a year.
curl -s $API/calendar/2026 -H "$AUTH" | jget holidays.6.name           # 国庆节
curl -s $API/calendar/2026 -H "$AUTH" | jget working_weekends.4.date   # 2026-09-20 (a Sunday worked: 调休)
curl -s $API/calendar/2027 -H "$AUTH" | jget provisional               # True (the 2027 notice is not out yet)

# 12. Head office's analyst replaces a year (what GET answers can be put back as it is); a bad one is
#     refused naming every bad field, and the stored year stays as it was.
ANALYST="Authorization: Bearer $(token analyst)"
curl -s $API/calendar/2027 -H "$ANALYST" > $WORK/2027.json
curl -s -X PUT $API/calendar/2027 -H "$ANALYST" -H 'Content-Type: application/json' \
     --data @$WORK/2027.json | jget updated_by                         # analyst
curl -s -X PUT $API/calendar/2027 -H "$ANALYST" -H 'Content-Type: application/json' \
     -d '{"year":2027,"holidays":[{"name":"春节","first":"2027-02-12","last":"2027-02-05"}]}' \
     | jget fields.working_weekends.0                                  # is required, a list (it may be empty)
