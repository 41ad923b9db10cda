import time
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from scoring.dmn import compile_dmn, load_dmn
from scoring.errors import DecisionFailed, DmnError
from scoring.unary_tests import compile_unary_tests

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def dmn(rules: list[tuple[list[str], list[str]]], *, hit_policy="UNIQUE", inputs=("score",),
        outputs=("grade",), aggregation=None, prolog="") -> str:
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    columns = "".join(f'<input label="{name}"><inputExpression typeRef="number"><text>{name}</text>'
                      f'</inputExpression></input>' for name in inputs)
    columns += "".join(f'<output name="{name}"/>' for name in outputs)
    body = "".join("<rule>" + "".join(f"<inputEntry><text>{cell}</text></inputEntry>" for cell in cells)
                   + "".join(f"<outputEntry><text>{cell}</text></outputEntry>" for cell in outs) + "</rule>"
                   for cells, outs in rules)
    return (f'{prolog}<definitions xmlns="{NS}" id="d"><decision id="t" name="T">'
            f'<decisionTable hitPolicy="{hit_policy}"{agg}>{columns}{body}</decisionTable></decision></definitions>')


@pytest.mark.parametrize("cell, matching, not_matching", [
    ("-", [Decimal(1), "x", None], []),
    ("600", [Decimal(600), 600], [Decimal(601), "600", True]),
    ('"A"', ["A"], ["B", None]),
    ("&lt; 600", [Decimal("599.99")], [Decimal(600), None, "1"]),
    (">= 0.5", [Decimal("0.5"), 1], [Decimal("0.49")]),
    ("[600..700)", [Decimal(600), Decimal("699.99")], [Decimal(700), Decimal(599)]),
    ("]600..700]", [Decimal(601), Decimal(700)], [Decimal(600)]),
    ("(600..700)", [Decimal(650)], [Decimal(600), Decimal(700)]),
    ('"a","b"', ["a", "b"], ["c"]),
    ('not("a", "b")', ["c"], ["a"]),
    ("true", [True], [False, 1]),
    ("null", [None], [Decimal(0)]),
])
def test_unary_tests_match_exactly_the_values_they_describe(cell, matching, not_matching):
    test = compile_unary_tests(cell.replace("&lt;", "<"), where="cell")
    assert all(test(value) for value in matching)
    assert not any(test(value) for value in not_matching)


def test_a_unique_table_returns_the_one_matching_rules_outputs_as_decimal_and_string():
    table = dmn([([">= 600"], ['"A"']), (["&lt; 600"], ['"B"'])], outputs=("grade",))
    assert compile_dmn(table).evaluate("t", {"score": Decimal(650)}) == {"grade": "A"}
    numbers = compile_dmn(dmn([(["-"], ["0.15"])], outputs=("adjustment",)))
    value = numbers.evaluate("t", {"score": 1})["adjustment"]
    assert value == Decimal("0.15") and type(value) is Decimal


def test_a_unique_table_with_two_matching_rules_names_both_rules():
    table = compile_dmn(dmn([([">= 600"], ['"A"']), ([">= 500"], ['"B"'])]))
    with pytest.raises(DecisionFailed, match="rule 1, rule 2"):
        table.evaluate("t", {"score": Decimal(650)})


def test_a_first_table_returns_the_first_match_in_rule_order():
    table = compile_dmn(dmn([([">= 600"], ['"A"']), ([">= 500"], ['"B"'])], hit_policy="FIRST"))
    assert table.evaluate("t", {"score": Decimal(650)}) == {"grade": "A"}
    assert table.evaluate("t", {"score": Decimal(550)}) == {"grade": "B"}
    assert table.evaluate("t", {"score": Decimal(450)}) is None


def test_a_collect_sum_table_adds_every_matching_rules_output():
    table = compile_dmn(dmn([(["true", "-"], ["0.0025"]), (["-", "true"], ["0.0025"])],
                            hit_policy="COLLECT", aggregation="SUM", inputs=("village", "household"),
                            outputs=("discount",)))
    assert table.evaluate("t", {"village": True, "household": True}) == Decimal("0.0050")
    assert table.evaluate("t", {"village": False, "household": False}) == Decimal(0)


def test_dotted_input_expressions_read_nested_values():
    table = compile_dmn(dmn([(['"AGRI"'], ["1"]), (["-"], ["2"])], hit_policy="FIRST",
                            inputs=("product.code",), outputs=("x",)))
    assert table.evaluate("t", {"product": {"code": "AGRI"}}) == {"x": Decimal(1)}
    assert table.evaluate("t", {"product": None}) == {"x": Decimal(2)}


def test_floats_from_json_compare_as_written():
    table = compile_dmn(dmn([(["[0.1..0.2]"], ['"in"'])], hit_policy="FIRST"))
    assert table.evaluate("t", {"score": 0.1}) == {"grade": "in"}


@pytest.mark.parametrize("cell", ['date("2024-01-01")', "score * 2", "__import__('os')", "[1..]", "&lt;",
                                  '"unterminated', "[700..600]"])
def test_an_unsupported_input_cell_is_refused_naming_the_rule_and_the_cell(cell):
    with pytest.raises(DmnError) as caught:
        compile_dmn(dmn([(["-"], ['"A"']), ([cell], ['"B"'])]))
    assert "rule 2" in caught.value.message and "input 'score'" in caught.value.message


def test_an_output_cell_that_is_an_expression_is_refused():
    with pytest.raises(DmnError, match="rule 1.*output 'grade'"):
        compile_dmn(dmn([(["-"], ["score + 1"])]))


def test_an_input_expression_that_is_not_a_variable_name_is_refused():
    with pytest.raises(DmnError, match="must be a variable name"):
        compile_dmn(dmn([(["-"], ['"A"'])], inputs=("score + 1",)))


@pytest.mark.parametrize("policy", ["PRIORITY", "RULE ORDER", "OUTPUT ORDER"])
def test_hit_policies_outside_the_subset_are_refused(policy):
    with pytest.raises(DmnError, match="not supported"):
        compile_dmn(dmn([(["-"], ['"A"'])], hit_policy=policy))


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    prolog = f'<?xml version="1.0"?><!DOCTYPE definitions [<!ENTITY leak SYSTEM "file://{secret}">]>'
    text = dmn([(["-"], ['"&leak;"'])], hit_policy="FIRST", prolog=prolog)
    try:
        outcome = compile_dmn(text).evaluate("t", {"score": 1})
    except DmnError:
        return  # refusing the file is as good as not reading the secret
    assert "TOP-SECRET" not in repr(outcome)


def test_the_same_text_is_compiled_once():
    text = dmn([(["-"], ['"A"'])])
    assert load_dmn(text) is load_dmn(text)


def test_evaluating_a_compiled_table_takes_microseconds(hq_files):
    grade = load_dmn(hq_files["grade.dmn"]).decision("grade")
    started = time.perf_counter()
    for score in range(10_000):
        grade.evaluate({"score": Decimal(500 + score % 200)})
    per_call = (time.perf_counter() - started) / 10_000
    assert per_call < 50e-6


def test_the_hq_grade_table_grades_by_score_band(hq_files):
    grade = load_dmn(hq_files["grade.dmn"])
    assert [grade.evaluate("grade", {"score": Decimal(s)})["grade"]
            for s in ("620", "619.99", "600", "580", "560", "559.99")] == ["A", "B", "B", "C", "D", "E"]

numbers = st.decimals(min_value=-10000, max_value=10000, places=2, allow_nan=False, allow_infinity=False)


@given(low=numbers, high=numbers, value=numbers, low_closed=st.booleans(), high_closed=st.booleans())
def test_a_range_cell_matches_exactly_the_interval_it_writes(low, high, value, low_closed, high_closed):
    low, high = min(low, high), max(low, high)
    cell = f"{'[' if low_closed else '('}{low}..{high}{']' if high_closed else ')'}"
    expected = (low <= value if low_closed else low < value) and (value <= high if high_closed else value < high)
    assert compile_unary_tests(cell, where="cell")(value) is expected


@given(bound=numbers, value=numbers, operator=st.sampled_from(["<", "<=", ">", ">="]))
def test_a_comparison_cell_compares_like_python_decimals(bound, value, operator):
    expected = {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[operator]
    assert compile_unary_tests(f"{operator} {bound}", where="cell")(value) is expected


MODELER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"
             xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
             xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/"
             xmlns:camunda="http://camunda.org/schema/1.0/dmn"
             id="Definitions_1" name="DRD" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="grade" name="Grade">
    <informationRequirement id="InformationRequirement_1"><requiredInput href="#score_input" /></informationRequirement>
    <decisionTable id="DecisionTable_1" hitPolicy="FIRST">
      <input id="Input_1" label="Score" camunda:inputVariable="s">
        <inputExpression id="InputExpression_1" typeRef="number"><text>score</text></inputExpression>
      </input>
      <output id="Output_1" label="Grade" name="grade" typeRef="string" />
      <rule id="DecisionRule_0a1"><description>top band</description>
        <inputEntry id="UnaryTests_1"><text>&gt;= 620</text></inputEntry>
        <outputEntry id="LiteralExpression_1"><text>"A"</text></outputEntry>
      </rule>
      <rule id="DecisionRule_0a2">
        <inputEntry id="UnaryTests_2"><text></text></inputEntry>
        <outputEntry id="LiteralExpression_2"><text>"B"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <inputData id="score_input" name="score" />
  <dmndi:DMNDI><dmndi:DMNDiagram><dmndi:DMNShape dmnElementRef="grade">
    <dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>
</definitions>
"""


def test_a_table_exported_by_a_dmn_modeler_loads_with_its_diagram_and_extensions_ignored():
    model = compile_dmn(MODELER_EXPORT)
    assert model.evaluate("grade", {"score": Decimal(650)}) == {"grade": "A"}
    assert model.evaluate("Grade", {"score": Decimal(10)}) == {"grade": "B"}


def test_an_error_names_the_rule_by_its_modeler_id():
    broken = MODELER_EXPORT.replace("&gt;= 620", "score &gt; 620")
    with pytest.raises(DmnError, match=r"rule 1 \(DecisionRule_0a1\), input 'score'"):
        compile_dmn(broken)


def test_a_decision_that_is_not_a_table_is_refused():
    literal = MODELER_EXPORT.replace('<decisionTable id="DecisionTable_1" hitPolicy="FIRST">', "<literalExpression><text>1</text></literalExpression><!--").replace("</decisionTable>", "-->")
    with pytest.raises(DmnError, match="only decision tables"):
        compile_dmn(literal)


def test_an_any_table_accepts_overlapping_rules_that_agree_and_refuses_ones_that_differ():
    agreeing = compile_dmn(dmn([([">= 600"], ['"A"']), ([">= 500"], ['"A"'])], hit_policy="ANY"))
    assert agreeing.evaluate("t", {"score": Decimal(650)}) == {"grade": "A"}
    differing = compile_dmn(dmn([([">= 600"], ['"A"']), ([">= 500"], ['"B"'])], hit_policy="ANY"))
    with pytest.raises(DecisionFailed):
        differing.evaluate("t", {"score": Decimal(650)})


def test_a_collect_table_without_aggregation_lists_every_match_in_rule_order():
    table = compile_dmn(dmn([([">= 600"], ['"premium"']), ([">= 500"], ['"standard"']), (["&lt; 0"], ['"never"'])],
                            hit_policy="COLLECT", outputs=("offer",)))
    assert table.evaluate("t", {"score": Decimal(650)}) == [{"offer": "premium"}, {"offer": "standard"}]
    assert table.evaluate("t", {"score": Decimal(100)}) == []
