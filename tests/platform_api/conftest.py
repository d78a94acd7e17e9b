"""The platform's test set-up: both databases, an app with keys, a registered park.

``pg_cluster`` starts a throwaway PostgreSQL cluster with Debian's binaries
(``/usr/lib/postgresql/<version>/bin``: ``initdb``, ``pg_ctl``) on a free loopback port
with its socket in a temporary folder, once per session. Run as root (containers), the
binaries run as the ``postgres`` system user (else ``nobody``) through ``runuser``.
Without the binaries the fixture **fails**: CI installs Debian's ``postgresql``.

``db_url`` is parametrized over ``sqlite`` and ``postgresql``: a fresh database per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from platform_helpers import PARK, PARK_FILE


def pytest_configure(config: pytest.Config) -> None:
    # starlette's TestClient suggests httpx2, which is not packaged here
    config.addinivalue_line("filterwarnings", "ignore:.*httpx2")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[dict[str, object]]:
    """A running PostgreSQL cluster: ``{"port": int, "user": "postgres"}``
    (:func:`vpp.platform.pg_cluster.throwaway_cluster`)."""
    from vpp.platform.pg_cluster import missing, throwaway_cluster

    reason = missing()
    if reason is not None:
        pytest.fail(f"{reason}; the platform's tests run against both SQLite and PostgreSQL")
    with throwaway_cluster() as cluster:
        yield cluster


def new_pg_database(cluster: dict[str, object]) -> str:
    """A fresh, empty database in the cluster; its SQLAlchemy URL."""
    from vpp.platform.pg_cluster import new_database

    return new_database(cluster)


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
