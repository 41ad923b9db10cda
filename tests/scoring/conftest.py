"""Fixtures for the scoring tests: the real rating files from bpmn/, resolved per branch the way
the workflows layer does it (a branch's file replaces HQ's file of the same name), and the bureau
simulator on a real HTTP port."""
from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO / "bpmn" / "default" / "scoring"
BRANCHES_DIR = REPO / "bpmn" / "branches"


def rating_files_for(branch: str | None = None) -> dict[str, str]:
    files = {path.name: path.read_text(encoding="utf-8") for path in DEFAULT_DIR.iterdir() if path.is_file()}
    if branch:
        override_dir = BRANCHES_DIR / branch / "scoring"
        if override_dir.is_dir():
            files.update({path.name: path.read_text(encoding="utf-8")
                          for path in override_dir.iterdir() if path.is_file()})
    return files


@pytest.fixture(scope="session")
def hq_files() -> dict[str, str]:
    return rating_files_for(None)


@pytest.fixture
def agri_product() -> dict:
    return {"code": "AGRI-OPERATING", "base_rate": Decimal("0.0435"), "max_amount": Decimal("300000")}


@pytest.fixture
def farm_household() -> dict:
    return {
        "id_number": "330102199001011234", "name": "王建国", "customer_type": "farm_household",
        "age": 40, "monthly_income": "6000", "years_at_address": 8, "land_mu": "12.5",
        "livestock_head": 6, "family_members": 5, "labourers": 3, "income_sources": "crop;livestock",
        "existing_debt": "20000", "credit_village": True, "credit_household": False,
    }


@pytest.fixture
def bureau_server():
    """The bureau simulator on 127.0.0.1, on a free port, in a thread; yields its base URL."""
    from werkzeug.serving import make_server

    from web.simulators.bureau import create_app

    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
