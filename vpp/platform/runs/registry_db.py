"""The daily job's run registry in the platform database (``vpp schedule --db URL``).

:class:`DbRegistry` is the job's one registry implementation
(:class:`vpp.jobs.registry_store.RunRegistry`: start, finish, reap, runs, with the same
rules) on the table ``job_runs`` (:mod:`vpp.platform.runs.models`) of the platform's
database, SQLite or PostgreSQL. So ``vpp runs --db URL`` and the API show one history.

A database error is raised as :class:`~vpp.jobs.registry.RegistryError` (exit 2), as
the file registry raises its SQLite errors, so the job's rule holds: the outputs are the
truth when the registry cannot record how a run ended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from vpp.errors import Problem
from vpp.jobs.registry_file import RegistryError
from vpp.jobs.registry_store import RunRegistry
from vpp.platform import migrate
from vpp.platform.db import hide_password, make_engine, redacted_url
from vpp.platform.runs.models import JobRun

__all__ = ["DbRegistry", "default_db", "registry_of_args"]


def default_db() -> str:
    """The platform's default database (``vpp serve`` without ``--db``)."""
    from vpp.platform.db import default_url

    return default_url()


def _check_exists(url: str, shown: str, source: str) -> None:
    """Refuse a SQLite file that does not exist (listing must not create one)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # make_engine names the bad URL
        return
    name = parsed.database
    if parsed.get_backend_name() == "sqlite" and name and name != ":memory:":
        if not Path(name).is_file():
            raise RegistryError(
                Problem(
                    "no platform database there",
                    file=shown,
                    key=source,
                    fix="give the database `vpp serve` or `vpp schedule --db` uses",
                )
            )


class DbRegistry(RunRegistry):
    """The job's registry in the platform database at ``url`` (table ``job_runs``).

    Parameters
    ----------
    url : str
        The database (``sqlite:///PATH`` or ``postgresql+psycopg://...``).
    read_only : bool
        Listing only: the database must already hold the platform's tables at the
        newest revision; nothing is written (no migration).
    engine : sqlalchemy.Engine, optional
        An engine on ``url`` to share (the server's); made from ``url`` when absent.
    source : str
        Where ``url`` came from (``--db``, ``$VPP_DB``, ``--db-file PATH``), named with
        the URL (password hidden) in messages.

    Raises
    ------
    RegistryError
        The database cannot be reached, or (read-only) holds no platform tables.
    """

    table = JobRun.__table__

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        engine: Engine | None = None,
        source: str = "--db",
    ):
        self.path = redacted_url(url)  # what messages name (the file registry's path)
        self._url = url
        self._source = source
        self.read_only = read_only
        if read_only and engine is None:
            _check_exists(url, self.path, source)
        try:
            self.engine = engine if engine is not None else make_engine(url, source)
            if read_only:
                current = migrate.current_revision(self.engine)
                if current != migrate.head_revision():
                    raise RegistryError(
                        Problem(
                            "the database holds no run registry of this vpp version",
                            file=self.path,
                            key=source,
                            value=f"revision {current}",
                            allowed=f"a platform database at revision {migrate.head_revision()}",
                            fix="start `vpp serve --db URL` or `vpp schedule --db URL` once "
                            "(they migrate it), or name the right database",
                        )
                    )
            elif engine is None:
                migrate.upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"DbRegistry({self.path!r}{mode})"

    def _error(self, exc: BaseException) -> RegistryError:
        reason = hide_password(str(exc).splitlines()[0][:300] if str(exc) else "", self._url)
        return RegistryError(
            Problem(
                f"cannot use the run registry in the database: {type(exc).__name__}: {reason}",
                file=self.path,
                key=self._source,
                fix="check that the database runs and this user may write to it",
            )
        )


def registry_of_args(args: Any, *, read_only: bool = False) -> DbRegistry | None:
    """The registry in the platform database of ``vpp schedule``'s or ``vpp runs``'
    ``--db [URL]`` or ``--db-file PATH`` (``--db`` alone: ``$VPP_DB``, then the
    default), or None without either (the job's registry file)."""
    from vpp.platform.db_source import db_from_args

    found = db_from_args(args, None)
    if found is None:
        return None
    return DbRegistry(found.url, read_only=read_only, source=found.source)
