"""The hostile corpus: what an analyst's account could put in a diagram to break out of the sandbox,
exhaust the server or crash a request, and what must happen instead.

Every probe is a row: a short id, where in a diagram it goes, its text, and the expected outcome.

- REFUSED probes never deploy: `check_files`, with the product's handler operations and forms,
  gives a reason that names the element and the line.
- CONTAINED probes pass that check, and running them stops in an incident that names the element,
  the reason and the expression as written, shows no traceback, no engine text and nothing from
  outside the task data, and leaves a state that saves small (nothing a failed script built).

The language they attack is docs/script-language.md. tests/web/test_hostile_api.py sends the most
dangerous ones through the HTTP API, and to a real server process.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from forms.compiler import form_names
from handlers.registry import build_registry
from workflows.diagrams import check_files, parse_set
from workflows.engine import LoanScriptEngine, make_serializer
from workflows.errors import ScriptRefused
from workflows.instances import _describe
from workflows.sandbox import run_sandboxed

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = set(build_registry())
FORMS = form_names()
CANARY = "canary-7c1f-value-outside-task-data"   # an environment variable no probe may show
MAX_SAVED_STATE = 2_000_000                      # characters; a probe's saved instance is ~10,000


# -- where a probe goes: one small diagram per kind of place that holds code ----------------------
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def _bpmn(body: str, first: str, root: str = "") -> str:
    """A process `probe`: start -> `first` ... -> the element whose outgoing flow is `to_end` -> end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="{BPMN_NS}" xmlns:spiffworkflow="{SPIFF_NS}"
                  id="probe_definitions" targetNamespace="http://loanflow.example/probe">
  {root}
  <bpmn:process id="probe" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_probe</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_probe" sourceRef="start" targetRef="{first}"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _task(tag: str, element: str, name: str, head: str = "", tail: str = "", attributes: str = "") -> str:
    """A flow node between to_probe and to_end: `head` goes before its flows (extensionElements),
    `tail` after them (loop characteristics, the script, event definitions), as the schema wants."""
    return (f'<bpmn:{tag} id="{element}" name="{name}"{attributes}>{head}<bpmn:incoming>to_probe</bpmn:incoming>'
            f'<bpmn:outgoing>to_end</bpmn:outgoing>{tail}</bpmn:{tag}>'
            f'<bpmn:sequenceFlow id="to_end" sourceRef="{element}" targetRef="end"/>')


def _script_task(script: str, extensions: str = "") -> str:
    head = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return _task("scriptTask", "hostile_script", "Hostile script", head, f"<bpmn:script>{script}</bpmn:script>")


def _gateway(condition: str) -> str:
    return ('<bpmn:exclusiveGateway id="hostile_gateway" name="Hostile gateway" default="to_end">'
            '<bpmn:incoming>to_probe</bpmn:incoming><bpmn:outgoing>hostile_flow</bpmn:outgoing>'
            '<bpmn:outgoing>to_end</bpmn:outgoing></bpmn:exclusiveGateway>'
            '<bpmn:endEvent id="other_end"><bpmn:incoming>hostile_flow</bpmn:incoming></bpmn:endEvent>'
            '<bpmn:sequenceFlow id="hostile_flow" sourceRef="hostile_gateway" targetRef="other_end">'
            f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression></bpmn:sequenceFlow>'
            '<bpmn:sequenceFlow id="to_end" sourceRef="hostile_gateway" targetRef="end"/>')


def _each(loop_inner: str) -> str:
    loop = f'<bpmn:multiInstanceLoopCharacteristics isSequential="false">{loop_inner}</bpmn:multiInstanceLoopCharacteristics>'
    return _task("scriptTask", "hostile_each", "Hostile each", tail=f"{loop}<bpmn:script>visited = True</bpmn:script>")


def _throw(definition: str) -> str:
    return _task("intermediateThrowEvent", "hostile_throw", "Hostile throw", tail=definition)


def _catch(definition: str) -> str:
    return _task("intermediateCatchEvent", "hostile_catch", "Hostile catch", tail=definition)


MESSAGE = '<bpmn:message id="probe_message" name="probe_message"/>'


def _dmn(input_expression: str = "amount", cell: str = "&gt; 0", output: str = "1", output_name: str = "route") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{DMN_NS}" id="probe_dmn" name="Probe" namespace="http://loanflow.example/dmn">
  <decision id="probe_decision" name="Probe decision">
    <decisionTable id="probe_table" hitPolicy="UNIQUE">
      <input id="probe_input" label="Amount">
        <inputExpression id="hostile_input_expression" typeRef="number"><text>{input_expression}</text></inputExpression>
      </input>
      <output id="hostile_output_column" label="Route" name={quoteattr(output_name)} typeRef="string"/>
      <rule id="probe_rule">
        <inputEntry id="hostile_cell"><text>{cell}</text></inputEntry>
        <outputEntry id="hostile_output"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""


RULES_TASK = _task("businessRuleTask", "hostile_rules", "Hostile rules",
                   "<bpmn:extensionElements><spiffworkflow:calledDecisionId>probe_decision"
                   "</spiffworkflow:calledDecisionId></bpmn:extensionElements>")


def diagram(where: str, text: str) -> dict[str, str]:
    """The files of a diagram that carries `text` at `where` (escaped for XML, as a modeler would)."""
    t = escape(text)
    a = quoteattr(text)
    bpmn = {
        "script": lambda: _bpmn(_script_task(t), "hostile_script"),
        "preScript": lambda: _bpmn(_task("serviceTask", "hostile_service", "Hostile service",
                                         f"<bpmn:extensionElements><spiffworkflow:preScript>{t}</spiffworkflow:preScript>"
                                         '<spiffworkflow:serviceTaskOperator id="intake.precheck"><spiffworkflow:parameters/>'
                                         "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"), "hostile_service"),
        "condition": lambda: _bpmn(_gateway(t), "hostile_gateway"),
        "timeDuration": lambda: _bpmn(_catch(f"<bpmn:timerEventDefinition><bpmn:timeDuration>{t}</bpmn:timeDuration>"
                                             "</bpmn:timerEventDefinition>"), "hostile_catch"),
        "timeDate": lambda: _bpmn(_catch(f"<bpmn:timerEventDefinition><bpmn:timeDate>{t}</bpmn:timeDate>"
                                         "</bpmn:timerEventDefinition>"), "hostile_catch"),
        "timeCycle": lambda: _bpmn(_catch(f"<bpmn:timerEventDefinition><bpmn:timeCycle>{t}</bpmn:timeCycle>"
                                          "</bpmn:timerEventDefinition>"), "hostile_catch"),
        "cardinality": lambda: _bpmn(_each(f"<bpmn:loopCardinality>{t}</bpmn:loopCardinality>"), "hostile_each"),
        "completion": lambda: _bpmn(_each("<bpmn:loopCardinality>3</bpmn:loopCardinality>"
                                          f"<bpmn:completionCondition>{t}</bpmn:completionCondition>"), "hostile_each"),
        "collection": lambda: _bpmn(_each(f"<bpmn:loopDataInputRef>{t}</bpmn:loopDataInputRef>"
                                          '<bpmn:inputDataItem id="item"/>'), "hostile_each"),
        "input_item": lambda: _bpmn(_each("<bpmn:loopCardinality>3</bpmn:loopCardinality>"
                                          f"<bpmn:inputDataItem id={a}/>"), "hostile_each"),
        "payload": lambda: _bpmn(_throw('<bpmn:messageEventDefinition messageRef="probe_message"><bpmn:extensionElements>'
                                        f"<spiffworkflow:messagePayload>{t}</spiffworkflow:messagePayload>"
                                        "</bpmn:extensionElements></bpmn:messageEventDefinition>"), "hostile_throw", MESSAGE),
        "correlation": lambda: _bpmn(
            _throw('<bpmn:messageEventDefinition messageRef="probe_message"><bpmn:extensionElements>'
                   "<spiffworkflow:messagePayload>{'customer': 'c1'}</spiffworkflow:messagePayload>"
                   "</bpmn:extensionElements></bpmn:messageEventDefinition>"), "hostile_throw",
            MESSAGE + '<bpmn:correlationProperty id="hostile_correlation" name="customer">'
            '<bpmn:correlationPropertyRetrievalExpression messageRef="probe_message">'
            f"<bpmn:formalExpression>{t}</bpmn:formalExpression>"
            "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"),
        "correlation_documentation": lambda: _bpmn(
            _throw('<bpmn:messageEventDefinition messageRef="probe_message"/>'), "hostile_throw",
            MESSAGE + '<bpmn:correlationProperty id="hostile_correlation" name="customer">'
            '<bpmn:correlationPropertyRetrievalExpression messageRef="probe_message">'
            f'<bpmn:documentation id="hidden_expression">{t}</bpmn:documentation>'
            "<bpmn:messagePath>customer</bpmn:messagePath>"
            "</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty>"),
        "messageVariable": lambda: _bpmn(_catch('<bpmn:messageEventDefinition messageRef="probe_message">'
                                                "<bpmn:extensionElements><spiffworkflow:messageVariable>"
                                                f"{t}</spiffworkflow:messageVariable></bpmn:extensionElements>"
                                                "</bpmn:messageEventDefinition>"), "hostile_catch", MESSAGE),
        "signal_payload": lambda: _bpmn(_throw('<bpmn:signalEventDefinition signalRef="hostile_signal"/>'), "hostile_throw",
                                        '<bpmn:signal id="hostile_signal" name="probe_signal"><bpmn:extensionElements>'
                                        f"<spiffworkflow:payloadExpression>{t}</spiffworkflow:payloadExpression>"
                                        "</bpmn:extensionElements></bpmn:signal>"),
        "variableName": lambda: _bpmn(_throw('<bpmn:signalEventDefinition signalRef="hostile_signal"/>'), "hostile_throw",
                                      '<bpmn:signal id="hostile_signal" name="probe_signal"><bpmn:extensionElements>'
                                      f"<spiffworkflow:variableName>{t}</spiffworkflow:variableName>"
                                      "</bpmn:extensionElements></bpmn:signal>"),
        "conditional": lambda: _bpmn(_catch(f"<bpmn:conditionalEventDefinition><bpmn:condition>{t}</bpmn:condition>"
                                            "</bpmn:conditionalEventDefinition>"), "hostile_catch"),
        "param": lambda: _bpmn(_task("serviceTask", "hostile_service", "Hostile service",
                                     '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="intake.precheck">'
                                     f'<spiffworkflow:parameters><spiffworkflow:parameter id="hostile_param" '
                                     f'type="any" value={a}/></spiffworkflow:parameters></spiffworkflow:serviceTaskOperator>'
                                     "</bpmn:extensionElements>"), "hostile_service"),
        "resultVariable": lambda: _bpmn(_task("serviceTask", "hostile_service", "Hostile service",
                                              '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="intake.precheck" '
                                              f'resultVariable={a}><spiffworkflow:parameters/>'
                                              "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"),
                                        "hostile_service"),
        "data_object": lambda: _bpmn(f"<bpmn:dataObject id={a}/>" + _script_task("visited = True"), "hostile_script"),
        "foreign_script": lambda: _bpmn(_task("scriptTask", "hostile_script", "Hostile script",
                                              tail=f'<probe:notascript xmlns:probe="urn:probe">{t}</probe:notascript>'
                                              "<bpmn:script>visited = True</bpmn:script>"), "hostile_script"),
    }
    dmn = {
        "dmn_input": lambda: _dmn(input_expression=t),
        "dmn_cell": lambda: _dmn(cell=t),
        "dmn_output": lambda: _dmn(output=t),
        "dmn_output_name": lambda: _dmn(output_name=text),
    }
    if where in dmn:
        return {"probe.bpmn": _bpmn(RULES_TASK, "hostile_rules"), "probe.dmn": dmn[where]()}
    return {"probe.bpmn": bpmn[where]()}


# The element a refusal names (the element holding the code), and the one an incident names (the
# task that was running it).
REFUSED_AT = {"script": "hostile_script", "preScript": "hostile_service", "condition": "hostile_flow",
              "timeDuration": "hostile_catch", "timeDate": "hostile_catch", "timeCycle": "hostile_catch",
              "cardinality": "hostile_each", "completion": "hostile_each", "collection": "hostile_each",
              "input_item": "hostile_each", "payload": "hostile_throw", "correlation": "hostile_correlation",
              "correlation_documentation": "hidden_expression", "messageVariable": "hostile_catch",
              "signal_payload": "hostile_signal", "variableName": "hostile_signal", "conditional": "hostile_catch",
              "param": "hostile_param", "resultVariable": "hostile_service", "data_object": "probe",
              "foreign_script": "hostile_script", "dmn_input": "hostile_input_expression", "dmn_cell": "hostile_cell",
              "dmn_output": "hostile_output", "dmn_output_name": "hostile_output_column"}
FAILS_AT = {"script": "hostile_script (Hostile script)", "preScript": "hostile_service (Hostile service)",
            "condition": "hostile_gateway (Hostile gateway)", "timeDuration": "hostile_catch (Hostile catch)",
            "timeDate": "hostile_catch (Hostile catch)", "timeCycle": "hostile_catch (Hostile catch)",
            "cardinality": "hostile_each", "completion": "hostile_each (Hostile each)",
            "payload": "hostile_throw (Hostile throw)", "correlation": "message correlation or completion condition",
            "signal_payload": "hostile_throw (Hostile throw)", "param": "hostile_service (Hostile service)",
            "dmn_input": "hostile_rules (Hostile rules)", "dmn_cell": "hostile_rules (Hostile rules)",
            "dmn_output": "hostile_rules (Hostile rules)"}


def refusals(files: dict[str, str]) -> list[str]:
    return [f"{p.file}: {p.reason}" for p in check_files(files, operations=OPERATIONS, forms=FORMS)]


# -- probes refused at deployment --------------------------------------------------------------
# (id, where, text, what the reason says after "<element>: line <n>: ")
DEEP = 70
REFUSED = [
    # The techniques of issue 7's first list.
    ("match-class-format-globals", "script",
     "match amount:\n    case Decimal(as_tuple=t):\n        pass\nmatch 'x':\n    case str(format=fmt):\n"
     "        leak = fmt('{0.__glo' + 'bals__[current_app].config[SECRET_KEY]}', check)",
     "match statements are not part of the script language"),
    ("format-globals-concatenated", "script", "leak = ('{0.__glo' + 'bals__[os].environ}').format(check)",
     "'.format()' is not a method of the script language"),
    ("shift-by-ten-billion", "script", "x = 1 << 10 ** 10", "this constant expression would exceed 4096 bits"),
    ("try-except-star", "script", "try:\n    x = 1\nexcept* ValueError:\n    pass", "try/except* is not part of"),
    ("timer-import-os", "timeDuration", "__import__('os').system('id')", "'__import__' is not a function"),
    # format / format_map walks
    ("format-map-walk", "script", "leak = '{x.real}'.format_map(applicant)", "'.format_map()' is not a method"),
    ("format-mro-walk", "script", "leak = '{0.__class__.__mro__}'.format(amount)", "text that looks like a dunder"),
    ("format-builtin-width", "script", "leak = format(amount, '>999999999')", "'format' is not a function"),
    ("fstring-nested-spec", "script", "leak = f'{amount:{width}}'", "f-string format specs are limited"),
    ("fstring-huge-width", "script", "leak = f'{amount:>999999999}'", "f-string format specs are limited"),
    ("fstring-conversion", "script", "leak = f'{applicant!r}'", "f-string conversions (!r, !s, !a)"),
    ("fstring-attribute-walk", "script", "leak = f'{amount.__class__}'", "the attribute '.__class__'"),
    ("format-method-reference", "script", "fmt = 'x'.format", "the attribute '.format' is not part"),
    # frames, generators, coroutines
    ("generator-frame", "script", "g = (c for c in codes)\nf = g.gi_frame", "the attribute '.gi_frame'"),
    ("frame-globals", "script", "g = (c for c in codes)\nf = g.gi_frame.f_globals", "the attribute '.f_globals'"),
    ("frame-back", "script", "g = (c for c in codes)\nf = g.gi_frame.f_back", "the attribute '.f_back'"),
    ("traceback-frame", "script", "t = amount.__traceback__.tb_frame", "the attribute '.tb_frame'"),
    ("generator-code", "script", "g = (c for c in codes)\nc = g.gi_code", "the attribute '.gi_code'"),
    ("generator-send", "script", "g = (c for c in codes)\ng.send(None)", "'.send()' is not a method"),
    ("generator-throw", "script", "g = (c for c in codes)\ng.throw(ValueError)", "'.throw()' is not a method"),
    ("yield", "script", "yield amount", "generators are not part of the script language"),
    ("async-def", "script", "async def f():\n    await g()", "defining functions is not part"),
    ("async-for", "script", "async for c in codes:\n    pass", "async code is not part of the script language"),
    ("async-comprehension", "script", "x = [c async for c in codes]", "async code is not part of the script language"),
    ("await", "script", "x = await amount", "async code is not part of the script language"),
    ("coroutine-frame", "script", "f = amount.cr_frame.f_locals", "the attribute '.cr_frame'"),
    # match, of every pattern kind
    ("match-value", "script", "match grade:\n    case 'A':\n        x = 1", "match statements"),
    ("match-mapping", "script", "match applicant:\n    case {'name': n}:\n        x = n", "match statements"),
    ("match-sequence-star", "script", "match codes:\n    case [a, *rest]:\n        x = rest", "match statements"),
    ("match-or-as", "script", "match grade:\n    case ('A' | 'B') as g:\n        x = g", "match statements"),
    ("match-guard", "script", "match amount:\n    case _ if amount > 0:\n        x = 1", "match statements"),
    ("match-singleton", "script", "match amount:\n    case None:\n        x = 1", "match statements"),
    ("match-capture", "script", "match applicant:\n    case whole:\n        x = whole", "match statements"),
    # walrus, decorators, lambda, classes
    ("walrus-comprehension", "script", "x = [(y := c) for c in codes]", "the walrus operator := is not part"),
    ("walrus-if", "script", "if (k := len(codes)) > 1:\n    x = k", "the walrus operator"),
    ("walrus-condition", "condition", "(k := amount) > 0", "the walrus operator"),
    ("decorator", "script", "@property\ndef f():\n    return 1", "defining functions is not part"),
    ("lambda-default", "script", "f = (lambda x=open: x)", "lambda is not part of the script language"),
    ("lambda-in-key", "script", "x = sorted(codes, key=lambda c: c.__class__)", "lambda is not part"),
    ("class", "script", "class A:\n    pass", "classes are not part of the script language"),
    ("global", "script", "global amount", "global is not part"),
    ("import-from", "script", "from os import environ", "imports are not part of the script language"),
    # building dunder names as text
    ("dunder-concatenated-getattr", "script", "name = '__cla' + 'ss__'\nv = getattr(amount, name)",
     "'getattr' is not a function"),
    ("dunder-joined-vars", "script", "name = ''.join(['_', '_', 'dict', '_', '_'])\nv = vars(amount)[name]",
     "'vars' is not a function"),
    ("dunder-chr", "script", "name = chr(95) * 2 + 'import' + chr(95) * 2", "'chr' is not a function"),
    ("dunder-reversed-text", "script", "name = '__tropmi__'[::-1]", "text that looks like a dunder name"),
    ("dunder-escaped-text", "script", "name = '\\x5f\\x5fimport\\x5f\\x5f'", "text that looks like a dunder name"),
    ("dunder-fstring-globals", "script", "name = f'{\"_\" * 2}import{\"_\" * 2}'\nf = globals()[name]",
     "'globals' is not a function"),
    ("dunder-bytes", "script", "name = b'__import__'.decode()", "bytes literals are not part"),
    # NFKC look-alikes: Python folds them to the ASCII names they imitate
    ("nfkc-fullwidth-import", "script", "x = _＿import＿＿('os')", "names may not start with '_'"),
    ("nfkc-bold-eval", "script", "x = 𝐞𝐯𝐚𝐥('1')", "'eval' is not a function"),
    ("nfkc-script-open", "script", "x = 𝓸𝓹𝓮𝓷('/etc/passwd')", "'open' is not a function"),
    ("nfkc-fullwidth-attribute", "script", "x = 'a'.ｆｏｒｍａｔ", "the attribute '.format'"),
    ("nfkc-fullwidth-breakpoint", "script", "ｂｒｅａｋｐｏｉｎｔ()", "'breakpoint' is not a function"),
    # builtins by name
    ("builtin-type", "script", "t = type(amount)", "'type' is not a function"),
    ("builtin-object-subclasses", "script", "s = object.__subclasses__()", "is not a method"),
    ("builtin-super", "script", "s = super()", "'super' is not a function"),
    ("builtin-vars", "script", "v = vars()", "'vars' is not a function"),
    ("builtin-dir", "script", "d = dir(amount)", "'dir' is not a function"),
    ("builtin-globals", "script", "g = globals()", "'globals' is not a function"),
    ("builtin-getattr", "script", "g = getattr(amount, 'real')", "'getattr' is not a function"),
    ("builtin-builtins", "script", "b = __builtins__", "names may not start with '_'"),
    ("builtin-guards", "script", "g = __sb__", "names may not start with '_'"),
    ("builtin-breakpoint", "script", "breakpoint()", "'breakpoint' is not a function"),
    ("builtin-print", "script", "print(applicant)", "'print' is not a function"),
    ("builtin-help", "script", "help()", "'help' is not a function"),
    ("builtin-input", "script", "x = input()", "'input' is not a function"),
    ("builtin-exec", "script", "exec('import os')", "'exec' is not a function"),
    ("builtin-open", "script", "x = open('/proc/self/environ').read()", "'open' is not a function"),
    ("constant-called", "script", "x = True()", "only builtins and listed methods can be called"),
    ("builtin-rebound", "script", "len = print", "'len' is a builtin of the script language"),
    # attributes of type objects
    ("type-str-format", "script", "f = str.format", "the attribute '.format'"),
    ("type-decimal-dict", "script", "d = Decimal.__dict__", "the attribute '.__dict__'"),
    ("type-date-today", "script", "t = date.today()", "'.today()' is not a method"),
    ("type-datetime-now", "script", "t = datetime.now()", "'.now()' is not a method"),
    ("type-datetime-max", "script", "t = datetime.max", "the attribute '.max'"),
    ("type-float-fromhex", "script", "f = float.fromhex('0x1p1000')", "'.fromhex()' is not a method"),
    ("tzinfo-attribute", "script", "tz = datetime.now().tzinfo", "the attribute '.tzinfo'"),
    # exceptions that could swallow the sandbox's own errors
    ("try-except", "script", "try:\n    x = 'a' * n\nexcept Exception:\n    x = 1", "try/except is not part"),
    ("try-finally", "script", "try:\n    x = 'a' * n\nfinally:\n    x = 1", "try/except is not part"),
    ("with-block", "script", "with open('x') as f:\n    pass", "with blocks are not part"),
    ("raise", "script", "raise SystemExit", "raise is not part"),
    ("assert", "script", "assert amount", "assert is not part"),
    ("while", "script", "while True:\n    pass", "while loops are not allowed"),
    # huge constants, deep nesting
    ("power-tower", "script", "x = 10 ** 10 ** 10", "this constant expression would exceed 4096 bits"),
    ("huge-literal", "script", "x = " + "9" * 1500, "the number literal is larger than 4096 bits"),
    ("nested-parentheses", "script", "x = " + "(" * 250 + "1" + ")" * 250, "syntax error"),
    ("unary-minus-chain", "script", "x = " + "-" * 1000 + "1", "levels deep; at most 60"),
    ("nested-lists", "script", "x = " + "[" * DEEP + "]" * DEEP, "levels deep; at most 60"),
    ("nested-dicts", "script", "x = " + "{'a': " * DEEP + "1" + "}" * DEEP, "levels deep; at most 60"),
    ("nested-ifs", "script", "".join(" " * i + "if amount:\n" for i in range(DEEP)) + " " * DEEP + "pass",
     "levels deep; at most 60"),
    ("long-chained-comparison", "script", "x = " + " < ".join(["amount"] * 3000), "longer than 20000 characters"),
    ("star-doubling", "script", "x = [*codes, *codes]", "'*' unpacking is allowed in calls"),
    # expressions do not change task data
    ("condition-mutates", "condition", "applicant.update({'grade': float('nan')}) or True",
     "an expression cannot change task data"),
    ("param-mutates", "param", "codes.extend(codes) or 1", "an expression cannot change task data"),
    # every other place that holds code
    ("precheck-import", "preScript", "import os", "imports are not part"),
    ("condition-dunder", "condition", "amount.__class__ is not None", "the attribute '.__class__'"),
    ("timer-date-import", "timeDate", "__import__('datetime')", "'__import__' is not a function"),
    ("timer-months-forever", "timeDuration", "'P999999999M'", "is not a valid ISO-8601 timer"),
    ("timer-years", "timeDuration", "'P99999Y'", "is not a valid ISO-8601 timer"),
    ("timer-cycle-forever", "timeCycle", "'R/P99999999M'", "is not a valid ISO-8601 timer"),
    ("timer-date-garbage", "timeDate", "'the day after tomorrow'", "is not a valid ISO-8601 timer"),
    ("timer-date-before-year-one", "timeDate", "'0001-01-01T00:00:00'", "is not a valid ISO-8601 timer"),
    ("timer-cycle-past-year-9999", "timeCycle", "'R5/9999-12-31T23:00:00/P999Y'", "is not a valid ISO-8601 timer"),
    ("cardinality-open", "cardinality", "len(open('/etc/passwd').read())", "'open' is not a function"),
    ("cardinality-million", "cardinality", "1000000", "runs 0 to 100 instances"),
    ("completion-import", "completion", "__import__('os') is None", "'__import__' is not a function"),
    ("payload-environ", "payload", "{'env': __import__('os').environ}", "'__import__' is not a function"),
    ("correlation-environ", "correlation", "__import__('os').environ['HOME']", "'__import__' is not a function"),
    ("correlation-first-child", "correlation_documentation", "__import__('os')", "'__import__' is not a function"),
    ("signal-payload-import", "signal_payload", "__import__('os')", "'__import__' is not a function"),
    ("conditional-event-import", "conditional", "__import__('os') is None", "'__import__' is not a function"),
    ("param-environ", "param", "__import__('os').environ", "'__import__' is not a function"),
    ("param-open", "param", "open('/proc/self/environ').read()", "'open' is not a function"),
    ("foreign-script-element", "foreign_script", "import os", "imports are not part"),
    ("dmn-cell-import", "dmn_cell", "__import__('os')", "'__import__' is not a function"),
    ("dmn-cell-placeholder-dunder", "dmn_cell", "? in ().__class__.__bases__", "the attribute '.__class__'"),
    ("dmn-cell-many-placeholders", "dmn_cell", "[" + "?, " * 50 + "]", "may use '?' at most 10 times"),
    ("dmn-input-walk", "dmn_input", "[].__class__", "the attribute '.__class__'"),
    ("dmn-output-open", "dmn_output", "open('/etc/passwd').read()", "'open' is not a function"),
]
# (id, where, name, what the reason says after "<element>: ")
REFUSED_NAMES = [
    ("message-variable-builtins", "messageVariable", "__builtins__", "is not a usable variable name"),
    ("message-variable-guards", "messageVariable", "__sb__", "is not a usable variable name"),
    ("result-variable-builtins", "resultVariable", "__builtins__", "is not a usable variable name"),
    ("signal-variable-guards", "variableName", "__sb__", "is not a usable variable name"),
    ("dmn-output-guards", "dmn_output_name", "__sb__", "is not a usable variable name"),
    ("dmn-output-dotted", "dmn_output_name", "a." * 900 + "b", "is not a usable variable name"),
    ("data-object-guards", "data_object", "__sb__", "is not a usable variable name"),
    ("input-item-builtins", "input_item", "__builtins__", "is not a usable variable name"),
    ("collection-instances", "collection", "codes", "multi-instance over a collection"),
]


@pytest.mark.parametrize("where, text, reason", [p[1:] for p in REFUSED], ids=[p[0] for p in REFUSED])
def test_a_hostile_expression_is_refused_at_deployment_naming_the_element_and_the_line(where, text, reason):
    problems = refusals(diagram(where, text))
    named = [p for p in problems if re.search(rf": {REFUSED_AT[where]}: line \d+: ", p)]
    assert any(reason in p for p in named), problems


@pytest.mark.parametrize("where, name, reason", [p[1:] for p in REFUSED_NAMES], ids=[p[0] for p in REFUSED_NAMES])
def test_a_hostile_variable_name_is_refused_at_deployment_naming_the_element(where, name, reason):
    problems = refusals(diagram(where, name))
    assert any(f": {REFUSED_AT[where]}: " in p and reason in p for p in problems), problems


# -- probes contained at run time ----------------------------------------------------------------
def task_data(**extra) -> dict:
    """What an application's instance holds, plus what a probe needs (as if a handler put it there)."""
    return {"amount": Decimal("300000.00"), "n": 10 ** 9, "grade": "B", "codes": ["W001", "R9"],
            "applicant": {"name": "张三", "village": "A"}, "start": "2026-12-01", **extra}


def deep(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels):
        value = {"inner": value}
    return value


A_LONG_TEXT = "s = 'a' * 100000\n"
COLLIDING = "l = [i * 2305843009213693951 for i in range(100000)]\n"  # multiples of 2**61 - 1
BUDGET = "the script built more than 10,000,000 characters and items in all|time budget"
# (id, where, text, a regular expression the reason matches, extra task data)
CONTAINED = [
    # The techniques of issue 7's first list that pass the check.
    ("ljust-ten-billion", "script", "x = 'a'.ljust(10 ** 10)", "text can be padded to at most 100,000", {}),
    ("power-chain", "script", "x = 7\nfor i in range(10):\n    x = x ** 64", "more than 4096 bits", {}),
    ("shift-by-task-data", "script", "x = 1 << n", "more than 4096 bits", {}),
    ("tzinfo-from-task-data", "script", "d = datetime(2026, 1, 1, tzinfo=applicant['village'])",
     "tzinfo argument must be None or of a tzinfo subclass", {}),
    ("tzinfo-replaced", "script", "d = datetime(2026, 1, 1).replace(tzinfo=None)", r"replace\(\) does not take tzinfo=",
     {}),
    ("timer-computed-forever", "timeDuration", "'P' + str(n) + 'M'", "is not a valid ISO-8601 timer", {}),
    # huge allocations
    ("repeat-text", "script", "x = 'a' * n", "the text would have 1,000,000,000 characters", {}),
    ("repeat-list", "script", "x = [0] * n", "the list would have 1,000,000,000 items", {}),
    ("zfill", "script", "x = 'a'.zfill(n)", "text can be padded to at most", {}),
    ("center", "script", "x = 'a'.center(n, '*')", "text can be padded to at most", {}),
    ("replace-growth", "script", "x = ('a' * 1000).replace('a', 'a' * 1000)", "the text would have 1,000,000", {}),
    ("join-growth", "script", A_LONG_TEXT + "x = s.join([s, s])", "the text would have", {}),
    ("fstring-growth", "script", A_LONG_TEXT + "x = f'{s}{s}'", "the text would have 200,000 characters", {}),
    ("extend-doubling", "script", "x = [0]\nfor i in range(30):\n    x.extend(x)", "the list would have", {}),
    ("comprehension-growth", "script", "x = [i for i in range(100000) for j in range(100000)]", "loop steps", {}),
    ("nested-list", "script", "a = [1]\nb = [a, a]", "a list cannot be put inside", {}),
    ("shared-reference-dag-compared", "script", "a = [1]\nfor i in range(40):\n    a = [a, a]\nx = a == a",
     "a list cannot be put inside", {}),
    ("shared-reference-dag-hashed", "script", "a = (1,)\nfor i in range(40):\n    a = (a, a)\nh = {a}",
     "a tuple cannot be put inside", {}),
    ("dict-kwargs-nesting", "script", "d = dict(**{'k': codes})", "a list cannot be put inside", {}),
    ("dict-kwargs-copies", "script", "d = {str(i): i for i in range(100000)}\n"
     + "".join(f"c{i} = dict(**d)\n" for i in range(150)), BUDGET, {}),
    ("dict-copies", "script", "d = {str(i): i for i in range(100000)}\n"
     + "".join(f"c{i} = d.copy()\n" for i in range(150)), BUDGET, {}),
    ("dict-unpacking-copies", "script", "d = {str(i): i for i in range(100000)}\n"
     + "".join(f"c{i} = {{**d}}\n" for i in range(150)), BUDGET, {}),
    ("slice-copies", "script", A_LONG_TEXT + "x = [s[1:] for i in range(100000)]", BUDGET, {}),
    ("split-pieces", "script", "s = 'a' * 99999 + 'b'\nx = [s.split('b')[0] for i in range(100000)]", BUDGET, {}),
    ("partition-pieces", "script", "s = 'a' * 99999 + 'b'\nx = [s.partition('b')[0] for i in range(100000)]",
     BUDGET, {}),
    ("set-union-of-long-texts", "script", A_LONG_TEXT + "l = [s] * 100000\nx = set().union(*l)",
     "the set would have 200,000 items", {}),
    ("set-intersection-of-long-texts", "script", A_LONG_TEXT + "l = [s] * 100000\nx = {'a'}.intersection(*l)",
     BUDGET, {}),
    # numbers built to share one hash bucket: 100,000 of them are 5 * 10**9 probes in one C call
    ("hash-collisions-set", "script", COLLIDING + "s = set(l)", "cannot be a set member or a dict key", {}),
    ("hash-collisions-union", "script", COLLIDING + "s = set().union(l)", "cannot be a set member or a dict key", {}),
    ("hash-collisions-dict-keys", "script", COLLIDING + "d = {k: 1 for k in l}", "cannot be a set member or a dict key",
     {}),
    ("hash-collisions-decimals", "script", "s = {Decimal('2305843009213693951') * i for i in range(100000)}",
     "cannot be a set member or a dict key", {}),
    ("hash-collisions-from-task-data", "script", "s = set(outside)", "cannot be a set member or a dict key",
     {"outside": [i * (2 ** 61 - 1) for i in range(1000)]}),
    ("hash-collisions-dict-pairs", "script", "d = dict(outside)", "cannot be a set member or a dict key",
     {"outside": [[i * (2 ** 61 - 1), i] for i in range(1000)]}),
    # texts that grow, task data that saves huge, and what a failed script leaves
    ("upper-growth", "script", "x = ('ß' * 100000).upper()", "the text would have 200,000 characters", {}),
    ("casefold-growth", "script", "x = ('ﬃ' * 50000).upper()", "the text would have 150,000 characters", {}),
    ("stored-shared-text", "script", A_LONG_TEXT + "l = [s] * 100000",
     "the task data would hold more than 500,000 characters", {}),
    ("stored-shared-dict", "script", "d = {str(i): i for i in range(100000)}\na = d\nb = d\nc = d",
     "the task data would hold more than 50,000 values", {}),
    ("built-then-failed", "script", A_LONG_TEXT + "l = [s] * 100000\nx = 1 / 0", "division by zero", {}),
    ("bloated-in-place-then-failed", "script",
     A_LONG_TEXT + "for i in range(99000):\n    applicant[str(i)] = s\nx = 1 / 0", "division by zero", {}),
    # chains of lazy iterators: the C stack recursed through each when the last was consumed (a segfault)
    ("generator-chain", "script", "g = (c for c in codes)\nfor i in range(99990):\n    g = (c for c in g)\nx = list(g)",
     "a generator expression cannot be looped over again", {}),
    ("enumerate-chain", "script", "g = enumerate(codes)\nfor i in range(99990):\n    g = enumerate(g)\nx = list(g)",
     "enumerate\\(\\) takes a list, text, tuple, dict, set or range, not a enumerate", {}),
    ("generator-enumerate-chain", "script",
     "g = (c for c in codes)\nfor i in range(99990):\n    g = (x for x in enumerate(g))\nx = list(g)",
     "enumerate\\(\\) takes a list, text, tuple, dict, set or range, not a generator", {}),
    # Which limit stops these first depends on the machine's speed (on a loaded one the time budget
    # ends the loop before the value is stored or compared); either way it is a contained incident.
    ("nesting-by-enumerate", "script", "x = [1]\nfor i in range(99000):\n    x = list(enumerate(x))",
     "nested more than 20 levels deep|longer than its time budget", {}),
    ("deep-comparison", "script", "x = [1]\nz = [1]\nfor i in range(49000):\n    x = list(enumerate(x))\n"
     "    z = list(enumerate(z))\ny = x == z", "values nested too deeply|longer than its time budget", {}),
    # huge exponents and shifts
    ("power-by-task-data", "script", "x = 7 ** n", "more than 4096 bits", {}),
    ("decimal-power", "script", "x = Decimal(10) ** 999999", "invalid decimal operation", {}),
    ("decimal-square-round", "script", "x = round(Decimal('1e999') * Decimal('1e999'))",
     "invalid decimal operation", {}),
    ("decimal-from-text", "script", "x = int(Decimal('1e999999999'))", "exponent is beyond", {}),
    ("decimal-round-from-outside", "script", "x = round(outside)", "more than 4096 bits",
     {"outside": Decimal("1e999999")}),
    ("decimal-int-from-outside", "script", "x = int(outside)", "more than 4096 bits", {"outside": Decimal("1e999999")}),
    ("decimal-written-out", "script", "x = f'{outside:f}'", "too large to write out", {"outside": Decimal("1e999999")}),
    ("decimal-zeros-written-out", "script", "x = f'{outside:f}'", "too many digits to write out",
     {"outside": Decimal("1e-999999999")}),
    ("decimal-arithmetic-from-outside", "script", "x = outside * 10", "invalid decimal operation",
     {"outside": Decimal("1e999999")}),
    ("float-overflow", "script", "x = 2.0 ** n", "OverflowError", {}),
    ("float-infinity-int", "script", "x = int(float('1e308') * 10)", "more than 4096 bits", {}),
    ("round-far-left", "script", "x = round(amount, -10 ** 9)", "round\\(\\) takes at most 30 digits", {}),
    ("int-from-long-text", "script", "x = int('9' * 5000)", "the text is too long to be a number", {}),
    ("doubling-by-addition", "script", "x = 3\nfor i in range(20000):\n    x = x + x", "more than 4096 bits", {}),
    ("doubling-by-subtraction", "script", "x = 3\nfor i in range(20000):\n    x = x - -x", "more than 4096 bits", {}),
    ("nan-kept", "script", "x = float('nan')", "not a finite number", {}),
    # exceptions cannot swallow the sandbox's errors
    ("limit-inside-any", "script", "ok = any('a' * n for i in range(3))", "the text would have", {}),
    ("limit-inside-default", "script", "x = min([], default='a' * n)", "the text would have", {}),
    ("percent-formatting", "script", "x = '%(a)s' % {'a': amount}", "use an f-string", {}),
    ("percent-c-dunder", "script", "x = '%c%c' % (95, 95)", "use an f-string", {}),
    ("long-missing-key", "script", "x = applicant['k' * 100000]", "no key 'kkkk", {}),
    ("long-key-in-the-reason", "script", "d = {'k' * 100000: float('nan')}", "^.{0,1000}$", {}),
    ("replace-builds-dunder", "script", "name = 'XXimportXX'.replace('X', '_')\nx = applicant[name]",
     "no key '__import__'", {}),
    # attributes of type objects
    ("type-method-on-type", "script", "x = float.is_integer(1.0)", "'.is_integer\\(\\)' is not available on a type", {}),
    ("type-replace-on-type", "script", "x = date.replace(to_date(start), year=1)", "is not available on a type", {}),
    ("type-upper-on-type", "script", "x = str.upper('a')", "is not available on a function", {}),
    ("str-of-list", "script", "x = str(codes)", "str\\(\\) of a list is not available", {}),
    ("unknown-name-timezone", "script", "d = datetime(2026, 1, 1, tzinfo=utc)", "unknown name 'utc'", {}),
    ("deep-data-kept", "script", "kept = deep", "nested more than 20 levels", {"deep": deep(30)}),
    ("surrogate-kept", "script", "x = '\\ud800'", "lone surrogate", {}),
    # every other place that holds code
    ("condition-repeat", "condition", "'a' * n == amount", "the text would have", {}),
    ("prescript-repeat", "preScript", "x = 'a' * n", "the text would have", {}),
    ("timer-not-text", "timeDuration", "applicant", "a timer expression must give text", {}),
    ("timer-garbage", "timeDate", "'garbage' + grade", "is not a valid ISO-8601 timer", {}),
    ("timer-date-computed-before-year-one", "timeDate", "'0001-01-01T00:00:' + '00'", "is not a valid ISO-8601 timer", {}),
    ("timer-cycle-computed", "timeCycle", "'R/P' + str(n) + 'M'", "is not a valid ISO-8601 timer", {}),
    ("cardinality-billion", "cardinality", "n", "runs 0 to 100 instances; its loopCardinality gave 1,000,000,000", {}),
    ("cardinality-text", "cardinality", "grade", "its loopCardinality gave a text", {}),
    ("completion-repeat", "completion", "'a' * n == grade", "the text would have", {}),
    ("payload-ten-gigabytes", "payload", "['a' * 100000] * 100000",
     "the task data would hold more than 500,000 characters", {}),
    ("payload-infinite", "payload", "{'x': float('inf')}", "not a finite number", {}),
    ("correlation-unknown-name", "correlation", "missing_name", "unknown name 'missing_name'", {}),
    ("signal-payload-nan", "signal_payload", "float('nan')", "not a finite number", {}),
    ("param-repeat", "param", "'a' * n", "the text would have", {}),
    ("dmn-input-repeat", "dmn_input", "'a' * n", "the text would have", {}),
    ("dmn-cell-repeat", "dmn_cell", "'a' * n", "the text would have", {}),
    ("dmn-cell-placeholder-repeat", "dmn_cell", "str(?) * n == 'a'", "the text would have", {}),
    ("dmn-output-ten-gigabytes", "dmn_output", "['a' * 100000] * 100000",
     "the task data would hold more than 500,000 characters", {}),
    ("dmn-output-set", "dmn_output", "{1, 2}", "is a set, which task data cannot hold", {}),
    ("dmn-output-nan", "dmn_output", "float('nan')", "not a finite number", {}),
]


def run_probe(files: dict[str, str], data: dict) -> tuple[str | None, str]:
    """Run a diagram as an instance's advance does; the incident (None if none) and the state that
    the save would write."""
    spec, subprocesses = parse_set(files).specs_for("probe")
    engine = LoanScriptEngine()
    workflow = BpmnWorkflow(spec, subprocesses, script_engine=engine)
    workflow.get_next_task().data.update(data)
    incident = None
    try:
        engine.run_engine_steps(workflow)
    except Exception as err:  # what InstanceRunner.advance turns into the incident
        incident = _describe(err)
    return incident, make_serializer().serialize_json(workflow)


def assert_contained(incident: str | None, state: str, element: str, reason: str) -> None:
    assert incident is not None, "the probe ran to the end"
    assert incident.startswith(f"{element}: "), incident
    assert re.search(reason, incident), incident
    for leak in ("Traceback", "Error evaluating", 'File "', str(ROOT), "site-packages", CANARY):
        assert leak not in incident, incident
    assert len(state) < MAX_SAVED_STATE, f"the saved state would be {len(state):,} characters"


@pytest.fixture
def canary(monkeypatch):
    monkeypatch.setenv("LOANFLOW_CANARY", CANARY)


@pytest.mark.parametrize("where, text, reason, extra", [p[1:] for p in CONTAINED], ids=[p[0] for p in CONTAINED])
def test_a_hostile_expression_that_deploys_stops_in_a_contained_incident(canary, where, text, reason, extra):
    files = diagram(where, text)
    assert refusals(files) == []
    incident, state = run_probe(files, task_data(**extra))
    assert_contained(incident, state, FAILS_AT[where], reason)
    assert text[:300] in incident.split(" — in: ", 1)[1]  # a DMN cell shows inside `(input) == (cell)`


@pytest.mark.parametrize("value", [dt.timezone.utc, {1, 2}, float("nan"), Decimal("1e999999"), 2 ** 5000, "\ud800"],
                         ids=["tzinfo", "set", "nan", "huge-decimal", "huge-int", "lone-surrogate"])
def test_a_value_the_serializer_cannot_store_is_refused_where_a_script_leaves_it(value):
    """As if a handler had put it in the task data: the next script is refused, naming it."""
    with pytest.raises(ScriptRefused, match="'outside"):
        run_sandboxed("kept = 1", "exec", {"outside": value})


# -- diagrams that never wait: no expression fails, the process is bounded -----------------------
LOOP_BACK = _bpmn(
    '<bpmn:scriptTask id="spin" name="Spin"><bpmn:incoming>to_probe</bpmn:incoming><bpmn:incoming>again</bpmn:incoming>'
    "<bpmn:outgoing>to_gateway</bpmn:outgoing><bpmn:script>turns = turns + 1</bpmn:script></bpmn:scriptTask>"
    '<bpmn:exclusiveGateway id="once_more" default="to_end"><bpmn:incoming>to_gateway</bpmn:incoming>'
    "<bpmn:outgoing>again</bpmn:outgoing><bpmn:outgoing>to_end</bpmn:outgoing></bpmn:exclusiveGateway>"
    '<bpmn:sequenceFlow id="to_gateway" sourceRef="spin" targetRef="once_more"/>'
    '<bpmn:sequenceFlow id="again" sourceRef="once_more" targetRef="spin"><bpmn:conditionExpression>True'
    "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    '<bpmn:sequenceFlow id="to_end" sourceRef="once_more" targetRef="end"/>', "spin")
SELF_FEEDING_FORK = _bpmn(
    '<bpmn:exclusiveGateway id="merge"><bpmn:incoming>to_probe</bpmn:incoming><bpmn:incoming>left</bpmn:incoming>'
    '<bpmn:incoming>right</bpmn:incoming><bpmn:outgoing>to_fork</bpmn:outgoing></bpmn:exclusiveGateway>'
    '<bpmn:parallelGateway id="fork"><bpmn:incoming>to_fork</bpmn:incoming><bpmn:outgoing>left</bpmn:outgoing>'
    '<bpmn:outgoing>right</bpmn:outgoing></bpmn:parallelGateway>'
    '<bpmn:sequenceFlow id="to_fork" sourceRef="merge" targetRef="fork"/>'
    '<bpmn:sequenceFlow id="left" sourceRef="fork" targetRef="merge"/>'
    '<bpmn:sequenceFlow id="right" sourceRef="fork" targetRef="merge"/>'
    '<bpmn:endEvent id="unreached"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>', "merge").replace(
    '<bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>', "")
STANDARD_LOOP = _bpmn(_task("scriptTask", "spin", "Spin", tail='<bpmn:standardLoopCharacteristics loopMaximum="1000000000">'
                           "<bpmn:loopCondition>True</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"
                           "<bpmn:script>turns = turns + 1</bpmn:script>"), "spin")
CALLS_ITSELF = _bpmn(_task("callActivity", "again", "Again", attributes=' calledElement="probe"'), "again")
COSTLY = "sum(range(99999)) < 0"  # ~40 ms within its own budget, again and again in one step
MANY_CONDITIONS = _bpmn(
    '<bpmn:exclusiveGateway id="many_ways" name="Many ways" default="to_end"><bpmn:incoming>to_probe</bpmn:incoming>'
    + "".join(f"<bpmn:outgoing>way_{i}</bpmn:outgoing>" for i in range(300)) + "<bpmn:outgoing>to_end</bpmn:outgoing>"
    "</bpmn:exclusiveGateway>" + "".join(
        f'<bpmn:sequenceFlow id="way_{i}" sourceRef="many_ways" targetRef="end"><bpmn:conditionExpression>'
        f"{escape(COSTLY)}</bpmn:conditionExpression></bpmn:sequenceFlow>" for i in range(300))
    + '<bpmn:sequenceFlow id="to_end" sourceRef="many_ways" targetRef="end"/>', "many_ways").replace(
    "<bpmn:incoming>to_end</bpmn:incoming>", "<bpmn:incoming>to_end</bpmn:incoming>"
    + "".join(f"<bpmn:incoming>way_{i}</bpmn:incoming>" for i in range(300)))
MANY_ROWS = _dmn(cell=escape(f"{COSTLY} or ? < 0")).replace(
    '<rule id="probe_rule">', "".join(f'<rule id="row_{i}"><inputEntry id="cell_{i}"><text>{escape(COSTLY)} or ? &lt; 0'
                                      f'</text></inputEntry><outputEntry id="out_{i}"><text>1</text></outputEntry></rule>'
                                      for i in range(200)) + '<rule id="probe_rule">')
PROCESSES = [("loop-back-to-a-script", LOOP_BACK), ("parallel-fork-feeding-itself", SELF_FEEDING_FORK),
             ("call-activity-calling-its-own-process", CALLS_ITSELF),
             ("standard-loop-a-billion-times", STANDARD_LOOP),
             ("gateway-with-300-costly-conditions", MANY_CONDITIONS),
             ("dmn-table-with-200-costly-rows", {"probe.bpmn": _bpmn(RULES_TASK, "hostile_rules"), "probe.dmn": MANY_ROWS})]


@pytest.mark.parametrize("xml", [p[1] for p in PROCESSES], ids=[p[0] for p in PROCESSES])
def test_a_process_that_never_waits_or_a_step_that_evaluates_too_much_stops_in_an_incident(xml):
    files = xml if isinstance(xml, dict) else {"probe.bpmn": xml}
    assert refusals(files) == []
    incident, state = run_probe(files, task_data(turns=0))
    assert incident is not None and "without waiting for a person, a message or a timer" in incident, incident
    assert re.match(r"^[a-z_]+( \([^)]+\))?: the process ran", incident), incident
    assert len(state) < 20 * MAX_SAVED_STATE


# -- XML-level tricks ------------------------------------------------------------------------------
PLAIN = diagram("script", "visited = True")["probe.bpmn"]
DEFINITIONS_OPEN = f'<bpmn:definitions xmlns:bpmn="{BPMN_NS}" id="d" targetNamespace="t">'
XML_PROBES = [
    ("doctype-billion-laughs",
     '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>' + DEFINITIONS_OPEN + "&c;</bpmn:definitions>",
     "DOCTYPE and ENTITY declarations are not accepted"),
    ("doctype-external-file",
     '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + DEFINITIONS_OPEN
     + "&x;</bpmn:definitions>", "DOCTYPE and ENTITY declarations are not accepted"),
    ("doctype-utf7",
     '<?xml version="1.0" encoding="UTF-7"?>+ADw-+ACE-DOCTYPE d +AFs-+ADw-+ACE-ENTITY x SYSTEM '
     '+ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-' + DEFINITIONS_OPEN + "&x;</bpmn:definitions>",
     "not well-formed XML"),
    ("xinclude", PLAIN.replace("<bpmn:process ", '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                                'href="file:///etc/passwd" parse="text"/><bpmn:process ', 1),
     "XInclude is not accepted"),
    ("xinclude-in-extension", PLAIN.replace("<bpmn:script>", "<bpmn:extensionElements><xi:include "
                                            'xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd" '
                                            'parse="text"/></bpmn:extensionElements><bpmn:script>', 1),
     "XInclude is not accepted"),
    ("huge-file", PLAIN.replace("<bpmn:process ", "<!--" + "x" * 2_100_000 + "--><bpmn:process ", 1),
     "file is larger than 2000000 bytes"),
    ("deeply-nested-xml", PLAIN.replace("<bpmn:script>", "<bpmn:extensionElements>" + "<p:x xmlns:p='urn:p'>" * 300
                                        + "</p:x>" * 300 + "</bpmn:extensionElements><bpmn:script>", 1),
     "not well-formed XML"),
    ("comment-hides-code", PLAIN.replace("visited = True", "visited = True\n<!-- a note -->import os"),
     "hostile_script: line 2: imports are not part"),
    ("cdata-hides-code", PLAIN.replace("visited = True", "<![CDATA[import os]]>"),
     "hostile_script: line 1: imports are not part"),
    ("processing-instruction-hides-code", PLAIN.replace("visited = True", "visited = True<?note ?>\nimport os"),
     "hostile_script: line 2: imports are not part"),
    ("external-schema-location", PLAIN.replace(
        'id="probe_definitions"', 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="probe_definitions" '
        f'xsi:schemaLocation="{BPMN_NS} http://127.0.0.1:9/evil.xsd"').replace("visited = True", "import os"),
     "hostile_script: line 1: imports are not part"),
    ("code-per-deployment", _bpmn("".join(f'<bpmn:scriptTask id="big_{i}"><bpmn:script>' + "x = 1\n" * 3000
                                          + "</bpmn:script></bpmn:scriptTask>" for i in range(12)), "big_0"),
     "big_11: the deployment carries more than 200,000 characters of code"),
    ("second-script-element", PLAIN.replace("<bpmn:script>visited = True</bpmn:script>",
                                            "<bpmn:script>visited = True</bpmn:script><bpmn:script>import os</bpmn:script>"),
     "hostile_script: line 1: imports are not part"),
]


@pytest.mark.parametrize("xml, reason", [p[1:] for p in XML_PROBES], ids=[p[0] for p in XML_PROBES])
def test_an_xml_trick_is_refused_at_deployment(xml, reason):
    problems = refusals({"probe.bpmn": xml})
    assert any(reason in p for p in problems), problems
    assert not any("root:" in p for p in problems), problems  # no /etc/passwd content


# -- user-task properties the inbox reads as numbers ------------------------------------------------
PROPERTIES = [("level", "99999999999999999999"), ("level", "one"), ("due_hours", "1e308"), ("due_hours", "999999999999")]


@pytest.mark.parametrize("prop, value", PROPERTIES, ids=[f"{p}-{v}" for p, v in PROPERTIES])
def test_a_user_task_property_that_is_not_a_small_number_is_refused(prop, value):
    review = (ROOT / "bpmn" / "default" / "review.bpmn").read_text()
    hostile = re.sub(rf'(<spiffworkflow:property name="{prop}" value=")[^"]*"', rf'\g<1>{value}"', review, count=1)
    assert hostile != review
    problems = refusals({"review.bpmn": hostile})
    assert any(f"property '{prop}' must be a whole number" in p for p in problems), problems


def test_the_corpus_has_at_least_a_hundred_distinct_probes():
    ids = [p[0] for p in REFUSED + REFUSED_NAMES + CONTAINED + PROCESSES + XML_PROBES] + [f"{p}-{v}" for p, v in PROPERTIES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 100
