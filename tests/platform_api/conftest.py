"""The platform API tests' set-up: an app with keys on a registered park, on both
databases (``db_url``, ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from platform_helpers import PARK, PARK_FILE


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


@pytest.fixture
def ledger(db_url: str, tmp_path: object) -> Iterator[dict[str, object]]:
    """The carbon ledger's park ``green-park`` (ledger_helpers.py): a client and keys."""
    from ledger_helpers import open_ledger

    yield from open_ledger(db_url, tmp_path)
