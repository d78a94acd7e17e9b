"""The run registry's rows and their rules, in any database SQLAlchemy reaches.

:class:`RunRegistry` is the one implementation of the daily job's registry: the file
(:class:`vpp.jobs.registry.Registry`, table ``runs``) and the platform database
(``vpp.platform.runs.registry_db.DbRegistry``, table ``job_runs``, SQLite or PostgreSQL)
differ only in how they open their database and name their errors. Both tables have the
same columns, so both give the same rows: ``vpp runs`` and the API show one history.

Rules, whatever the database:

- a write is one transaction; on SQLite it is ``BEGIN IMMEDIATE``, so concurrent writers
  wait for each other (up to the connection's busy timeout) instead of failing on a stale
  read;
- a run is finished once: :meth:`RunRegistry.finish` changes a row only while it is
  ``running`` (a conditional ``UPDATE``, the row locked first where the database locks
  rows), so of two concurrent finishers one wins and the other is told the run has
  already finished;
- a run whose process is gone (pid *and* start time, :func:`vpp.jobs.lock.process_gone`)
  is marked ``failed`` by the next :meth:`~RunRegistry.start` or
  :meth:`~RunRegistry.reap` on the same host, unless its outputs say how it ended
  (:func:`outcome_in_outputs`). Runs of other hosts are never reaped.
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

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from vpp.errors import clip
from vpp.jobs.lock import check_date, iso_utc, process_gone, process_start, utc_now
from vpp.jobs.registry_file import RegistryError, dumps

__all__ = [
    "FINISHED_STATUSES",
    "MAX_LIMIT",
    "STATUSES",
    "RunRegistry",
    "normalize_since",
    "outcome_in_outputs",
]

#: Statuses a finished run may have.
FINISHED_STATUSES = ("ok", "fallback", "failed")
#: Every status, ``running`` included.
STATUSES = ("running", *FINISHED_STATUSES)
#: Largest ``LIMIT`` the databases take (a larger limit is no limit).
MAX_LIMIT = 2**63 - 1
_JSON_COLUMNS = ("inputs", "kpis", "outputs")
#: The earliest and latest times ``since`` can name, in UTC.
_SINCE_BOUNDS = ("0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z")


def normalize_since(text: str) -> str:
    """``text`` (a date or an ISO time; naive means UTC) as a UTC time to compare with.

    A time whose UTC equivalent falls outside years 1..9999 is taken as the first or the
    last time there is.

    Raises ValueError if ``text`` is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(
            "since must be an ISO 8601 date or time of years 0001 to 9999 (naive means UTC), "
            f"got {clip(repr(text), 60)}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return iso_utc(moment)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in year 10000 in UTC
        return _SINCE_BOUNDS[0] if moment.year == 1 else _SINCE_BOUNDS[1]


def outcome_in_outputs(out_dir: str | Path, run_id: int) -> dict | None:
    """How run ``run_id`` ended, as its outputs say, when it could not tell the registry.

    The job writes ``"registry": {"run_id": ..., "recorded": false, "exit_code": ...,
    "error": ...}`` into the ``summary.json`` of its outputs (``<out_dir>/`` or, beside an
    earlier good schedule, ``<out_dir>/fallback/``) when its final registry update failed.
    The outputs are the truth: the run that finds such a run's row still ``running``
    records it from them (status, exit code, outputs) instead of ``killed or crashed``.

    Returns
    -------
    dict or None
        ``status``, ``exit_code``, ``failure``, ``error``, ``folder`` and ``file``; None
        when no summary names the run.
    """
    for folder in (Path(out_dir), Path(out_dir) / "fallback"):
        file = folder / "summary.json"
        try:
            summary = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        note = summary.get("registry") if isinstance(summary, dict) else None
        if not isinstance(note, dict) or note.get("run_id") != run_id:
            continue
        if note.get("recorded") is not False or summary.get("status") not in FINISHED_STATUSES:
            continue
        code = note.get("exit_code")
        return {
            "status": summary["status"],
            "exit_code": code if isinstance(code, int) else None,
            "failure": clip(str(summary.get("failure") or ""), 400),
            "error": clip(str(note.get("error") or "unknown error"), 200),
            "folder": str(folder),
            "file": str(file),
        }
    return None


class RunRegistry:
    """Every run of the daily job, as rows of ``table`` in the database of ``engine``.

    Subclasses open the database and set :attr:`engine`, :attr:`table`, :attr:`path`
    (what messages name: a file, or a database URL without its password) and
    :attr:`read_only`, and say how a database error reads (:meth:`_error`).
    """

    engine: Engine
    table: Table
    path: Any
    read_only: bool = False

    def _error(self, exc: BaseException) -> RegistryError:
        """The error to raise for a database error ``exc`` (exit 2)."""
        raise NotImplementedError

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as con:
                yield con
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction; on SQLite ``BEGIN IMMEDIATE``: waits for other writers and
        never has to upgrade a read lock."""
        if self.read_only:
            raise ValueError(f"{self!r} was opened read-only")
        try:
            with self.engine.connect() as con:
                if con.dialect.name == "sqlite":
                    con.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    con.rollback()
                    raise
                con.commit()
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
        """Record a run as ``running`` after marking this host's dead runs ``failed``.

        Parameters
        ----------
        job : str
            The job's name (``schedule`` or ``intraday``).
        date : str
            The day the run schedules, ``YYYY-MM-DD`` (park time zone).
        park : str
            The park's name.
        scenario_hash : str
            SHA-256 of the park file (:func:`vpp.jobs.registry.sha256_file`).
        inputs : dict of str to str
            Each input's name and its SHA-256, or a description where it has no file.
        out_dir : str
            The folder the run writes.
        note : str, optional
            Free text kept with the run.

        Returns
        -------
        int
            The run's id, for :meth:`finish`.
        """
        check_date(date)
        pid = os.getpid()
        row = {
            "job": job,
            "date": date,
            "park": park,
            "scenario_hash": scenario_hash,
            "inputs": dumps(dict(inputs), "inputs"),
            "out_dir": str(out_dir),
            "pid": pid,
            "proc_start": process_start(pid),
            "host": socket.gethostname(),
            "started_at": utc_now(),
            "status": "running",
            "note": note,
        }
        with self._write() as con:
            # One transaction: the sweep and the insert are seen together or not at all.
            run_id = con.execute(insert(self.table).values(row)).inserted_primary_key[0]
            self._reap(con, f"when run {run_id} started", exclude=run_id)
        return int(run_id)

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
        """Record how a run ended; sets ``ended_at`` and ``duration_s``.

        Parameters
        ----------
        run_id : int
            The id :meth:`start` returned.
        status : {'ok', 'fallback', 'failed'}
            How it ended.
        exit_code : int
            The process's exit code.
        objective_cny : float, optional
            The optimization's objective [CNY]; NaN is stored as None.
        kpis : dict, optional
            KPIs as JSON-able data, per site under ``"sites"``.
        outputs : list of str, optional
            The files written.
        message : str, optional
            What went wrong, or which fallback was used.

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
        values = {
            "status": status,
            "exit_code": int(exit_code),
            "objective_cny": objective_cny,
            "kpis": dumps(kpis, "kpis"),
            "outputs": dumps(None if outputs is None else [str(o) for o in outputs], "outputs"),
            "message": message,
        }
        c = self.table.c
        with self._write() as con:
            row = con.execute(
                select(c.status, c.started_at, c.message)
                .where(c.id == run_id)
                .with_for_update()  # PostgreSQL: a second finisher waits, then sees the end
            ).first()
            if row is None:
                raise ValueError(f"no run {run_id} in the registry {self.path}")
            now = datetime.now(UTC)
            values["ended_at"] = iso_utc(now)
            values["duration_s"] = (now - datetime.fromisoformat(row.started_at)).total_seconds()
            done = con.execute(
                update(self.table).where(c.id == run_id, c.status == "running").values(values)
            )
            if done.rowcount != 1:
                raise ValueError(
                    f"run {run_id} has already finished with status {row.status!r}"
                    + (f" ({row.message})" if row.message else "")
                )

    def reap(self) -> int:
        """Mark ``failed`` every run of this host still ``running`` whose process is gone.

        Returns
        -------
        int
            How many runs were marked failed.
        """
        with self._write() as con:
            return self._reap(con, f"at the registry sweep of {utc_now()}")

    def _reap(self, con: Connection, when: str, exclude: int | None = None) -> int:
        c = self.table.c
        running = con.execute(
            select(c.id, c.pid, c.proc_start, c.out_dir).where(
                c.status == "running", c.host == socket.gethostname()
            )
        )
        stale = [r for r in running if r.id != exclude and process_gone(r.pid, r.proc_start)]
        now = utc_now()
        reaped = 0
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
            done = con.execute(
                update(self.table).where(c.id == r.id, c.status == "running").values(values)
            )
            reaped += done.rowcount
        return reaped

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
        """The runs that match every filter given, newest first.

        Parameters
        ----------
        date : str, optional
            The day scheduled, ``YYYY-MM-DD``.
        status : str, optional
            One of ``running``, ``ok``, ``fallback``, ``failed``.
        site : str, optional
            Runs whose KPIs have this site under ``"sites"``.
        park : str, optional
            The park's name.
        since : str, optional
            Runs started at or after this ISO date or time (naive means UTC).
        limit : int, optional
            At most this many runs.

        Returns
        -------
        list of dict
            One dict per run with every column in the table's order; ``inputs``,
            ``kpis`` and ``outputs`` parsed from JSON.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be at least 0, got {limit}")
        c = self.table.c
        query = select(self.table)
        for column, value in (("date", date), ("status", status), ("park", park)):
            if value is not None:
                query = query.where(c[column] == value)
        if since is not None:
            query = query.where(c.started_at >= normalize_since(since))
        query = query.order_by(c.id.desc())  # ids grow in the order runs were registered
        if limit is not None and site is None:
            query = query.limit(min(int(limit), MAX_LIMIT))  # past the integers: no limit
        rows = self._rows(query)
        if site is not None:
            rows = [r for r in rows if _has_site(r["kpis"], site)]
            if limit is not None:
                rows = rows[:limit]
        return rows

    def run(self, run_id: int) -> dict | None:
        """One run's row (None: no such run)."""
        rows = self._rows(select(self.table).where(self.table.c.id == run_id))
        return rows[0] if rows else None

    def run_of_process(self, pid: int, host: str, since: str) -> dict | None:
        """The newest run started by process ``pid`` on ``host`` at or after ``since``
        (ISO UTC text): how a worker's run is found."""
        c = self.table.c
        query = select(self.table).where(c.pid == pid, c.host == host, c.started_at >= since)
        rows = self._rows(query.order_by(c.id.desc()).limit(1))
        return rows[0] if rows else None

    def _rows(self, query: Any) -> list[dict]:
        with self._read() as con:
            return [_row_dict(r._asdict()) for r in con.execute(query)]


def _row_dict(out: dict) -> dict:
    for column in _JSON_COLUMNS:
        if out[column] is not None:
            out[column] = json.loads(out[column])
    return out


def _has_site(kpis: Any, site: str) -> bool:
    sites = kpis.get("sites") if isinstance(kpis, dict) else None
    return isinstance(sites, (dict, list)) and site in sites
