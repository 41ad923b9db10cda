"""Risk interception: rules checked at three checkpoints of a loan's life.

`check_risk(checkpoint, applicant, facts, lists, rules_config=None) -> list[RuleHit]`

checkpoint   "application" | "contract" | "disbursement"
applicant    a dict with at least `id_number`
facts        what the caller knows about the borrower (from the ledger and the bureau):
               written_off_loans      int      loans of this borrower written off (核销)
               loss_classified_loans  int      loans classified 损失 (loss)
               overdue_amount         Decimal  currently overdue at this bank, yuan
               guarantees             list of {guarantor_id_number, kind, status
                                      ("valid" | "invalid" | "expired" | "released"),
                                      guarantor_written_off (bool)}
               bureau                 dict from BureauReport.as_facts(): inquiries_3m,
                                      lender_count, overdue_accounts, ...
lists        RiskLists (see scoring.risk_lists.lists_for) or a plain {list name: {id_number: reason}}
rules_config the parsed (or text) risk_rules.json resolved for the branch; None: built-in defaults

Hard blocks end the application with a decline naming the rule; warnings travel with the
application and rule out auto-approval. Bureau-based warnings never pass silently: when the
bureau facts are missing, the check says so with its own warning.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from scoring import money
from scoring.errors import RatingFileError, ScoringError

CHECKPOINTS = ("application", "contract", "disbursement")
SEVERITIES = ("block", "warn")
_ALL = list(CHECKPOINTS)


@dataclass(frozen=True)
class RuleHit:
    code: str
    rule: str
    message: str
    severity: str
    checkpoint: str

    @property
    def blocks(self) -> bool:
        return self.severity == "block"

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "rule": self.rule, "message": self.message,
                "severity": self.severity, "checkpoint": self.checkpoint}


class RiskLists:
    """A read-only snapshot of the risk lists for the people a check concerns."""

    def __init__(self, entries: Mapping[str, Mapping[str, str] | Iterable[str]]) -> None:
        self._entries = {name: (dict(found) if isinstance(found, Mapping) else {i: "" for i in found})
                         for name, found in entries.items()}

    def reason(self, name: str, id_number: str | None) -> str | None:
        if not id_number:
            return None
        return self._entries.get(name, {}).get(id_number)

    def contains(self, name: str, id_number: str | None) -> bool:
        return self.reason(name, id_number) is not None


@dataclass(frozen=True)
class _Rule:
    code: str
    name: str
    severity: str
    checkpoints: tuple[str, ...]
    check: Callable[[Mapping[str, Any], Mapping[str, Any], RiskLists, Mapping[str, Any]], str | None]
    needs_bureau: bool = False


def _count(facts: Mapping[str, Any], field: str) -> int:
    value = facts.get(field) or 0
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ScoringError(f"expected a count, got {value!r}", field=f"facts.{field}", code="invalid_facts")
    return int(value)


def _on_list(list_name: str, label: str):
    def check(applicant, facts, lists, params):
        reason = lists.reason(list_name, applicant.get("id_number"))
        if reason is None:
            return None
        return f"applicant is on the {label}" + (f": {reason}" if reason else "")
    return check


def _written_off(applicant, facts, lists, params):
    count = _count(facts, "written_off_loans")
    return f"borrower has {count} written-off loan(s)" if count else None


def _loss_classified(applicant, facts, lists, params):
    count = _count(facts, "loss_classified_loans")
    return f"borrower has {count} loan(s) classified as loss" if count else None


def _bad_guarantee(applicant, facts, lists, params):
    problems = []
    for number, guarantee in enumerate(facts.get("guarantees") or [], start=1):
        guarantor = guarantee.get("guarantor_id_number")
        status = guarantee.get("status", "valid")
        if status not in params.get("acceptable_status", ["valid"]):
            problems.append(f"guarantee {number} is {status}")
        if guarantor and (lists.contains("blacklist", guarantor) or lists.contains("aml", guarantor)):
            problems.append(f"guarantor of guarantee {number} is on the blacklist or AML list")
        if guarantee.get("guarantor_written_off"):
            problems.append(f"guarantor of guarantee {number} has written-off loans")
    return "; ".join(problems) or None


def _overdue(applicant, facts, lists, params):
    amount = facts.get("overdue_amount") or Decimal(0)
    bureau_overdue = int((facts.get("bureau") or {}).get("overdue_accounts") or 0)
    if amount > 0:
        return f"borrower is currently overdue by {amount} yuan at this bank"
    if bureau_overdue:
        return f"bureau reports {bureau_overdue} overdue account(s)"
    return None


def _inquiries(applicant, facts, lists, params):
    limit = int(params.get("max_inquiries_3m", 6))
    count = int(facts["bureau"].get("inquiries_3m") or 0)
    return f"{count} credit inquiries in the last 3 months (more than {limit})" if count > limit else None


def _lenders(applicant, facts, lists, params):
    limit = int(params.get("max_lenders", 4))
    count = int(facts["bureau"].get("lender_count") or 0)
    return f"borrowing from {count} lenders (more than {limit})" if count > limit else None


RULES: tuple[_Rule, ...] = (
    _Rule("R001", "blacklist", "block", tuple(_ALL), _on_list("blacklist", "internal blacklist")),
    _Rule("R002", "aml_list", "block", tuple(_ALL), _on_list("aml", "anti-money-laundering list")),
    _Rule("R003", "written_off_loans", "block", tuple(_ALL), _written_off),
    _Rule("R004", "loss_classified_loans", "block", tuple(_ALL), _loss_classified),
    _Rule("R005", "bad_guarantee", "block", tuple(_ALL), _bad_guarantee),
    _Rule("W001", "graylist", "warn", tuple(_ALL), _on_list("graylist", "graylist")),
    _Rule("W002", "current_overdue", "warn", tuple(_ALL), _overdue),
    _Rule("W003", "many_inquiries", "warn", ("application",), _inquiries, needs_bureau=True),
    _Rule("W004", "many_lenders", "warn", ("application",), _lenders, needs_bureau=True),
)
BUREAU_NOT_CHECKED = "W000"


def parse_rules_config(rules_config: Mapping[str, Any] | str | None) -> Mapping[str, Any]:
    """The per-rule settings by code, checked. A text is parsed once; the result is shared."""
    if rules_config is None:
        return {}
    if isinstance(rules_config, str):
        return _parse_rules_text(rules_config)
    return _check_rules_config(rules_config)


@lru_cache(maxsize=64)
def _parse_rules_text(text: str) -> Mapping[str, Any]:
    try:
        document = json.loads(text, parse_constant=money.refuse_json_constant)
    except ValueError as error:
        raise RatingFileError(f"risk_rules.json is not valid JSON: {error}", field="risk_rules.json") from None
    return _check_rules_config(document)


def _check_rules_config(rules_config: Any) -> Mapping[str, Any]:
    rules = rules_config.get("rules", {}) if isinstance(rules_config, Mapping) else None
    if not isinstance(rules, Mapping):
        raise RatingFileError("risk_rules.json needs a 'rules' object", field="risk_rules.json")
    known = {rule.code for rule in RULES}
    for code, settings in rules.items():
        if code not in known:
            raise RatingFileError(f"unknown risk rule {code!r}", field="risk_rules.json")
        if not isinstance(settings, Mapping) or not isinstance(settings.get("params", {}), Mapping):
            raise RatingFileError(f"rule {code}: settings and params must be objects", field="risk_rules.json")
        if settings.get("severity", "block") not in SEVERITIES:
            raise RatingFileError(f"rule {code}: severity must be block or warn", field="risk_rules.json")
        if not set(settings.get("checkpoints", CHECKPOINTS)) <= set(CHECKPOINTS):
            raise RatingFileError(f"rule {code}: unknown checkpoint", field="risk_rules.json")
        for name in ("max_inquiries_3m", "max_lenders"):
            value = settings.get("params", {}).get(name, 0)
            if type(value) is not int or value < 0:
                raise RatingFileError(f"rule {code}: {name} must be a whole number", field="risk_rules.json")
    return rules


def check_risk(checkpoint: str, applicant: Mapping[str, Any], facts: Mapping[str, Any],
               lists: RiskLists | Mapping[str, Any], rules_config: Mapping[str, Any] | str | None = None
               ) -> list[RuleHit]:
    """Every rule hit at this checkpoint, blocks first; an empty list means clear."""
    if checkpoint not in CHECKPOINTS:
        raise ScoringError(f"unknown checkpoint {checkpoint!r}", field="checkpoint", code="invalid_checkpoint")
    if not isinstance(lists, RiskLists):
        lists = RiskLists(lists)
    settings_by_code = parse_rules_config(rules_config)
    hits: list[RuleHit] = []
    bureau_missing = False
    for rule in RULES:
        settings = settings_by_code.get(rule.code, {})
        if not settings.get("enabled", True):
            continue
        if checkpoint not in settings.get("checkpoints", rule.checkpoints):
            continue
        if rule.needs_bureau and not facts.get("bureau"):
            bureau_missing = True
            continue
        message = rule.check(applicant, facts, lists, settings.get("params", {}))
        if message:
            hits.append(RuleHit(rule.code, rule.name, message, settings.get("severity", rule.severity),
                                checkpoint))
    if bureau_missing:
        hits.append(RuleHit(BUREAU_NOT_CHECKED, "bureau_not_checked",
                            "no credit-bureau report: inquiry and lender checks were not made", "warn", checkpoint))
    hits.sort(key=lambda hit: hit.severity != "block")
    return hits


def blocking(hits: Iterable[RuleHit]) -> list[RuleHit]:
    return [hit for hit in hits if hit.blocks]
