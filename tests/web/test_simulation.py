"""Simulation (模拟): draft files run on a scope's recent applications beside the published version,
through the API and the studio page; every run is rolled back, so nothing of it is kept."""
from __future__ import annotations

import io
from pathlib import Path

import sqlalchemy as sa

from tests.web.journeys import example, submit
from tests.web.test_studio import post, save
from tests.web.test_pages import sign_in

ROUTE = Path(__file__).resolve().parents[2] / "bpmn" / "default" / "review_route.dmn"
# BR002's branch approver joins from 150,000 instead of 200,000.
LOWER_SECOND_LEVEL = ROUTE.read_text(encoding="utf-8").replace("&gt; 200000", "&gt; 150000")


def three_br002_applications(client, token_for) -> dict[str, str]:
    ids = {}
    for amount in ("60000.00", "180000.00", "250000.00"):
        response = submit(client, token_for("api-demo"), example("application-review.json", branch="BR002", amount=amount))
        assert response.status_code == 201, response.get_json()
        ids[amount] = response.get_json()["id"]
    return ids


def stored_rows(services) -> tuple[int, ...]:
    from workflows.models import Application, AuditEvent, HumanTask, OutboxMessage, ProcessInstance

    with services.db.sessions() as session:
        return tuple(session.scalar(sa.select(sa.func.count()).select_from(table))
                     for table in (Application, ProcessInstance, HumanTask, AuditEvent, OutboxMessage))


def simulate(client, token_for, files: dict[str, str], **fields):
    return client.post("/api/v1/simulations", headers=token_for("analyst"), content_type="multipart/form-data",
                       data={"scope": "BR002", **fields,
                             "files": [(io.BytesIO(text.encode()), name) for name, text in files.items()]})


def test_a_lower_review_threshold_moves_only_the_application_between_the_two_amounts_and_keeps_nothing(
        client, token_for, services):
    ids = three_br002_applications(client, token_for)
    before = stored_rows(services)
    response = simulate(client, token_for, {"review_route.dmn": LOWER_SECOND_LEVEL}, sample="3")
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert stored_rows(services) == before   # no application, instance, task, audit row or webhook kept
    # 60,000 and 180,000 need one level today, 250,000 two; with the draft 180,000 needs two.
    assert result["published"]["by_review_levels"] == {"1": 2, "2": 1}
    assert result["draft"]["by_review_levels"] == {"1": 1, "2": 2}
    assert result["published"]["applications"] == result["draft"]["applications"] == 3
    [changed] = result["changed"]
    assert changed["application_id"] == ids["180000.00"] and changed["amount"] == "180000.00"
    assert (changed["published"]["review_levels"], changed["draft"]["review_levels"]) == (1, 2)
    assert changed["customer"].startswith(example("application-review.json")["applicant"]["name"][:1])
    assert "*" in changed["customer"]   # analysts see applicants masked


def test_a_simulation_of_drafts_that_would_not_deploy_or_of_a_bad_sample_names_each_reason(client, token_for):
    broken = simulate(client, token_for, {"review_route.dmn": "<definitions"}, sample="3")
    assert broken.status_code == 422 and "review_route.dmn" in broken.get_json()["fields"]
    bad = client.post("/api/v1/simulations", headers=token_for("analyst"), content_type="multipart/form-data",
                      data={"scope": "BR002", "sample": "5000"})
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"sample", "files"}
    reviewer = client.post("/api/v1/simulations", headers=token_for("rev-BR001"), content_type="multipart/form-data",
                           data={"scope": "BR002", "sample": "3"})
    assert reviewer.status_code == 403


def test_the_studio_simulates_the_analysts_drafts_and_lists_the_changed_application(client, token_for, services):
    ids = three_br002_applications(client, token_for)
    sign_in(client, "analyst")
    save(client, "BR002", "review_route.dmn", LOWER_SECOND_LEVEL)
    before = stored_rows(services)
    page = post(client, "BR002", "simulate", sample="3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert stored_rows(services) == before
    assert 'id="simulation"' in html and f'data-application="{ids["180000.00"]}"' in html
    assert f'data-application="{ids["60000.00"]}"' not in html
    assert "模拟" in html and "¥180,000.00" in html


def test_a_simulation_out_of_time_stops_early_and_says_so(client, token_for, services):
    from workflows.models import User
    from workflows.simulation import simulate as run_simulation

    three_br002_applications(client, token_for)
    with services.db.sessions() as session:
        analyst = session.get(User, "analyst")
        session.expunge(analyst)
    result = run_simulation(services.db, services.origination, "BR002", {"review_route.dmn": LOWER_SECOND_LEVEL},
                            sample=3, actor=analyst, budget_seconds=0.0, operations=services.operations,
                            forms=services.forms)
    assert result.stopped_early and result.published.applications == 1 == result.draft.applications


def test_a_withdrawn_override_is_simulated_on_head_offices_file(client, token_for, services):
    from workflows.deployments import resolve_files
    from workflows.file_diff import diff_files
    from workflows.models import User
    from workflows.simulation import simulate as run_simulation

    three_br002_applications(client, token_for)
    with services.db.sessions() as session:
        analyst = session.get(User, "analyst")
        session.expunge(analyst)
        hq, br002 = resolve_files(session, "HQ")["pricing.dmn"], resolve_files(session, "BR002")["pricing.dmn"]
    assert br002.scope == "BR002" and diff_files("pricing.dmn", hq.content, br002.content)   # BR002 prices its own way
    result = run_simulation(services.db, services.origination, "BR002", {}, withdraw=("pricing.dmn",), sample=3,
                            actor=analyst, operations=services.operations, forms=services.forms)
    assert result.published.applications == 3 == result.draft.applications
    assert result.draft.average_rate != result.published.average_rate   # HQ's pricing, not BR002's
