"""The platform as one object: the database, its migrations and the hooks.

``vpp serve`` opens one :class:`Platform` and hands it to the HTTP app
(:func:`vpp.platform.app.create_app`); other front ends (the MQTT subscriber) take the
same object and call :meth:`Platform.store_readings`, and register in
:attr:`Platform.schedule_committed` a callable that is told of every schedule after
its commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform import migrate
from vpp.platform.db import make_engine, make_sessions, redacted_url
from vpp.platform.parks import find_site
from vpp.platform.readings import CheckedReading, StoreResult, check_readings
from vpp.platform.schedules import (
    ScheduleCommitted,
    latest_schedules,
    record_day_folder,
    schedule_for,
)
from vpp.platform.writer import GroupWriter

__all__ = ["Platform", "utc_now"]

LOG = logging.getLogger("vpp.platform")


def utc_now() -> dt.datetime:
    """The server's clock, zone-aware UTC."""
    return dt.datetime.now(dt.UTC)


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
    schedule_committed : list of callables
        Each is called with a :class:`~vpp.platform.schedules.ScheduleCommitted` after a
        schedule's transaction has committed (never before); an exception in one is
        logged and does not undo the commit or stop the others.
    clock : callable
        The present (zone-aware UTC); tests give a fixed one.
    writer : GroupWriter
        The one writer of readings (group commit, :mod:`vpp.platform.writer`).
    """

    engine: Engine
    sessions: sessionmaker[Session]
    url: str
    schedule_committed: list[Callable[[ScheduleCommitted], None]] = field(default_factory=list)
    clock: Callable[[], dt.datetime] = utc_now
    writer: GroupWriter = field(init=False)

    def __post_init__(self) -> None:
        self.writer = GroupWriter(self.sessions)

    @classmethod
    def open(cls, url: str, *, migrate_to: str = "head") -> Platform:
        """Open the database at ``url`` and bring it to ``migrate_to`` (Alembic)."""
        engine = make_engine(url)
        migrate.upgrade(engine, migrate_to)
        return cls(engine=engine, sessions=make_sessions(engine), url=redacted_url(url))

    def close(self) -> None:
        """Finish the queued writes and release every connection."""
        self.writer.close()
        self.engine.dispose()

    def store_readings(self, park: str, site: str, readings: list[dict[str, Any]]) -> StoreResult:
        """Check and store one site's readings, committed before it returns.

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
        return self.writer.store(ref.site_id, checked)

    def store_checked(self, site_id: int, checked: list[CheckedReading]) -> StoreResult:
        """Store a site's checked readings (row id), committed before it returns."""
        return self.writer.store(site_id, checked)

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
        for hook in list(self.schedule_committed):
            try:
                hook(event)
            except Exception:  # a publisher's failure must not undo or stop the rest
                LOG.exception("schedule hook %r failed for %s/%s", hook, event.park, event.site)

    def schedule_table(self, park: str, site: str, day: dt.date) -> pd.DataFrame | None:
        """The schedule to dispatch for a site and date (None: none stored)."""
        found = schedule_for(self.sessions, find_site(self.sessions, park, site).site_id, day)
        return None if found is None else found[1]

    def latest_schedules(self) -> list[ScheduleCommitted]:
        """Each site's newest schedule (re-publish retained topics at start)."""
        return latest_schedules(self.sessions)
