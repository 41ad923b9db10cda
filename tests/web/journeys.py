"""Steps of an integrator's and reviewers' journey through the API, shared by the API tests."""
from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def example(name: str, **changes) -> dict:
    body = json.loads((EXAMPLES / name).read_text())
    for key, value in changes.items():
        body[key] = value
    return copy.deepcopy(body)


def submit(client, headers, body, key=None):
    return client.post("/api/v1/applications", json=body,
                       headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())})


def signature_for(application: dict) -> dict:
    body = example("signature.json")
    body["contract_number"] = application["contract"]["number"]
    body["content_hash"] = application["contract"]["content_hash"]
    return body


def open_task(client, headers, application_id):
    response = client.get(f"/api/v1/tasks?application_id={application_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert len(items) == 1, items
    return items[0]


def decide(client, headers, application_id, decision="approve", comment="checked"):
    task = open_task(client, headers, application_id)
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", headers=headers,
                           json={"decision": decision, "comment": comment})
    assert response.status_code == 200, response.get_json()
    return task
