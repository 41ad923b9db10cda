"""Demo data for `make run` and the tests: HQ and two branches, users, diagrams and products.

BR001 runs HQ's defaults; BR002 deploys its own review process and narrows HQ's products
(bpmn/branches/BR002/).
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.business_calendar import seed_calendars

from workflows import webhook_signing
from workflows.administration import SEED_ADMIN, create_org_unit, create_user
from workflows.deployments import deploy, files_in_folder
from workflows.directory import hash_password
from workflows.integrators import create_client
from workflows.models import HQ, Branch, Deployment, IntegratorClient, Outlet, User, utcnow

DEMO_PASSWORD = "demo"
# The demo integrator clients' secret: published (README) only because it is the demo's; a real
# client's secret is random and shown once (POST /api/v1/admin/integrators).
DEMO_CLIENT_SECRET = "demo-client-secret"
DEMO_INTEGRATOR = "api-demo"
DEMO_WEBHOOK_SECRET = "whsec_demo-only-not-secret"

BRANCHES = [
    Branch(code=HQ, name="Head office", region="", tier1_capital_net=Decimal("20000000000"), is_hq=True),
    Branch(code="BR001", name="Anqiu branch", region="Weifang", tier1_capital_net=Decimal("800000000")),
    Branch(code="BR002", name="Linqu branch", region="Weifang", tier1_capital_net=Decimal("300000000")),
]

# The products are data: bpmn/default/products.json (HQ) and bpmn/branches/BR002/products.json
# (a narrowing); deploying HQ's file fills the product table (workflows/products.py).

# Each branch's outlets (网点): the org tree's third level.
OUTLETS = [("BR001-01", "BR001", "安丘城区营业部"), ("BR001-02", "BR001", "景芝分理处"),
           ("BR002-01", "BR002", "临朐城关营业部")]

# (username, full name as the pages show it: the bank's staff are named in Chinese, branch, roles)
USERS = [
    ("admin", "总行系统管理员", HQ, "admin"),
    ("admin-BR001", "安丘支行系统管理员", "BR001", "admin"),
    ("api-demo", "渠道系统（演示）", HQ, "integrator"),
    ("hq-approver", "总行审批人", HQ, "hq_approver"),
    ("analyst", "业务分析师", HQ, "analyst"),
    ("analyst2", "业务分析师（二）", HQ, "analyst"),   # the second pair of eyes on a four-eyes release
    ("hq-risk", "总行风险经理", HQ, "hq_risk"),
    ("ops", "总行运维", HQ, "operations"),           # the operations console, every branch
    ("ops-BR001", "支行运维", "BR001", "operations"),  # the operations console, BR001 only
] + [
    (f"{prefix}-{branch}", title, branch, role)
    for branch in ("BR001", "BR002")
    for prefix, title, role in (("cm", "客户经理", "customer_manager"),
                                ("rev", "信贷审查员", "reviewer"),
                                ("appr", "支行审批人", "approver"),
                                ("risk", "支行风险经理", "risk_officer"))
]


# (client id, name, branches, channels, partner id): one partner platform's system per branch.
CLIENTS = [
    ("partner-BR001", "惠农商城（合作方演示）", ["BR001"], ["partner"], "huinong-mall"),
    ("partner-BR002", "临朐合作社平台（合作方演示）", ["BR002"], ["partner"], "linqu-coop"),
]


def seed_reference_data(session: Session) -> None:
    for branch in BRANCHES:
        if session.get(Branch, branch.code) is None:
            session.add(Branch(code=branch.code, name=branch.name, region=branch.region,
                               tier1_capital_net=branch.tier1_capital_net, is_hq=branch.is_hq))
    session.flush()
    now = utcnow()
    for code, branch, name in OUTLETS:
        if session.get(Outlet, code) is None:
            create_org_unit(session, SEED_ADMIN, {"kind": "outlet", "code": code, "parent": branch, "name": name}, now)
    password = None  # one hash of the public demo password for every demo user, made only if needed
    for username, full_name, branch, roles in USERS:
        if session.get(User, username) is None:
            password = password or hash_password(DEMO_PASSWORD)
            create_user(session, SEED_ADMIN, {"username": username, "full_name": full_name, "branch": branch,
                                              "roles": roles.split(",")}, now, password_hash=password)
    secret_hash = None
    for client_id, name, branches, channels, partner_id in CLIENTS:
        if session.get(IntegratorClient, client_id) is None:
            secret_hash = secret_hash or hash_password(DEMO_CLIENT_SECRET)
            create_client(session, SEED_ADMIN, {"client_id": client_id, "name": name, "branches": branches,
                                                "channels": channels, "partner_id": partner_id}, now,
                          secret=DEMO_CLIENT_SECRET, secret_hash=secret_hash)
    session.flush()
    for integrator in (DEMO_INTEGRATOR, *(client[0] for client in CLIENTS)):
        if not webhook_signing.in_force(session, integrator, now):
            # public like the demo password, so the README's receiver can check the demo's webhooks
            webhook_signing.rotate(session, integrator, SEED_ADMIN.username, now, value=DEMO_WEBHOOK_SECRET)


def seed_deployments(session: Session, bpmn_dir: Path, *, operations: set[str], forms: set[str]) -> None:
    """Deploy bpmn/default as HQ's first version and each bpmn/branches/<code> as that branch's,
    unless the scope already has a deployment."""
    scopes = [(HQ, bpmn_dir / "default")]
    branches_dir = bpmn_dir / "branches"
    if branches_dir.is_dir():
        scopes += [(p.name, p) for p in sorted(branches_dir.iterdir()) if p.is_dir()]
    for scope, folder in scopes:
        if session.scalar(select(Deployment.id).where(Deployment.scope == scope).limit(1)):
            continue
        files = files_in_folder(folder)
        if files:
            deploy(session, scope, files, actor="seed", comment=f"initial deployment from {folder.name}",
                   operations=operations, forms=forms)


def seed_demo(session: Session, bpmn_dir: Path, *, operations: set[str], forms: set[str]) -> None:
    seed_reference_data(session)
    seed_deployments(session, bpmn_dir, operations=operations, forms=forms)
    if (bpmn_dir / "calendar").is_dir():  # the State Council's working days (business_calendar.py)
        seed_calendars(session, bpmn_dir / "calendar")
