"""The hostile corpus's most dangerous probes as BR001 overrides of the real diagrams, for the API
test (tests/web/test_hostile_api.py) and the real-server test (tests/test_hostile_server.py).

Each override puts the probe where every application passes: a script task, a timer or a
multi-instance task right after intake's start, intake's pre-check gateway, the first rule of the
review route (rating), or the correlation of the signature message (signing).
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

BPMN = Path(__file__).resolve().parents[2] / "bpmn" / "default"
INTAKE = (BPMN / "intake.bpmn").read_text()
# Every probe deploys all three files BR001 overrides, so one probe's override never outlives it.
PLAIN = {name: (BPMN / name).read_text() for name in ("intake.bpmn", "review_route.dmn", "signing.bpmn")}
FIRST_FLOW = '<bpmn:sequenceFlow id="to_precheck" sourceRef="intake_start" targetRef="applicant_precheck"/>'
PRECHECK = '    <bpmn:serviceTask id="applicant_precheck"'


def _intake_step(element: str, body: str, extra_flows: str = "") -> dict[str, str]:
    """intake.bpmn with `element` (whose XML is `body`) between the start event and the pre-check."""
    assert FIRST_FLOW in INTAKE and PRECHECK in INTAKE
    xml = INTAKE.replace(FIRST_FLOW, f'<bpmn:sequenceFlow id="to_precheck" sourceRef="intake_start" targetRef="{element}"/>'
                         f'<bpmn:sequenceFlow id="after_hostile_step" sourceRef="{element}" '
                         f'targetRef="applicant_precheck"/>{extra_flows}')
    xml = xml.replace("<bpmn:incoming>to_precheck</bpmn:incoming>", "<bpmn:incoming>after_hostile_step</bpmn:incoming>")
    return {**PLAIN, "intake.bpmn": xml.replace(PRECHECK, f"    {body}\n{PRECHECK}", 1)}


def script(text: str) -> dict[str, str]:
    return _intake_step("hostile_step", f'<bpmn:scriptTask id="hostile_step" name="Hostile step">'
                        f"<bpmn:incoming>to_precheck</bpmn:incoming><bpmn:outgoing>after_hostile_step</bpmn:outgoing>"
                        f"<bpmn:script>{escape(text)}</bpmn:script></bpmn:scriptTask>")


def timer(text: str) -> dict[str, str]:
    return _intake_step("hostile_wait", f'<bpmn:intermediateCatchEvent id="hostile_wait" name="Hostile wait">'
                        f"<bpmn:incoming>to_precheck</bpmn:incoming><bpmn:outgoing>after_hostile_step</bpmn:outgoing>"
                        f"<bpmn:timerEventDefinition><bpmn:timeDuration>{escape(text)}</bpmn:timeDuration>"
                        f"</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


def cardinality(text: str) -> dict[str, str]:
    return _intake_step("hostile_each", f'<bpmn:scriptTask id="hostile_each" name="Hostile each">'
                        f"<bpmn:incoming>to_precheck</bpmn:incoming><bpmn:outgoing>after_hostile_step</bpmn:outgoing>"
                        f'<bpmn:multiInstanceLoopCharacteristics isSequential="false"><bpmn:loopCardinality>'
                        f"{escape(text)}</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"
                        f"<bpmn:script>visited = True</bpmn:script></bpmn:scriptTask>")


def loop_back() -> dict[str, str]:
    """A script task whose gateway always sends it back: the process never waits."""
    files = _intake_step(
        "hostile_step",
        '<bpmn:scriptTask id="hostile_step" name="Hostile step"><bpmn:incoming>to_precheck</bpmn:incoming>'
        "<bpmn:incoming>once_more</bpmn:incoming><bpmn:outgoing>to_again</bpmn:outgoing>"
        "<bpmn:script>turns = 1</bpmn:script></bpmn:scriptTask>"
        '<bpmn:exclusiveGateway id="again" name="Again?" default="after_hostile_step">'
        "<bpmn:incoming>to_again</bpmn:incoming><bpmn:outgoing>once_more</bpmn:outgoing>"
        "<bpmn:outgoing>after_hostile_step</bpmn:outgoing></bpmn:exclusiveGateway>",
        '<bpmn:sequenceFlow id="to_again" sourceRef="hostile_step" targetRef="again"/>'
        '<bpmn:sequenceFlow id="once_more" sourceRef="again" targetRef="hostile_step">'
        "<bpmn:conditionExpression>True</bpmn:conditionExpression></bpmn:sequenceFlow>")
    xml = files["intake.bpmn"].replace(
        '<bpmn:sequenceFlow id="after_hostile_step" sourceRef="hostile_step"',
        '<bpmn:sequenceFlow id="after_hostile_step" sourceRef="again"')
    return {**PLAIN, "intake.bpmn": xml}


def gateway(condition: str) -> dict[str, str]:
    original = "<bpmn:conditionExpression>precheck_passed == True</bpmn:conditionExpression>"
    assert original in INTAKE
    return {**PLAIN, "intake.bpmn": INTAKE.replace(original, f"<bpmn:conditionExpression>{escape(condition)}"
                                                             "</bpmn:conditionExpression>")}


def review_route_cell(cell: str) -> dict[str, str]:
    dmn = (BPMN / "review_route.dmn").read_text()
    original = '<inputEntry id="r1_large"><text>True</text></inputEntry>'
    assert original in dmn
    return {**PLAIN, "review_route.dmn": dmn.replace(original, f'<inputEntry id="r1_large"><text>{escape(cell)}</text>'
                                                             "</inputEntry>")}


def signature_correlation(expression: str) -> dict[str, str]:
    signing = (BPMN / "signing.bpmn").read_text()
    original = "<spiffworkflow:messageVariable>signature</spiffworkflow:messageVariable>"
    assert original in signing
    return {**PLAIN, "signing.bpmn": signing.replace(original, original + (
        "<spiffworkflow:processVariableCorrelation><spiffworkflow:propertyId>customer</spiffworkflow:propertyId>"
        f"<spiffworkflow:expression>{escape(expression)}</spiffworkflow:expression>"
        "</spiffworkflow:processVariableCorrelation>"))}


STEP = "hostile_step (Hostile step)"
LONG = "s = 'a' * 100000\n"
BUDGET = "built more than 10,000,000 characters and items in all"
# (id, files, the element the incident names, the expression it shows, what its reason says)
RUNTIME = [
    ("ljust-ten-billion", script("x = 'a'.ljust(10 ** 10)"), STEP, "x = 'a'.ljust(10 ** 10)",
     "text can be padded to at most 100,000 characters"),
    ("power-chain", script("x = 7\nfor i in range(10):\n    x = x ** 64"), STEP, "x = x ** 64", "more than 4096 bits"),
    ("shift-by-task-data", script("x = 1 << term_months ** 10"), STEP, "x = 1 << term_months ** 10",
     "more than 4096 bits"),
    ("repeat-a-billion", script("x = 'a' * 10 ** 9"), STEP, "x = 'a' * 10 ** 9", "the text would have 1,000,000,000"),
    ("decimal-power", script("x = Decimal(10) ** 999999"), STEP, "Decimal(10) ** 999999", "invalid decimal operation"),
    ("decimal-round", script("x = round(Decimal('1e999') * Decimal('1e999'))"), STEP, "round(", "invalid decimal operation"),
    ("slice-copies", script(LONG + "x = [s[1:] for i in range(100000)]"), STEP, "s[1:]", BUDGET),
    ("set-union-of-long-texts", script(LONG + "l = [s] * 100000\nx = set().union(*l)"), STEP, "union(*l)",
     "the set would have 200,000 items"),
    ("ten-gigabytes-of-json", script(LONG + "l = [s] * 100000"), STEP, "l = [s] * 100000",
     "the task data would hold more than 500,000 characters"),
    ("built-then-failed", script(LONG + "l = [s] * 100000\nx = 1 / 0"), STEP, "x = 1 / 0", "division by zero"),
    ("doubling-past-what-json-writes", script("x = 3\nfor i in range(20000):\n    x = x + x"), STEP, "x = x + x",
     "more than 4096 bits"),
    ("lone-surrogate-in-a-summary-key", script("review_route_reason = '\\ud800'"), STEP, "review_route_reason",
     "lone surrogate"),
    ("tzinfo-from-task-data", script("d = datetime(2026, 1, 1, tzinfo=applicant['region'])"), STEP, "tzinfo=",
     "tzinfo argument must be None or of a tzinfo subclass"),
    ("timer-months-computed", timer("'P' + str(term_months * 10 ** 8) + 'M'"), "hostile_wait (Hostile wait)",
     "'P' + str(term_months * 10 ** 8) + 'M'", "is not a valid ISO-8601 timer"),
    ("cardinality-billion", cardinality("term_months * 10 ** 8"), "hostile_each", "term_months * 10 ** 8",
     "runs 0 to 100 instances"),
    ("gateway-condition-repeat", gateway("'a' * 10 ** 9 == precheck_passed"), "precheck_passed_gateway (Pre-check passed?)",
     "'a' * 10 ** 9 == precheck_passed", "the text would have 1,000,000,000"),
    ("review-route-cell-repeat", review_route_cell("'a' * 10 ** 9"), "choose_review_route (Choose review route)",
     "'a' * 10 ** 9", "the text would have 1,000,000,000"),
    ("signature-correlation-repeat", signature_correlation("'a' * 10 ** 9"),
     "message correlation or completion condition", "'a' * 10 ** 9",
     "the text would have 1,000,000,000"),
    ("generator-chain", script("g = (c for c in purpose)\nfor i in range(99990):\n    g = (c for c in g)\nx = list(g)"),
     STEP, "g = (c for c in g)", "a generator expression cannot be looped over again"),
    ("enumerate-chain", script("g = enumerate(purpose)\nfor i in range(99990):\n    g = enumerate(g)\nx = list(g)"),
     STEP, "g = enumerate(g)", "enumerate() takes a list, text, tuple, dict, set or range"),
    ("hash-collisions", script("l = [i * 2305843009213693951 for i in range(100000)]\ns = set(l)"), STEP, "set(l)",
     "cannot be a set member or a dict key"),
    ("loop-back-to-a-script", loop_back(), "again (Again?)", "", "without waiting for a person, a message or a timer"),
]

# (id, files, what the refusal says): refused at deployment, nothing deployed.
REFUSED = [
    ("match-class-format-globals", script(
        "match 'x':\n    case str(format=fmt):\n        leak = fmt('{0.__glo' + 'bals__[current_app].config}', check)"),
     "hostile_step: line 1: match statements are not part of the script language"),
    ("format-globals-concatenated", script("leak = ('{0.__glo' + 'bals__[os].environ}').format(check)"),
     "hostile_step: line 1: '.format()' is not a method of the script language"),
    ("try-except-star", script("try:\n    x = 1\nexcept* ValueError:\n    pass"),
     "hostile_step: line 1: try/except* is not part of the script language"),
    ("timer-import-os", timer("__import__('os').system('id')"), "hostile_wait: line 1: '__import__' is not a function"),
    ("timer-months-forever", timer("'P999999999M'"), "hostile_wait: line 1: 'P999999999M' is not a valid ISO-8601 timer"),
    ("cardinality-million", cardinality("1000000"), "hostile_each: line 1: a multi-instance task runs 0 to 100"),
]
