"""A script, condition or DMN cell that fails while running is an incident that names the element,
the reason and the expression as written, never a traceback or engine text."""
from __future__ import annotations

from decimal import Decimal

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from workflows.diagrams import parse_set
from workflows.engine import LoanScriptEngine
from workflows.instances import _describe

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute_fee" name="Compute fee">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="big_enough" name="Big enough?" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="e1"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="compute_fee"/>
    <bpmn:sequenceFlow id="f2" sourceRef="compute_fee" targetRef="big_enough"/>
    <bpmn:sequenceFlow id="f3" sourceRef="big_enough" targetRef="e1">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="big_enough" targetRef="e2"/>
  </bpmn:process>
</bpmn:definitions>
"""


def run(script: str, condition: str = "fee > 0", **data) -> tuple[BpmnWorkflow, str | None]:
    parsed = parse_set({"probe.bpmn": BPMN.format(script=script, condition=condition)})
    spec, subprocesses = parsed.specs_for("probe")
    workflow = BpmnWorkflow(spec, subprocesses, script_engine=LoanScriptEngine())
    workflow.get_next_task().data.update(data)
    try:
        workflow.do_engine_steps()
    except Exception as err:  # what InstanceRunner.advance turns into an incident
        return workflow, _describe(err)
    return workflow, None


def test_a_good_script_and_condition_run():
    workflow, incident = run("fee = amount * Decimal('0.001')", amount=Decimal("300000"))
    assert incident is None
    assert workflow.is_completed()
    assert workflow.last_task.data["fee"] == Decimal("300.000")


@pytest.mark.parametrize("script, reason", [
    ("fee = amont * 2", "unknown name 'amont' (not in the task data)"),
    ("fee = amount / 0", "division by zero"),
    ("fee = 'a'.ljust(amount)", "text can be padded to at most 100,000 characters"),
    ("fee = amount\nlabels = {'a', 'b'}", "'labels' is a set, which task data cannot hold"),
])
def test_a_failing_script_names_the_element_the_reason_and_the_script(script, reason):
    _, incident = run(script, amount=10 ** 9)
    assert incident.startswith("compute_fee (Compute fee): ")
    assert reason in incident
    assert f"in: {script}" in incident
    assert "Traceback" not in incident and "Error evaluating" not in incident


def test_a_failing_condition_names_the_gateway_and_the_expression():
    _, incident = run("fee = 1", condition="fee > limit")
    assert incident.startswith("big_enough (Big enough?): unknown name 'limit'")
    assert incident.endswith("in: fee > limit")


def test_a_failing_script_shows_nothing_from_outside_task_data():
    _, incident = run("fee = amount + 'x'", amount=Decimal("5"))
    assert "unsupported operand" in incident
    assert "SECRET" not in incident and "/" not in incident.split("in:")[0]
