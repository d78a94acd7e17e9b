"""The platform as one object: the database, its migrations and the hooks.

``vpp serve`` opens one :class:`Platform` and hands it to the HTTP app
(:func:`vpp.platform.app.create_app`); other front ends (the MQTT subscriber) take the
same object and call :meth:`Platform.store_readings`, and register in
:attr:`Platform.schedule_committed` a callable that is told of every schedule after
its commit.

The hooks are plain lists of callables, called in order after the commit:

- :attr:`Platform.schedule_committed`: a :class:`~vpp.platform.schedules.ScheduleCommitted`
  per schedule stored (the MQTT publisher);
- :attr:`Platform.readings_stored`: a :class:`ReadingsStored` per batch of readings
  committed, whatever brought it (the HTTP API's JSON or CSV, MQTT, the demo); the
  alerts' engine marks the site for its after-ingestion checks
  (:meth:`vpp.platform.alerts.engine.AlertEngine.on_readings_stored`).

A hook runs in the storing thread (a request's, the MQTT client's), so it must return
at once and hand slow work to a thread of its own; one taking longer than
:data:`SLOW_HOOK_S` is logged. A hook that raises is logged with its exception and
counted in :attr:`Platform.hook_failures`; the commit stands, the other hooks are still
called, and the caller gets its answer (the readings are stored and acknowledged).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from vpp.errors import Problem, ScenarioError
from vpp.platform import migrate
from vpp.platform.db import hide_password, make_engine, make_sessions, redacted_url
from vpp.platform.parks import SiteRef, find_site
from vpp.platform.readings import CheckedReading, StoreResult, check_readings
from vpp.platform.schedules import (
    ScheduleCommitted,
    latest_schedules,
    record_day_folder,
    schedule_for,
)
from vpp.platform.writer import GroupWriter

__all__ = ["SLOW_HOOK_S", "Platform", "ReadingsStored", "utc_now"]

LOG = logging.getLogger("vpp.platform")
#: A hook that takes longer than this is logged as slow (it holds up its caller) [s].
SLOW_HOOK_S = 0.2


#: PostgreSQL's insufficient_privilege: the user may not create the tables (it does not
#: own the database, whose public schema only its owner may create in since version 15).
_NO_PRIVILEGE = "42501"


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _unreachable(url: str, exc: DBAPIError, source: str) -> Problem:
    """The problem of a database that cannot be opened, without the URL's password."""
    reason = hide_password(" ".join(str(exc.orig if exc.orig is not None else exc).split()), url)
    return Problem(
        f"cannot open the database: {reason}",
        key=source,
        value=redacted_url(url),
        allowed="a running database server, its user and password, an existing database "
        "the user owns (sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB)",
        fix="check the server is up, the host and port, the user, the password "
        "(percent-encoded in the URL) and the database's name (README, PostgreSQL)",
    )


def utc_now() -> dt.datetime:
    """The server's clock, zone-aware UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ReadingsStored:
    """A batch of one site's readings, committed (the :attr:`Platform.readings_stored`
    hooks' event).

    Attributes
    ----------
    park, site : str
        The registered park's and site's names.
    site_id : int
        The site's row id.
    stored, repeated : int
        Readings added, and readings already stored with the same value [-].
    """

    park: str
    site: str
    site_id: int
    stored: int
    repeated: int


@dataclass
class Platform:
    """The platform's database and hooks.

    Attributes
    ----------
    engine : sqlalchemy.Engine
        The database (migrated to the newest revision by :meth:`open`).
    sessions : sessionmaker
        Sessions on it.
    url : str
        Its URL, password hidden.
    source : str
        Where the URL came from: ``--db``, ``$VPP_DB``, ``--db-file PATH``, ``the default``
        (:mod:`vpp.platform.db_source`).
    schedule_committed : list of callables
        Each is called with a :class:`~vpp.platform.schedules.ScheduleCommitted` after a
        schedule's transaction has committed (never before); an exception in one is
        logged and does not undo the commit or stop the others.
    readings_stored : list of callables
        Each is called with a :class:`ReadingsStored` after a batch of readings has
        committed, from every storing path (module docstring); an exception in one is
        logged and counted, and neither undoes the commit nor fails the store.
    hook_failures : collections.Counter
        Exceptions raised by hooks since the start, by hook list
        (``"schedule_committed"``, ``"readings_stored"``) [-].
    clock : callable
        The present (zone-aware UTC); tests give a fixed one.
    writer : GroupWriter
        The one writer of readings (group commit, :mod:`vpp.platform.writer`).
    """

    engine: Engine
    sessions: sessionmaker[Session]
    url: str
    source: str = "--db"
    schedule_committed: list[Callable[[ScheduleCommitted], None]] = field(default_factory=list)
    readings_stored: list[Callable[[ReadingsStored], None]] = field(default_factory=list)
    hook_failures: Counter[str] = field(default_factory=Counter)
    clock: Callable[[], dt.datetime] = utc_now
    writer: GroupWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = GroupWriter(self.sessions)

    @classmethod
    def open(cls, url: str, *, migrate_to: str = "head", source: str = "--db") -> Platform:
        """Open the database at ``url`` and bring it to ``migrate_to`` (Alembic);
        ``source`` (``--db``, ``$VPP_DB``, ``--db-file PATH``) is what messages name.

        Raises
        ------
        ScenarioError
            The URL is not a supported database's, or the database cannot be reached
            (server down, wrong user or password, no such database) or its user may not
            create the tables: the message names the URL without its password and the
            driver's reason.
        """
        engine = make_engine(url, source)
        try:
            migrate.upgrade(engine, migrate_to)
        except (OperationalError, ProgrammingError) as exc:
            engine.dispose()
            if isinstance(exc, ProgrammingError) and _sqlstate(exc) != _NO_PRIVILEGE:
                raise  # a migration's own fault, not the database's set-up
            raise ScenarioError(_unreachable(url, exc, source)) from None
        shown = redacted_url(url)
        return cls(engine=engine, sessions=make_sessions(engine), url=shown, source=source)

    def close(self) -> None:
        """Finish the queued writes and release every connection."""
        self.writer.close()
        self.engine.dispose()

    def store_readings(self, park: str, site: str, readings: list[dict[str, Any]]) -> StoreResult:
        """Check and store one site's readings, committed before it returns; then tell
        the :attr:`readings_stored` hooks.

        Parameters
        ----------
        park, site : str
            The registered park's and site's names.
        readings : list of dict
            ``{"channel": str, "timestamp": ISO 8601 with offset, "value": number}``.

        Raises
        ------
        UnknownSite, TelemetryRefused, ReadingConflict
            (:mod:`vpp.platform.refusals`): nothing is stored.
        """
        ref = find_site(self.sessions, park, site)
        checked = check_readings(readings, ref.channels, self.clock())
        return self.store_checked(ref, checked)

    def store_checked(self, ref: SiteRef, checked: list[CheckedReading]) -> StoreResult:
        """Store a site's checked readings, committed before it returns; then tell the
        :attr:`readings_stored` hooks (a hook's failure does not fail the store)."""
        result = self.writer.store(ref.site_id, checked)
        event = ReadingsStored(ref.park, ref.site, ref.site_id, result.stored, result.repeated)
        self._call_hooks("readings_stored", event, f"{ref.park}/{ref.site}")
        return result

    def record_day_folder(
        self, folder: str | Path, run_id: str | None = None, run_pk: int | None = None
    ) -> list[ScheduleCommitted]:
        """Store a job run's ``<out>/<date>/`` and tell the hooks after the commit."""
        events = record_day_folder(self.sessions, folder, run_id, run_pk)
        for event in events:
            self.announce(event)
        return events

    def announce(self, event: ScheduleCommitted) -> None:
        """Call every :attr:`schedule_committed` hook with ``event``."""
        self._call_hooks("schedule_committed", event, f"{event.park}/{event.site}")

    def _call_hooks(self, kind: str, event: Any, where: str) -> None:
        """Call each hook of the list ``kind`` with ``event``: a failure is logged with
        its exception and counted, and stops neither the others nor the caller."""
        for hook in list(getattr(self, kind)):
            began = time.monotonic()
            try:
                hook(event)
            except Exception:  # after the commit: nothing to undo, the caller is answered
                self.hook_failures[kind] += 1
                LOG.exception("%s hook %r failed for %s", kind, hook, where)
            took_s = time.monotonic() - began
            if took_s > SLOW_HOOK_S:
                LOG.warning("%s hook %r took %.2f s for %s", kind, hook, took_s, where)

    def schedule_table(self, park: str, site: str, day: dt.date) -> pd.DataFrame | None:
        """The schedule to dispatch for a site and date (None: none stored)."""
        found = schedule_for(self.sessions, find_site(self.sessions, park, site).site_id, day)
        return None if found is None else found[1]

    def dispatch_table(self, event: ScheduleCommitted) -> pd.DataFrame | None:
        """The event's schedule table if it is still the one to dispatch for its site and
        date, else None (a fallback after a good schedule, or a newer schedule since)."""
        ref = find_site(self.sessions, event.park, event.site)
        found = schedule_for(self.sessions, ref.site_id, event.date)
        if found is None or found[0]["schedule_id"] != event.schedule_id:
            return None
        return found[1]

    def latest_schedules(self) -> list[ScheduleCommitted]:
        """Each site's newest schedule (re-publish retained topics at start)."""
        return latest_schedules(self.sessions)
