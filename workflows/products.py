"""Products as deployable data (issue 12, item 1): head office's products.json and branch overrides.

HQ's `products.json` (bpmn/default/) defines each product and its bounds: amounts, terms, base rate
with a floor and a ceiling, the repayment and guarantee methods, customer types and channels it
accepts, and the documents it requires by amount band and guarantee method. A branch's
`products.json` (bpmn/branches/<code>/) may only narrow them: disable a product, raise a minimum,
lower a maximum, shrink a list, add document rules. Both are deployed and versioned like rating
files; a file that breaks these rules is refused at deployment with every problem at once, each
naming its JSON path and, for a branch, the bound it crosses ("products.FARM_EASY.max_amount:
500000 is above head office's 300000"). An HQ file that would leave a branch's existing override
outside the new bounds is refused too, naming the branch file.

    catalogue = effective_products(session, "BR002")          # {code: EffectiveProduct}
    product = catalogue["FARM_EASY"]; product.max_amount, product.sources["max_amount"]  # "BR002"
    check_application(product, form)                           # InvalidInput naming every field

Unlike a diagram, a branch's products.json does not replace HQ's file: the effective product is
HQ's merged with the branch's narrowing. It is computed once per pair of immutable deployed files
(by id and hash) and cached; a running instance pins both ids (PINNED_HQ_KEY) so its product never changes.

The `product` table stays as the catalogue of codes that applications and loan accounts refer
to (foreign keys, reports): an HQ deployment of products.json brings its rows in line
(`sync_product_rows`); nothing reads its figures for a decision any more.
"""
from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from threading import Lock
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.definitions import CHOICES
from workflows.errors import InvalidInput, NotFound
from workflows.models import HQ, Branch, DeploymentFile, Product

PRODUCTS_FILE = "products.json"
# The key under which an instance of a branch with its own products.json also pins HQ's file.
PINNED_HQ_KEY = "products.json@HQ"
CHANNELS = ("mobile", "counter", "partner")
HOLIDAY_RULES = ("none", "next_working_day")
MAX_AMOUNT = Decimal("1000000000")
DOCUMENT_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
PRODUCT_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")

# list field -> the values it may hold
LISTS = {
    "repayment_methods": tuple(CHOICES["repayment_method"]),
    "guarantee_methods": tuple(CHOICES["guarantee_method"]),
    "customer_types": tuple(CHOICES["customer_type"]),
    "channels": CHANNELS,
}
AMOUNTS = ("min_amount", "max_amount")
TERMS = ("min_term_months", "max_term_months")
RATES = ("base_rate", "rate_floor", "rate_ceiling")
HQ_FIELDS = ("name", "enabled", *AMOUNTS, *TERMS, *RATES, *LISTS, "required_documents", "holiday_rule",
             "allows_large_amount")
# What a branch may set: everything that can narrow. The name, the base rate, the holiday rule and
# the large-amount flag are head office's alone.
BRANCH_FIELDS = ("enabled", *AMOUNTS, *TERMS, "rate_floor", "rate_ceiling", *LISTS, "required_documents")


@dataclass(frozen=True)
class DocumentRule:
    """Documents an application needs when it meets `when` (amount at least min_amount, and/or
    that guarantee method); `source` is the scope whose file set the rule."""
    documents: tuple[str, ...]
    min_amount: Decimal | None = None
    guarantee_method: str | None = None
    source: str = HQ

    def applies(self, amount: Decimal, guarantee_method: str | None) -> bool:
        return ((self.min_amount is None or amount >= self.min_amount)
                and (self.guarantee_method is None or self.guarantee_method == guarantee_method))

    def as_dict(self) -> dict:
        when = {}
        if self.min_amount is not None:
            when["min_amount"] = str(self.min_amount)
        if self.guarantee_method is not None:
            when["guarantee_method"] = self.guarantee_method
        return {"when": when, "documents": list(self.documents), "source": self.source}


@dataclass(frozen=True)
class EffectiveProduct:
    """One product as a branch offers it. `sources` names, per field, the scope that set it."""
    code: str
    name: str
    enabled: bool
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    base_rate: Decimal
    rate_floor: Decimal
    rate_ceiling: Decimal
    repayment_methods: tuple[str, ...]
    guarantee_methods: tuple[str, ...]
    customer_types: tuple[str, ...]
    channels: tuple[str, ...]
    required_documents: tuple[DocumentRule, ...]
    holiday_rule: str
    allows_large_amount: bool
    sources: dict[str, str] = field(default_factory=dict)

    def documents_for(self, amount: Decimal, guarantee_method: str | None) -> list[str]:
        """The documents an application of this amount and guarantee needs, each once, in order."""
        wanted: list[str] = []
        for rule in self.required_documents:
            if rule.applies(amount, guarantee_method):
                wanted += [d for d in rule.documents if d not in wanted]
        return wanted

    def handler_terms(self, repayment_method: str | None = None) -> dict:
        """The product as handlers read it (HandlerContext.product): Decimals; the rating clamps
        the annual rate into [min_rate, max_rate]."""
        return {"code": self.code, "name": self.name, "base_rate": self.base_rate,
                "min_amount": self.min_amount, "max_amount": self.max_amount,
                "max_term_months": self.max_term_months,
                "repayment_method": repayment_method or self.repayment_methods[0],
                "allows_large_amount": self.allows_large_amount, "holiday_rule": self.holiday_rule,
                "min_rate": self.rate_floor, "max_rate": self.rate_ceiling}

    def as_dict(self) -> dict:
        """For the API: each value with where it comes from."""
        def shown(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, tuple):
                return list(value)
            return value
        fields = {name: {"value": shown(getattr(self, name)), "source": self.sources.get(name, HQ)}
                  for name in HQ_FIELDS if name != "required_documents"}
        return {"code": self.code, "name": self.name, "enabled": self.enabled, "fields": fields,
                "required_documents": [rule.as_dict() for rule in self.required_documents]}


# -- reading and checking the files ------------------------------------------------------------
class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, path: str, reason: str) -> None:
        self.items.append(f"{path}: {reason}")


def _load(text: str, problems: _Problems) -> dict | None:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        problems.add("products.json", f"is not valid JSON: {error}")
        return None
    if not isinstance(document, dict) or not isinstance(document.get("products"), dict):
        problems.add("products", "must be an object of products by code")
        return None
    unknown = sorted(set(document) - {"products", "comment"})
    if unknown:
        problems.add(unknown[0] if len(unknown) == 1 else "(top level)", f"unknown key(s) {', '.join(unknown)}")
    return document


def _decimal(value, path: str, problems: _Problems, *, low: Decimal, high: Decimal) -> Decimal | None:
    # Money and rates are written as strings ("300000", "0.0435"); a JSON float would be binary.
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.add(path, "must be a decimal number written as a string, e.g. \"300000\"")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.add(path, f"{value!r} is not a number")
        return None
    if not number.is_finite() or not low <= number <= high:
        problems.add(path, f"{value} must be between {low} and {high}")
        return None
    return number


def _integer(value, path: str, problems: _Problems) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 360:
        problems.add(path, "must be a whole number of months between 1 and 360")
        return None
    return value


def _choices(value, path: str, allowed: tuple[str, ...], problems: _Problems) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        problems.add(path, f"must be a non-empty list of: {', '.join(allowed)}")
        return None
    unknown = [v for v in value if v not in allowed]
    if unknown:
        problems.add(path, f"unknown value(s) {', '.join(unknown)} (known: {', '.join(allowed)})")
        return None
    if len(set(value)) != len(value):
        problems.add(path, "lists a value twice")
        return None
    return tuple(value)


def _rules(value, path: str, scope: str, problems: _Problems) -> tuple[DocumentRule, ...] | None:
    if not isinstance(value, list):
        problems.add(path, "must be a list of {when: {min_amount?, guarantee_method?}, documents: [codes]}")
        return None
    rules = []
    for index, item in enumerate(value):
        at = f"{path}[{index}]"
        if not isinstance(item, dict):
            problems.add(at, "must be an object with when and documents")
            continue
        unknown = sorted(set(item) - {"when", "documents"})
        if unknown:
            problems.add(at, f"unknown key(s) {', '.join(unknown)}")
        when = item.get("when", {})
        if not isinstance(when, dict):
            problems.add(f"{at}.when", "must be an object")
            when = {}
        unknown = sorted(set(when) - {"min_amount", "guarantee_method"})
        if unknown:
            problems.add(f"{at}.when", f"unknown condition(s) {', '.join(unknown)} (known: min_amount, guarantee_method)")
        min_amount = None
        if "min_amount" in when:
            min_amount = _decimal(when["min_amount"], f"{at}.when.min_amount", problems, low=Decimal(0), high=MAX_AMOUNT)
        guarantee = when.get("guarantee_method")
        if guarantee is not None and guarantee not in LISTS["guarantee_methods"]:
            problems.add(f"{at}.when.guarantee_method",
                         f"unknown guarantee method {guarantee!r} (known: {', '.join(LISTS['guarantee_methods'])})")
        documents = item.get("documents")
        if (not isinstance(documents, list) or not documents
                or not all(isinstance(d, str) and DOCUMENT_CODE.match(d) for d in documents)):
            problems.add(f"{at}.documents", "must be a non-empty list of document codes (lower case, e.g. id_card)")
            continue
        rules.append(DocumentRule(tuple(documents), min_amount, guarantee, scope))
    return tuple(rules)


def _fields(entry: dict, path: str, allowed: tuple[str, ...], scope: str, problems: _Problems) -> dict:
    """The typed values of one product entry; every bad one is a problem, and left out."""
    values: dict = {}
    for name in sorted(set(entry) - set(allowed)):
        reason = ("a branch may not change it (head office sets it)" if scope != HQ and name in HQ_FIELDS
                  else f"unknown field (known: {', '.join(allowed)})")
        problems.add(f"{path}.{name}", reason)
    for name in allowed:
        if name not in entry:
            if scope == HQ and name != "enabled":
                problems.add(f"{path}.{name}", "is required")
            continue
        value, at = entry[name], f"{path}.{name}"
        if name in AMOUNTS:
            parsed = _decimal(value, at, problems, low=Decimal(0), high=MAX_AMOUNT)
        elif name in TERMS:
            parsed = _integer(value, at, problems)
        elif name in RATES:
            parsed = _decimal(value, at, problems, low=Decimal(0), high=Decimal("0.36"))
        elif name in LISTS:
            parsed = _choices(value, at, LISTS[name], problems)
        elif name == "required_documents":
            parsed = _rules(value, at, scope, problems)
        elif name in ("enabled", "allows_large_amount"):
            parsed = value if isinstance(value, bool) else problems.add(at, "must be true or false")
        elif name == "holiday_rule":
            parsed = value if value in HOLIDAY_RULES else problems.add(
                at, f"must be one of {', '.join(HOLIDAY_RULES)}")
        else:  # name
            parsed = value if isinstance(value, str) and 0 < len(value.strip()) <= 120 else problems.add(
                at, "must be the product's name (1 to 120 characters)")
        if parsed is not None:
            values[name] = parsed
    return values


def _ordered(values: dict, path: str, problems: _Problems) -> None:
    """Minimum not above maximum, and the base rate within its floor and ceiling."""
    for low, high in (AMOUNTS, TERMS, ("rate_floor", "rate_ceiling")):
        if low in values and high in values and values[low] > values[high]:
            problems.add(f"{path}.{low}", f"{values[low]} is above the product's {high} {values[high]}")
    if {"base_rate", "rate_floor", "rate_ceiling"} <= set(values) and not (
            values["rate_floor"] <= values["base_rate"] <= values["rate_ceiling"]):
        problems.add(f"{path}.base_rate", f"{values['base_rate']} is outside the product's rate_floor "
                                          f"{values['rate_floor']} and rate_ceiling {values['rate_ceiling']}")


def parse_hq(text: str) -> tuple[dict[str, EffectiveProduct], list[str]]:
    """HQ's products by code, and every problem of the file (then the products are not usable)."""
    problems = _Problems()
    document = _load(text, problems)
    catalogue: dict[str, EffectiveProduct] = {}
    if document is None:
        return {}, problems.items
    if not document["products"]:
        problems.add("products", "must define at least one product")
    for code, entry in document["products"].items():
        path = f"products.{code}"
        if not PRODUCT_CODE.match(code):
            problems.add(path, "a product code is upper case letters, digits and _ (at most 32)")
        if not isinstance(entry, dict):
            problems.add(path, "must be an object")
            continue
        values = _fields(entry, path, HQ_FIELDS, HQ, problems)
        _ordered(values, path, problems)
        if set(HQ_FIELDS) - {"enabled"} <= set(values):
            catalogue[code] = EffectiveProduct(code=code, enabled=values.get("enabled", True),
                                               sources={}, **{k: v for k, v in values.items() if k != "enabled"})
    return (catalogue if not problems.items else {}), problems.items


def parse_override(text: str, scope: str, hq: dict[str, EffectiveProduct]) -> tuple[dict[str, EffectiveProduct], list[str]]:
    """The branch's effective products (HQ's narrowed by its file), and every problem of the file:
    its own mistakes and each value outside head office's bounds, naming the bound."""
    problems = _Problems()
    document = _load(text, problems)
    if document is None:
        return {}, problems.items
    effective = dict(hq)
    for code, entry in document["products"].items():
        path = f"products.{code}"
        if code not in hq:
            problems.add(path, f"head office has no product {code} (a branch may only narrow HQ's products)")
            continue
        if not isinstance(entry, dict):
            problems.add(path, "must be an object")
            continue
        values = _fields(entry, path, BRANCH_FIELDS, scope, problems)
        base = hq[code]
        if values.get("enabled") is True and not base.enabled:
            problems.add(f"{path}.enabled", f"head office has disabled {code}; a branch cannot enable it")
        for name in ("min_amount", "min_term_months", "rate_floor"):
            if name in values and values[name] < getattr(base, name):
                problems.add(f"{path}.{name}", f"{values[name]} is below head office's {getattr(base, name)}")
        for name in ("max_amount", "max_term_months", "rate_ceiling"):
            if name in values and values[name] > getattr(base, name):
                problems.add(f"{path}.{name}", f"{values[name]} is above head office's {getattr(base, name)}")
        for name in LISTS:
            if name in values:
                wider = [v for v in values[name] if v not in getattr(base, name)]
                if wider:
                    problems.add(f"{path}.{name}", f"{', '.join(wider)} not among head office's "
                                                   f"{name} ({', '.join(getattr(base, name))})")
        merged = {name: values.get(name, getattr(base, name)) for name in BRANCH_FIELDS if name != "required_documents"}
        merged["base_rate"] = base.base_rate
        _ordered(merged, path, problems)
        sources = dict(base.sources)
        sources.update({name: scope for name in values if name != "required_documents"})
        added = values.get("required_documents", ())
        if added:
            sources["required_documents"] = scope
        effective[code] = EffectiveProduct(
            code=code, name=base.name, base_rate=base.base_rate, holiday_rule=base.holiday_rule,
            allows_large_amount=base.allows_large_amount,
            required_documents=base.required_documents + tuple(added), sources=sources,
            **{name: merged[name] for name in BRANCH_FIELDS if name != "required_documents"})
    return (effective if not problems.items else {}), problems.items


def override_template(branch_code: str) -> str:
    """Where a branch's products.json starts in the studio: narrowing nothing yet."""
    return json.dumps({
        "comment": f"{branch_code} narrows head office's products: per product code, any of enabled (false), "
                   "min_amount/min_term_months/rate_floor (raise), max_amount/max_term_months/rate_ceiling "
                   "(lower), repayment_methods/guarantee_methods/customer_types/channels (fewer), "
                   "required_documents (rules added to HQ's)",
        "products": {}}, ensure_ascii=False, indent=2) + "\n"


# -- deployment checks -------------------------------------------------------------------------
def deployment_problems(session: Session, scope: str, files: dict[str, str], withdraw: tuple[str, ...]) -> list[str]:
    """Every reason a deployment to `scope` breaks the products: HQ's file itself, a branch's file
    against HQ's bounds, or HQ's new file against each branch's existing override."""
    problems: list[str] = []
    if scope == HQ:
        overrides = _current_texts(session, branches=True)
        if PRODUCTS_FILE in withdraw and overrides:
            problems.append(f"branches {', '.join(sorted(overrides))} narrow it; withdraw their files first")
        if PRODUCTS_FILE not in files:
            return problems
        hq, own = parse_hq(files[PRODUCTS_FILE])
        problems += own
        if own:
            return problems
        for branch, text in sorted(overrides.items()):
            _, broken = parse_override(text, branch, hq)
            problems += [f"{branch}'s products.json would break: {reason}" for reason in broken]
        return problems
    if PRODUCTS_FILE not in files:
        return problems
    hq_text = _current_texts(session, branches=False).get(HQ)
    if hq_text is None:
        return ["head office has deployed no products.json for a branch to narrow"]
    hq, _ = parse_hq(hq_text)
    _, own = parse_override(files[PRODUCTS_FILE], scope, hq)
    return own


def _current_texts(session: Session, *, branches: bool) -> dict[str, str]:
    """The current products.json text of HQ (branches=False) or of each branch that has its own:
    one query over the files of that name, then the contents of the newest only."""
    scope_filter = DeploymentFile.scope != HQ if branches else DeploymentFile.scope == HQ
    newest: dict[str, int | None] = {}
    for scope, file_id, withdrawn in session.execute(
            select(DeploymentFile.scope, DeploymentFile.id, DeploymentFile.withdrawn)
            .where(DeploymentFile.name == PRODUCTS_FILE, scope_filter).order_by(DeploymentFile.id)):
        newest[scope] = None if withdrawn else file_id  # later ids win; a withdrawal wins as None
    ids = {file_id: scope for scope, file_id in newest.items() if file_id is not None}
    if not ids:
        return {}
    return {ids[file_id]: content for file_id, content in session.execute(
        select(DeploymentFile.id, DeploymentFile.content).where(DeploymentFile.id.in_(list(ids))))}


def sync_product_rows(session: Session, text: str) -> None:
    """Bring the product table (the codes applications and loan accounts refer to) in line with
    HQ's newly deployed file. A product left out of the file keeps its row: loans refer to it."""
    catalogue, problems = parse_hq(text)
    if problems:  # deployment refused it already; never half-sync
        return
    for code, p in catalogue.items():
        row = session.get(Product, code)
        if row is None:
            row = Product(code=code)
            session.add(row)
        row.name, row.min_amount, row.max_amount = p.name, p.min_amount, p.max_amount
        row.min_term_months, row.max_term_months, row.base_rate = p.min_term_months, p.max_term_months, p.base_rate
        row.repayment_method, row.allows_large_amount = p.repayment_methods[0], p.allows_large_amount
        row.holiday_rule = p.holiday_rule


# -- resolution, cached by immutable file ids --------------------------------------------------
# A deployed file's identity: its id, and its SHA-256 so that one process serving two databases
# (the tests do) never takes one database's file 7 for another's.
FileKey = tuple[int, str]


class EffectiveCache:
    """Effective catalogues by the deployed files they are made of. Deployed files never change,
    so an entry never goes stale; the cache is bounded for many branches and versions."""

    def __init__(self, size: int = 128) -> None:
        self._entries: OrderedDict[tuple, dict[str, EffectiveProduct]] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, key: tuple, branch: str, texts: Callable[[], tuple[str, str | None]]) -> dict[str, EffectiveProduct]:
        """The catalogue for `key`; `texts` gives HQ's and the branch's file texts on a miss."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        hq_text, own_text = texts()
        catalogue, _ = parse_hq(hq_text)
        if own_text is not None:
            catalogue, _ = parse_override(own_text, branch, catalogue)
        with self._lock:
            self._entries[key] = catalogue
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return catalogue


def _texts(session: Session, hq_id: int, own_id: int | None) -> Callable[[], tuple[str, str | None]]:
    def load() -> tuple[str, str | None]:
        ids = [hq_id] + ([own_id] if own_id is not None else [])
        texts = dict(session.execute(select(DeploymentFile.id, DeploymentFile.content)
                                     .where(DeploymentFile.id.in_(ids))).all())
        return texts[hq_id], (texts[own_id] if own_id is not None else None)
    return load


_CACHE = EffectiveCache()


def current_files(session: Session, branch_code: str) -> tuple[FileKey | None, FileKey | None]:
    """HQ's and the branch's own current products.json (None where there is none)."""
    rows = session.execute(select(DeploymentFile.scope, DeploymentFile.id, DeploymentFile.sha256,
                                  DeploymentFile.withdrawn)
                           .where(DeploymentFile.name == PRODUCTS_FILE,
                                  DeploymentFile.scope.in_({HQ, branch_code}))
                           .order_by(DeploymentFile.id)).all()
    newest: dict[str, FileKey | None] = {}
    for scope, file_id, sha256, withdrawn in rows:  # later ids win; a withdrawal wins as None
        newest[scope] = None if withdrawn else (file_id, sha256)
    return newest.get(HQ), (newest.get(branch_code) if branch_code != HQ else None)


def effective_products(session: Session, branch_code: str) -> dict[str, EffectiveProduct]:
    """What the branch offers now, by product code (disabled ones included, marked)."""
    if branch_code != HQ and session.get(Branch, branch_code) is None:
        raise NotFound(f"Unknown branch '{branch_code}'", field="branch")
    hq, own = current_files(session, branch_code)
    if hq is None:
        return {}
    return _CACHE.get((hq, own, branch_code), branch_code, _texts(session, hq[0], own and own[0]))


def effective_product(session: Session, branch_code: str, code: str) -> EffectiveProduct:
    product = effective_products(session, branch_code).get(code)
    if product is None:
        raise NotFound(f"Unknown product '{code}'", field="product")
    return product


# -- through a process layer: what its resolution gives, cached by file id -----------------------
# A ProcessLayer serves one database and resolves files its own way (a simulation's arm overlays
# drafts with negative ids), so instances and intake ask it, not the database, for the files.
def resolved_pair(files: dict, resolve_hq: Callable[[], dict]) -> tuple[object | None, object | None]:
    """HQ's and the branch's own products.json among a branch's resolved `files` (ResolvedFile by
    name): the resolved one is the branch's own when its scope is not HQ."""
    main = files.get(PRODUCTS_FILE)
    if main is None:
        return None, None
    if main.scope == HQ:
        return main, None
    return resolve_hq().get(PRODUCTS_FILE), main


def layer_catalogue(cache: EffectiveCache, files: dict, resolve_hq: Callable[[], dict],
                    branch_code: str) -> dict[str, EffectiveProduct]:
    """What the branch offers by the layer's resolution of its files now."""
    hq, own = resolved_pair(files, resolve_hq)
    if hq is None:
        return {}
    return cache.get((hq.id, own.id if own else None, branch_code), branch_code,
                     lambda: (hq.content, own.content if own else None))


def pinned_hq(files: dict, resolve_hq: Callable[[], dict]) -> dict[str, int]:
    """What an instance pins besides its resolved files: HQ's products.json when the branch's own
    one is the resolved file (the effective product needs both)."""
    hq, own = resolved_pair(files, resolve_hq)
    return {PINNED_HQ_KEY: hq.id} if own is not None and hq is not None else {}


def pinned_product(pinned: dict, code: str, branch_code: str, *, cache: EffectiveCache,
                   text: Callable[[int], str]) -> EffectiveProduct | None:
    """The product as it was when the instance started (its pinned files), or None if it pinned
    no products.json (an instance older than the product files: the caller falls back). `cache`
    and `text` are the layer's, which serves one database, so file ids are keys enough and a
    cached step asks the database nothing."""
    main = pinned.get(PRODUCTS_FILE)
    if main is None:
        return None
    hq_id, own_id = (pinned[PINNED_HQ_KEY], main) if PINNED_HQ_KEY in pinned else (main, None)
    catalogue = cache.get((hq_id, own_id, branch_code), branch_code,
                          lambda: (text(hq_id), text(own_id) if own_id is not None else None))
    return catalogue.get(code)


# -- intake ------------------------------------------------------------------------------------
def check_application(product: EffectiveProduct, branch_code: str, form: dict) -> None:
    """InvalidInput naming every field of the application outside the branch's product."""
    if not product.enabled:
        raise InvalidInput(f"Product {product.code} is not offered by branch {branch_code}",
                           fields={"product": [f"{product.code} is disabled for branch {branch_code}"]})
    problems: dict[str, list[str]] = {}
    amount: Decimal = form["amount"]
    if not product.min_amount <= amount <= product.max_amount:
        problems["amount"] = [f"must be between {product.min_amount} and {product.max_amount} "
                              f"for product {product.code} at {branch_code}"]
    if not product.min_term_months <= form["term_months"] <= product.max_term_months:
        problems["term_months"] = [f"must be between {product.min_term_months} and "
                                   f"{product.max_term_months} months for product {product.code}"]
    checked = (("repayment_method", form.get("repayment_method"), product.repayment_methods),
               ("guarantee_method", form.get("guarantee_method"), product.guarantee_methods),
               ("applicant.customer_type", (form.get("applicant") or {}).get("customer_type"), product.customer_types),
               ("channel", form.get("channel"), product.channels))  # channel: only once intake has one
    for name, value, allowed in checked:
        if value not in (None, "") and value not in allowed:
            problems[name] = [f"{value} is not offered for product {product.code} at {branch_code} "
                              f"(offered: {', '.join(allowed)})"]
    if problems:
        raise InvalidInput("The application does not fit the product's terms", fields=problems)


# -- what a branch offers, for the API ---------------------------------------------------------
def _file_versions(session: Session, branch_code: str) -> dict[str, dict]:
    from workflows.models import Deployment

    ids = [f[0] for f in current_files(session, branch_code) if f is not None]
    rows = session.execute(select(DeploymentFile.scope, DeploymentFile.id, Deployment.version)
                           .join(Deployment, Deployment.id == DeploymentFile.deployment_id)
                           .where(DeploymentFile.id.in_(ids))).all()
    return {scope: {"file_id": file_id, "deployment_version": version} for scope, file_id, version in rows}


def offer(session: Session, branch_code: str) -> dict:
    """Every product of the branch (disabled ones marked), each value with the scope it comes from,
    and which deployed products.json files it is made of."""
    catalogue = effective_products(session, branch_code)
    return {"branch": branch_code, "files": _file_versions(session, branch_code),
            "items": [catalogue[code].as_dict() for code in sorted(catalogue)]}


def offer_of(session: Session, branch_code: str, code: str) -> dict:
    product = effective_product(session, branch_code, code)
    return {"branch": branch_code, "files": _file_versions(session, branch_code), **product.as_dict()}
