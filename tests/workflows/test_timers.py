"""BPMN timers run on the clock of the unit of work, read times without a zone as China time, say
when they are due, and are checked at deployment."""
from __future__ import annotations

import datetime as dt

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from workflows.diagrams import check_files, parse_set
from workflows.engine import LoanScriptEngine, deserialize, make_serializer
from workflows.timers import clock_at, due_timers

UTC = dt.timezone.utc
T0 = dt.datetime(2027, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in China

REVIEW_WITH_SLA = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="sla" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="review" name="Review"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="sla_reminder" name="Reminder" attachedToRef="review" cancelActivity="{cancel}">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="remind" name="Remind"><bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:script>reminders = reminders + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="e1"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="e1"/>
    <bpmn:sequenceFlow id="f3" sourceRef="sla_reminder" targetRef="remind"/>
    <bpmn:sequenceFlow id="f4" sourceRef="remind" targetRef="e2"/>
  </bpmn:process>
</bpmn:definitions>
"""

WAIT = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="wait" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="first_check_due" name="First check due">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind}>{timer}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="mark" name="Mark"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>checked = True</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="first_check_due"/>
    <bpmn:sequenceFlow id="f2" sourceRef="first_check_due" targetRef="mark"/>
    <bpmn:sequenceFlow id="f3" sourceRef="mark" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>
"""


def start(text: str, process: str, at: dt.datetime, **data) -> BpmnWorkflow:
    spec, subprocesses = parse_set({f"{process}.bpmn": text}).specs_for(process)
    workflow = BpmnWorkflow(spec, subprocesses, script_engine=LoanScriptEngine())
    workflow.get_next_task().data.update(data)
    step(workflow, at)
    return workflow


def step(workflow: BpmnWorkflow, at: dt.datetime) -> None:
    """What InstanceRunner.advance does for a step taken at `at`."""
    with clock_at(lambda: at):
        workflow.refresh_waiting_tasks()
        workflow.do_engine_steps()


def test_a_duration_timer_fires_when_the_clock_passes_it_and_not_before():
    workflow = start(WAIT.format(kind="timeDuration", timer="'P15D'"), "wait", T0)
    [timer] = due_timers(workflow)
    assert (timer.element_id, timer.due_at) == ("first_check_due", T0 + dt.timedelta(days=15))
    step(workflow, T0 + dt.timedelta(days=14, hours=23))
    assert not workflow.completed
    step(workflow, T0 + dt.timedelta(days=15))
    assert workflow.completed and workflow.data["checked"] is True
    assert due_timers(workflow) == []


def test_a_date_without_a_zone_is_china_time():
    workflow = start(WAIT.format(kind="timeDate", timer="'2027-03-10T09:00:00'"), "wait", T0)
    assert due_timers(workflow)[0].due_at == dt.datetime(2027, 3, 10, 1, 0, tzinfo=UTC)
    step(workflow, dt.datetime(2027, 3, 10, 0, 59, tzinfo=UTC))
    assert not workflow.completed
    step(workflow, dt.datetime(2027, 3, 10, 1, 0, tzinfo=UTC))
    assert workflow.completed


def test_a_timer_computed_from_task_data_uses_the_sandboxed_language():
    workflow = start(WAIT.format(kind="timeDuration", timer="f'P{first_check_days}D'"), "wait", T0,
                     first_check_days=7)
    assert due_timers(workflow)[0].due_at == T0 + dt.timedelta(days=7)


def test_a_non_interrupting_reminder_leaves_the_review_open():
    workflow = start(REVIEW_WITH_SLA.format(cancel="false", kind="timeDuration", timer="'PT4H'"), "sla", T0,
                     reminders=0)
    step(workflow, T0 + dt.timedelta(hours=4))
    review = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "review"][0]
    assert review.state == TaskState.READY
    assert any(t.task_spec.bpmn_id == "remind" and t.state == TaskState.COMPLETED for t in workflow.get_tasks())


def test_an_interrupting_escalation_cancels_the_review():
    workflow = start(REVIEW_WITH_SLA.format(cancel="true", kind="timeDuration", timer="'P2D'"), "sla", T0,
                     reminders=0)
    step(workflow, T0 + dt.timedelta(days=2))
    assert workflow.completed
    assert workflow.data["reminders"] == 1
    review = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "review"][0]
    assert review.state == TaskState.CANCELLED


def test_a_cycle_reminds_each_time_it_comes_round():
    workflow = start(REVIEW_WITH_SLA.format(cancel="false", kind="timeCycle", timer="'R3/PT1H'"), "sla", T0,
                     reminders=0)
    assert due_timers(workflow)[0].due_at == T0 + dt.timedelta(hours=1)
    for hour in (1, 2):
        step(workflow, T0 + dt.timedelta(hours=hour))
    reminders = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "remind" and t.state == TaskState.COMPLETED]
    assert len(reminders) == 2
    assert due_timers(workflow)[0].due_at == T0 + dt.timedelta(hours=3)


def test_a_saved_and_restored_instance_keeps_its_due_time():
    text = WAIT.format(kind="timeDuration", timer="'P15D'")
    spec, subprocesses = parse_set({"wait.bpmn": text}).specs_for("wait")
    workflow = start(text, "wait", T0)
    serializer = make_serializer()
    restored = deserialize(serializer, serializer.serialize_json(workflow), spec, subprocesses)
    restored.script_engine = LoanScriptEngine()
    assert due_timers(restored) == due_timers(workflow)
    step(restored, T0 + dt.timedelta(days=15))
    assert restored.completed


@pytest.mark.parametrize("kind, timer, reason", [
    ("timeDuration", "'P1X'", "'P1X' is not a valid ISO-8601 timer (a duration such as 'P1D'"),
    ("timeDuration", "P15D", "a fixed duration or date must be quoted: 'P15D'"),
    ("timeDate", "'next tuesday'", "'next tuesday' is not a valid ISO-8601 timer (a date such as"),
    ("timeCycle", "'every hour'", "'every hour' is not a valid ISO-8601 timer (a cycle such as 'R3/PT1H')"),
    ("timeDuration", "15", "a timer expression must give text (a duration such as 'P1D' or 'PT4H', of at most 999 years, "
                           "or working time such as 'working_days(2)' or 'working_hours(4)'), not a number"),
    ("timeDuration", "working_days(2)", "a fixed duration or date must be quoted: 'working_days(2)'"),
    ("timeDuration", "'working_days(4000)'", "working_days() counts at most 3,650 days"),
    ("timeDuration", "__import__('os').getcwd()", "the name '__import__' is not allowed"),
])
def test_an_invalid_timer_is_refused_at_deployment_naming_the_element(kind, timer, reason):
    problems = check_files({"wait.bpmn": WAIT.format(kind=kind, timer=timer)}, operations=set(), forms=set())
    assert any(p.file == "wait.bpmn" and p.reason.startswith("first_check_due: ") and reason in p.reason
               for p in problems), problems


def test_a_timer_computed_from_task_data_is_accepted_at_deployment():
    assert check_files({"wait.bpmn": WAIT.format(kind="timeDuration", timer="f'P{days}D'")},
                       operations=set(), forms=set()) == []
