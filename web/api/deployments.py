from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from web.api.context import read_only, services, unit_of_work
from web.api_docs import documented
from web.auth import require
from web.errors import ApiError
from web.requests import multipart_form
from workflows.deployments import deploy, deployment_problems, describe_deployment, list_deployments, resolved_view
from workflows.camunda import translate_uploads
from workflows.errors import DeploymentRejected
from workflows.releases import refuse_direct_deployment
from workflows.simulation import MAX_SAMPLE, simulate

blueprint = Blueprint("deployments", __name__)

MAX_FILES = 50


@blueprint.get("/deployments")
@documented("Deployments, newest first", query=("scope",))
@require()
def index():
    with read_only() as session:
        return jsonify({"items": list_deployments(session, request.args.get("scope"))})


@blueprint.get("/deployments/resolved")
@documented("Which scope and version each process and file comes from for a branch", query=("branch",))
@require()
def resolved():
    branch = request.args.get("branch") or g.user.branch_code
    with read_only() as session:
        return jsonify(resolved_view(session, branch))


@blueprint.post("/deployments")
@documented("Deploy BPMN/DMN/data files for a scope, and/or withdraw some of the scope's own; refused with every "
            "reason at once", ok=201, multipart={
    "scope": {"type": "string", "description": "HQ or a branch code"}, "comment": {"type": "string"},
    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
    "withdraw": {"type": "array", "items": {"type": "string"},
                 "description": "names of files the scope stops providing (a branch then runs HQ's)"}})
@require("analyst")
def create():
    form = multipart_form()
    scope = (form.get("scope") or "").strip()
    if not scope:
        raise ApiError(422, "validation_failed", "scope is required (HQ or a branch code)",
                       {"scope": ["is required"]})
    uploads = request.files.getlist("files")
    withdraw = tuple(name.strip() for name in form.getlist("withdraw") if name.strip())
    if not uploads and not withdraw:
        raise ApiError(422, "validation_failed", "at least one file is required in the multipart field 'files'",
                       {"files": ["at least one file is required"]})
    if len(uploads) > MAX_FILES:
        raise ApiError(422, "validation_failed", f"at most {MAX_FILES} files per deployment",
                       {"files": [f"at most {MAX_FILES} files"]})
    svc = services()
    # Camunda 7 diagrams: what has a clear meaning here is translated, the rest refused by element.
    files, translated, untranslatable = translate_uploads(_uploaded_files(uploads), forms=svc.forms)
    with unit_of_work() as session:
        refuse_direct_deployment(session, scope)
        if untranslatable:  # every reason at once: the translation's and the deployment's own
            problems = deployment_problems(session, scope, files, operations=svc.operations, forms=svc.forms,
                                           withdraw=withdraw)
            raise DeploymentRejected(untranslatable + [p.as_dict() for p in problems])
        deployment = deploy(session, scope, files, actor=g.user.username, comment=form.get("comment", ""),
                            operations=svc.operations, forms=svc.forms, withdraw=withdraw)
        view = describe_deployment(session, deployment)
    return jsonify({**view, "translated": translated}), 201


def _uploaded_files(uploads) -> dict[str, str]:
    files: dict[str, str] = {}
    for upload in uploads:
        name = (upload.filename or "").strip()
        if not name:
            raise ApiError(422, "validation_failed", "every file needs a file name", {"files": ["unnamed file"]})
        if name in files:
            raise ApiError(422, "validation_failed", f"{name} is sent twice", {"files": [f"{name} sent twice"]})
        try:
            files[name] = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(422, "validation_failed", f"{name} is not UTF-8 text", {name: ["not UTF-8 text"]}) from None
    return files


@blueprint.post("/simulations")
@documented("Run draft files on the scope's most recent applications beside the published version (nothing is "
            "kept: each run is rolled back); refused with every reason if the drafts would not deploy", multipart={
    "scope": {"type": "string", "description": "HQ or a branch code"},
    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
    "sample": {"type": "integer", "description": f"how many recent applications (1 to {MAX_SAMPLE}, default 50)"}})
@require("analyst")
def simulation():
    form = multipart_form()
    scope = (form.get("scope") or "").strip()
    sample = form.get("sample", "50").strip()
    problems = {}
    if not scope:
        problems["scope"] = ["is required (HQ or a branch code)"]
    if not sample.isdigit() or not 1 <= int(sample) <= MAX_SAMPLE:
        problems["sample"] = [f"must be a whole number from 1 to {MAX_SAMPLE}"]
    uploads = request.files.getlist("files")
    if not uploads:
        problems["files"] = ["at least one draft file is required"]
    elif len(uploads) > MAX_FILES:
        problems["files"] = [f"at most {MAX_FILES} files"]
    if problems:
        raise ApiError(422, "validation_failed", "The simulation cannot run", problems)
    svc = services()
    result = simulate(svc.db, svc.origination, scope, _uploaded_files(uploads), sample=int(sample), actor=g.user,
                      operations=svc.operations, forms=svc.forms)
    return jsonify(result.as_dict())
