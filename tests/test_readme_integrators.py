"""The README's integrator credentials block: word for word examples/integrators.sh, saying what
each line prints, and run (twice: it makes a new client each time) against a real `serve --demo`."""
from __future__ import annotations

import re
import shutil

import pytest

from tests.test_readme_walkthrough import (ROOT, demo_server, readme_walkthrough_block,  # noqa: F401
                                           run_walkthrough, script_body)

SCRIPT = ROOT / "examples" / "integrators.sh"
HEADING = "## Integrator credentials"
EXPECTED_OUTPUT = [
    "partner", "huinong-mall",                      # 11. the demo partner's client: its channel and partner
    "403", "User partner-BR001 may not submit applications for branch BR002", "channel",   # 12. its limits
    "mobile",                                       # 13. a new client of two branches, by HTTP Basic
    "401", "False", "401", "rotated",               # 14. rotated, disabled, audited
]


def printed_comments(block: str) -> list[str]:
    """The comment after each command that prints (the README says what it prints); a command's
    continuation lines are read as one line."""
    joined = block.replace("\\\n", " ")
    return [line.rsplit("# ", 1)[1].strip() for line in joined.splitlines()
            if re.match(r"^(curl|jget) .*\s# ", line)]


def test_the_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(HEADING)
    assert script_body(SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert printed_comments(block) == EXPECTED_OUTPUT


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_integrators_walkthrough_runs_twice_on_one_demo_database(demo_server):  # noqa: F811
    port, _ = demo_server
    for run in (1, 2):
        assert run_walkthrough(SCRIPT, port) == EXPECTED_OUTPUT, f"run {run}"
