"""Nothing acknowledged is lost: ``vpp serve`` killed with SIGKILL during ingestion,
restarted, still holds every reading it answered 200 for."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from platform_helpers import PARK, PARK_FILE, REPO, free_port

from vpp.platform.keys import create_key
from vpp.platform.parks import register_park
from vpp.platform.service import Platform

#: Acknowledged batches before the kill [-]; readings per batch [-].
ACKED_BEFORE_KILL = 15
BATCH = 25
START_TIMEOUT_S = 60.0


def start(url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "vpp.cli", "serve", "--port", str(port), "--db", url]
    with open(log, "ab") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
        assert server.poll() is None, log.read_text()
    server.kill()
    raise AssertionError(f"vpp serve did not start in {START_TIMEOUT_S} s: {log.read_text()}")


def test_every_acknowledged_reading_survives_sigkill(db_url, tmp_path):
    platform = Platform.open(db_url)
    register_park(platform.sessions, PARK_FILE)
    key = create_key(platform.sessions, "site", park=PARK, site="electronics")[1]
    platform.close()
    port, log = free_port(), tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}/api/v1/parks/{PARK}/sites/electronics/telemetry"
    headers = {"X-API-Key": key}
    acked: dict[str, float] = {}
    enough = threading.Event()

    def post() -> None:
        with httpx.Client(timeout=10) as client:
            for i in range(10_000):
                rows = []
                for j in range(BATCH):
                    n = i * BATCH + j
                    stamp = f"2026-07-{1 + n // 1440:02d}T{n % 1440 // 60:02d}:{n % 60:02d}:00Z"
                    rows.append({"channel": "load_kw", "timestamp": stamp, "value": n + 0.5})
                try:
                    answer = client.post(base, json={"readings": rows}, headers=headers)
                except httpx.HTTPError:
                    return  # the server died: this batch was not acknowledged
                if answer.status_code != 200:
                    return
                acked.update({r["timestamp"]: r["value"] for r in rows})
                if i + 1 >= ACKED_BEFORE_KILL:
                    enough.set()

    server = start(db_url, port, log)
    poster = threading.Thread(target=post)
    poster.start()
    assert enough.wait(60), log.read_text()
    os.kill(server.pid, signal.SIGKILL)  # mid-ingestion: the poster is still sending
    server.wait(10)
    poster.join(30)
    assert len(acked) >= ACKED_BEFORE_KILL * BATCH
    server = start(db_url, port, log)
    try:
        got = httpx.get(
            base,
            params={
                "channel": "load_kw",
                "start": "2026-07-01T00:00:00Z",
                "end": "2026-08-01T00:00:00Z",
            },
            headers=headers,
            timeout=10,
        ).json()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    stored = {t.replace("+00:00", "Z"): v for t, v in zip(got["timestamps"], got["values"])}
    assert {t: stored.get(t) for t in acked} == acked  # every acknowledged reading, exact
    assert key.split("_", 2)[2] not in log.read_text()  # the server logged no secret
