"""The objects one running product shares: database, origination service, handler registry.

Built by the app factory or the worker from Settings, never at import time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from forms.compiler import form_names
from handlers.registry import build_registry
from privacy import Keyring
from web.config import Settings, SettingsError
from workflows.db import Database
from workflows.deployments import SpecCache
from workflows.directory import Directory, LocalDirectory
from workflows.instances import InstanceRunner
from workflows.bank_clock import BankClock
from workflows.loan_servicing import LoanServicing
from workflows.models import utcnow
from workflows.origination import Origination
from workflows.processes import ProcessLayer
from workflows.schema import ensure_current
from workflows.use_cases import register_use_cases
from workflows.seed import seed_demo


@dataclass
class Services:
    settings: Settings
    db: Database
    origination: Origination
    operations: set[str]
    forms: set[str]
    servicing: LoanServicing = field(default_factory=LoanServicing)
    # Who someone is (sign-in): the passwords in app_user; an LDAP or OIDC directory goes here.
    directory: Directory = field(default_factory=LocalDirectory)

    # What operations judges staleness by (heartbeats, overdue timers): the wall clock; tests move it.
    wall_clock: Callable[[], dt.datetime] = utcnow

    @property
    def processes(self) -> ProcessLayer:
        """The process layer every process runs on (origination is one use case of it)."""
        return self.origination.layer

    def seed_demo(self) -> None:
        with self.db.unit_of_work() as session:
            seed_demo(session, self.settings.bpmn_dir, operations=self.operations, forms=self.forms)


def open_services(settings: Settings, *, upgrade_behind: bool = False) -> Services:
    """Services for a long-running command (serve, worker) on a database at this version's schema.

    An empty database gets the schema (nothing can be lost); a behind one is upgraded only with
    `upgrade_behind` (the demo's own database), otherwise workflows.db.SchemaOutdated says, in
    one line, to run `loanflow db upgrade`: upgrading a bank's books is the operator's decision,
    taken after a backup, not a side effect of a restart."""
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    services = build_services(settings)
    try:
        upgraded = ensure_current(services.db.engine, upgrade_behind=upgrade_behind)
    except BaseException:
        services.db.dispose()
        raise
    if upgraded:
        print(f"loanflow: {upgraded.describe()}")
    return services


def external_services(settings: Settings) -> dict:
    """Clients of external systems the handlers call, configured from settings."""
    from handlers.sms import SmsGateway
    from scoring.bureau import BureauClient

    found = {}
    if settings.bureau_url:
        found["bureau"] = BureauClient(settings.bureau_url)
    if settings.sms_url:
        found["sms"] = SmsGateway(settings.sms_url)
    return found


def data_keyring(settings: Settings) -> Keyring:
    """The keyring from LOANFLOW_DATA_KEY. Unset, the demo's key serves the demo: with --demo, or a
    one-off command (eod, collect, rate-batch) on the demo's own database (the default URL);
    serve and worker have refused an unset key outside --demo before this (check_data_key)."""
    from privacy import DEMO_DATA_KEY, DataKeyError

    key = settings.data_key
    if not key and (settings.demo or settings.database_url == Settings.database_url):
        key = DEMO_DATA_KEY
    try:
        return Keyring.from_setting(key)
    except DataKeyError as err:
        raise SettingsError(f"{err} (32 bytes as 64 hex digits: python3 -c 'import secrets; "
                            "print(secrets.token_hex(32))')") from None


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url, keyring=data_keyring(settings))
    handlers = build_registry()
    # The API, the worker and `tick` read one clock: the wall's, never before the books' last night.
    clock = BankClock(db)
    origination = Origination(InstanceRunner(handlers, SpecCache()), services=external_services(settings),
                              callback_hosts=settings.callback_hosts, clock=clock.now)
    register_use_cases(origination.layer)
    return Services(settings=settings, db=db, origination=origination, operations=set(handlers),
                    forms=form_names(), servicing=LoanServicing(today=clock.today))
