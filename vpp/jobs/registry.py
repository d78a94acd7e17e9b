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
gone and marks it ``failed``. Its process is recognized by pid *and* start time (field
22 of ``/proc/<pid>/stat``, where Linux provides it), so a reused pid does not keep a
dead run alive. Runs of other hosts are never reaped: their processes cannot be seen.

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

from vpp.errors import EXIT_BAD_INPUT, Problem, VppError
from vpp.jobs.lock import (  # noqa: F401  (public here too)
    EXIT_BUSY,
    LOCKS_DIR,
    JobBusyError,
    _gone,
    _iso,
    check_date,
    date_lock,
    process_start,
    utc_now,
)

#: Exit code of a run refused because another run for the same date is in progress.
#: The job's default output folder; the registry and the locks live in it.
DEFAULT_OUT_DIR = Path("runs") / "schedule"
#: File name of the registry inside the output folder.
REGISTRY_NAME = "registry.sqlite"
#: Folder of the per-date lock files inside the output folder.
#: How long a writer waits for another writer before giving up [s].
BUSY_TIMEOUT_S = 30.0
#: Version of the tables below; a newer file is refused, an older one migrated.
SCHEMA_VERSION = 1
#: Statuses a finished run may have.
FINISHED_STATUSES = ("ok", "fallback", "failed")
#: Every status, ``running`` included.
STATUSES = ("running", *FINISHED_STATUSES)
#: Characters of the message shown by :func:`format_runs`.
MESSAGE_WIDTH = 60

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        date TEXT NOT NULL,
        park TEXT NOT NULL,
        scenario_hash TEXT NOT NULL,
        inputs TEXT NOT NULL,
        out_dir TEXT NOT NULL,
        pid INTEGER NOT NULL,
        proc_start INTEGER,
        host TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        duration_s REAL,
        status TEXT NOT NULL
            CHECK (status IN ('running', 'ok', 'fallback', 'failed')),
        exit_code INTEGER,
        objective_cny REAL,
        kpis TEXT,
        outputs TEXT,
        message TEXT,
        note TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS runs_date ON runs (date)",
    "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)",
)
_JSON_COLUMNS = ("inputs", "kpis", "outputs")


class RegistryError(VppError):
    """The registry file cannot be used: not a registry, newer schema, unwritable (exit 2)."""

    exit_code = EXIT_BAD_INPUT


def normalize_since(text: str) -> str:
    """``text`` (a date or an ISO time; naive means UTC) as a UTC time to compare with.

    Raises ValueError if ``text`` is not ISO 8601.
    """
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"since must be an ISO 8601 date or time (naive means UTC), got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _iso(moment)


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


def _plain(value: Any, where: str) -> Any:
    """``value`` with only JSON types; NaN and infinities become None."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item(), where)
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored in the run registry")


def _dumps(value: Any, where: str) -> str | None:
    if value is None:
        return None
    return json.dumps(_plain(value, where), sort_keys=True, allow_nan=False)


class Registry:
    """An SQLite file (default: ``<out_dir>/registry.sqlite``) holding every run of the job.

    Parameters
    ----------
    path : str or pathlib.Path
        The registry file; it and its folder are created if absent.

    Raises
    ------
    RegistryError
        The file is not a run registry, was written by a newer vpp, or cannot be opened.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._init_schema()
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from exc

    def __repr__(self) -> str:
        return f"Registry({str(self.path)!r})"

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
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return con

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

    def _init_schema(self) -> None:
        con = self._connect()
        try:
            if self._version(con) == SCHEMA_VERSION:
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
                for statement in _SCHEMA:
                    con.execute(statement)
                version = self._version(con)
                if version is None:
                    con.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                elif version > SCHEMA_VERSION:
                    raise RegistryError(
                        Problem(
                            "the run registry was written by a newer vpp",
                            file=str(self.path),
                            value=f"schema version {version}",
                            allowed=f"up to {SCHEMA_VERSION}",
                            fix="upgrade vpp, or use another --out folder",
                        )
                    )
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    @staticmethod
    def _version(con: sqlite3.Connection) -> int | None:
        try:
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None
            raise
        return None if row is None else row[0]

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
            "inputs": _dumps(dict(inputs), "inputs"),
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
            "kpis": _dumps(kpis, "kpis"),
            "outputs": _dumps(None if outputs is None else [str(o) for o in outputs], "outputs"),
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
            values["ended_at"] = _iso(now)
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
                "SELECT id, pid, proc_start FROM runs WHERE status = 'running' AND host = ?",
                (host,),
            )
            if r["id"] != exclude and _gone(r["pid"], r["proc_start"])
        ]
        now = utc_now()
        for r in stale:
            con.execute(
                "UPDATE runs SET status = 'failed', ended_at = ?, message = ? WHERE id = ?",
                (now, f"killed or crashed: pid {r['pid']} was no longer running {when}", r["id"]),
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
            sql += f" LIMIT {int(limit)}"
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


def format_runs(rows: list[dict]) -> str:
    """A plain-text table of runs: id, date, park, status, exit, started, duration, ..."""
    if not rows:
        return "no runs match"
    header = (
        "id",
        "date",
        "park",
        "status",
        "exit",
        "started (UTC)",
        "duration_s",
        "objective_cny",
        "message",
    )
    right = {0, 4, 6, 7}
    table = [header]
    for r in rows:
        message = " ".join((r.get("message") or "").split())
        if len(message) > MESSAGE_WIDTH:
            message = message[: MESSAGE_WIDTH - 3] + "..."
        started = (r.get("started_at") or "")[:19].replace("T", " ")
        duration, objective = r.get("duration_s"), r.get("objective_cny")
        table.append(
            (
                str(r["id"]),
                r["date"],
                r["park"],
                r["status"],
                "" if r.get("exit_code") is None else str(r["exit_code"]),
                started,
                "" if duration is None else f"{duration:.1f}",
                "" if objective is None else f"{objective:,.2f}",
                message,
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    lines = []
    for line in table:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
