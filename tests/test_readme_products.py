"""The README's "Products" block is examples/products.sh word for word, and it prints what its
comments say against a real `loanflow serve --demo`."""
from __future__ import annotations

import re
import shutil

import pytest

from tests.test_readme_walkthrough import (ROOT, demo_server, readme_walkthrough_block,  # noqa: F401
                                           run_walkthrough, script_body)

SCRIPT = ROOT / "examples" / "products.sh"
HEADING = "## Products"
EXPECTED = ["200000", "BR002", "HQ", "False", "CONSUMER_SMALL is disabled for branch BR002",
            "Deployment rejected: products.json: products.FARM_EASY.max_amount: 500000 is above head office's 300000"]


def said(block: str) -> list[str]:
    """What the block's comments say its printing lines print."""
    return [m.group(1).strip() for m in re.finditer(r"\| jget \S+\s+# (.+)", block)]


def test_the_products_script_is_the_readme_block_word_for_word_and_says_what_it_prints():
    block = readme_walkthrough_block(HEADING)
    assert script_body(SCRIPT, after="source examples/walkthrough.sh > /dev/null\n") == block
    assert said(block) == EXPECTED


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_products_block_runs_against_the_demo(demo_server):  # noqa: F811
    port, _database = demo_server
    assert run_walkthrough(SCRIPT, port, timeout=240) == EXPECTED
