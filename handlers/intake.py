"""Intake pre-check (业务受理): is the application complete and the applicant eligible?

A failed check is a business outcome (a decline with reasons), not an error.
"""
from __future__ import annotations

from dataclasses import dataclass

import datetime as dt

from forms.resident_id import birth_date_from_id, id_number_problem
from handlers.context import HandlerContext

MIN_AGE = 18
MAX_AGE = 65
MAX_AGE_AT_MATURITY = 70
REQUIRED_APPLICANT_FIELDS = ("name", "id_number", "phone", "monthly_income", "deposit_account")

def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True)
class Prechecked:
    precheck_passed: bool
    applicant_age: int | None
    decline_reasons: list


def precheck(ctx: HandlerContext, data: dict) -> Prechecked:
    applicant = data.get("applicant") or {}
    reasons: list[dict] = []
    missing = [f for f in REQUIRED_APPLICANT_FIELDS if applicant.get(f) in (None, "")]
    for name in missing:
        reasons.append({"code": "INTAKE_MISSING_DATA", "message": f"applicant.{name} is required"})
    age = None
    id_number = str(applicant.get("id_number") or "")
    if id_number:
        problem = id_number_problem(id_number)
        if problem:
            reasons.append({"code": "INTAKE_ID_INVALID", "message": problem})
        else:
            age = age_on(birth_date_from_id(id_number), ctx.business_date)
            term_years = (int(data.get("term_months") or 0) + 11) // 12
            if age < MIN_AGE:
                reasons.append({"code": "INTAKE_UNDER_AGE", "message": f"applicant is {age}, under {MIN_AGE}"})
            elif age > MAX_AGE:
                reasons.append({"code": "INTAKE_OVER_AGE", "message": f"applicant is {age}, over {MAX_AGE}"})
            elif age + term_years > MAX_AGE_AT_MATURITY:
                reasons.append({"code": "INTAKE_AGE_AT_MATURITY",
                                "message": f"applicant would be over {MAX_AGE_AT_MATURITY} at maturity"})
    return Prechecked(precheck_passed=not reasons, applicant_age=age, decline_reasons=reasons)
