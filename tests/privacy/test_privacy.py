"""The masking rule, the data key, sealing and look-up hashes (privacy/), without a database."""
from __future__ import annotations

import pytest

from privacy import (DEMO_DATA_KEY, DataKeyError, Keyring, mask_account, mask_applicant, mask_id_number,
                     mask_phone, redact, redact_text)


def test_an_id_number_keeps_its_region_and_last_four():
    assert mask_id_number("370102198001011234") == "370102********1234"
    assert mask_id_number("37010219800101123X") == "370102********123X"


def test_a_phone_keeps_its_prefix_and_last_four_and_an_account_its_last_four():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_account("6228480012345678901") == "****8901"
    assert mask_account("12") == "****"


def test_free_text_is_masked_by_the_shape_of_each_number_and_masking_twice_changes_nothing():
    text = ("customer 370102198001011234 (tel 13812345678) pays from 6228480012345678901; "
            "application 1b2c3d4e-0000-4000-8000-123456789012, amount 300000.00, dated 20261201")
    masked = redact_text(text)
    assert masked == ("customer 370102********1234 (tel 138****5678) pays from ****8901; "
                      "application 1b2c3d4e-0000-4000-8000-123456789012, amount 300000.00, dated 20261201")
    assert redact_text(masked) == masked
    assert redact({"a": [text], "n": 5}) == {"a": [masked], "n": 5}


def test_an_applicant_is_masked_field_by_field():
    applicant = {"name": "Li Wei", "id_number": "370102198001011234", "phone": "13812345678",
                 "deposit_account": "6228480012345678901", "monthly_income": "6000"}
    assert mask_applicant(applicant) == {"name": "Li Wei", "id_number": "370102********1234",
                                         "phone": "138****5678", "deposit_account": "****8901",
                                         "monthly_income": "6000"}


def test_a_sealed_value_opens_only_with_its_key_and_never_seals_the_same_twice():
    keyring = Keyring.from_setting(DEMO_DATA_KEY)
    first, second = keyring.seal("370102198001011234"), keyring.seal("370102198001011234")
    assert first != second and "370102198001011234" not in first
    assert keyring.open(first) == keyring.open(second) == "370102198001011234"
    with pytest.raises(DataKeyError):
        Keyring.from_setting("11" * 32).open(first)


def test_the_look_up_hash_is_exact_keyed_and_ignores_the_case_of_x():
    keyring = Keyring.from_setting(DEMO_DATA_KEY)
    assert keyring.lookup_hash("37010219800101123x") == keyring.lookup_hash(" 37010219800101123X ")
    assert keyring.lookup_hash("370102198001011234") != keyring.lookup_hash("370102198001011235")
    assert keyring.lookup_hash("370102198001011234") != Keyring.from_setting("11" * 32).lookup_hash("370102198001011234")


@pytest.mark.parametrize("setting", ["", "abc", "00" * 31, "zz" * 32])
def test_a_data_key_that_is_not_32_bytes_is_refused(setting):
    with pytest.raises(DataKeyError):
        Keyring.from_setting(setting)


def test_a_base64_data_key_is_accepted():
    import base64

    Keyring.from_setting(base64.b64encode(b"k" * 32).decode())


def test_a_contract_number_is_never_taken_for_an_account_number_and_masked():
    # An application id whose first ten hex characters are all digits (about 1 in 100).
    from handlers.contract import contract_number
    from privacy import redact_text
    import datetime as dt

    number = contract_number("BR001", "4692168971-4abc-8def-0000-000000000000", dt.date(2026, 12, 3))
    assert number == "LC-BR001-20261203-K692168971"
    assert redact_text(f"loan {number}") == f"loan {number}"
    assert contract_number("BR001", "4692a68971-4abc", dt.date(2026, 12, 3)) == "LC-BR001-20261203-4692A68971"
