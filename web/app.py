"""The Flask application factory."""
from __future__ import annotations

import importlib
import pkgutil

from flask import Flask

from web import health, metrics
from web.rate_limit import RateLimiter
from web.auth import token_signer_for
from web.config import Settings
from web.errors import register_error_handlers
from web.metrics import install_metrics
from web.request_log import install_request_ids
from web.pages import register_pages
from web.requests import refuse_bad_text_in_url
from web.services import Services, build_services


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    settings = settings or Settings.from_env()
    # Before anything else: an app that would sign tokens with no key, a short one or the public
    # demo key must not exist (raises web.config.SettingsError).
    settings.check_secret_keys()
    services = services or build_services(settings)
    app = Flask(__name__)
    app.config["SECRET_KEY"] = settings.secret_key
    app.extensions["loanflow_tokens"] = token_signer_for(settings)
    app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    app.json.sort_keys = False
    app.extensions["loanflow"] = services
    app.extensions["loanflow_rate_limit"] = RateLimiter(settings.integrator_requests_per_minute)
    register_error_handlers(app)
    install_request_ids(app)  # first: every later step, error answer and log line has the id
    install_metrics(app, services)
    app.before_request(refuse_bad_text_in_url)
    for blueprint in _api_blueprints():
        app.register_blueprint(blueprint, url_prefix="/api/v1")
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    register_pages(app, settings)
    return app


def _api_blueprints():
    """Every module in web/api that defines `blueprint` (see web/CONVENTIONS.md)."""
    import web.api

    for module_info in sorted(pkgutil.iter_modules(web.api.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"web.api.{module_info.name}")
        if hasattr(module, "blueprint"):
            yield module.blueprint
