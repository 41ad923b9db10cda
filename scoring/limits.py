"""Limits (限额): single customer, customer concentration, and the seven dimensions, alone and combined.

`check_limits(application, limits_config, exposure) -> list[LimitHit]`

application    amount (Decimal yuan), id_number, and one value per dimension:
               region, institution, product, industry, loan_purpose, guarantee_method, customer_type
limits_config  the parsed (or text) limits.json resolved for the branch (scope = the branch's book):
                 single_customer   {"max_amount": "5000000"}
                 concentration     {"max_share": "0.10"}   customer's outstanding / branch book
                 min_book_for_shares "10000000"  below this book (after the loan) share limits
                                   do not apply, only amount limits
                 warn_at           "0.90"  usage at or above this share of a limit warns
                 dimension_limits  [{"id", "dimensions": {dimension: value | "*"}, "max_amount"
                                     and/or "max_share" (of the branch book)}]
               A dimension value "*" means "each value": the limit applies to whatever value the
               application has (e.g. no single industry above 30 % of the book).
exposure       live outstanding amounts, from the ledger, before this loan:
                 customer   Decimal   this customer's outstanding at the branch
                 book       Decimal   the branch's whole outstanding book
                 by_key     {exposure_key(dimension values): Decimal}
               `needed_exposures(application, limits_config)` lists the combinations to supply.
               A missing figure is an error, never a silent zero.

A hit names the limit, the dimension(s), the values, the limit in yuan and the usage after this loan.
Usage above the limit blocks; usage at or above warn_at of it warns.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Any, Mapping

from scoring import money
from scoring.errors import RatingFileError, ScoringError

DIMENSIONS = ("region", "institution", "product", "industry", "loan_purpose", "guarantee_method",
              "customer_type")
EACH_VALUE = "*"
LARGE_AMOUNT_CAPITAL_SHARE = Decimal("0.025")
LARGE_AMOUNT_ABSOLUTE = Decimal("50000000")


class LimitDataError(ScoringError):
    code = "invalid_limit_data"


@dataclass(frozen=True)
class LimitHit:
    limit_id: str
    dimension: str  # "single_customer", "concentration", or dimension names joined by "+"
    values: dict[str, str]
    limit: Decimal  # yuan
    usage: Decimal  # outstanding after this loan, yuan
    severity: str  # "block" | "warn" | "ok" (within the limit: only in limit_usage)
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"limit_id": self.limit_id, "dimension": self.dimension, "values": dict(self.values),
                "limit": str(self.limit), "usage": str(self.usage), "severity": self.severity,
                "message": self.message}


def exposure_key(values: Mapping[str, str]) -> str:
    """The canonical key of a combination of dimension values: "guarantee_method=credit&product=AGRI"."""
    return "&".join(f"{name}={values[name]}" for name in sorted(values))


def parse_limits_config(limits_config: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """The limits configuration, checked whole: known dimensions, every number a decimal string.
    A text is parsed and checked once; the result is shared, so callers must not change it."""
    if isinstance(limits_config, str):
        return _parse_limits_text(limits_config)
    return _check_limits_config(limits_config)


@lru_cache(maxsize=64)
def _parse_limits_text(text: str) -> Mapping[str, Any]:
    try:
        document = json.loads(text, parse_constant=money.refuse_json_constant)
    except ValueError as error:
        raise RatingFileError(f"limits.json is not valid JSON: {error}", field="limits.json") from None
    return _check_limits_config(document)


def _check_limits_config(limits_config: Any) -> Mapping[str, Any]:
    if not isinstance(limits_config, Mapping):
        raise RatingFileError("limits.json must be an object", field="limits.json")
    for section, key in (("single_customer", "max_amount"), ("concentration", "max_share")):
        if section in limits_config:
            _limit_number(limits_config[section].get(key), f"{section}.{key}")
    for key in ("capital_share", "absolute"):
        if key in limits_config.get("large_amount", {}):
            _limit_number(limits_config["large_amount"][key], f"large_amount.{key}")
    if limits_config.get("warn_at") is not None:
        _limit_number(limits_config["warn_at"], "warn_at")
    if limits_config.get("min_book_for_shares") is not None:
        _limit_number(limits_config["min_book_for_shares"], "min_book_for_shares")
    for index, spec in enumerate(limits_config.get("dimension_limits", [])):
        dimensions = spec.get("dimensions") or {}
        unknown = set(dimensions) - set(DIMENSIONS)
        if not dimensions or unknown:
            raise RatingFileError(f"dimension_limits[{index}]: dimensions must be some of {DIMENSIONS}"
                                  + (f", not {sorted(unknown)}" if unknown else ""), field="limits.json")
        if "max_amount" not in spec and "max_share" not in spec:
            raise RatingFileError(f"dimension_limits[{index}] needs max_amount or max_share", field="limits.json")
        for key in ("max_amount", "max_share"):
            if key in spec:
                _limit_number(spec[key], f"dimension_limits[{index}].{key}")
    return limits_config


def _limit_number(value: Any, field: str) -> Decimal:
    number = _decimal(value, field)
    if number < 0:
        raise RatingFileError("must not be negative", field=field)
    return number


def _decimal(value: Any, field: str, error: type[ScoringError] = RatingFileError) -> Decimal:
    if isinstance(value, (float, bool)):
        raise error("must be a decimal string or integer", field=field)
    return money.to_decimal(value, field=field, error=error)


def _dimension_values(application: Mapping[str, Any], dimensions: Mapping[str, str]) -> dict[str, str] | None:
    """The application's values for a limit's dimensions, or None when the limit does not apply."""
    values = {}
    for name, wanted in dimensions.items():
        value = application.get(name)
        if value in (None, ""):
            raise LimitDataError("is required by a dimension limit", field=name)
        if wanted != EACH_VALUE and str(value) != str(wanted):
            return None
        values[name] = str(value)
    return values


def needed_exposures(application: Mapping[str, Any], limits_config: Mapping[str, Any] | str) -> list[dict[str, str]]:
    """The dimension-value combinations whose outstanding the caller must supply in exposure.by_key."""
    needed, seen = [], set()
    for spec in parse_limits_config(limits_config).get("dimension_limits", []):
        values = _dimension_values(application, spec["dimensions"])
        if values is not None and exposure_key(values) not in seen:
            seen.add(exposure_key(values))
            needed.append(values)
    return needed


def _judge(limit_id, dimension, values, limit, usage, warn_at, what) -> LimitHit:
    limit, usage = money.yuan(limit), money.yuan(usage)
    if usage > limit:
        return LimitHit(limit_id, dimension, values, limit, usage, "block",
                        f"{what}: {usage} yuan after this loan exceeds the limit of {limit} yuan")
    if warn_at is not None and usage >= limit * warn_at:
        return LimitHit(limit_id, dimension, values, limit, usage, "warn",
                        f"{what}: {usage} yuan after this loan uses {(usage / limit * 100):.1f}% "
                        f"of the limit of {limit} yuan" if limit else f"{what}: at its limit")
    return LimitHit(limit_id, dimension, values, limit, usage, "ok", f"{what}: {usage} yuan within {limit} yuan")


def check_limits(application: Mapping[str, Any], limits_config: Mapping[str, Any] | str,
                 exposure: Mapping[str, Any]) -> list[LimitHit]:
    """Every limit this application would breach or come near, blocks first."""
    return [usage for usage in limit_usage(application, limits_config, exposure) if usage.severity != "ok"]


def limit_usage(application: Mapping[str, Any], limits_config: Mapping[str, Any] | str,
                exposure: Mapping[str, Any]) -> list[LimitHit]:
    """Every limit that applies to this application with its usage after the loan (the reviewer's
    "limit usage per dimension"): blocks first, then warnings, then those within (`ok`)."""
    config = parse_limits_config(limits_config)
    amount = _decimal(application.get("amount"), "amount", LimitDataError)
    if amount <= 0:
        raise LimitDataError("must be positive", field="amount")
    warn_at = _decimal(config["warn_at"], "warn_at") if config.get("warn_at") is not None else None
    book = _decimal(exposure.get("book"), "exposure.book", LimitDataError)
    book_after = book + amount
    # A share of a young branch's book says nothing about concentration: the first loan is 100 %
    # of it. Below min_book_for_shares only the amount limits apply.
    min_book = config.get("min_book_for_shares")
    shares_apply = min_book is None or book_after >= _decimal(min_book, "min_book_for_shares")
    hits: list[LimitHit] = []

    if "single_customer" in config or "concentration" in config:
        customer_after = _decimal(exposure.get("customer"), "exposure.customer", LimitDataError) + amount
        who = {"id_number": str(application.get("id_number", ""))}
        hits += _customer_hits(config, who, customer_after, book_after, warn_at, shares_apply)

    by_key = exposure.get("by_key") or {}
    for index, spec in enumerate(config.get("dimension_limits", [])):
        values = _dimension_values(application, spec["dimensions"])
        if values is None:
            continue
        key = exposure_key(values)
        if key not in by_key:
            raise LimitDataError(f"outstanding for {key} was not supplied", field="exposure.by_key")
        usage = _decimal(by_key[key], f"exposure.by_key[{key}]", LimitDataError) + amount
        caps = []
        if "max_amount" in spec:
            caps.append(_decimal(spec["max_amount"], f"dimension_limits[{index}].max_amount"))
        if "max_share" in spec and shares_apply:
            caps.append(_decimal(spec["max_share"], f"dimension_limits[{index}].max_share") * book_after)
        if not caps:
            continue
        dimension = "+".join(sorted(values))
        label = ", ".join(f"{name} {value}" for name, value in sorted(values.items()))
        hits.append(_judge(spec.get("id", f"limit-{index + 1}"), dimension, values, min(caps), usage,
                           warn_at, f"{dimension} limit ({label})"))
    order = {"block": 0, "warn": 1, "ok": 2}
    return sorted(hits, key=lambda hit: order[hit.severity])


def _customer_hits(config, who, customer_after, book_after, warn_at, shares_apply) -> list[LimitHit]:
    hits = []
    if "single_customer" in config:
        cap = _decimal(config["single_customer"]["max_amount"], "single_customer.max_amount")
        hits.append(_judge("single_customer", "single_customer", who, cap, customer_after, warn_at,
                           "single-customer limit"))
    if "concentration" in config and shares_apply:
        share = _decimal(config["concentration"]["max_share"], "concentration.max_share")
        hits.append(_judge("concentration", "concentration", who, share * book_after, customer_after,
                           warn_at, f"customer concentration ({share * 100}% of the branch book)"))
    return hits


def customer_limits_used(limits_config: Mapping[str, Any] | str, *, customer: Decimal, book: Decimal) -> list[LimitHit]:
    """The single-customer and concentration limits judged on a borrower's outstanding as it
    stands, no new loan (early warning after each batch: a borrower whose loans have come to use
    `warn_at` of a limit or more). Only those at or above warn_at (or over), the worst first;
    `values` is empty: the caller knows the customer."""
    config = parse_limits_config(limits_config)
    warn_at = _decimal(config["warn_at"], "warn_at") if config.get("warn_at") is not None else None
    customer = _decimal(customer, "customer", LimitDataError)
    book = _decimal(book, "book", LimitDataError)
    min_book = config.get("min_book_for_shares")
    shares_apply = min_book is None or book >= _decimal(min_book, "min_book_for_shares")
    hits = [hit for hit in _customer_hits(config, {}, customer, book, warn_at, shares_apply) if hit.severity != "ok"]
    return sorted(hits, key=lambda hit: (hit.severity != "block", -(hit.usage / hit.limit if hit.limit else 0)))


def is_large_amount(amount: Decimal, branch_tier1_capital_net: Decimal,
                    limits_config: Mapping[str, Any] | str | None = None) -> bool:
    """Above 2.5 % of the branch's net tier-1 capital, or above 50 million yuan (大额贷款)."""
    share, absolute = LARGE_AMOUNT_CAPITAL_SHARE, LARGE_AMOUNT_ABSOLUTE
    if limits_config is not None:
        large = parse_limits_config(limits_config).get("large_amount", {})
        share = _decimal(large.get("capital_share", share), "large_amount.capital_share")
        absolute = _decimal(large.get("absolute", absolute), "large_amount.absolute")
    amount = _decimal(amount, "amount", LimitDataError)
    capital = _decimal(branch_tier1_capital_net, "branch_tier1_capital_net", LimitDataError)
    return amount > capital * share or amount > absolute
