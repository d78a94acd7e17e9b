"""Shared test set-up: the hypothesis profiles of the fuzz and property tests.

``ci`` (the default) is derandomized with few examples: the same examples every run, and
all ``tests/test_fuzz_*.py`` together in under 2 minutes on 2 cores. ``long`` (select it
with ``VPP_FUZZ=long``) draws many more, random examples: run it by hand or nightly
(``docs/testing.md``). A test's own ``@settings`` (``max_examples``) scales with the
profile through :func:`fuzz_harness.examples`.

The platform's databases: ``pg_cluster`` starts a throwaway PostgreSQL cluster with
Debian's binaries (``/usr/lib/postgresql/<version>/bin``: ``initdb``, ``pg_ctl``) on a
free loopback port with its socket in a temporary folder, once per session. Run as root
(containers), the binaries run as the ``postgres`` system user (else ``nobody``) through
``runuser``. Without the binaries the fixture **fails**: CI installs Debian's
``postgresql``. ``db_url`` is parametrized over ``sqlite`` and ``postgresql``: a fresh
database per test, for every test that asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

# ci: no shrinking, so that a failing run stays within its time too (the failing example
# is printed as found; reproduce and shrink it with VPP_FUZZ=long and the printed blob)
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)
settings.register_profile(
    "long", derandomize=False, deadline=None, print_blob=True, suppress_health_check=_SLOW_OK
)
settings.load_profile("long" if os.environ.get("VPP_FUZZ") == "long" else "ci")


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
