"""The daily job's run registry in the platform database (``vpp schedule --db URL``).

:class:`DbRegistry` keeps the interface of the file registry
(:class:`vpp.jobs.registry.Registry`, the :class:`~vpp.jobs.registry.RunRegistry`
protocol): :meth:`~DbRegistry.start`, :meth:`~DbRegistry.finish`,
:meth:`~DbRegistry.reap` and :meth:`~DbRegistry.runs` give the same rows with the same
rules (a run whose process is gone is marked ``failed`` by the next start or sweep on
the same host, unless its outputs say how it ended), in the table ``job_runs``
(:mod:`vpp.platform.runs.models`). So ``vpp runs --db URL`` and the API show one history.

A database error is raised as :class:`~vpp.jobs.registry.RegistryError` (exit 2), as
the file registry raises its SQLite errors, so the job's rule holds: the outputs are the
truth when the registry cannot record how a run ended.
"""

from __future__ import annotations

import json
import math
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from vpp.errors import Problem
from vpp.jobs.registry import (
    FINISHED_STATUSES,
    STATUSES,
    RegistryError,
    check_date,
    normalize_since,
    outcome_in_outputs,
    process_gone,
    process_start,
    utc_now,
)
from vpp.jobs.registry_file import dumps
from vpp.platform import migrate
from vpp.platform.db import make_engine, make_sessions, redacted_url
from vpp.platform.runs.models import JobRun

__all__ = ["DbRegistry", "default_db"]

_JSON_COLUMNS = ("inputs", "kpis", "outputs")
_COLUMNS = tuple(c.name for c in JobRun.__table__.columns)


def default_db() -> str:
    """The platform's default database (``vpp serve`` without ``--db``)."""
    from vpp.platform.db import default_url

    return default_url()


def _check_exists(url: str, shown: str) -> None:
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
                    fix="give the database `vpp serve` or `vpp schedule --db` uses",
                )
            )


class DbRegistry:
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

    Raises
    ------
    RegistryError
        The database cannot be reached, or (read-only) holds no platform tables.
    """

    def __init__(self, url: str, *, read_only: bool = False, engine: Engine | None = None):
        self.path = redacted_url(url)  # what messages name (the file registry's path)
        self.read_only = read_only
        if read_only and engine is None:
            _check_exists(url, self.path)
        try:
            self.engine = engine if engine is not None else make_engine(url)
            if read_only:
                current = migrate.current_revision(self.engine)
                if current != migrate.head_revision():
                    raise RegistryError(
                        Problem(
                            "the database holds no run registry of this vpp version",
                            file=self.path,
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
        self.sessions = make_sessions(self.engine)

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"DbRegistry({self.path!r}{mode})"

    def _error(self, exc: BaseException) -> RegistryError:
        return RegistryError(
            Problem(
                f"cannot use the run registry in the database: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0][:300] if str(exc) else ''}",
                file=self.path,
                fix="check that the database runs and this user may write to it",
            )
        )

    @contextmanager
    def _write(self) -> Iterator[Session]:
        if self.read_only:
            raise ValueError(f"{self!r} was opened read-only")
        try:
            with self.sessions() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def start(
        self,
        *,
        job: str,
        date: str,
        park: str,
        scenario_hash: str,
        inputs: dict[str, str],
        out_dir: str,
        note: str | None = None,
    ) -> int:
        """Record a run as ``running`` after marking this host's dead runs ``failed``
        (:meth:`vpp.jobs.registry.Registry.start`). Returns the run's id."""
        check_date(date)
        pid = os.getpid()
        row = JobRun(
            job=job,
            date=date,
            park=park,
            scenario_hash=scenario_hash,
            inputs=dumps(dict(inputs), "inputs"),
            out_dir=str(out_dir),
            pid=pid,
            proc_start=process_start(pid),
            host=socket.gethostname(),
            started_at=utc_now(),
            status="running",
            note=note,
        )
        with self._write() as session:
            session.add(row)
            session.flush()
            run_id = row.id
            self._reap(session, f"when run {run_id} started", exclude=run_id)
        return run_id

    def finish(
        self,
        run_id: int,
        *,
        status: str,
        exit_code: int,
        objective_cny: float | None = None,
        kpis: dict | None = None,
        outputs: list[str] | None = None,
        message: str | None = None,
    ) -> None:
        """Record how a run ended (:meth:`vpp.jobs.registry.Registry.finish`).

        Raises
        ------
        ValueError
            Unknown status, no such run, or the run has already finished.
        """
        if status not in FINISHED_STATUSES:
            raise ValueError(f"status must be one of {FINISHED_STATUSES}, got {status!r}")
        if objective_cny is not None:
            objective_cny = float(objective_cny)
            if not math.isfinite(objective_cny):
                objective_cny = None
        with self._write() as session:
            row = session.get(JobRun, run_id, with_for_update=True)
            if row is None:
                raise ValueError(f"no run {run_id} in the registry {self.path}")
            if row.status != "running":
                raise ValueError(
                    f"run {run_id} has already finished with status {row.status!r}"
                    + (f" ({row.message})" if row.message else "")
                )
            now = datetime.now(UTC)
            row.status = status
            row.exit_code = int(exit_code)
            row.objective_cny = objective_cny
            row.kpis = dumps(kpis, "kpis")
            row.outputs = dumps(None if outputs is None else [str(o) for o in outputs], "outputs")
            row.message = message
            row.ended_at = utc_now()
            row.duration_s = (now - datetime.fromisoformat(row.started_at)).total_seconds()

    def reap(self) -> int:
        """Mark ``failed`` every run of this host still ``running`` whose process is gone.
        Returns how many."""
        with self._write() as session:
            return self._reap(session, f"at the registry sweep of {utc_now()}")

    def _reap(self, session: Session, when: str, exclude: int | None = None) -> int:
        host = socket.gethostname()
        stale = [
            r
            for r in session.scalars(
                select(JobRun).where(JobRun.status == "running", JobRun.host == host)
            )
            if r.id != exclude and process_gone(r.pid, r.proc_start)
        ]
        now = utc_now()
        for r in stale:
            told = outcome_in_outputs(r.out_dir, r.id)
            values: dict[str, Any]
            if told is None:
                message = f"killed or crashed: pid {r.pid} was no longer running {when}"
                values = {"status": "failed", "ended_at": now, "message": message}
            else:
                message = (
                    f"recorded {when} from {told['file']}: the run wrote its outputs but "
                    f"could not update the registry ({told['error']})"
                )
                if told["failure"]:
                    message = f"{told['failure']}; {message}"
                values = {
                    "status": told["status"],
                    "exit_code": told["exit_code"],
                    "ended_at": now,
                    "outputs": dumps([told["folder"]], "outputs"),
                    "message": message,
                }
            session.execute(
                update(JobRun).where(JobRun.id == r.id, JobRun.status == "running").values(values)
            )
        return len(stale)

    def runs(
        self,
        *,
        date: str | None = None,
        status: str | None = None,
        site: str | None = None,
        park: str | None = None,
        since: str | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """The runs that match every filter given, newest first
        (:meth:`vpp.jobs.registry.Registry.runs`: the same dicts)."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be at least 0, got {limit}")
        query = select(JobRun)
        for column, value in (("date", date), ("status", status), ("park", park)):
            if value is not None:
                query = query.where(getattr(JobRun, column) == value)
        if since is not None:
            query = query.where(JobRun.started_at >= normalize_since(since))
        query = query.order_by(JobRun.id.desc())
        if limit is not None and site is None:
            query = query.limit(min(int(limit), 2**62))
        try:
            with self.sessions() as session:
                rows = [row_dict(r) for r in session.scalars(query)]
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc
        if site is not None:
            rows = [r for r in rows if _has_site(r["kpis"], site)]
            if limit is not None:
                rows = rows[:limit]
        return rows

    def run(self, run_id: int) -> dict | None:
        """One run's row (None: no such run)."""
        with self.sessions() as session:
            row = session.get(JobRun, run_id)
            return None if row is None else row_dict(row)

    def run_of_process(self, pid: int, host: str, since: str) -> dict | None:
        """The newest run started by process ``pid`` on ``host`` at or after ``since``
        (ISO UTC text): how a worker's run is found."""
        with self.sessions() as session:
            row = session.scalars(
                select(JobRun)
                .where(JobRun.pid == pid, JobRun.host == host, JobRun.started_at >= since)
                .order_by(JobRun.id.desc())
                .limit(1)
            ).first()
            return None if row is None else row_dict(row)


def row_dict(row: JobRun) -> dict:
    """A ``job_runs`` row as the file registry's dict (JSON columns parsed)."""
    out = {name: getattr(row, name) for name in _COLUMNS}
    for column in _JSON_COLUMNS:
        if out[column] is not None:
            out[column] = json.loads(out[column])
    return out


def _has_site(kpis: Any, site: str) -> bool:
    sites = kpis.get("sites") if isinstance(kpis, dict) else None
    return isinstance(sites, (dict, list)) and site in sites
