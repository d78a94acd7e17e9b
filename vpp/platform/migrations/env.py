"""Alembic's environment for the platform: run from :mod:`vpp.platform.migrate` with a
connection in ``config.attributes["connection"]`` (no ``alembic.ini``)."""

from __future__ import annotations

from typing import Any

from alembic import context

from vpp.platform.models import Base


def run(connection: Any) -> None:
    """Run the migrations Alembic asked for on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite by table copy
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic runs this file inside its environment; imported elsewhere (a walk over the
# package's modules) there is no environment and nothing to run.
if getattr(context, "_proxy", None) is not None:
    run(context.config.attributes["connection"])
