"""The one masking rule for personal data shown to someone who does not need it whole.

- Resident ID number (18 characters): the first 6 (the issuing region) and the last 4 stay,
  the 8 between (birth date and sequence) become `*`: 370102********1234.
- Mobile phone (11 digits): the first 3 (the carrier's prefix) and the last 4 stay:
  138****5678.
- Account number (deposit and repayment accounts, any length): `****` and the last 4:
  ****5678.
- Anything else of that kind that is not one of those shapes keeps only its last 4 characters.

`redact_text` applies the same rule to free text (log lines, error messages, incidents, audit
comments, journal descriptions): any run of 10 to 32 digits (an 18-character run may end in X)
standing on its own is masked as what its shape says it is. A masked value never matches again,
so redacting twice changes nothing.
"""
from __future__ import annotations

import re

_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9Xx]$")
_PHONE_SHAPE = re.compile(r"^1[0-9]{10}$")
_RUN = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[Xx]|[0-9]{10,32})(?![0-9A-Za-z])")

def _last4(value: str) -> str:
    return "*" * max(len(value) - 4, 4) + value[-4:] if len(value) > 4 else "****"


def mask_id_number(value: str | None) -> str | None:
    if not value:
        return value
    value = str(value)
    return value[:6] + "********" + value[-4:] if len(value) == 18 else _last4(value)


def mask_phone(value: str | None) -> str | None:
    if not value:
        return value
    value = str(value)
    return value[:3] + "****" + value[-4:] if len(value) == 11 else _last4(value)


def mask_account(value: str | None) -> str | None:
    if not value:
        return value
    value = str(value)
    return "****" + value[-4:] if len(value) > 4 else "****"


def _mask_run(match: re.Match) -> str:
    run = match.group(1)
    start = match.start(1)
    # The last group of a UUID (12 hex digits after a dash) can happen to be all digits: not personal.
    if len(run) == 12 and start > 0 and match.string[start - 1] == "-":
        return run
    if _ID_SHAPE.match(run):
        return mask_id_number(run)
    if _PHONE_SHAPE.match(run):
        return mask_phone(run)
    return mask_account(run)


def redact_text(text):
    """Free text with every ID number, phone number and account number in it masked."""
    if not isinstance(text, str):
        return text
    return _RUN.sub(_mask_run, text)


def redact(value):
    """A JSON-like value with redact_text applied to every string in it (keys stay)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


# The applicant's fields that are personal data, each with its rule.
PERSONAL_APPLICANT_FIELDS = {"id_number": mask_id_number, "phone": mask_phone, "deposit_account": mask_account}


def mask_applicant(applicant: dict | None) -> dict | None:
    """An applicant (or borrower) with ID number, phone and account masked; other fields as they are."""
    if not applicant:
        return applicant
    masked = dict(applicant)
    for field, rule in PERSONAL_APPLICANT_FIELDS.items():
        if masked.get(field):
            masked[field] = rule(masked[field])
    return masked
