"""The objects one running product shares: database, origination service, handler registry.

Built by the app factory or the worker from Settings, never at import time.
"""
from __future__ import annotations

from dataclasses import dataclass

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
    origination = Origination(InstanceRunner(handlers, SpecCache()), services=external_services(settings))
    return Services(settings=settings, db=db, origination=origination, operations=set(handlers),
                    forms=form_names())
