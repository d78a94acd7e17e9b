"""Alembic's environment for the platform: run from :mod:`vpp.platform.migrate` with a
connection in ``config.attributes["connection"]`` (no ``alembic.ini``)."""

from __future__ import annotations

from alembic import context

from vpp.platform.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite by table copy
)
with context.begin_transaction():
    context.run_migrations()
