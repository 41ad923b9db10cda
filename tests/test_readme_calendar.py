"""The README's "Business calendar" block is examples/calendar.sh word for word, and it prints what
its comments say against a real `loanflow serve --demo`."""
from __future__ import annotations

import re
import shutil

import pytest

from tests.test_readme_walkthrough import (ROOT, demo_server, readme_walkthrough_block,  # noqa: F401
                                           run_walkthrough, script_body)

SCRIPT = ROOT / "examples" / "calendar.sh"
HEADING = "## Business calendar"
EXPECTED = ["国庆节", "2026-09-20", "True", "analyst", "is required, a list"]


def said(block: str) -> list[str]:
    """What the block's comments say its printing lines print (up to a note in brackets)."""
    return [m.group(1).split(" (")[0].strip() for m in re.finditer(r"\| jget \S+\s+# (.+)", block)]


def test_the_calendar_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(HEADING)
    assert script_body(SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert said(block) == EXPECTED


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_calendar_block_runs_against_the_demo(demo_server):  # noqa: F811
    port, _database = demo_server
    assert [line.split(" (")[0] for line in run_walkthrough(SCRIPT, port, timeout=240)] == EXPECTED
