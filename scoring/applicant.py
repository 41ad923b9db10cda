"""The applicant record the rating reads, its fields, and their validation.

Fields (all values may also arrive as strings, e.g. from a CSV row):

    id_number          str      resident ID number; required by risk checks, optional for rating
    name               str      optional, carried through to batch results
    customer_type      str      farm_household (default) | individual_business | salaried
    age                int      18..100 years
    monthly_income     Decimal  yuan per month, >= 0 (money: floats refused)
    years_at_address   Decimal  years, >= 0
    land_mu            Decimal  contracted/cultivated land in mu (亩), >= 0
    livestock_head     int      head of livestock (pigs, cattle, sheep counted alike), >= 0
    family_members     int      household size, >= 1
    labourers          int      members able to work, 0..family_members
    income_sources     list[str] crop | livestock | wage | business | fishery | forestry | other;
                                in CSV a ";"-separated list
    existing_debt      Decimal  yuan outstanding elsewhere, >= 0 (money: floats refused)
    credit_village     bool     the village is a rated "credit village" (信用村)
    credit_household   bool     the household is a rated "credit household" (信用户)

Derived for the scorecards (never supplied): annual_income, debt_to_income (existing_debt over
annual income; 99 for debt without income), income_source_count, labour_ratio (labourers over
family members).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping

from scoring.errors import ApplicantDataError
from scoring.money import to_decimal

CUSTOMER_TYPES = frozenset({"farm_household", "individual_business", "salaried"})
INCOME_SOURCES = frozenset({"crop", "livestock", "wage", "business", "fishery", "forestry", "other"})
NO_INCOME_DEBT_RATIO = Decimal(99)
_TRUE = frozenset({"true", "1", "yes", "y", "是"})
_FALSE = frozenset({"false", "0", "no", "n", "否", ""})
_TWELVE = Decimal(12)


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApplicantDataError(f"expected text, got {type(value).__name__}", field=field)
    return value.strip()


def _integer(value: Any, field: str, low: int, high: int | None) -> int:
    if type(value) is int:
        number = value
    elif isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise ApplicantDataError(f"not a whole number: {value!r}", field=field) from None
    else:
        raise ApplicantDataError(f"expected a whole number, got {type(value).__name__}", field=field)
    if number < low or (high is not None and number > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ApplicantDataError(f"must be {bounds}, got {number}", field=field)
    return number


def _non_negative(value: Any, field: str, *, money: bool) -> Decimal:
    number = to_decimal(value, field=field, error=ApplicantDataError, allow_float=not money)
    if number < 0:
        raise ApplicantDataError(f"must not be negative, got {number}", field=field)
    return number


def _boolean(value: Any, field: str) -> bool:
    if value is True or value is False:
        return value
    if value is None:
        return False
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ApplicantDataError(f"expected true or false, got {value!r}", field=field)


def _sources(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ApplicantDataError("expected a list of income sources", field=field)
    sources = []
    for item in items:
        source = _text(item, field).lower()
        if not source:
            continue
        if source not in INCOME_SOURCES:
            raise ApplicantDataError(f"unknown income source {source!r} (known: "
                                     f"{', '.join(sorted(INCOME_SOURCES))})", field=field)
        if source not in sources:
            sources.append(source)
    return tuple(sources)


_REQUIRED: dict[str, Callable[[Any, str], Any]] = {
    "age": lambda value, field: _integer(value, field, 18, 100),
    "monthly_income": lambda value, field: _non_negative(value, field, money=True),
}
_OPTIONAL: dict[str, tuple[Callable[[Any, str], Any], Any]] = {
    "years_at_address": (lambda value, field: _non_negative(value, field, money=False), None),
    "land_mu": (lambda value, field: _non_negative(value, field, money=False), Decimal(0)),
    "livestock_head": (lambda value, field: _integer(value, field, 0, None), 0),
    "family_members": (lambda value, field: _integer(value, field, 1, 50), 1),
    "labourers": (lambda value, field: _integer(value, field, 0, 50), 0),
    "income_sources": (_sources, ()),
    "existing_debt": (lambda value, field: _non_negative(value, field, money=True), Decimal(0)),
    "credit_village": (_boolean, False),
    "credit_household": (_boolean, False),
}


def normalize_applicant(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A validated copy of `raw` with typed values and the derived fields; raises ApplicantDataError."""
    applicant: dict[str, Any] = {
        "id_number": _text(raw.get("id_number"), "id_number"),
        "name": _text(raw.get("name"), "name"),
    }
    customer_type = _text(raw.get("customer_type"), "customer_type") or "farm_household"
    if customer_type not in CUSTOMER_TYPES:
        raise ApplicantDataError(f"unknown customer type {customer_type!r}", field="customer_type")
    applicant["customer_type"] = customer_type
    for field, parse in _REQUIRED.items():
        value = raw.get(field)
        if value is None or value == "":
            raise ApplicantDataError("is required", field=field)
        applicant[field] = parse(value, field)
    for field, (parse, default) in _OPTIONAL.items():
        value = raw.get(field)
        applicant[field] = default if value is None or value == "" else parse(value, field)
    if applicant["labourers"] > applicant["family_members"]:
        raise ApplicantDataError("cannot exceed family_members", field="labourers")
    annual_income = applicant["monthly_income"] * _TWELVE
    applicant["annual_income"] = annual_income
    if not applicant["existing_debt"]:
        applicant["debt_to_income"] = Decimal(0)
    elif annual_income:
        applicant["debt_to_income"] = applicant["existing_debt"] / annual_income
    else:
        applicant["debt_to_income"] = NO_INCOME_DEBT_RATIO
    applicant["income_source_count"] = len(applicant["income_sources"])
    applicant["labour_ratio"] = Decimal(applicant["labourers"]) / applicant["family_members"]
    return applicant
