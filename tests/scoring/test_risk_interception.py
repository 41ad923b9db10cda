import json
from decimal import Decimal

import pytest

from scoring.errors import RatingFileError, ScoringError
from scoring.risk import CHECKPOINTS, RULES, check_risk
from tests.scoring.conftest import rating_files_for

APPLICANT = {"id_number": "330102199001011234"}
GUARANTOR = "330102198501015678"
CLEAN_BUREAU = {"inquiries_3m": 1, "lender_count": 1, "overdue_accounts": 0}
NO_LISTS: dict = {}


def hq_rules():
    return rating_files_for(None)["risk_rules.json"]


def codes(hits):
    return [(hit.code, hit.severity) for hit in hits]


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_a_clean_applicant_passes_every_checkpoint(checkpoint):
    assert check_risk(checkpoint, APPLICANT, {"bureau": CLEAN_BUREAU}, NO_LISTS, hq_rules()) == []


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_a_blacklisted_applicant_is_blocked_at_every_checkpoint_naming_the_rule(checkpoint):
    lists = {"blacklist": {APPLICANT["id_number"]: "fraudulent documents 2025"}}
    hits = check_risk(checkpoint, APPLICANT, {"bureau": CLEAN_BUREAU}, lists, hq_rules())
    assert codes(hits) == [("R001", "block")]
    assert "fraudulent documents 2025" in hits[0].message


def test_an_applicant_on_the_aml_list_is_blocked():
    hits = check_risk("application", APPLICANT, {"bureau": CLEAN_BUREAU}, {"aml": [APPLICANT["id_number"]]})
    assert codes(hits) == [("R002", "block")]


def test_written_off_and_loss_classified_loans_block():
    facts = {"bureau": CLEAN_BUREAU, "written_off_loans": 1, "loss_classified_loans": 2}
    assert codes(check_risk("contract", APPLICANT, facts, NO_LISTS)) == [("R003", "block"), ("R004", "block")]


@pytest.mark.parametrize("guarantee", [
    {"guarantor_id_number": GUARANTOR, "kind": "guarantor", "status": "expired"},
    {"guarantor_id_number": GUARANTOR, "kind": "guarantor", "status": "valid", "guarantor_written_off": True},
])
def test_a_bad_guarantee_blocks(guarantee):
    hits = check_risk("disbursement", APPLICANT, {"guarantees": [guarantee]}, NO_LISTS)
    assert codes(hits) == [("R005", "block")]


def test_a_blacklisted_guarantor_makes_the_guarantee_bad():
    facts = {"guarantees": [{"guarantor_id_number": GUARANTOR, "status": "valid"}]}
    hits = check_risk("contract", APPLICANT, facts, {"blacklist": {GUARANTOR: "fraud"}})
    assert codes(hits) == [("R005", "block")]


def test_a_graylisted_applicant_gets_a_warning_not_a_block():
    hits = check_risk("application", APPLICANT, {"bureau": CLEAN_BUREAU}, {"graylist": {APPLICANT["id_number"]: "late 2x"}})
    assert codes(hits) == [("W001", "warn")]


def test_bureau_signals_warn_above_their_thresholds():
    bureau = {"inquiries_3m": 7, "lender_count": 5, "overdue_accounts": 1}
    hits = check_risk("application", APPLICANT, {"bureau": bureau}, NO_LISTS, hq_rules())
    assert codes(hits) == [("W002", "warn"), ("W003", "warn"), ("W004", "warn")]
    assert "7 credit inquiries" in hits[1].message


def test_exactly_the_threshold_of_inquiries_does_not_warn():
    bureau = {**CLEAN_BUREAU, "inquiries_3m": 6, "lender_count": 4}
    assert check_risk("application", APPLICANT, {"bureau": bureau}, NO_LISTS, hq_rules()) == []


def test_current_overdue_at_this_bank_warns():
    hits = check_risk("disbursement", APPLICANT, {"overdue_amount": Decimal("1200.00")}, NO_LISTS)
    assert codes(hits) == [("W002", "warn")]


def test_a_missing_bureau_report_is_never_silently_treated_as_clean():
    hits = check_risk("application", APPLICANT, {}, NO_LISTS)
    assert codes(hits) == [("W000", "warn")]


def test_blocks_come_before_warnings():
    lists = {"graylist": [APPLICANT["id_number"]], "blacklist": [APPLICANT["id_number"]]}
    hits = check_risk("application", APPLICANT, {"bureau": CLEAN_BUREAU}, lists)
    assert [hit.severity for hit in hits] == ["block", "warn"]


def test_a_branch_can_tighten_a_threshold_and_turn_a_warning_into_a_block():
    config = json.loads(hq_rules())
    config["rules"]["W003"].update(severity="block", params={"max_inquiries_3m": 3})
    bureau = {**CLEAN_BUREAU, "inquiries_3m": 4}
    assert codes(check_risk("application", APPLICANT, {"bureau": bureau}, NO_LISTS, config)) == [("W003", "block")]


def test_the_hq_rules_file_configures_every_rule():
    assert set(json.loads(hq_rules())["rules"]) == {rule.code for rule in RULES}


@pytest.mark.parametrize("config", ['{"rules": {"R999": {}}}', '{"rules": {"R001": {"severity": "panic"}}}',
                                    '{"rules": {"R001": {"checkpoints": ["lunch"]}}}', "not json",
                                    '{"rules": {"R001": true}}', '{"rules": []}',
                                    '{"rules": {"W003": {"params": {"max_inquiries_3m": "six"}}}}'])
def test_a_broken_rules_file_is_refused(config):
    with pytest.raises(RatingFileError):
        check_risk("application", APPLICANT, {}, NO_LISTS, config)


def test_an_unknown_checkpoint_is_refused():
    with pytest.raises(ScoringError) as caught:
        check_risk("lunch", APPLICANT, {}, NO_LISTS)
    assert caught.value.field == "checkpoint"
