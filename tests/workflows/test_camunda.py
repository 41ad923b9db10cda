"""Camunda 7 diagrams on upload (workflows/camunda.py): JUEL conditions, bare ISO timers and
formKeys become ours; what has no meaning here is refused naming the element and what to do."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from forms.compiler import form_names
from workflows.camunda import JuelRefused, juel_to_script, translate_camunda

APPROVAL = Path(__file__).with_name("camunda_diagrams") / "approval.bpmn"


@pytest.mark.parametrize("juel, ours", [
    ("amount > 5000 && !approved", "amount > 5000 and not approved"),
    ("approved", "approved"),
    ("grade eq 'A' or empty warnings", "grade == 'A' or not warnings"),
    ("not empty comment", "comment"),
    ("(amount ge 100000) and (term lt 12)", "(amount >= 100000) and (term < 12)"),
    ("status == null || flag == false", "status == None or flag == False"),
])
def test_a_juel_condition_of_comparisons_and_logic_becomes_the_script_language(juel, ours):
    assert juel_to_script(juel) == ours


@pytest.mark.parametrize("juel, says", [
    ("order.total > 5", "method calls and property paths"),
    ("execution.getVariable('x')", "method calls"),
    ("fn(amount)", "function calls"),
    ("amount ? 1 : 2", "'?' is not supported"),
])
def test_a_juel_method_call_or_other_construct_is_refused_saying_what_to_write(juel, says):
    with pytest.raises(JuelRefused, match=says.replace("(", r"\(").replace("?", r"\?")):
        juel_to_script(juel)


def test_a_camunda_approval_translates_its_conditions_timer_and_form_and_notes_what_it_ignores():
    result = translate_camunda("approval.bpmn", APPROVAL.read_text(encoding="utf-8"), forms=form_names())
    assert result.problems == []
    assert ">decision == 'approve' and comment</" in result.text
    assert ">decision != 'approve' or not comment</" in result.text
    assert ">'PT24H'</" in result.text
    assert 'name="form" value="change_approval"' in result.text and "camunda:formKey" not in result.text
    notes = "\n".join(result.notes)
    for ignored in ("camunda:assignee 'demo' ignored", "taskListener ignored", "candidateGroups 'approver' ignored"):
        assert ignored in notes


def test_what_has_no_meaning_here_is_refused_by_element_with_what_to_do():
    text = APPROVAL.read_text(encoding="utf-8")
    text = text.replace('<bpmn:endEvent id="approved" name="Approved"/>',
                        '<bpmn:serviceTask id="approved" name="Book it" camunda:class="org.example.Book"/>')
    text = text.replace("change_approval.html", "invoice-form.html")
    text = text.replace("${decision eq 'approve' &amp;&amp; !empty comment}", "${invoice.getAmount() > 5}")
    result = translate_camunda("approval.bpmn", text, forms=form_names())
    assert len(result.problems) == 3
    problems = "\n".join(result.problems)
    assert "approved (Book it): camunda:class 'org.example.Book' does not run here; choose a loanflow handler" in problems
    assert "approve (Approve): camunda:formKey 'embedded:app:forms/invoice-form.html' is not one of our forms" in problems
    assert "yes: the condition '${invoice.getAmount() > 5}' cannot be translated: JUEL method calls" in problems


def test_a_diagram_that_is_not_camundas_is_left_as_it_is():
    ours = (Path(__file__).resolve().parents[2] / "bpmn" / "default" / "review.bpmn").read_text(encoding="utf-8")
    result = translate_camunda("review.bpmn", ours, forms=form_names())
    assert result.text == ours and result.notes == [] == result.problems


def test_the_api_deploys_a_translated_camunda_diagram_and_refuses_an_untranslatable_one_with_every_reason(
        client, token_for):
    analyst = token_for("analyst")
    text = APPROVAL.read_text(encoding="utf-8")
    deployed = client.post("/api/v1/deployments", headers=analyst, content_type="multipart/form-data", data={
        "scope": "HQ", "comment": "from Camunda Modeler", "files": [(io.BytesIO(text.encode()), "camunda_approval.bpmn")]})
    assert deployed.status_code == 201, deployed.get_json()
    assert any("condition" in note["reason"] for note in deployed.get_json()["translated"])
    assert {"id": "camunda_approval", "kind": "process", "version": 1} in deployed.get_json()["definitions"]

    broken = text.replace("change_approval.html", "invoice-form.html").replace(
        "#{decision != 'approve' || empty comment}", "#{invoice.total > 5}")
    refused = client.post("/api/v1/deployments", headers=analyst, content_type="multipart/form-data", data={
        "scope": "HQ", "files": [(io.BytesIO(broken.encode()), "camunda_approval.bpmn")]})
    assert refused.status_code == 422
    reasons = refused.get_json()["fields"]["camunda_approval.bpmn"]
    assert any("formKey" in r for r in reasons) and any("no: the condition" in r for r in reasons)
