"""The run registry's file: its tables, how a file is known to be a registry, connections.

A vpp run registry is an SQLite file whose header holds :data:`APPLICATION_ID` (``PRAGMA
application_id``; registries made before vpp set it are known by their ``schema_version``
and ``runs`` tables). vpp never writes to any other database: a file that holds other
tables, or another application id, is refused before anything is written (no switch to WAL,
no tables added). Listing (``vpp runs``) opens the file read-only (``mode=ro``), so it
writes nothing to the database whatever the file is.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from vpp.errors import EXIT_BAD_INPUT, Problem, VppError, clip

#: ``PRAGMA application_id`` of a vpp run registry ("vppR").
APPLICATION_ID = 0x76707052
#: Version of the tables below; a newer file is refused, an older one migrated.
SCHEMA_VERSION = 1
#: How long a connection waits for another writer before giving up [s].
BUSY_TIMEOUT_S = 30.0
#: Tables shown in the message about a database that is not a registry.
SHOWN_TABLES = 8

SCHEMA = (
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
#: Columns a ``runs`` table must have for the file to count as a registry.
RUN_COLUMNS = frozenset(
    ("id", "job", "date", "park", "scenario_hash", "inputs", "out_dir", "pid", "host")
    + ("started_at", "status")
)


class RegistryError(VppError):
    """The registry file cannot be used: not a registry, newer schema, unwritable (exit 2)."""

    exit_code = EXIT_BAD_INPUT


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode with rows as :class:`sqlite3.Row`.

    ``read_only`` opens the file with ``mode=ro``: SQLite then refuses every write, and
    a missing file is an error instead of a new database.
    """
    if read_only:
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    else:
        con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return con


def kind_of(con: sqlite3.Connection) -> str:
    """``"registry"``, ``"empty"`` (no tables, no application id: free to become one) or
    ``"other"`` (another application's database). Reads only."""
    app = con.execute("PRAGMA application_id").fetchone()[0]
    if app == APPLICATION_ID:
        return "registry"
    tables = _tables(con)
    if app != 0:
        return "other"
    if not tables:
        return "empty"
    if {"schema_version", "runs"} <= tables:
        columns = {r[1] for r in con.execute("PRAGMA table_info(runs)")}
        if RUN_COLUMNS <= columns:
            return "registry"  # made before vpp set the application id
    return "other"


def _tables(con: sqlite3.Connection) -> set[str]:
    rows = con.execute("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {r[0] for r in rows}


def not_a_registry(con: sqlite3.Connection, path: Path) -> RegistryError:
    """The error for a database that is another application's: names what it holds."""
    app = con.execute("PRAGMA application_id").fetchone()[0]
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


def schema_version(con: sqlite3.Connection) -> int | None:
    """The registry's schema version; None when the tables do not exist yet."""
    try:
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    return None if row is None else row[0]


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
