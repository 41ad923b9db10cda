"""Interface language and the bank's formats: Chinese (zh-CN) by default, English by a switch.

The catalogues are gettext .po files under web/translations/, read and compiled in memory when
the app starts (Babel), so there is no generated file to forget. The message ids are English, so
English needs no catalogue of its own. Times are shown in China time, money as ¥1,234,567.89.
"""
from __future__ import annotations

import datetime as dt
import gettext
import io
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


def install(app) -> None:
    app.extensions["loanflow_catalogues"] = load_catalogues()
    app.jinja_env.add_extension("jinja2.ext.i18n")

    def _gettext(message: str, **variables) -> str:
        text = translations(app).gettext(message)
        return text % variables if variables else text

    def _ngettext(singular: str, plural: str, n: int, **variables) -> str:
        text = translations(app).ngettext(singular, plural, n)
        return text % dict(variables, num=n)

    app.jinja_env.install_gettext_callables(_gettext, _ngettext, newstyle=True)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["china_time"] = china_time
    app.jinja_env.globals["current_language"] = lambda: g.get("language") or current_language()
    app.extensions["loanflow_gettext"] = _gettext


def _(message: str, **variables) -> str:
    """gettext for Python code in web/pages (flash messages, error pages)."""
    from flask import current_app

    return current_app.extensions["loanflow_gettext"](message, **variables)
