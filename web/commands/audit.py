"""`loanflow audit verify | seal`: the audit trail's hash chain (workflows/audit_chain.py).

`verify` first seals every event row not sealed yet, then checks each branch's chain link by link:
exit 0 and each branch's head hash when intact (record them elsewhere: a later run must reach the
same or a longer chain), exit 1 naming the first broken link (branch, link, table and row, and
why) otherwise. `seal` only seals (the worker does this every minute).
"""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="the tamper-evident audit trail: verify or seal its hash chains")
    commands = parser.add_subparsers(dest="audit_command", required=True, metavar="{verify,seal}")
    commands.add_parser("verify", help="seal what is new, then check every branch's chain; exit 1 at a break") \
        .set_defaults(run=run_verify)
    commands.add_parser("seal", help="seal the event rows not sealed yet").set_defaults(run=run_seal)


def _services():
    from web.config import Settings
    from web.services import build_services

    return build_services(Settings.from_env())


def run_verify(args) -> int:
    from workflows.audit_chain import verify

    services = _services()
    try:
        result = verify(services.db)
    finally:
        services.db.dispose()
    if not result.intact:
        print(f"audit chain BROKEN at {result.broken.describe()}", file=sys.stderr)
        print(f"checked {result.links} link(s) before the break; sealed {result.sealed_now} new row(s) first")
        return 1
    print(f"audit chain intact: {result.links} link(s) in {len(result.heads)} branch chain(s); "
          f"sealed {result.sealed_now} new row(s) first")
    for branch, head in result.heads.items():
        print(f"  {branch}  {head}")
    return 0


def run_seal(args) -> int:
    from workflows.audit_chain import seal_all

    services = _services()
    try:
        print(f"sealed {seal_all(services.db)} row(s)")
    finally:
        services.db.dispose()
    return 0
