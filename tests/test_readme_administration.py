"""The README's administration block: word for word examples/administration.sh, saying what each
line prints, and run (twice: it makes a new user each time) against a real `serve --demo`."""
from __future__ import annotations

import re
import shutil

import pytest

from tests.test_readme_walkthrough import (ROOT, demo_server, readme_walkthrough_block,  # noqa: F401
                                           run_walkthrough, script_body)

SCRIPT = ROOT / "examples" / "administration.sh"
HEADING = "## Administration: users, org tree, delegation"
EXPECTED_OUTPUT = [
    "景芝分理处",                                   # 11. the org tree
    "BR001-02", "password_change_required",         # 12. the new reviewer, at that outlet, must change the password
    "Customer manager's investigation", "Credit review", "active", "Credit review",
    "信贷审查员 on behalf of 王五",                  # 13. claimed, delegated, decided by the delegate
    "False", "401",                                 # 14. disabled: the token stops
    "account_locked", "False", "user_locked",       # 15. five wrong passwords, unlocked, audited
]


def printed_comments(block: str) -> list[str]:
    """The comment after each line that prints (the README says what it prints)."""
    return [line.rsplit("# ", 1)[1].strip() for line in block.splitlines()
            if re.match(r"^(curl|jget|review|\s+-d) .*\s# ", line)]


def test_the_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(HEADING)
    assert script_body(SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert printed_comments(block) == EXPECTED_OUTPUT


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_administration_walkthrough_runs_twice_on_one_demo_database(demo_server):  # noqa: F811
    port, _ = demo_server
    for run in (1, 2):
        assert run_walkthrough(SCRIPT, port) == EXPECTED_OUTPUT, f"run {run}"
