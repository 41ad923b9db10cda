"""What differs between two versions of a file, in the analyst's terms (workflows/file_diff.py)."""
from __future__ import annotations

import json
from pathlib import Path

from workflows.file_diff import ADDED, CHANGED, REMOVED, Change, diff_files

DEFAULT = Path(__file__).resolve().parents[2] / "bpmn" / "default"
BR002 = Path(__file__).resolve().parents[2] / "bpmn" / "branches" / "BR002"


def test_a_dmn_cell_change_names_the_rule_its_position_and_its_column():
    hq = (DEFAULT / "review_route.dmn").read_text(encoding="utf-8")
    lower = hq.replace("&gt; 200000", "&gt; 150000")
    assert diff_files("review_route.dmn", hq, lower) == [
        Change("over_two_hundred_thousand", CHANGED, "rule 3: Amount", "> 200000", "> 150000")]
    assert diff_files("review_route.dmn", hq, hq) == []


def test_a_dmn_rule_added_or_removed_is_listed_with_its_cells():
    hq = (DEFAULT / "review_route.dmn").read_text(encoding="utf-8")
    start = hq.index('<rule id="weak_grade">')
    end = hq.index("</rule>", start) + len("</rule>")
    without = hq[:start] + hq[end:]
    [removed] = diff_files("review_route.dmn", hq, without)
    assert (removed.element, removed.kind, removed.what) == ("weak_grade", REMOVED, "rule 4")
    assert '? in ("D", "E")' in removed.before
    [added] = diff_files("review_route.dmn", without, hq)
    assert (added.element, added.kind) == ("weak_grade", ADDED)


def test_a_bpmn_timer_and_a_name_change_are_named_by_element():
    review = (BR002 / "review.bpmn").read_text(encoding="utf-8")
    changed = review.replace("<bpmn:timeDuration>'working_days(1)'</bpmn:timeDuration>",
                             "<bpmn:timeDuration>'PT12H'</bpmn:timeDuration>", 1)
    changed = changed.replace('name="Escalation"', 'name="升级"', 1)
    found = diff_files("review.bpmn", review, changed)
    assert Change("first_review_reminder", CHANGED, "timer", "timeDuration: 'working_days(1)'",
                  "timeDuration: 'PT12H'") in found
    assert Change("first_review_escalation", CHANGED, "name", "Escalation", "升级") in found
    assert len(found) == 2


def test_the_branchs_review_against_hqs_lists_what_the_branch_does_differently():
    found = diff_files("review.bpmn", (DEFAULT / "review.bpmn").read_text(encoding="utf-8"),
                       (BR002 / "review.bpmn").read_text(encoding="utf-8"))
    assert found, "BR002 overrides its review for a reason"
    assert all(c.kind in (ADDED, REMOVED, CHANGED) and c.element for c in found)


def test_a_data_file_entry_is_named_by_its_path_and_list_items_by_their_id():
    limits = json.loads((DEFAULT / "scoring" / "limits.json").read_text(encoding="utf-8"))
    before = json.dumps(limits)
    limits["warn_at"] = "0.85"
    limits["dimension_limits"][1]["max_share"] = "0.25"
    after = json.dumps(limits)
    found = diff_files("limits.json", before, after)
    assert Change("warn_at", CHANGED, "warn_at", '"0.90"', '"0.85"') in found
    assert Change("dimension_limits[each-industry].max_share", CHANGED, "dimension_limits[each-industry].max_share",
                  '"0.30"', '"0.25"') in found
    assert len(found) == 2


def test_a_text_that_does_not_parse_is_one_change_saying_so():
    [change] = diff_files("review_route.dmn", (DEFAULT / "review_route.dmn").read_text(encoding="utf-8"), "<definitions")
    assert change.kind == CHANGED and "cannot be compared" in change.after
    [deep] = diff_files("limits.json", "{}", "[" * 100000 + "]" * 100000)
    assert "cannot be compared" in deep.after
