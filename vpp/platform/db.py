"""The platform's database: an engine for a URL, SQLite tuned for durability.

SQLite (the default, ``runs/platform.sqlite``) runs in WAL mode with
``synchronous=FULL``: a transaction is on disk when its commit returns, so a reading
acknowledged by the API survives a killed server and a power cut. PostgreSQL is given
by URL (``postgresql+psycopg://user@host/db``); its commits are durable by default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from vpp.errors import Problem, ScenarioError

__all__ = [
    "DEFAULT_DB_PATH",
    "SQLITE_BUSY_TIMEOUT_MS",
    "default_url",
    "hide_password",
    "make_engine",
    "make_sessions",
    "redacted_url",
]

#: The embedded database of ``vpp serve`` without ``--db``.
DEFAULT_DB_PATH = Path("runs") / "platform.sqlite"
#: How long a SQLite writer waits for another's lock before failing [ms].
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SUPPORTED = ("sqlite", "postgresql")


def default_url(path: Path = DEFAULT_DB_PATH) -> str:
    """The SQLite URL of ``path`` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def redacted_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for logs and messages)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def hide_password(text: str, url: str) -> str:
    """``text`` with ``url``'s password (as written and percent-decoded) replaced by ``***``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return text
    secret = parsed.password
    if secret:
        for form in {str(secret), quote(str(secret), safe="")}:
            text = text.replace(form, "***")
    return text


def make_engine(url: str, source: str = "--db") -> Engine:
    """An engine for ``url`` (``sqlite:///PATH`` or ``postgresql+psycopg://...``);
    ``source`` (``--db``, ``$VPP_DB``, ``--db-file PATH``) is what messages name.

    Raises
    ------
    ScenarioError
        The URL does not parse or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in _SUPPORTED:
        raise ScenarioError(
            [
                Problem(
                    "database URL not supported",
                    key=source,
                    value=redacted_url(url),
                    allowed="sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB",
                    fix="give a SQLite path or a PostgreSQL URL (docs/platform.md)",
                )
            ]
        )
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` that keep loaded objects readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
