"""products file: a database made before products were deployable data gets head office's
products.json written from its product table, so intake keeps offering the same products

Revision ID: 0018
Revises: 0017
Created: 2026-12-04

Products are read from the deployed products.json since this version (workflows/products.py);
before, from the `product` table. A database that has product rows but no HQ products.json gets
one, as a new HQ deployment, with each row's figures as the bounds and nothing narrowed: every
guarantee method, customer type and channel, rates from 0 to the legal 24 % cap, no required
documents. Head office then edits it in the studio like any file. A fresh or already-converted
database is left alone.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# The choices as this revision knows them (a migration does not follow later code).
GUARANTEE_METHODS = ["credit", "guarantee", "mortgage", "pledge"]
CUSTOMER_TYPES = ["farm_household", "individual_business", "salaried"]
CHANNELS = ["mobile", "counter", "partner"]


def _amount(value) -> str:
    # SQLite hands NUMERIC back as a float: through its shortest text, never its binary expansion
    return format(Decimal(str(value)).normalize(), "f")


def products_file(rows) -> str:
    products = {}
    for row in rows:
        products[row.code] = {
            "name": row.name, "enabled": True,
            "min_amount": _amount(row.min_amount), "max_amount": _amount(row.max_amount),
            "min_term_months": int(row.min_term_months), "max_term_months": int(row.max_term_months),
            "base_rate": _amount(row.base_rate), "rate_floor": "0", "rate_ceiling": "0.24",
            "repayment_methods": [row.repayment_method], "guarantee_methods": GUARANTEE_METHODS,
            "customer_types": CUSTOMER_TYPES, "channels": CHANNELS, "required_documents": [],
            "holiday_rule": row.holiday_rule or "none", "allows_large_amount": bool(row.allows_large_amount),
        }
    document = {"comment": "Written by migration 0018 from the product table; edit it in the studio.",
                "products": products}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def upgrade() -> None:
    bind = op.get_bind()
    has_file = bind.execute(sa.text(
        "SELECT count(*) FROM deployment_file WHERE scope = 'HQ' AND name = 'products.json'")).scalar()
    rows = bind.execute(sa.text(
        "SELECT code, name, min_amount, max_amount, min_term_months, max_term_months, base_rate, "
        "repayment_method, allows_large_amount, holiday_rule FROM product ORDER BY code")).all()
    if has_file or not rows:
        return
    content = products_file(rows)
    version = (bind.execute(sa.text("SELECT max(version) FROM deployment WHERE scope = 'HQ'")).scalar() or 0) + 1
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    deployment = sa.table("deployment", sa.column("id"), sa.column("scope"), sa.column("version"),
                          sa.column("created_at"), sa.column("created_by"), sa.column("comment"))
    bind.execute(deployment.insert().values(scope="HQ", version=version, created_at=now, created_by="migration",
                                            comment="products.json from the product table (migration 0018)"))
    deployment_id = bind.execute(sa.text("SELECT id FROM deployment WHERE scope = 'HQ' AND version = :v"),
                                 {"v": version}).scalar()
    files = sa.table("deployment_file", sa.column("deployment_id"), sa.column("scope"), sa.column("name"),
                     sa.column("content"), sa.column("sha256"), sa.column("withdrawn"))
    bind.execute(files.insert().values(deployment_id=deployment_id, scope="HQ", name="products.json", content=content,
                                       sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(), withdrawn=False))


def downgrade() -> None:
    pass  # the deployment stays: deployments are immutable history
