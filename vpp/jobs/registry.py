"""The run registry of the daily job, and the per-date lock that keeps runs apart.

The registry is one SQLite file (default ``runs/schedule/registry.sqlite``, that is
``<out_dir>/registry.sqlite``) with a row for every run of the job: what it was asked
(job, date, park, scenario hash, input hashes), who ran it (pid, process start time,
host), when, how it ended (status, exit code, objective, KPIs, output files, message).
Its rows and their rules are :class:`~vpp.jobs.registry_store.RunRegistry`'s, the one
implementation the platform's database shares (SQLAlchemy over the file; the lock is
``fcntl``).

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

One implementation, two databases: :class:`Registry` (this file) is the registry without
a platform, ``vpp.platform.runs.registry_db.DbRegistry`` keeps the same rows in the
platform's database (``vpp schedule --db URL``), so ``vpp runs`` and the API show one
history; both are a :class:`~vpp.jobs.registry_store.RunRegistry`.

The file: :mod:`vpp.jobs.registry_file` (tables, application id; vpp never writes to a
database that is not a registry, and ``Registry(path, read_only=True)`` writes nothing).
Files made by earlier versions open with their history: the tables have not changed.

Concurrency: the file is in WAL mode with a busy timeout of :data:`BUSY_TIMEOUT_S`;
every write is one ``BEGIN IMMEDIATE`` transaction, so concurrent writers wait for each
other instead of failing with "database is locked". SQLite's WAL mode and ``flock``
need a local file system (not NFS or SMB).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from vpp.errors import Problem
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
    BUSY_TIMEOUT_S,
    RUNS,
    SCHEMA_VERSION,
    RegistryError,
    create_tables,
    file_engine,
    kind_of,
    newer_schema,
    not_a_registry,
    schema_version,
)
from vpp.jobs.registry_store import (  # noqa: F401  (public here too)
    FINISHED_STATUSES,
    MAX_LIMIT,
    STATUSES,
    RunRegistry,
    normalize_since,
    outcome_in_outputs,
)
from vpp.jobs.runs_table import MESSAGE_WIDTH, format_runs  # noqa: F401  (public here too)

#: The job's default output folder; the registry and the locks live in it.
DEFAULT_OUT_DIR = Path("runs") / "schedule"
#: File name of the registry inside the output folder.
REGISTRY_NAME = "registry.sqlite"


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


class Registry(RunRegistry):
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

    table = RUNS

    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        try:
            if not read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.engine = file_engine(self.path, read_only=read_only)
            if read_only:
                self._check_readable()
            else:
                self._init_schema()
        except (SQLAlchemyError, OSError) as exc:
            raise self._error(exc) from exc

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"Registry({str(self.path)!r}{mode})"

    def _error(self, exc: BaseException) -> RegistryError:
        if isinstance(exc, DBAPIError) and exc.orig is not None:
            exc = exc.orig  # SQLite's own words: "disk I/O error", "database is locked"
        return RegistryError(
            Problem(
                f"cannot use the run registry: {exc}",
                file=str(self.path),
                fix="check that the file is a vpp run registry on a local disk and writable "
                "by this user; a damaged registry can be moved aside (a new one is created "
                "at the next run)",
            )
        )

    def _check_readable(self) -> None:
        with self.engine.connect() as con:
            if kind_of(con) != "registry":
                raise not_a_registry(con, self.path)
            version = schema_version(con)
            if version is not None and version > SCHEMA_VERSION:
                raise newer_schema(self.path, version)

    def _init_schema(self) -> None:
        with self.engine.connect() as con:
            kind = kind_of(con)  # before any write: never touch another application's file
            if kind == "other":
                raise not_a_registry(con, self.path)
            if kind == "registry" and schema_version(con) == SCHEMA_VERSION:
                return  # nothing to write: readers need no write lock
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            while True:  # creators racing on a new file: retry the switch to WAL
                try:
                    con.exec_driver_sql("PRAGMA journal_mode = WAL")
                    break
                except OperationalError as exc:
                    if "locked" not in str(exc.orig) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        with self._write() as con:
            if kind_of(con) == "other":  # a racer's file, seen under the write lock
                raise not_a_registry(con, self.path)
            create_tables(con, self.path)
