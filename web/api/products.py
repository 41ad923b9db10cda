"""Products as a branch offers them (issue 12, item 1): HQ's products.json narrowed by the branch's,
each value with where it comes from. Read-only: products change by deployment (web/api/deployments.py)."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only
from web.api_docs import Query, documented
from web.auth import require
from workflows import products

blueprint = Blueprint("products", __name__)
BRANCH = Query("branch", description="a branch code, or HQ; default the caller's branch")


def _branch() -> str:
    # Without ?branch= a branch user sees their own branch's products, head office its own file.
    return request.args.get("branch") or g.user.branch_code


@blueprint.get("/products")
@documented("What a branch offers (?branch=BR002; default the caller's branch): every product of head "
            "office's products.json as the branch's override narrows it, disabled ones marked, each field "
            "as {value, source} where source is HQ or the branch, and the document rules with theirs",
            query=(BRANCH,))
@require()
def index():
    with read_only() as session:
        return jsonify(products.offer(session, _branch()))


@blueprint.get("/products/<code>")
@documented("One product as a branch offers it (?branch=BR002; default the caller's branch), each field "
            "with its source; 404 for a product head office does not define", query=(BRANCH,))
@require()
def show(code: str):
    with read_only() as session:
        return jsonify(products.offer_of(session, _branch(), code))
