"""Interface language and the bank's formats: Chinese (zh-CN) by default, English by a switch.

The catalogues are gettext .po files under web/translations/, read and compiled in memory when
the app starts (Babel), so there is no generated file to forget. The message ids are English, so
English needs no catalogue of its own. Times are shown in China time, money as ¥1,234,567.89.
"""
from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import g, request

from workflows.clock import CHINA

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGE_COOKIE = "loanflow_lang"


def load_catalogues() -> dict[str, gettext.NullTranslations]:
    catalogues: dict[str, gettext.NullTranslations] = {"en": gettext.NullTranslations()}
    for language in LANGUAGES:
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as handle:
                catalogue = read_po(handle, locale=language)
            compiled = io.BytesIO()
            write_mo(compiled, catalogue)
            compiled.seek(0)
            catalogues[language] = gettext.GNUTranslations(compiled)
    return catalogues


def current_language() -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def translations(app) -> gettext.NullTranslations:
    if "language" not in g:
        g.language = current_language()
    return app.extensions["loanflow_catalogues"].get(g.language, gettext.NullTranslations())


def money(value) -> str:
    """¥1,234,567.89; an empty value as a dash."""
    if value in (None, ""):
        return "—"
    try:
        return f"¥{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def percent(value) -> str:
    """A rate as a per cent: 0.0295 -> 2.95%."""
    try:
        return f"{Decimal(str(value)) * 100:.2f}%"
    except InvalidOperation:
        return str(value)


def china_time(value) -> str:
    """A stored moment (naive UTC, or ISO text with Z) as China time, to the minute."""
    if not value:
        return "—"
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


# Engine messages shown on the pages (risk hits, incidents) are English sentences with figures in
# them; each known shape is translated with its figures kept. A shape not listed stays as it is.
MESSAGE_SHAPES = [(re.compile(pattern), message) for pattern, message in (
    (r"^applicant is on the (?P<list>internal blacklist|anti-money-laundering list|graylist): (?P<reason>.+)$",
     "applicant is on the %(list)s: %(reason)s"),
    (r"^applicant is on the (?P<list>internal blacklist|anti-money-laundering list|graylist)$",
     "applicant is on the %(list)s"),
    (r"^borrower has (?P<count>\d+) written-off loan\(s\)$", "borrower has %(count)s written-off loan(s)"),
    (r"^borrower has (?P<count>\d+) loan\(s\) classified as loss$",
     "borrower has %(count)s loan(s) classified as loss"),
    (r"^guarantee (?P<number>\d+) is (?P<status>\w+)$", "guarantee %(number)s is %(status)s"),
    (r"^guarantor of guarantee (?P<number>\d+) is on the blacklist or AML list$",
     "guarantor of guarantee %(number)s is on the blacklist or AML list"),
    (r"^guarantor of guarantee (?P<number>\d+) has written-off loans$",
     "guarantor of guarantee %(number)s has written-off loans"),
    (r"^borrower is currently overdue by (?P<amount>[\d.]+) yuan at this bank$",
     "borrower is currently overdue by %(amount)s at this bank"),
    (r"^bureau reports (?P<count>\d+) overdue account\(s\)$", "bureau reports %(count)s overdue account(s)"),
    (r"^(?P<count>\d+) credit inquiries in the last 3 months \(more than (?P<limit>\d+)\)$",
     "%(count)s credit inquiries in the last 3 months (more than %(limit)s)"),
    (r"^borrowing from (?P<count>\d+) lenders \(more than (?P<limit>\d+)\)$",
     "borrowing from %(count)s lenders (more than %(limit)s)"),
    (r"^credit bureau unavailable after (?P<attempts>\d+) attempts \((?P<problem>[^)]*)\)$",
     "credit bureau unavailable after %(attempts)s attempts (%(problem)s)"),
    (r"^credit bureau not queried: the customer's authorisation for credit bureau queries expired on "
     r"(?P<date>[0-9-]+)$", "credit bureau not queried: the customer's authorisation expired on %(date)s"),
    (r"^credit bureau not queried: the customer withdrew the authorisation for credit bureau queries on "
     r"(?P<date>[0-9-]+)$", "credit bureau not queried: the customer withdrew the authorisation on %(date)s"),
)]


def translate_message(text, gettext) -> str:
    """An engine message in the interface language: each '; '-separated part by its shape."""
    if not text:
        return ""
    parts = []
    for part in str(text).split("; "):
        for pattern, message in MESSAGE_SHAPES:
            found = pattern.match(part)
            if found:
                figures = {k: gettext(v) if k in ("list", "status") else v for k, v in found.groupdict().items()}
                if "amount" in figures:
                    figures["amount"] = money(figures["amount"])
                part = gettext(message, **figures)
                break
        parts.append(part)
    return gettext("; ").join(parts) if len(parts) > 1 else parts[0]


def incident_parts(text) -> tuple[str, str]:
    """An incident as (the step's handler, what went wrong): "risk.check_application: ..."."""
    step, sep, detail = str(text or "").partition(": ")
    return (step, detail) if sep and re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", step) else ("", str(text or ""))


CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*|[A-Z][A-Z0-9]*(_[A-Z0-9]+)+")  # customer_manager, AGRI_BUSINESS


def install(app) -> None:
    app.extensions["loanflow_catalogues"] = load_catalogues()
    app.jinja_env.add_extension("jinja2.ext.i18n")

    def _gettext(message: str, **variables) -> str:
        if not message:  # gettext("") is the catalogue's header
            return message
        text = translations(app).gettext(message)
        if text == message and g.language == "en" and CODE.fullmatch(message):
            text = message.replace("_", " ").capitalize()  # English has no catalogue: in_review -> In review
        return text % variables if variables else text

    def _ngettext(singular: str, plural: str, n: int, **variables) -> str:
        text = translations(app).ngettext(singular, plural, n)
        return text % dict(variables, num=n)

    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["china_time"] = china_time
    app.jinja_env.filters["incident"] = incident_parts
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["gettext"] = _gettext
    app.jinja_env.filters["message"] = lambda text: translate_message(text, _gettext)
    app.jinja_env.globals["current_language"] = lambda: g.get("language") or current_language()
    app.extensions["loanflow_gettext"] = _gettext


def _(message: str, **variables) -> str:
    """gettext for Python code in web/pages (flash messages, error pages)."""
    from flask import current_app

    return current_app.extensions["loanflow_gettext"](message, **variables)
