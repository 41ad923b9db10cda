"""A refused deployment lists every reason of every file in `fields`, not only the last one."""
from __future__ import annotations

from tests.web.test_deployments_api import SCRIPT_PROCESS, deploy


def test_every_reason_of_a_refused_file_is_in_its_fields_entry(client, token_for):
    script = "import os\nwhile True:\n    pass\ny = x.__dict__"
    response = deploy(client, token_for("analyst"), "BR001", {"housekeeping.bpmn": SCRIPT_PROCESS.format(script=script)})
    assert response.status_code == 422
    reasons = response.get_json()["fields"]["housekeeping.bpmn"]
    assert [r.split(": ")[1] for r in reasons] == ["line 1", "line 2", "line 4"]
    assert all(r.startswith("tidy_up: ") for r in reasons)


def test_a_body_of_the_wrong_media_type_is_a_415_even_without_an_idempotency_key(client, token_for):
    response = client.post("/api/v1/applications", data="x", content_type="text/plain", headers=token_for("api-demo"))
    assert response.status_code == 415
