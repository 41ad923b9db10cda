"""The objects one running product shares: database, origination service, handler registry.

Built by the app factory or the worker from Settings, never at import time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from forms.compiler import form_names
from handlers.registry import build_registry
from web.config import Settings
from workflows.db import Database
from workflows.deployments import SpecCache
from workflows.instances import InstanceRunner
from workflows.origination import Origination
from workflows.seed import seed_demo


@dataclass
class Services:
    settings: Settings
    db: Database
    origination: Origination
    operations: set[str]
    forms: set[str]

    def seed_demo(self) -> None:
        self.db.create_schema()
        with self.db.unit_of_work() as session:
            seed_demo(session, self.settings.bpmn_dir, operations=self.operations, forms=self.forms)


def open_services(settings: Settings) -> Services:
    """Services for a long-running command (serve, worker): the SQLite file's folder exists and the
    schema is current. Raises workflows.db.SchemaOutdated for a database of an older version."""
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    services = build_services(settings)
    services.db.create_schema()
    return services


def external_services(settings: Settings) -> dict:
    """Clients of external systems the handlers call, configured from settings."""
    from scoring.bureau import BureauClient

    found = {}
    if settings.bureau_url:
        found["bureau"] = BureauClient(settings.bureau_url)
    return found


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url)
    handlers = build_registry()
    origination = Origination(InstanceRunner(handlers, SpecCache()), services=external_services(settings),
                              callback_hosts=settings.callback_hosts)
    return Services(settings=settings, db=db, origination=origination, operations=set(handlers),
                    forms=form_names())
