"""Alembic migrations shipped in the package, run in code (no ``alembic.ini``).

The revisions live in ``vpp/platform/migrations/versions/``; :func:`upgrade` brings a
database to a revision (``head`` by default) and is what ``vpp serve`` calls at start.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import vpp.platform.alerts.tables  # noqa: F401  (the alerts' tables on the models' base)
from vpp.platform.carbon_ledger import tables as _ledger_tables  # noqa: F401  (its table in Base)
from vpp.platform.runs import models as _run_tables  # noqa: F401  (their tables in Base)

__all__ = ["MIGRATIONS", "current_revision", "downgrade", "head_revision", "upgrade"]

#: The folder holding ``env.py`` and ``versions/``.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (every step in one transaction per step)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` (``base``: no tables)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None: never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head
