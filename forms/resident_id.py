"""The resident ID number (居民身份证号码, GB 11643-1999): 17 digits and a check character.

The 18th character is an ISO 7064 MOD 11-2 check over the first 17 digits; digits 7 to 14 are
the holder's birth date. Intake declines an application whose number fails (a business outcome);
the customer register refuses to key a customer by one (a field error).
"""
from __future__ import annotations

import datetime as dt

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def id_number_problem(id_number: str) -> str | None:
    """Why an 18-character resident ID number is not valid, or None."""
    if len(id_number) != 18 or not id_number[:17].isdigit() or not id_number[:17].isascii():
        return "ID number must be 17 digits followed by a digit or X"
    expected = _CHECK_CHARS[sum(int(c) * w for c, w in zip(id_number[:17], _WEIGHTS)) % 11]
    if id_number[17].upper() != expected:
        return "ID number check digit does not match"
    if birth_date_from_id(id_number) is None:
        return "ID number holds no valid birth date"
    return None


def birth_date_from_id(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None
