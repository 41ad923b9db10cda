"""What differs between two versions of one deployable file, in the analyst's terms: a DMN rule's
cell, a BPMN element's name, timer, condition or extension property, a data file's entry.

    diff_files("review_route.dmn", hq_text, branch_text)
    -> [Change(element="over_two_hundred_thousand", kind="changed", what="rule 3: Amount",
               before="> 200000", after="> 150000")]

The studio shows these for a branch's override against HQ's file and for a draft against the
version in use. Both texts are parsed with the deployment's safe XML parser; a text that does not
parse is one change saying so, never an error.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from workflows.diagrams import file_kind, parse_xml

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
TIMER_KINDS = ("timeDuration", "timeDate", "timeCycle")
CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")


@dataclass(frozen=True)
class Change:
    element: str       # the element or rule id, or the data file's entry path
    kind: str          # added | removed | changed
    what: str          # what of it: "rule 3: Amount", "name", "timer", "condition", "form"
    before: str = ""
    after: str = ""


def diff_files(name: str, before: str, after: str) -> list[Change]:
    kind = file_kind(name)
    try:
        if kind == "dmn":
            return _diff_dmn(before, after, name)
        if kind == "bpmn":
            return _diff_bpmn(before, after, name)
        return _diff_data(before, after)
    except (ValueError, SyntaxError, RecursionError) as err:   # lxml's XMLSyntaxError is a SyntaxError
        return [Change(name, CHANGED, "file", "", f"cannot be compared: {err}"[:300])]


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element) -> str:
    return " ".join((element.text or "").split()) if element is not None else ""


# ---------------------------------------------------------------------------- DMN

def _rules(text: str, name: str) -> dict[str, tuple[int, list[tuple[str, str]]]]:
    """Each rule by id: its position in its table and (column label, cell text) per cell."""
    rules = {}
    for table in (el for el in parse_xml(text, name).iter() if _local(el.tag) == "decisionTable"):
        columns = [col.get("label") or col.get("name") or col.get("id") or "?"
                   for col in table if _local(col.tag) in ("input", "output")]
        for position, rule in enumerate((r for r in table if _local(r.tag) == "rule"), start=1):
            cells = [_text(next((t for t in cell if _local(t.tag) == "text"), None))
                     for cell in rule if _local(cell.tag) in ("inputEntry", "outputEntry")]
            rules[rule.get("id") or f"rule-{position}"] = (position, list(zip(columns, cells)))
    return rules


def _diff_dmn(before: str, after: str, name: str) -> list[Change]:
    old, new = _rules(before, name), _rules(after, name)
    changes = []
    for rule_id, (position, cells) in new.items():
        if rule_id not in old:
            changes.append(Change(rule_id, ADDED, f"rule {position}", "", " | ".join(c for _, c in cells)))
            continue
        was = dict(old[rule_id][1])
        for column, cell in cells:
            if was.get(column, "") != cell:
                changes.append(Change(rule_id, CHANGED, f"rule {position}: {column}", was.get(column, ""), cell))
    for rule_id, (position, cells) in old.items():
        if rule_id not in new:
            changes.append(Change(rule_id, REMOVED, f"rule {position}", " | ".join(c for _, c in cells), ""))
    return changes


# ---------------------------------------------------------------------------- BPMN

def _elements(text: str, name: str) -> dict[str, dict[str, str]]:
    """Each process element by id, with what an analyst changes on it."""
    found = {}
    for process in (el for el in parse_xml(text, name).iter() if _local(el.tag) == "process"):
        for element in process.iter():
            element_id = element.get("id")
            parent = element.getparent()
            # Flow elements only (tasks, events, gateways, flows): an event definition or an
            # expression belongs to its element and is compared as part of it.
            if (not element_id or parent is None or _local(parent.tag) not in CONTAINERS
                    or _local(element.tag) in ("laneSet", "extensionElements")):
                continue
            facts = {"type": _local(element.tag), "name": " ".join((element.get("name") or "").split())}
            for child in element.iter():
                tag = _local(child.tag)
                if tag in TIMER_KINDS:
                    facts["timer"] = f"{tag}: {_text(child)}"
                elif tag == "conditionExpression":
                    facts["condition"] = _text(child)
                elif child.tag == f"{SPIFF}property":
                    facts[child.get("name") or "property"] = child.get("value") or ""
                elif child.tag == f"{SPIFF}serviceTaskOperator":
                    facts["operation"] = child.get("id") or ""
                elif tag == "script":
                    facts["script"] = _text(child)
            found[element_id] = facts
    return found


def _diff_bpmn(before: str, after: str, name: str) -> list[Change]:
    old, new = _elements(before, name), _elements(after, name)
    changes = []
    for element_id, facts in new.items():
        if element_id not in old:
            changes.append(Change(element_id, ADDED, facts["type"], "", facts["name"]))
            continue
        for key in sorted(set(facts) | set(old[element_id])):
            if key != "type" and facts.get(key, "") != old[element_id].get(key, ""):
                changes.append(Change(element_id, CHANGED, key, old[element_id].get(key, ""), facts.get(key, "")))
    for element_id, facts in old.items():
        if element_id not in new:
            changes.append(Change(element_id, REMOVED, facts["type"], facts["name"], ""))
    return changes


# ---------------------------------------------------------------------------- data files

def _flat(value, path: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            label = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else str(index)
            out.update(_flat(item, f"{path}[{label}]"))
        return out
    return {path: json.dumps(value, ensure_ascii=False)}


def _diff_data(before: str, after: str) -> list[Change]:
    old, new = _flat(json.loads(before)), _flat(json.loads(after))
    changes = [Change(path, ADDED if path not in old else CHANGED, path, old.get(path, ""), value)
               for path, value in new.items() if old.get(path) != value]
    changes += [Change(path, REMOVED, path, value, "") for path, value in old.items() if path not in new]
    return changes
