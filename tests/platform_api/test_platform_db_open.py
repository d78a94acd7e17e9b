"""A database the platform cannot open is a clear error (exit 2) that never shows the
URL's password: no server on the port, a SQLite path that is a folder, and a PostgreSQL
user that does not own its database (README, "PostgreSQL behind a reverse proxy":
``createdb --owner``). The same user succeeds once it owns the database.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from platform_helpers import free_port

from vpp.cli import main

SECRET = "hunter2-not-shown"


def open_with(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["keys", "list", "--db", url])
    return code, capsys.readouterr().err


def test_no_server_and_a_folder_are_clear_errors_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg://vpp:{SECRET}@127.0.0.1:{free_port()}/vpp"
    code, err = open_with(url, capsys)
    assert code == 2
    assert "--db: cannot open the database" in err and "Connection refused" in err
    assert "vpp:***@127.0.0.1" in err and SECRET not in err
    code, err = open_with(f"sqlite:///{tmp_path}", capsys)  # a folder, not a file
    assert code == 2
    assert "cannot open the database: unable to open database file" in err


def test_a_user_that_does_not_own_its_database_is_told_so(
    pg_cluster: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    port = pg_cluster["port"]
    role, database = f"u_{uuid.uuid4().hex[:8]}", f"d_{uuid.uuid4().hex[:8]}"
    admin = {"host": "127.0.0.1", "port": port, "user": "postgres", "autocommit": True}
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
        conn.execute(f"CREATE DATABASE {database}")  # owned by postgres
    url = f"postgresql+psycopg://{role}:{SECRET}@127.0.0.1:{port}/{database}"
    code, err = open_with(url, capsys)
    assert code == 2
    assert "cannot open the database" in err and "permission denied for schema public" in err
    assert SECRET not in err
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(f"ALTER DATABASE {database} OWNER TO {role}")
    code, err = open_with(url, capsys)
    assert code == 0, err
