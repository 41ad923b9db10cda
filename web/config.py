"""Settings from the environment, read once by the entry points and handed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from privacy.keys import DEMO_DATA_KEY
from workflows.callbacks import CallbackHosts, CallbackHostsInvalid

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Public (it is in this repository): anyone can sign tokens with it, so only `--demo` uses it.
DEMO_SECRET_KEY = "loanflow-demo-secret-change-me"
MIN_SECRET_KEY_BYTES = 32
# The demo's walkthrough and webhook receivers run on this machine.
DEMO_CALLBACK_HOSTS = "api-demo=127.0.0.1"


class SettingsError(Exception):
    """A setting that the product must not start with; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'loanflow.sqlite3'}"
    # The key that signs bearer tokens; old keys still verify tokens they signed (key rotation).
    secret_key: str = ""
    old_secret_keys: tuple[str, ...] = ()
    demo: bool = False
    port: int = 8000
    host: str = "127.0.0.1"
    bpmn_dir: Path = PROJECT_ROOT / "bpmn"
    bureau_url: str | None = None
    sms_url: str | None = None  # LOANFLOW_SMS_URL: the SMS gateway for reminders and collections
    token_max_age_seconds: int = 12 * 3600
    callback_hosts: CallbackHosts = field(default_factory=CallbackHosts)
    # LOANFLOW_DATA_KEY: 32 bytes (64 hex digits or base64) sealing personal data at rest (privacy/).
    data_key: str = ""
    # LOANFLOW_SECURE_COOKIES: the pages' session cookie is sent over HTTPS only (Secure). The demo
    # serves plain http on 127.0.0.1, so it turns this off there unless the variable says otherwise.
    secure_cookies: bool = True
    # LOANFLOW_HEARTBEAT_STALE_SECONDS: a worker whose last heartbeat is older is stale (/readyz).
    heartbeat_stale_seconds: int = 60
    # LOANFLOW_INTEGRATOR_REQUESTS_PER_MINUTE: each integrator's requests in any minute (web/rate_limit.py).
    integrator_requests_per_minute: int = 600
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            database_url=env.get("LOANFLOW_DATABASE_URL", cls.database_url),
            secret_key=env.get("LOANFLOW_SECRET_KEY", ""),
            old_secret_keys=_listed(env.get("LOANFLOW_OLD_SECRET_KEYS", "")),
            port=_port(env.get("LOANFLOW_PORT", str(cls.port))),
            host=env.get("LOANFLOW_HOST", cls.host),
            bureau_url=env.get("LOANFLOW_BUREAU_URL") or None,
            sms_url=env.get("LOANFLOW_SMS_URL") or None,
            callback_hosts=_callback_hosts(env.get("LOANFLOW_CALLBACK_HOSTS", "")),
            data_key=env.get("LOANFLOW_DATA_KEY", ""),
            secure_cookies=env.get("LOANFLOW_SECURE_COOKIES", "true").strip().lower() not in ("0", "false", "no"),
            heartbeat_stale_seconds=_seconds("LOANFLOW_HEARTBEAT_STALE_SECONDS",
                                             env.get("LOANFLOW_HEARTBEAT_STALE_SECONDS", "60")),
            integrator_requests_per_minute=_per_minute("LOANFLOW_INTEGRATOR_REQUESTS_PER_MINUTE",
                                                       env.get("LOANFLOW_INTEGRATOR_REQUESTS_PER_MINUTE", "600")),
        )
        values.update(overrides)
        return cls(**values)

    def for_demo(self) -> "Settings":
        """The demo's settings: its public key unless a key is set, and the walkthrough's local
        webhook host for api-demo on top of whatever LOANFLOW_CALLBACK_HOSTS allows."""
        local_http = self.host in ("127.0.0.1", "localhost", "::1") and "LOANFLOW_SECURE_COOKIES" not in os.environ
        return replace(self, demo=True, secret_key=self.secret_key or DEMO_SECRET_KEY,
                       secure_cookies=self.secure_cookies and not local_http,
                       data_key=self.data_key or DEMO_DATA_KEY,
                       callback_hosts=self.callback_hosts.merged(CallbackHosts.parse(DEMO_CALLBACK_HOSTS)))

    def check_secret_keys(self) -> None:
        """Refuse to sign with no key, a short key, or (outside the demo) the public demo key."""
        if not self.secret_key:
            raise SettingsError(
                f"LOANFLOW_SECRET_KEY is not set: set it to a random value of at least {MIN_SECRET_KEY_BYTES} "
                "bytes (python3 -c 'import secrets; print(secrets.token_urlsafe(32))'), or run with --demo")
        for name, key in (("LOANFLOW_SECRET_KEY", self.secret_key),
                          *(("LOANFLOW_OLD_SECRET_KEYS", old) for old in self.old_secret_keys)):
            if key == DEMO_SECRET_KEY and not self.demo:
                raise SettingsError(f"{name} holds the public demo key; it is for --demo only")
            if key != DEMO_SECRET_KEY and len(key.encode("utf-8")) < MIN_SECRET_KEY_BYTES:
                raise SettingsError(f"{name} is shorter than {MIN_SECRET_KEY_BYTES} bytes; use a longer random value")

    def check_data_key(self) -> None:
        """Refuse to seal personal data with no key, a malformed one, or (outside the demo) the demo's."""
        from privacy import DataKeyError, Keyring

        if not self.data_key:
            raise SettingsError("LOANFLOW_DATA_KEY is not set: set it to 32 random bytes as 64 hex digits "
                                "(python3 -c 'import secrets; print(secrets.token_hex(32))'), or run with --demo")
        if self.data_key == DEMO_DATA_KEY and not self.demo:
            raise SettingsError("LOANFLOW_DATA_KEY holds the public demo key; it is for --demo only")
        try:
            Keyring.from_setting(self.data_key)
        except DataKeyError as err:
            raise SettingsError(str(err)) from None


def _listed(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(f"LOANFLOW_PORT must be a port number, not {raw!r}") from None
    if not 0 <= port < 65536:  # 0: any free port
        raise SettingsError(f"LOANFLOW_PORT must be between 0 and 65535, not {port}")
    return port


def _seconds(name: str, raw: str) -> int:
    try:
        seconds = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of seconds, not {raw!r}") from None
    if seconds <= 0:
        raise SettingsError(f"{name} must be more than 0 seconds, not {seconds}")
    return seconds


def _per_minute(name: str, raw: str) -> int:
    try:
        count = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of requests, not {raw!r}") from None
    if count <= 0:
        raise SettingsError(f"{name} must be more than 0 requests a minute, not {count}")
    return count


def _callback_hosts(raw: str) -> CallbackHosts:
    try:
        return CallbackHosts.parse(raw)
    except CallbackHostsInvalid as err:
        raise SettingsError(f"LOANFLOW_CALLBACK_HOSTS: {err}") from None
