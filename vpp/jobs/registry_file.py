"""The run registry's file: its tables, how a file is known to be a registry, its engine.

A vpp run registry is an SQLite file whose header holds :data:`APPLICATION_ID` (``PRAGMA
application_id``; registries made before vpp set it are known by their ``schema_version``
and ``runs`` tables). vpp never writes to any other database: a file that holds other
tables, or another application id, is refused before anything is written (no switch to WAL,
no tables added). Listing (``vpp runs``) opens the file read-only (``mode=ro``), so it
writes nothing to the database whatever the file is.

The tables (:data:`RUNS`, :data:`SCHEMA_VERSION_TABLE`) are the ones every vpp since the
first registry wrote: the same columns, types, check, indexes and ``AUTOINCREMENT`` ids, so
a file made by an earlier vpp opens with its history, and an earlier vpp opens a new file.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    REAL,
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.pool import NullPool

from vpp.errors import EXIT_BAD_INPUT, Problem, VppError, clip

#: ``PRAGMA application_id`` of a vpp run registry ("vppR").
APPLICATION_ID = 0x76707052
#: Version of the tables below; a newer file is refused, an older one migrated.
SCHEMA_VERSION = 1
#: How long a connection waits for another writer before giving up [s].
BUSY_TIMEOUT_S = 30.0
#: Tables shown in the message about a database that is not a registry.
SHOWN_TABLES = 8

#: The file's tables.
METADATA = MetaData()
#: The version of the file's tables (one row).
SCHEMA_VERSION_TABLE = Table("schema_version", METADATA, Column("version", Integer, nullable=False))
#: One row per run of the job (the platform's ``job_runs`` has the same columns).
RUNS = Table(
    "runs",
    METADATA,
    # "id INTEGER PRIMARY KEY AUTOINCREMENT", no NOT NULL: as the first registry wrote it
    Column("id", Integer, primary_key=True, nullable=True),
    Column("job", Text, nullable=False),
    Column("date", Text, nullable=False),
    Column("park", Text, nullable=False),
    Column("scenario_hash", Text, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("out_dir", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("proc_start", Integer),
    Column("host", Text, nullable=False),
    Column("started_at", Text, nullable=False),
    Column("ended_at", Text),
    Column("duration_s", REAL),
    Column(
        "status",
        Text,
        CheckConstraint("status IN ('running', 'ok', 'fallback', 'failed')"),
        nullable=False,
    ),
    Column("exit_code", Integer),
    Column("objective_cny", REAL),
    Column("kpis", Text),
    Column("outputs", Text),
    Column("message", Text),
    Column("note", Text),
    Index("runs_date", "date"),
    Index("runs_status", "status"),
    sqlite_autoincrement=True,  # an id is never given twice: ids grow with the runs
)
#: Columns a ``runs`` table must have for the file to count as a registry.
RUN_COLUMNS = frozenset(
    ("id", "job", "date", "park", "scenario_hash", "inputs", "out_dir", "pid", "host")
    + ("started_at", "status")
)


class RegistryError(VppError):
    """The registry file cannot be used: not a registry, newer schema, unwritable (exit 2)."""

    exit_code = EXIT_BAD_INPUT


def file_engine(path: Path, *, read_only: bool = False) -> Engine:
    """An engine on the registry file ``path``: a new connection for every use.

    Connections wait :data:`BUSY_TIMEOUT_S` for another writer and run in autocommit
    mode: reads take no lock, and a write opens its own ``BEGIN IMMEDIATE``
    (:meth:`vpp.jobs.registry_store.RunRegistry._write`). ``read_only`` opens the file
    with ``mode=ro``: SQLite then refuses every write, and a missing file is an error
    instead of a new database.
    """
    if read_only:
        target, uri = f"file:{quote(str(path.resolve()))}?mode=ro", True
    else:
        target, uri = str(path), False

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            target, uri=uri, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    event.listen(engine, "connect", _busy_timeout)
    return engine


def _busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def kind_of(con: Connection) -> str:
    """``"registry"``, ``"empty"`` (no tables, no application id: free to become one) or
    ``"other"`` (another application's database). Reads only."""
    app = con.exec_driver_sql("PRAGMA application_id").scalar()
    if app == APPLICATION_ID:
        return "registry"
    tables = _tables(con)
    if app != 0:
        return "other"
    if not tables:
        return "empty"
    if {"schema_version", "runs"} <= tables:
        columns = {r[1] for r in con.exec_driver_sql("PRAGMA table_info(runs)")}
        if RUN_COLUMNS <= columns:
            return "registry"  # made before vpp set the application id
    return "other"


def _tables(con: Connection) -> set[str]:
    rows = con.exec_driver_sql("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {r[0] for r in rows}


def not_a_registry(con: Connection, path: Path) -> RegistryError:
    """The error for a database that is another application's: names what it holds."""
    app = con.exec_driver_sql("PRAGMA application_id").scalar()
    tables = sorted(_tables(con))
    shown = ", ".join(clip(t, 40) for t in tables[:SHOWN_TABLES])
    if len(tables) > SHOWN_TABLES:
        shown += f", ... ({len(tables)} tables)"
    return RegistryError(
        Problem(
            "this SQLite database is not a vpp run registry; vpp does not write to it",
            file=str(path),
            value=f"application_id {app}, tables: {shown or 'none'}",
            allowed=f"a vpp run registry (application_id {APPLICATION_ID}) or a new file",
            fix="give the job another --out folder (or `vpp runs` another --registry)",
        )
    )


def schema_version(con: Connection) -> int | None:
    """The registry's schema version; None when the tables do not exist yet."""
    if "schema_version" not in _tables(con):
        return None
    return con.exec_driver_sql("SELECT max(version) FROM schema_version").scalar()


def create_tables(con: Connection, path: Path) -> None:
    """Add what a registry lacks (tables, application id, version row) in ``con``'s
    write transaction; a newer registry is refused (:func:`newer_schema`)."""
    METADATA.create_all(con)  # only the tables and indexes missing
    con.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    version = schema_version(con)
    if version is None:
        con.execute(SCHEMA_VERSION_TABLE.insert().values(version=SCHEMA_VERSION))
    elif version > SCHEMA_VERSION:
        raise newer_schema(path, version)


def newer_schema(path: Path, version: int) -> RegistryError:
    """The error for a registry written by a newer vpp."""
    return RegistryError(
        Problem(
            "the run registry was written by a newer vpp",
            file=str(path),
            value=f"schema version {version}",
            allowed=f"up to {SCHEMA_VERSION}",
            fix="upgrade vpp, or use another --out folder",
        )
    )


def plain_json(value: Any, where: str) -> Any:
    """``value`` with only JSON types; NaN and infinities become None."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain_json(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain_json(value.item(), where)
    raise TypeError(f"{where}: a {type(value).__name__} cannot be stored as JSON")


def dumps(value: Any, where: str) -> str | None:
    """``value`` as JSON text (keys sorted, no NaN), or None for None."""
    if value is None:
        return None
    return json.dumps(plain_json(value, where), sort_keys=True, allow_nan=False)
