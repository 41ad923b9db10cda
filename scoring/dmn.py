"""A small, safe DMN 1.x decision-table evaluator (we cannot use SpiffWorkflow in scoring/).

`load_dmn(text)` parses a DMN file once, compiles each decision table into Python predicates and
caches the result by the file's text, so evaluating a table afterwards costs microseconds.

Supported, and nothing more:
  - <decision> elements holding a <decisionTable>; other decision logic is refused.
  - hit policies UNIQUE (the default), FIRST, ANY, and COLLECT with or without SUM/MIN/MAX/COUNT.
  - input expressions that are plain variable names, dotted for nested dicts ("product.code").
  - input cells in the unary-test subset of `scoring.unary_tests`.
  - output cells that are literals: numbers (-> Decimal), "strings", true/false, null or empty.
Anything else raises `DmnError` naming the decision, the rule and the cell. Decisions are
independent: required decisions are not chained, the caller evaluates each with its own context.

The XML parser resolves no entities and touches no network: a diagram is input, not trusted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Any, Callable, Mapping

from lxml import etree

from scoring.errors import DecisionFailed, DmnError
from scoring.unary_tests import Predicate, compile_unary_tests, is_catch_all, parse_literal

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_HIT_POLICIES = {"UNIQUE", "FIRST", "ANY", "COLLECT"}
_AGGREGATIONS = {None, "SUM", "MIN", "MAX", "COUNT"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True)


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child) == name]


def _child(element, name: str):
    found = _children(element, name)
    return found[0] if found else None


def _text_of(element, name: str) -> str:
    child = _child(element, name)
    if child is None:
        return ""
    text_element = _child(child, "text")
    return (text_element.text if text_element is not None else child.text) or ""


def _getter(expression: str, *, where: str) -> Callable[[Mapping[str, Any]], Any]:
    expression = expression.strip()
    if not _NAME.match(expression):
        raise DmnError(f"{where}: input expression {expression!r} must be a variable name "
                       "(letters, digits, underscores, dots)")
    if "." not in expression:
        return lambda context: context.get(expression)
    path = expression.split(".")

    def get(context: Mapping[str, Any]) -> Any:
        value: Any = context
        for part in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        return value

    return get


def _coerce_number(value: Any) -> Any:
    # Floats arrive from JSON; a decision table compares them exactly as written, via repr.
    if type(value) is float:
        return Decimal(repr(value))
    return value


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class _Rule:
    label: str
    tests: tuple[tuple[int, Predicate], ...]
    outputs: dict[str, Any]


@dataclass(frozen=True)
class DecisionTable:
    id: str
    name: str
    hit_policy: str
    aggregation: str | None
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    rules: tuple[_Rule, ...]
    readers: tuple[tuple[Callable[[Mapping[str, Any]], Any], Callable[[Any], Any]], ...]

    def evaluate(self, context: Mapping[str, Any]) -> Any:
        """FIRST/UNIQUE/ANY: the matched rule's outputs as a dict, or None when no rule matches.
        COLLECT: a list of output dicts, or the aggregate (Decimal) when an aggregation is set."""
        values = [coerce(get(context)) for get, coerce in self.readers]
        if self.hit_policy == "FIRST":
            for rule in self.rules:
                if _matches(rule, values):
                    return dict(rule.outputs)
            return None
        matched = [rule for rule in self.rules if _matches(rule, values)]
        if self.hit_policy == "COLLECT":
            return self._collect(matched)
        if not matched:
            return None
        if len(matched) > 1:
            if self.hit_policy == "UNIQUE" or any(r.outputs != matched[0].outputs for r in matched):
                labels = ", ".join(rule.label for rule in matched)
                raise DecisionFailed(f"decision {self.id!r} ({self.hit_policy}): rules {labels} "
                                     f"all match {dict(zip(self.input_names, values))}")
        return dict(matched[0].outputs)

    def _collect(self, matched: list[_Rule]) -> Any:
        if self.aggregation is None:
            return [dict(rule.outputs) for rule in matched]
        if self.aggregation == "COUNT":
            return Decimal(len(matched))
        name = self.output_names[0]
        numbers = [rule.outputs[name] for rule in matched if rule.outputs[name] is not None]
        if self.aggregation == "SUM":
            return sum(numbers, Decimal(0))
        if not numbers:
            return None
        return min(numbers) if self.aggregation == "MIN" else max(numbers)


def _matches(rule: _Rule, values: list[Any]) -> bool:
    for index, test in rule.tests:
        if not test(values[index]):
            return False
    return True


@dataclass(frozen=True)
class DmnModel:
    decisions: dict[str, DecisionTable]

    def decision(self, key: str) -> DecisionTable:
        table = self.decisions.get(key)
        if table is None:
            for candidate in self.decisions.values():
                if candidate.name == key:
                    return candidate
            raise DmnError(f"no decision {key!r}; this file has {sorted(self.decisions)}")
        return table

    def evaluate(self, key: str, context: Mapping[str, Any]) -> Any:
        return self.decision(key).evaluate(context)


@lru_cache(maxsize=256)
def load_dmn(text: str) -> DmnModel:
    """The compiled model for a DMN file's text, compiled once per distinct text."""
    return compile_dmn(text)


def compile_dmn(text: str) -> DmnModel:
    try:
        root = etree.fromstring(text.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as error:
        raise DmnError(f"not well-formed XML: {error}") from None
    if _local(root) != "definitions":
        raise DmnError(f"root element is <{_local(root)}>, expected <definitions>")
    decisions: dict[str, DecisionTable] = {}
    for decision in _children(root, "decision"):
        decision_id = decision.get("id") or decision.get("name") or f"decision{len(decisions) + 1}"
        table = _child(decision, "decisionTable")
        if table is None:
            logic = [_local(child) for child in decision if _local(child) not in
                     ("description", "extensionElements", "variable", "informationRequirement",
                      "knowledgeRequirement", "authorityRequirement", "question",
                      "allowedAnswers")]
            raise DmnError(f"decision {decision_id!r}: only decision tables are supported, found {logic}")
        decisions[decision_id] = _compile_table(decision_id, decision.get("name") or decision_id, table)
    if not decisions:
        raise DmnError("the file holds no decision")
    return DmnModel(decisions)


def _compile_table(decision_id: str, name: str, table) -> DecisionTable:
    where = f"decision {decision_id!r}"
    hit_policy = (table.get("hitPolicy") or "UNIQUE").strip().upper().replace(" ", "_")
    if hit_policy not in _HIT_POLICIES:
        raise DmnError(f"{where}: hit policy {hit_policy} is not supported "
                       f"(use one of {sorted(_HIT_POLICIES)})")
    aggregation = table.get("aggregation")
    aggregation = aggregation.strip().upper() if aggregation else None
    if aggregation not in _AGGREGATIONS or (aggregation and hit_policy != "COLLECT"):
        raise DmnError(f"{where}: aggregation {aggregation} is not supported here")

    readers, input_names = [], []
    for position, column in enumerate(_children(table, "input"), start=1):
        expression_element = _child(column, "inputExpression")
        if expression_element is None:
            raise DmnError(f"{where}: input {position} has no inputExpression")
        expression = _text_of(column, "inputExpression")
        label = column.get("label") or expression.strip() or f"input {position}"
        getter = _getter(expression, where=f"{where}, input {label!r}")
        type_ref = (expression_element.get("typeRef") or "").strip().lower()
        coerce = _coerce_number if type_ref in ("number", "integer", "double", "long", "") else _identity
        readers.append((getter, coerce))
        input_names.append(expression.strip())

    output_names = []
    for position, column in enumerate(_children(table, "output"), start=1):
        output_name = column.get("name") or column.get("label")
        if not output_name or not _NAME.match(output_name) or "." in output_name:
            raise DmnError(f"{where}: output {position} needs a plain name attribute")
        output_names.append(output_name)
    if not output_names:
        raise DmnError(f"{where}: the table has no output column")
    if aggregation in ("SUM", "MIN", "MAX") and len(output_names) != 1:
        raise DmnError(f"{where}: {aggregation} needs exactly one output column")

    rules = []
    for number, rule in enumerate(_children(table, "rule"), start=1):
        label = f"rule {number}" + (f" ({rule.get('id')})" if rule.get("id") else "")
        entries = _children(rule, "inputEntry")
        outputs = _children(rule, "outputEntry")
        if len(entries) != len(input_names) or len(outputs) != len(output_names):
            raise DmnError(f"{where}, {label}: has {len(entries)} input and {len(outputs)} output "
                           f"cells, the table has {len(input_names)} and {len(output_names)} columns")
        tests = []
        for index, entry in enumerate(entries):
            text = _cell_text(entry)
            cell = f"{where}, {label}, input {input_names[index]!r}"
            if not is_catch_all(text):
                tests.append((index, compile_unary_tests(text, where=cell)))
        values = {}
        for index, entry in enumerate(outputs):
            text = _cell_text(entry).strip()
            cell = f"{where}, {label}, output {output_names[index]!r}"
            values[output_names[index]] = parse_literal(text, where=cell) if text else None
            if aggregation in ("SUM", "MIN", "MAX") and values[output_names[index]] is not None \
                    and not isinstance(values[output_names[index]], Decimal):
                raise DmnError(f"{cell}: {aggregation} needs numbers")
        rules.append(_Rule(label, tuple(tests), values))
    return DecisionTable(decision_id, name, hit_policy, aggregation, tuple(input_names),
                         tuple(output_names), tuple(rules), tuple(readers))


def _cell_text(entry) -> str:
    text_element = _child(entry, "text")
    return (text_element.text if text_element is not None else entry.text) or ""
