"""The staff's pages (reviewers, customer managers, approvers, head office): server-rendered
templates in web/templates, assets in web/static (vendor files built by `make assets`).

They call the same service layer as the API (workflows), never the API over HTTP.
"""
from __future__ import annotations

import datetime as dt

from flask import Flask

from web.pages import i18n
from web.pages.guard import csrf_token


def register_pages(app: Flask, settings) -> None:
    from web.pages import account, admin, cases, customers, dashboard, errors, inbox, operations, signin, studio, tasks

    app.config.update(
        SESSION_COOKIE_NAME="loanflow_session", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies, PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12))
    i18n.install(app)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.extensions["loanflow_html_error"] = lambda status: errors.error_page(status)
    for module in (signin, inbox, tasks, cases, customers, dashboard, studio, admin, operations, account):
        app.register_blueprint(module.blueprint)
