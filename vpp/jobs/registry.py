"""The run registry of the daily job, and the per-date lock that keeps runs apart.

The registry is one SQLite file (default ``runs/schedule/registry.sqlite``, that is
``<out_dir>/registry.sqlite``) with a row for every run of the job: what it was asked
(job, date, park, scenario hash, input hashes), who ran it (pid, process start time,
host), when, how it ended (status, exit code, objective, KPIs, output files, message).
It uses the standard library only (:mod:`sqlite3`, :mod:`fcntl`).

How the job uses it::

    with date_lock(out_dir, date):                     # JobBusyError (exit 5) if taken
        registry = Registry(Path(out_dir) / REGISTRY_NAME)
        run_id = registry.start(job="schedule", date=date, park=park, ...)
        try:
            ...                                        # forecast, optimize, write
        except BaseException as exc:
            registry.finish(run_id, status="failed", exit_code=getattr(exc, "exit_code", 1),
                            message=str(exc))
            raise
        registry.finish(run_id, status="ok", exit_code=0, objective_cny=..., kpis=...)

Exit codes: besides vpp's 0 ok, 2 bad input, 3 infeasible, 4 solver failure, the job
exits with :data:`EXIT_BUSY` (5) when another run for the same date holds the date's
lock: nothing was done, and a scheduler may try again later.

Statuses: ``running`` (started, not finished), ``ok``, ``fallback`` (finished on a
fallback input or schedule; the message says which), ``failed``. A run whose process
was killed (SIGKILL, out of memory, power cut) stays ``running`` until the next
:meth:`Registry.start` (or :meth:`Registry.reap`) on the same host finds its process
gone and marks it ``failed``; unless its outputs say how it ended (a run whose final
registry update failed writes that into its ``summary.json``, see
:func:`outcome_in_outputs`): the outputs are the truth, and the row is recorded from
them. Its process is recognized by pid *and* start time (field 22 of
``/proc/<pid>/stat``, where Linux provides it), so a reused pid does not keep a dead run
alive. Runs of other hosts are never reaped: their processes cannot be seen.

One interface, two stores: :class:`RunRegistry` is what the job needs of a registry;
:class:`Registry` (this file) is the one without a platform, and
``vpp.platform.runs.registry_db.DbRegistry`` keeps the same rows in the platform's
database (``vpp schedule --db URL``), so ``vpp runs`` and the API show one history.

The file: :mod:`vpp.jobs.registry_file` (tables, application id; vpp never writes to a
database that is not a registry, and ``Registry(path, read_only=True)`` writes nothing).

Concurrency: the file is in WAL mode with a busy timeout of :data:`BUSY_TIMEOUT_S`;
every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers wait for each
other instead of failing with "database is locked". SQLite's WAL mode and ``flock``
need a local file system (not NFS or SMB).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vpp.errors import Problem, clip
from vpp.jobs.lock import (  # noqa: F401  (public here too)
    EXIT_BUSY,
    LOCKS_DIR,
    JobBusyError,
    check_date,
    date_lock,
    iso_utc,
    process_gone,
    process_start,
    utc_now,
)
from vpp.jobs.registry_file import (
    APPLICATION_ID,
    BUSY_TIMEOUT_S,
    SCHEMA,
    SCHEMA_VERSION,
    RegistryError,
    connect,
    dumps,
    kind_of,
    newer_schema,
    not_a_registry,
    schema_version,
)
from vpp.jobs.registry_protocol import RunRegistry  # noqa: F401  (public here too)
from vpp.jobs.runs_table import MESSAGE_WIDTH, format_runs  # noqa: F401  (public here too)

#: The job's default output folder; the registry and the locks live in it.
DEFAULT_OUT_DIR = Path("runs") / "schedule"
#: File name of the registry inside the output folder.
REGISTRY_NAME = "registry.sqlite"
#: Statuses a finished run may have.
FINISHED_STATUSES = ("ok", "fallback", "failed")
#: Every status, ``running`` included.
STATUSES = ("running", *FINISHED_STATUSES)
#: Largest ``LIMIT`` SQLite takes (a larger limit is no limit).
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


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hexadecimal digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """The SHA-256 of a text encoded as UTF-8, as 64 hexadecimal digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


class Registry:
    """An SQLite file (default: ``<out_dir>/registry.sqlite``) holding every run of the job.

    Parameters
    ----------
    path : str or pathlib.Path
        The registry file; it and its folder are created if absent (unless read-only).
    read_only : bool
        Open for listing only: the file must exist and be a registry; nothing is ever
        written to it (SQLite's ``mode=ro``).

    Raises
    ------
    RegistryError
        The file is not a run registry (another application's database is never written
        to), was written by a newer vpp, or cannot be opened.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                self._check_readable()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._init_schema()
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from exc

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"Registry({str(self.path)!r}{mode})"

    def _error(self, exc: BaseException) -> RegistryError:
        return RegistryError(
            Problem(
                f"cannot use the run registry: {exc}",
                file=str(self.path),
                fix="check that the file is a vpp run registry on a local disk and writable "
                "by this user; a damaged registry can be moved aside (a new one is created "
                "at the next run)",
            )
        )

    def _connect(self) -> sqlite3.Connection:
        return connect(self.path, read_only=self.read_only)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        try:
            yield con
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: waits for other writers, never upgrades."""
        if self.read_only:
            raise ValueError(f"{self!r} was opened read-only")
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        finally:
            con.close()

    def _check_readable(self) -> None:
        con = self._connect()
        try:
            if kind_of(con) != "registry":
                raise not_a_registry(con, self.path)
            version = schema_version(con)
            if version is not None and version > SCHEMA_VERSION:
                raise newer_schema(self.path, version)
        finally:
            con.close()

    def _init_schema(self) -> None:
        con = self._connect()
        try:
            kind = kind_of(con)  # before any write: never touch another application's file
            if kind == "other":
                raise not_a_registry(con, self.path)
            if kind == "registry" and schema_version(con) == SCHEMA_VERSION:
                return  # nothing to write: readers need no write lock
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            while True:  # creators racing on a new file: retry the switch to WAL
                try:
                    con.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            con.execute("BEGIN IMMEDIATE")
            try:
                if kind_of(con) == "other":  # a racer's file, seen under the write lock
                    raise not_a_registry(con, self.path)
                for statement in SCHEMA:
                    con.execute(statement)
                con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                version = schema_version(con)
                if version is None:
                    con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                elif version > SCHEMA_VERSION:
                    raise newer_schema(self.path, version)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

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
            The job's name (``schedule``).
        date : str
            The day the run schedules, ``YYYY-MM-DD`` (park time zone).
        park : str
            The park's name.
        scenario_hash : str
            SHA-256 of the park file (see :func:`sha256_file`).
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
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self._write() as con:
            # One transaction: the sweep and the insert are seen together or not at all.
            run_id = con.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", row).lastrowid
            assert run_id is not None
            self._reap(con, f"when run {run_id} started", exclude=run_id)
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
        with self._write() as con:
            row = con.execute(
                "SELECT status, started_at, message FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise ValueError(f"no run {run_id} in the registry {self.path}")
            if row["status"] != "running":
                raise ValueError(
                    f"run {run_id} has already finished with status {row['status']!r}"
                    + (f" ({row['message']})" if row["message"] else "")
                )
            now = datetime.now(UTC)
            started = datetime.fromisoformat(row["started_at"])
            values["ended_at"] = iso_utc(now)
            values["duration_s"] = (now - started).total_seconds()
            sets = ", ".join(f"{k} = :{k}" for k in values)
            con.execute(f"UPDATE runs SET {sets} WHERE id = :id", {**values, "id": run_id})

    def reap(self) -> int:
        """Mark ``failed`` every run of this host still ``running`` whose process is gone.

        Returns
        -------
        int
            How many runs were marked failed.
        """
        with self._write() as con:
            return self._reap(con, f"at the registry sweep of {utc_now()}")

    def _reap(self, con: sqlite3.Connection, when: str, exclude: int | None = None) -> int:
        host = socket.gethostname()
        stale = [
            r
            for r in con.execute(
                "SELECT id, pid, proc_start, out_dir FROM runs "
                "WHERE status = 'running' AND host = ?",
                (host,),
            )
            if r["id"] != exclude and process_gone(r["pid"], r["proc_start"])
        ]
        now = utc_now()
        for r in stale:
            told = outcome_in_outputs(r["out_dir"], r["id"])
            if told is None:
                message = f"killed or crashed: pid {r['pid']} was no longer running {when}"
                con.execute(
                    "UPDATE runs SET status = 'failed', ended_at = ?, message = ? WHERE id = ?",
                    (now, message, r["id"]),
                )
                continue
            message = (
                f"recorded {when} from {told['file']}: the run wrote its outputs but could "
                f"not update the registry ({told['error']})"
            )
            if told["failure"]:
                message = f"{told['failure']}; {message}"
            con.execute(
                "UPDATE runs SET status = ?, exit_code = ?, ended_at = ?, outputs = ?, "
                "message = ? WHERE id = ?",
                (
                    told["status"],
                    told["exit_code"],
                    now,
                    dumps([told["folder"]], "outputs"),
                    message,
                    r["id"],
                ),
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
            One dict per run with every column; ``inputs``, ``kpis`` and ``outputs``
            parsed from JSON.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        if limit is not None and limit < 0:
            raise ValueError(f"limit must be at least 0, got {limit}")
        where, params = [], []
        for column, value in (("date", date), ("status", status), ("park", park)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            where.append("started_at >= ?")
            params.append(normalize_since(since))
        sql = "SELECT * FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"  # ids grow in the order runs were registered
        if limit is not None and site is None:
            sql += " LIMIT ?"  # a limit past SQLite's integers is no limit
            params.append(min(int(limit), MAX_LIMIT))
        with self._read() as con:
            rows = [_row_dict(r) for r in con.execute(sql, params)]
        if site is not None:
            rows = [r for r in rows if _has_site(r["kpis"], site)]
            if limit is not None:
                rows = rows[:limit]
        return rows


def _row_dict(row: sqlite3.Row) -> dict:
    out = dict(row)
    for column in _JSON_COLUMNS:
        if out[column] is not None:
            out[column] = json.loads(out[column])
    return out


def _has_site(kpis: Any, site: str) -> bool:
    sites = kpis.get("sites") if isinstance(kpis, dict) else None
    return isinstance(sites, (dict, list)) and site in sites
