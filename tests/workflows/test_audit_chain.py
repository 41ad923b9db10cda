"""The audit trail's hash chains: a journey's events are sealed per branch, and `loanflow audit
verify` finds a row changed, removed or reordered by hand in SQL (exit 1, naming it), on both backends."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.web.journeys import example, signature_for, submit
from workflows import audit_chain
from workflows.models import AuditChainHead, AuditSeal


@pytest.fixture
def journey(client, token_for, services):
    """A loan disbursed in BR001 (case events, postings) and a user created (administration)."""
    api = token_for("api-demo")
    application = submit(client, api, example("application-auto.json")).get_json()
    signed = client.get(f"/api/v1/applications/{application['id']}", headers=api).get_json()
    assert client.post(f"/api/v1/applications/{application['id']}/signature", headers=api,
                       json=signature_for(signed)).status_code == 200
    assert client.post("/api/v1/admin/users", headers=token_for("admin-BR001"), json={
        "username": "rev9-BR001", "full_name": "赵九", "branch": "BR001", "roles": ["reviewer"],
        "password": "Spring-2027"}).status_code == 201
    return application["id"]


def run_verify(services, monkeypatch, capsys) -> tuple[int, str, str]:
    from web.cli import main

    monkeypatch.setenv("LOANFLOW_DATABASE_URL", services.settings.database_url)
    code = main(["audit", "verify"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tamper(services, sql: str, **values) -> None:
    with services.db.engine.begin() as connection:
        assert connection.execute(text(sql), values).rowcount >= 1


def test_an_intact_trail_verifies_and_every_kind_of_event_is_sealed_in_its_branchs_chain(journey, services,
                                                                                          monkeypatch, capsys):
    code, out, err = run_verify(services, monkeypatch, capsys)
    assert code == 0, err
    assert out.startswith("audit chain intact:") and "  BR001  " in out and "  HQ  " in out
    with services.db.sessions() as session:
        seals = session.query(AuditSeal).all()
        sources = {(s.branch_code, s.source) for s in seals}
        heads = {h.branch_code: h.seq for h in session.query(AuditChainHead)}
        events = session.execute(text("SELECT count(*) FROM audit_event")).scalar()
    assert {("BR001", "audit_event"), ("BR001", "ledger_journal_entry"), ("BR001", "admin_audit"),
            ("BR001", "customer_change"), ("HQ", "deployment"), ("BR002", "deployment")} <= sources
    # one link per row, numbered 1..n in each branch
    for branch, head in heads.items():
        assert sorted(s.seq for s in seals if s.branch_code == branch) == list(range(1, head + 1))
    assert sum(1 for s in seals if s.source == "audit_event") == events
    # a second run seals nothing new and still verifies
    code, out, _ = run_verify(services, monkeypatch, capsys)
    assert code == 0 and "sealed 0 new row(s)" in out


def test_a_case_event_changed_by_hand_is_found(journey, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    tamper(services, "UPDATE audit_event SET actor = 'nobody' WHERE id = (SELECT min(id) FROM audit_event "
                     "WHERE application_id = :app)", app=journey)
    code, _, err = run_verify(services, monkeypatch, capsys)
    assert code == 1
    assert "audit_event row" in err and "the row was changed after it was sealed" in err and "branch BR001" in err


def test_a_posting_line_changed_or_removed_by_hand_is_found(journey, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    tamper(services, "UPDATE ledger_journal_line SET debit = debit + 1 WHERE id = (SELECT min(l.id) FROM "
                     "ledger_journal_line l WHERE l.debit > 0)")
    code, _, err = run_verify(services, monkeypatch, capsys)
    assert code == 1 and "ledger_journal_entry row" in err and "changed" in err


def test_a_removed_row_is_found(journey, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    tamper(services, "DELETE FROM admin_audit WHERE target = 'rev9-BR001'")
    code, _, err = run_verify(services, monkeypatch, capsys)
    assert code == 1 and "admin_audit row" in err and "the row was removed" in err


def test_reordered_or_removed_seals_are_found(journey, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    # swap the rows two links seal (as if the events had happened the other way round)
    with services.db.sessions() as session:
        first, second = session.query(AuditSeal).filter_by(branch_code="BR001").order_by(AuditSeal.seq).limit(2)
        a, b = (first.id, first.source, first.source_id, first.digest), (second.id, second.source, second.source_id,
                                                                        second.digest)
    tamper(services, "UPDATE audit_seal SET source_id = -source_id WHERE id IN (:a, :b)", a=a[0], b=b[0])
    for (seal_id, source, source_id, digest) in ((a[0], *b[1:]), (b[0], *a[1:])):
        tamper(services, "UPDATE audit_seal SET source = :s, source_id = :i, digest = :d WHERE id = :id",
               s=source, i=source_id, d=digest, id=seal_id)
    code, _, err = run_verify(services, monkeypatch, capsys)
    assert code == 1 and "link 1" in err and "changed or reordered" in err


def test_the_last_links_removed_are_found(journey, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    tamper(services, "DELETE FROM audit_seal WHERE branch_code = 'BR001' AND seq = (SELECT max(seq) FROM audit_seal "
                     "WHERE branch_code = 'BR001')")
    code, _, err = run_verify(services, monkeypatch, capsys)
    # the row it sealed is sealed again at the end of the chain, which leaves the gap in sight
    assert code == 1 and "branch BR001" in err and "a seal was removed" in err


def test_the_last_links_removed_with_their_rows_are_found(journey, client, token_for, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    assert client.patch("/api/v1/admin/users/rev9-BR001", headers=token_for("admin-BR001"),
                        json={"full_name": "赵久"}).status_code == 200
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    with services.db.sessions() as session:
        last = session.query(AuditSeal).filter_by(branch_code="BR001").order_by(AuditSeal.seq.desc()).first()
        assert last.source == "admin_audit" and last.seq == session.get(AuditChainHead, "BR001").seq
    tamper(services, "DELETE FROM admin_audit WHERE id = :id", id=last.source_id)
    tamper(services, "DELETE FROM audit_seal WHERE id = :id", id=last.id)
    code, _, err = run_verify(services, monkeypatch, capsys)
    assert code == 1 and "the last links were removed" in err


def test_a_forged_chain_without_the_key_does_not_verify(journey, services, monkeypatch, capsys):
    """Rewriting a row and recomputing its digest and link with a plain hash (no key) still breaks."""
    import hashlib

    assert run_verify(services, monkeypatch, capsys)[0] == 0
    with services.db.sessions() as session:
        seal = session.query(AuditSeal).filter_by(branch_code="BR001", seq=1).one()
        forged = hashlib.sha256(f"{audit_chain.GENESIS}|BR001|1|{seal.source}|{seal.source_id}|x".encode()).hexdigest()
    tamper(services, "UPDATE audit_seal SET digest = 'x', chain_hash = :h WHERE id = :id", h=forged, id=seal.id)
    code, _, err = run_verify(services, monkeypatch, capsys)
    assert code == 1 and "link 1" in err


def test_rows_written_after_a_verify_are_sealed_by_the_next(journey, client, token_for, services, monkeypatch, capsys):
    assert run_verify(services, monkeypatch, capsys)[0] == 0
    submit(client, token_for("api-demo"), example("application-review.json"))
    code, out, _ = run_verify(services, monkeypatch, capsys)
    assert code == 0 and "sealed 0 new row(s)" not in out
