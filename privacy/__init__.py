"""Personal data under the PIPL: encryption at rest, keyed hashes for look-ups, masking.

A leaf package (it imports no other loanflow package), so the components (scoring, ledger) can
use it as well as workflows and web. Nothing here holds a key at import time: the entry points
build a `Keyring` from the settings (LOANFLOW_DATA_KEY) and attach it to the database engine
(`attach`); sealed columns and look-up hashes find it there (`keyring_for`).
"""
from privacy.columns import SealedJSON, SealedText, attach, keyring_for
from privacy.keys import DEMO_DATA_KEY, DataKeyError, Keyring
from privacy.masking import (mask_account, mask_applicant, mask_id_number, mask_phone, redact, redact_text)

__all__ = ["DEMO_DATA_KEY", "DataKeyError", "Keyring", "SealedJSON", "SealedText", "attach", "keyring_for",
           "mask_account", "mask_applicant", "mask_id_number", "mask_phone", "redact", "redact_text"]
