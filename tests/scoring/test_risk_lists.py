"""Risk lists on a real database (each test runs on SQLite and on PostgreSQL)."""
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from scoring.errors import RiskListEntryExists, RiskListEntryNotFound, RiskListError, UnknownRiskList
from scoring.risk import check_risk
from scoring.risk_lists import add_entry, history, list_entries, lists_for, remove_entry

PERSON = "330102199001011234"
OTHER = "330102198501015678"


def test_an_added_entry_is_listed_with_its_reason_and_author(database):
    with database.unit_of_work() as session:
        add_entry(session, "blacklist", PERSON, reason="forged land certificate", actor="risk.li")
    with database.unit_of_work() as session:
        entries, total = list_entries(session, "blacklist")
    assert total == 1
    assert (entries[0].id_number, entries[0].reason, entries[0].added_by) == (PERSON, "forged land certificate", "risk.li")


def test_adding_the_same_person_twice_is_refused_and_leaves_the_transaction_usable(database):
    with database.unit_of_work() as session:
        add_entry(session, "graylist", PERSON, reason="late twice", actor="risk.li")
        with pytest.raises(RiskListEntryExists):
            add_entry(session, "graylist", PERSON, reason="again", actor="risk.wang")
        add_entry(session, "graylist", OTHER, reason="many lenders", actor="risk.wang")
    with database.unit_of_work() as session:
        assert list_entries(session, "graylist")[1] == 2


def test_the_same_person_may_be_on_two_lists(database):
    with database.unit_of_work() as session:
        add_entry(session, "graylist", PERSON, reason="late", actor="a")
        add_entry(session, "aml", PERSON, reason="sanctions match", actor="a")
        snapshot = lists_for(session, [PERSON, OTHER])
    assert snapshot.contains("graylist", PERSON) and snapshot.contains("aml", PERSON)
    assert not snapshot.contains("blacklist", PERSON) and not snapshot.contains("aml", OTHER)


def test_removing_an_entry_keeps_both_changes_in_the_audit_trail(database):
    added = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
    with database.unit_of_work() as session:
        entry = add_entry(session, "blacklist", PERSON, reason="fraud", actor="risk.li", at=added)
    with database.unit_of_work() as session:
        removed = remove_entry(session, "blacklist", entry.id, reason="court cleared the customer", actor="risk.zhao")
    assert removed.id_number == PERSON
    with database.unit_of_work() as session:
        assert list_entries(session, "blacklist") == ([], 0)
        trail = history(session, "blacklist", PERSON)
    assert [(c.action, c.actor, c.reason) for c in trail] == [
        ("add", "risk.li", "fraud"), ("remove", "risk.zhao", "court cleared the customer")]


def test_removing_someone_not_on_the_list_is_refused(database):
    with database.unit_of_work() as session:
        with pytest.raises(RiskListEntryNotFound):
            remove_entry(session, "blacklist", 12345, reason="x", actor="y")


def test_nothing_is_saved_when_the_callers_transaction_rolls_back(database):
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with database.unit_of_work() as session:
            add_entry(session, "blacklist", PERSON, reason="fraud", actor="risk.li")
            raise Abort
    with database.unit_of_work() as session:
        assert list_entries(session, "blacklist")[1] == 0 and history(session, "blacklist") == []


@pytest.mark.parametrize("name, id_number, reason, error", [
    ("whitelist", PERSON, "x", UnknownRiskList), ("blacklist", "", "x", RiskListError),
    ("blacklist", PERSON, "  ", RiskListError)])
def test_invalid_additions_are_refused_with_a_typed_error(database, name, id_number, reason, error):
    with database.unit_of_work() as session:
        with pytest.raises(error):
            add_entry(session, name, id_number, reason=reason, actor="a")


def test_a_snapshot_from_the_database_drives_the_interception(database):
    with database.unit_of_work() as session:
        add_entry(session, "blacklist", PERSON, reason="fraud", actor="risk.li")
        lists = lists_for(session, [PERSON])
    hits = check_risk("application", {"id_number": PERSON}, {"bureau": {"inquiries_3m": 0}}, lists)
    assert [(hit.code, hit.severity) for hit in hits] == [("R001", "block")]


def test_list_pages_are_newest_first(database):
    with database.unit_of_work() as session:
        for day in range(1, 6):
            add_entry(session, "graylist", f"ID{day:03d}", reason="r", actor="a",
                      at=datetime(2026, 1, day, tzinfo=timezone.utc))
        page, total = list_entries(session, "graylist", limit=2, offset=1)
    assert total == 5 and [entry.id_number for entry in page] == ["ID004", "ID003"]


def test_a_person_is_found_by_the_exact_id_number_through_its_keyed_hash(database):
    with database.unit_of_work() as session:
        add_entry(session, "blacklist", "33010219900101123X", reason="fraud", actor="risk.li")
        add_entry(session, "blacklist", OTHER, reason="fraud", actor="risk.li")
        found, total = list_entries(session, "blacklist", id_number="33010219900101123x")
        stored = session.execute(sa.text("SELECT id_number, id_number_hash FROM scoring_risk_list_entry")).all()
    assert total == 1 and found[0].id_number == "33010219900101123X"
    assert found[0].as_dict()["id_number"] == "330102********123X"
    assert all(row[0].startswith("lf1:") and len(row[1]) == 64 for row in stored)
    assert not any(OTHER in value or "33010219900101123X" in value for row in stored for value in row)
