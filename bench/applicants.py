"""Distinct applicants for the benches: each one a different person who is auto-approved.

A bench that reuses one applicant measures the single-customer limit, not the engine: after about
900 loans of 30,000 yuan the customer's exposure trips it. These applicants have their own valid
resident ID numbers (GB 11643-1999 check digit, as handlers/intake.py checks it), names, phones,
deposit accounts and amounts, and stay inside what the review route auto-approves: FARM_EASY,
at most 50,000 yuan, a grade-A farm household, and a clean report from the demo's bureau
simulator (no warning for inquiries, lenders or overdue accounts, which would rule out
auto-approval).
"""
from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]

# The same weights and characters as handlers/intake.py (ISO 7064 MOD 11-2).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
REGION_CODE = "370784"  # Anqiu, Weifang: the example applicant's county

SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma", "Zhu")
GIVEN_NAMES = ("Jianguo", "Xiuying", "Guiying", "Jianhua", "Min", "Jing", "Lei", "Yong", "Yan", "Jun", "Qiang",
               "Ping", "Gang", "Hui", "Fang", "Xiuzhen", "Dehua", "Chunmei", "Haiyan", "Zhiqiang")

# Bureau thresholds of the W002-W004 warnings in bpmn/default/scoring/risk_rules.json.
MAX_INQUIRIES_3M = 6
MAX_LENDERS = 4


def check_digit(first_17: str) -> str:
    return ID_CHECK_CHARS[sum(int(c) * w for c, w in zip(first_17, ID_WEIGHTS)) % 11]


def id_number(birth: dt.date, sequence: int) -> str:
    """An 18-character resident ID number for a person born on `birth` (sequence 0-999)."""
    first_17 = f"{REGION_CODE}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first_17 + check_digit(first_17)


def clean_at_bureau(number: str) -> bool:
    """Whether the demo bureau simulator's report for this ID number raises no warning."""
    from web.simulators.bureau import simulated_report

    report = simulated_report(number)
    return (report["overdue_accounts"] == 0 and report["inquiries_3m"] <= MAX_INQUIRIES_3M
            and report["lender_count"] <= MAX_LENDERS)


def applications(count: int, seed: int = 13) -> Iterator[dict]:
    """`count` application bodies, each for a different applicant; the same seed, the same list.

    Birth dates fall between 1970 and 1994, so every applicant is between 18 and 65 now and under
    70 at maturity; ID numbers ending in X are skipped (the simulator has no file for them)."""
    template = json.loads((ROOT / "examples" / "application-auto.json").read_text())
    rng = random.Random(seed)
    seen: set[str] = set()
    first_day, days = dt.date(1970, 1, 1).toordinal(), (dt.date(1994, 12, 31) - dt.date(1970, 1, 1)).days
    made = 0
    while made < count:
        number = id_number(dt.date.fromordinal(first_day + rng.randrange(days)), rng.randrange(1000))
        if number in seen or number.endswith("X") or not clean_at_bureau(number):
            continue
        seen.add(number)
        made += 1
        applicant = dict(template["applicant"],
                         name=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN_NAMES)}",
                         id_number=number,
                         phone=f"138{rng.randrange(10 ** 8):08d}",
                         deposit_account=f"622848{rng.randrange(10 ** 13):013d}")
        yield dict(template, amount=f"{rng.randrange(100, 501) * 100}.00", applicant=applicant)
