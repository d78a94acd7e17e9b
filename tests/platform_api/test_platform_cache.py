"""The in-process caches of keys and sites (:mod:`vpp.platform.lookups`): a cached key
and site cost no query, a revocation through the API is refused at once, one by
``vpp keys revoke`` in another process within ``CHANGE_POLL_S``, and a park registered
again is seen at once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from platform_helpers import PARK, PARK_FILE, REPO
from sqlalchemy import event

from vpp.platform import lookups

#: Slack on the cross-process bound for the request loop and a slow shared host [s].
BOUND_SLACK_S = 0.5
SITE = f"/api/v1/parks/{PARK}/sites/electronics"
READ = {"channel": "load_kw", "start": "2026-07-01T00:00:00Z", "end": "2026-07-02T00:00:00Z"}


#: The platform's own background threads: their periodic work (alert checks, warming
#: the monitoring views) reads sites and keys on its own schedule, not for a request.
BACKGROUND_THREADS = ("vpp-alerts", "vpp-alert-webhook", "vpp-monitoring-warm")


def _statements(platform: object) -> list[str]:
    """The SQL the requests run from now on (not the background threads')."""
    seen: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        if threading.current_thread().name not in BACKGROUND_THREADS:
            seen.append(statement)

    event.listen(platform.engine, "before_cursor_execute", record)
    return seen


def test_a_cached_key_and_site_read_no_table_of_theirs(api, monkeypatch):
    monkeypatch.setattr(lookups, "CHANGE_POLL_S", 60.0)  # no change check in between
    client, headers = api["client"], api["headers"]["electronics"]
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers).status_code == 200
    seen = _statements(api["platform"])
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers).status_code == 200
    assert seen  # the readings themselves are read
    assert not [s for s in seen if "api_keys" in s or "FROM sites" in s], seen


def test_a_key_revoked_through_the_api_is_refused_at_once(api, monkeypatch):
    monkeypatch.setattr(lookups, "CHANGE_POLL_S", 60.0)  # only the revocation may tell
    client, headers = api["client"], api["headers"]
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers["electronics"]).is_success
    key_id = api["keys"]["electronics"].split("_")[1]
    assert client.delete(f"/api/v1/keys/{key_id}", headers=headers["admin"]).status_code == 204
    answer = client.get(f"{SITE}/telemetry", params=READ, headers=headers["electronics"])
    assert answer.status_code == 401
    other = client.get(f"{SITE}/telemetry", params=READ, headers=headers["biomedicine"])
    assert other.status_code == 403  # the other site's key still works, and is still kept out


def test_a_key_revoked_by_another_process_is_refused_within_the_poll(api, db_url):
    client, headers = api["client"], {"X-API-Key": api["keys"]["electronics"]}
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers).status_code == 200
    key_id = api["keys"]["electronics"].split("_")[1]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-m", "vpp.cli", "keys", "revoke", key_id, "--db", db_url],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    revoked_by = time.monotonic()  # the revocation committed before the process ended
    while True:
        status = client.get(f"{SITE}/telemetry", params=READ, headers=headers).status_code
        late = time.monotonic() - revoked_by
        if status == 401:
            break
        assert status == 200
        assert late <= lookups.CHANGE_POLL_S + BOUND_SLACK_S, f"still accepted {late:.2f} s on"
        time.sleep(0.02)
    assert late <= lookups.CHANGE_POLL_S + BOUND_SLACK_S


def test_registering_a_park_drops_the_cached_sites_at_once(api, monkeypatch):
    """Registering again may change a site's channels: the next request reads the site."""
    monkeypatch.setattr(lookups, "CHANGE_POLL_S", 60.0)  # only the registration may tell
    client, headers = api["client"], api["headers"]
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers["electronics"]).is_success
    seen = _statements(api["platform"])
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers["electronics"]).is_success
    assert not [s for s in seen if "FROM sites" in s]  # cached
    answer = client.post("/api/v1/parks", json={"file": str(PARK_FILE)}, headers=headers["admin"])
    assert answer.status_code == 201, answer.text
    seen.clear()
    assert client.get(f"{SITE}/telemetry", params=READ, headers=headers["electronics"]).is_success
    assert [s for s in seen if "FROM sites" in s]
