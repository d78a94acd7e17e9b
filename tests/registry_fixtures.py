"""Registry files as earlier versions of vpp wrote them (for the compatibility tests).

:data:`OLD_SCHEMA` is copied from ``vpp/jobs/registry.py`` of the first registry
(commit d4cff6d) and ``vpp/jobs/registry_file.py`` up to commit 70d14ee (the same
statements); vpp 0.1 set ``PRAGMA application_id`` from commit c8b0351 on. These are the
old code's words, kept here as data: the new code must open what they made.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

#: ``PRAGMA application_id`` the old code set ("vppR").
OLD_APPLICATION_ID = 0x76707052
#: The old code's schema version.
OLD_SCHEMA_VERSION = 1
OLD_SCHEMA = (
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


def make_old_registry(path: Path, *, application_id: bool, rows: list[dict]) -> None:
    """A registry file as the old code made it (WAL, its tables, its version row), with
    ``rows`` inserted as its ``start`` and ``finish`` wrote them (JSON as text)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("BEGIN IMMEDIATE")
    for statement in OLD_SCHEMA:
        con.execute(statement)
    if application_id:
        con.execute(f"PRAGMA application_id = {OLD_APPLICATION_ID}")
    con.execute("INSERT INTO schema_version VALUES (?)", (OLD_SCHEMA_VERSION,))
    for row in rows:
        names = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        con.execute(f"INSERT INTO runs ({names}) VALUES ({marks})", row)
    con.execute("COMMIT")
    con.close()
