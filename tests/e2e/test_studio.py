"""The analysts' studio in the browser: an analyst lands in the studio, sees what BR002 inherits
and overrides, opens BR002's review in the bpmn-js Modeler, renames a task through the modeler,
saves the draft (our extensions survive the round trip through bpmn-js), validates, publishes,
and the branch resolves to the new version."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.e2e.test_review_journey import shot

EXTENSIONS = re.compile(r"<spiffworkflow:(\w+)")


def extension_counts(xml: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for tag in EXTENSIONS.findall(xml):
        counts[tag] = counts.get(tag, 0) + 1
    return counts


def test_an_analyst_edits_br002s_review_in_the_modeler_validates_and_publishes(sign_in, live, screenshots):
    from workflows.deployments import deploy, resolve_files
    from workflows.models import StudioDraft

    services = live[2]
    with services.db.sessions() as session:
        original = resolve_files(session, "BR002")["review.bpmn"].content

    page = sign_in("analyst", lands="**/studio**")
    assert page.locator("#nav-studio").count() == 1
    page.select_option("#scope", "BR002")
    page.wait_for_url("**/studio?scope=BR002")
    review = page.locator("tr[data-file='review.bpmn']")
    assert review.get_attribute("data-origin") == "branch_override" and "本行覆盖" in review.inner_text()
    assert "总行默认" in page.locator("tr[data-file='loan_origination.bpmn']").inner_text()
    shot(page, screenshots, "studio")

    review.locator("a").first.click()
    page.wait_for_url("**/studio/BR002/files/review.bpmn")
    page.wait_for_selector("#modeler[data-rendered=yes]")
    assert page.locator("#modeler g.djs-shape").count() > 10
    renamed = page.evaluate("""() => {
        const modeler = window.studioModeler;
        const task = modeler.get('elementRegistry').filter(e => e.type === 'bpmn:UserTask')[0];
        modeler.get('modeling').updateLabel(task, '信贷审查（BR002 新版）');
        return task.id;
    }""")
    page.click("#save-draft")
    page.wait_for_selector("#save-status[data-saved=yes]")
    assert "草稿已于" in page.locator("#save-status").inner_text()
    shot(page, screenshots, "studio-modeler")

    with services.db.sessions() as session:
        draft = session.scalar(select(StudioDraft).where(StudioDraft.author == "analyst", StudioDraft.scope == "BR002"))
        saved = draft.content
    # bpmn-js wrote the diagram back with every one of our extension elements (forms, lanes'
    # properties, handlers, timers) and the new name on the task.
    assert extension_counts(saved) == extension_counts(original) and extension_counts(original)
    assert re.search(rf'id="{renamed}"[^>]*name="信贷审查（BR002 新版）"', saved)

    page.click("text=返回流程工作室")
    page.wait_for_url("**/studio?scope=BR002")
    assert page.locator("#drafts tbody tr").count() == 1
    page.click("#validate")
    page.wait_for_selector("#validation-passed")
    page.fill("#publish-comment", "审查任务改名")
    page.click("#publish")
    page.wait_for_url("**/studio?scope=BR002")
    assert "已发布 BR002" in page.locator(".flash.ok").inner_text()
    assert "审查任务改名" in page.locator("tr[data-file='review.bpmn']").inner_text()
    shot(page, screenshots, "studio-published")
    with services.db.sessions() as session:
        assert "信贷审查（BR002 新版）" in resolve_files(session, "BR002")["review.bpmn"].content

    # Put BR002's review back as it was for the rest of the session (republishing is the rollback).
    with services.db.unit_of_work() as session:
        deploy(session, "BR002", {"review.bpmn": original}, actor="analyst", comment="restore after the studio test",
               operations=services.operations, forms=services.forms)
