"""The platform's test set-up: both databases, an app with keys, a registered park.

``pg_cluster`` starts a throwaway PostgreSQL cluster with Debian's binaries
(``/usr/lib/postgresql/<version>/bin``: ``initdb``, ``pg_ctl``) on a free loopback port
with its socket in a temporary folder, once per session. Run as root (containers), the
binaries run as the ``postgres`` system user (else ``nobody``) through ``runuser``.
Without the binaries the fixture **fails**: CI installs Debian's ``postgresql``.

``db_url`` is parametrized over ``sqlite`` and ``postgresql``: a fresh database per test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_helpers import PARK, PARK_FILE, free_port


def pytest_configure(config: pytest.Config) -> None:
    # starlette's TestClient suggests httpx2, which is not packaged here
    config.addinivalue_line("filterwarnings", "ignore:.*httpx2")


#: Debian's PostgreSQL binaries, newest major version first.
PG_ROOTS = sorted(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()],
    reverse=True,
)


def _as_user() -> tuple[list[str], str | None]:
    """The command prefix to run PostgreSQL's binaries, and the user to own its files."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"], user
    pytest.fail("running as root, and neither the postgres nor the nobody user exists")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[dict[str, object]]:
    """A running PostgreSQL cluster: ``{"port": int, "user": "postgres"}``."""
    if not PG_ROOTS or not (PG_ROOTS[0] / "initdb").is_file():
        pytest.fail(
            "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin/initdb):"
            " install Debian's postgresql package (apt-get install postgresql); the platform's"
            " tests run against both SQLite and PostgreSQL"
        )
    bin_dir = PG_ROOTS[0]
    prefix, owner = _as_user()
    root = Path(tempfile.mkdtemp(prefix="vpp-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if owner is not None:
        record = pwd.getpwnam(owner)
        for path in (root, sock):
            os.chown(path, record.pw_uid, record.pw_gid)
    port = free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        **run,
    )
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=on"
    subprocess.run(
        [
            *prefix,
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log.txt"),
            "-w",
            "-t",
            "60",
            "start",
        ],
        **run,
    )
    try:
        yield {"port": port, "user": "postgres"}
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def new_pg_database(cluster: dict[str, object]) -> str:
    """A fresh, empty database in the cluster; its SQLAlchemy URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host="127.0.0.1",
        port=cluster["port"],
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{cluster['port']}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'platform.sqlite'}"
    return new_pg_database(request.getfixturevalue("pg_cluster"))


@pytest.fixture
def platform(db_url: str) -> Iterator[object]:
    """The platform on a fresh database, migrated, with the demo park registered."""
    from vpp.platform import Platform
    from vpp.platform.parks import register_park

    opened = Platform.open(db_url)
    register_park(opened.sessions, PARK_FILE)
    yield opened
    opened.close()


@pytest.fixture
def api(platform: object) -> Iterator[dict[str, object]]:
    """A TestClient and keys: ``admin``, ``operator``, ``electronics`` and ``biomedicine``
    (site keys), each as request headers."""
    from fastapi.testclient import TestClient

    from vpp.platform import create_app
    from vpp.platform.keys import create_key

    keys = {
        "admin": create_key(platform.sessions, "admin")[1],
        "operator": create_key(platform.sessions, "operator")[1],
    }
    for site in ("electronics", "biomedicine"):
        keys[site] = create_key(platform.sessions, "site", park=PARK, site=site)[1]
    with TestClient(create_app(platform, max_body_bytes=64 * 1024)) as client:
        yield {
            "client": client,
            "platform": platform,
            "keys": keys,
            "headers": {role: {"X-API-Key": key} for role, key in keys.items()},
        }
