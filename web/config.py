"""Settings from the environment, read once by the entry points and handed down."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from privacy.keys import DEMO_DATA_KEY

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'loanflow.sqlite3'}"
    secret_key: str = "loanflow-demo-secret-change-me"
    port: int = 8000
    host: str = "127.0.0.1"
    bpmn_dir: Path = PROJECT_ROOT / "bpmn"
    bureau_url: str | None = None
    token_max_age_seconds: int = 12 * 3600
    # LOANFLOW_DATA_KEY: 32 bytes (64 hex digits or base64) for personal data at rest (privacy/).
    data_key: str = DEMO_DATA_KEY  # the demo's, public: serve and worker refuse it outside --demo
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            database_url=env.get("LOANFLOW_DATABASE_URL", cls.database_url),
            secret_key=env.get("LOANFLOW_SECRET_KEY", cls.secret_key),
            port=int(env.get("LOANFLOW_PORT", cls.port)),
            host=env.get("LOANFLOW_HOST", cls.host),
            bureau_url=env.get("LOANFLOW_BUREAU_URL") or None,
            data_key=env.get("LOANFLOW_DATA_KEY", cls.data_key),
        )
        values.update(overrides)
        return cls(**values)
