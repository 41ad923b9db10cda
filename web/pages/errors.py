"""Errors on the pages are pages: 403, 404, 400 (a stale form) and, for what nobody expected, a
page that says nothing was saved. The API keeps its JSON errors (web/errors.py)."""
from __future__ import annotations

import traceback

from flask import current_app, g, render_template
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from privacy import redact_text
from web.errors import STATUS_BY_KIND, ApiError, _package_error_types
from web.pages.guard import PageForbidden, signed_in_user
from web.pages.i18n import _


def error_page(status: int, message: str | None = None):
    if "user" not in g:
        try:
            g.user = signed_in_user()
        except Exception:  # a broken session must not turn an error page into a 500
            g.user = None
    titles = {400: _("The form could not be accepted"), 403: _("You may not open this page"),
              404: _("This page does not exist"), 409: _("This was changed by someone else"),
              500: _("Something went wrong")}
    explanations = {
        400: _("The form was stale or incomplete. Go back, reload the page and try again."),
        403: _("Your roles do not include this page. Ask your branch's administrator if you need it."),
        404: _("It was not found, or it belongs to another branch."),
        500: _("An unexpected error occurred; nothing was saved."),
    }
    return render_template("error.html", status=status, title=titles.get(status, titles[500]),
                           message=message or explanations.get(status, explanations[500])), status


def install_on(blueprint) -> None:
    """A page blueprint's error pages, and its CSRF check before every POST (set when the module
    is imported: a blueprint is registered on every app the tests create)."""
    from web.pages.guard import check_csrf

    blueprint.before_request(check_csrf)

    @blueprint.errorhandler(PageForbidden)
    def _forbidden(err):
        return error_page(403)

    @blueprint.errorhandler(ApiError)
    def _api_error(err: ApiError):
        if err.status == 422:  # e.g. a NUL in the address: the request could not be accepted, nothing broke
            return error_page(400)
        return error_page(err.status if err.status in (400, 403, 404, 409) else 500)

    @blueprint.errorhandler(ValidationError)
    def _invalid(err):
        return error_page(400)

    def _package(err):
        status = STATUS_BY_KIND.get(getattr(err, "kind", "invalid"), 422)
        if status in (403, 404):  # the page's own words: the engine's are English and name internal ids
            return error_page(status)
        return error_page(400, _(getattr(err, "message", None) or str(err)))

    for error_type in _package_error_types():
        blueprint.register_error_handler(error_type, _package)

    @blueprint.errorhandler(HTTPException)
    def _http(err: HTTPException):
        return error_page(err.code if err.code in (400, 403, 404) else 500)

    @blueprint.errorhandler(Exception)
    def _unexpected(err):
        current_app.logger.error("unhandled error on a page: %s", redact_text(traceback.format_exc()))
        return error_page(500)
