"""Camunda 7 diagrams on upload: what has a clear meaning here is translated, the rest refused
naming the element, what was found and what to do instead.

    result = translate_camunda("invoice.bpmn", text, forms={"review", ...})
    result.text       # the diagram as our engine reads it (unchanged if it is not Camunda's)
    result.notes      # what was translated or ignored, per element
    result.problems   # what cannot be, per element (a deployment with any is refused)

Translated: JUEL conditions made of names, literals, comparisons, `&&`/`||`/`!`, `and`/`or`/`not`,
`eq`/`ne`/`lt`/`gt`/`le`/`ge` and `empty` (`${amount > 5000 && !approved}` → `amount > 5000 and not
approved`); ISO timer values (`PT5M` → `'PT5M'`, the engine evaluates timer text as an
expression); `camunda:formKey` naming one of our forms (it becomes the task's form property).
Ignored, with a note: `camunda:assignee`, `camunda:candidateUsers`, listeners, async flags.
Refused: JUEL method calls and anything else, Java delegates and external tasks on service tasks,
a formKey that is not one of our forms, script tasks in another language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from workflows.diagrams import parse_xml

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
IGNORED = ("assignee", "candidateUsers", "asyncBefore", "asyncAfter", "exclusive", "jobPriority",
           "historyTimeToLive", "versionTag", "isStartableInTasklist", "dueDate", "followUpDate", "priority")
DELEGATES = ("class", "delegateExpression", "expression", "type", "topic")
JUEL = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)
ISO = re.compile(r"^(R\d*/)?(P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?|\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)$")


@dataclass
class Translation:
    text: str
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class JuelRefused(ValueError):
    pass


def translate_camunda(name: str, text: str, *, forms: set[str]) -> Translation:
    if not name.endswith(".bpmn") or CAMUNDA not in text:
        return Translation(text)
    root = parse_xml(text, name)
    result = Translation(text)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        where = _where(element)
        local = etree.QName(element).localname
        if local == "conditionExpression":
            _condition(element, where, result)
        elif local in ("timeDuration", "timeDate", "timeCycle"):
            _timer(element, where, result)
        elif local == "script" or (local == "scriptTask" and element.get("scriptFormat")):
            _script(element, where, result)
        for attribute in list(element.attrib):
            if attribute.startswith(f"{{{CAMUNDA}}}"):
                _camunda_attribute(element, etree.QName(attribute).localname, where, result, forms)
        if etree.QName(element).namespace == CAMUNDA and local in ("executionListener", "taskListener"):
            result.notes.append(f"{where}: Camunda {local} ignored (loanflow runs handlers as service tasks)")
    result.text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return result


def _where(element) -> str:
    """The element a problem belongs to: the nearest ancestor (or itself) with an id."""
    node = element
    while node is not None and not node.get("id"):
        node = node.getparent()
    if node is None:
        return "the diagram"
    label = node.get("name")
    return f"{node.get('id')} ({' '.join(label.split())})" if label else node.get("id")


def _condition(element, where: str, result: Translation) -> None:
    body = element.text or ""
    found = JUEL.match(body)
    if not found:
        return
    try:
        element.text = juel_to_script(found.group(1))
    except JuelRefused as err:
        result.problems.append(f"{where}: the condition {body.strip()!r} cannot be translated: {err}")
        return
    result.notes.append(f"{where}: condition {body.strip()!r} → {element.text!r}")


def _timer(element, where: str, result: Translation) -> None:
    body = (element.text or "").strip()
    if ISO.match(body):
        element.text = f"'{body}'"
        result.notes.append(f"{where}: timer {body} → '{body}' (timer text is an expression here)")
    elif JUEL.match(body):
        result.problems.append(f"{where}: the timer {body!r} is a JUEL expression; write the ISO 8601 value, "
                               "e.g. 'PT48H', or an expression in the script language")


def _script(element, where: str, result: Translation) -> None:
    script_task = element if etree.QName(element).localname == "scriptTask" else element.getparent()
    language = (script_task.get("scriptFormat") or "").lower()
    if language and language not in ("python", "py"):
        result.problems.append(f"{where}: a {language} script does not run here; write it in the script "
                               "language (docs/script-language.md) or use a service task with a handler")


def _camunda_attribute(element, attribute: str, where: str, result: Translation, forms: set[str]) -> None:
    local = etree.QName(element).localname
    value = element.get(f"{{{CAMUNDA}}}{attribute}")
    if attribute == "formKey" and local in ("userTask", "startEvent"):
        form = value.rsplit(":", 1)[-1].rsplit("/", 1)[-1].removesuffix(".html").removesuffix(".form")
        if form in forms:
            _set_form(element, form)
            del element.attrib[f"{{{CAMUNDA}}}{attribute}"]
            result.notes.append(f"{where}: camunda:formKey {value!r} → our form {form!r}")
        else:
            result.problems.append(f"{where}: camunda:formKey {value!r} is not one of our forms; choose one of "
                                   f"{', '.join(sorted(forms))} (the task's form property)")
    elif attribute == "decisionRef" and local == "businessRuleTask":
        _extension(element, f"{{{SPIFF}}}calledDecisionId").text = value
        del element.attrib[f"{{{CAMUNDA}}}{attribute}"]
        result.notes.append(f"{where}: camunda:decisionRef {value!r} → the decision {value!r}")
    elif attribute in ("resultVariable", "mapDecisionResult") and local == "businessRuleTask":
        result.notes.append(f"{where}: camunda:{attribute} {value!r} ignored: a decision's outputs go into the task "
                            "data under their own names")
    elif attribute in DELEGATES and local in ("serviceTask", "sendTask", "businessRuleTask"):
        result.problems.append(f"{where}: camunda:{attribute} {value!r} does not run here; choose a loanflow "
                               "handler operation for the service task")
    elif attribute == "candidateGroups":
        in_lane = any(etree.QName(ref).localname == "flowNodeRef" and (ref.text or "").strip() == element.get("id")
                      for ref in element.getroottree().iter(f"{{{BPMN}}}flowNodeRef"))
        if not in_lane:
            result.problems.append(f"{where}: camunda:candidateGroups {value!r}: put the task in the lane of the "
                                   "role that works it (lanes name our roles, e.g. reviewer)")
        else:
            result.notes.append(f"{where}: camunda:candidateGroups {value!r} ignored: the task's lane names its role")
    elif attribute in IGNORED:
        result.notes.append(f"{where}: camunda:{attribute} {value!r} ignored")


def _extension(element, tag: str):
    """The element's extension child `tag`, made (with extensionElements) if missing."""
    extensions = next((c for c in element if isinstance(c.tag, str) and etree.QName(c).localname == "extensionElements"),
                      None)
    if extensions is None:
        extensions = etree.Element(f"{{{etree.QName(element).namespace or BPMN}}}extensionElements")
        element.insert(0, extensions)
    found = next((c for c in extensions if c.tag == tag), None)
    if found is None:
        found = etree.SubElement(extensions, tag, nsmap={"spiffworkflow": SPIFF})
    return found


def _set_form(element, form: str) -> None:
    etree.SubElement(_extension(element, f"{{{SPIFF}}}properties"), f"{{{SPIFF}}}property", name="form", value=form)


# ---------------------------------------------------------------------------- JUEL

TOKEN = re.compile(r"""\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
                   |(?P<op>&&|\|\||==|!=|<=|>=|[<>!()+\-*/%])|(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<bad>\S))""", re.X)
WORDS = {"and": "and", "or": "or", "not": "not", "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=",
         "ge": ">=", "true": "True", "false": "False", "null": "None", "div": "/", "mod": "%"}
OPS = {"&&": "and", "||": "or", "!": "not"}


def juel_to_script(expression: str) -> str:
    """A JUEL expression of the supported shape in the script language, or JuelRefused saying why."""
    out: list[str] = []
    position = 0
    tokens = []
    while position < len(expression):
        match = TOKEN.match(expression, position)
        if match is None or match.end() == position:
            break
        position = match.end()
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
    for index, (kind, value) in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else (None, None)
        if kind == "bad":
            if value in ".[":
                raise JuelRefused("JUEL method calls and property paths are not supported: compare task-data "
                                  "names directly, e.g. amount > 5000")
            raise JuelRefused(f"{value!r} is not supported in a condition")
        if kind == "name" and following[1] == "(" and value not in WORDS and value != "empty":
            raise JuelRefused(f"JUEL function calls ({value}(...)) are not supported: write the condition "
                              "with comparisons, e.g. amount > 5000 and not approved")
        if kind == "name" and value == "empty":
            out.append("not")   # `empty x`: x is missing, empty or zero → `not x`
        elif kind == "name" and value in WORDS:
            out.append(WORDS[value])
        elif kind == "op" and value in OPS:
            out.append(OPS[value])
        else:
            out.append(value)
    if not out:
        raise JuelRefused("the condition is empty")
    text = " ".join(out).replace("( ", "(").replace(" )", ")")
    return re.sub(r"\bnot not\b\s*", "", text)


def translate_uploads(files: dict[str, str], *, forms: set[str]) -> tuple[dict[str, str], list[dict], list[dict]]:
    """Each uploaded file translated: (files as deployed, notes, problems), notes and problems as
    {"file", "reason"} rows like the deployment's own."""
    translated, notes, problems = {}, [], []
    for name, text in files.items():
        try:
            result = translate_camunda(name, text, forms=forms)
        except (ValueError, SyntaxError):   # it does not parse: the deployment's own check says why
            translated[name] = text
            continue
        translated[name] = result.text
        notes += [{"file": name, "reason": note} for note in result.notes]
        problems += [{"file": name, "reason": problem} for problem in result.problems]
    return translated, notes, problems
