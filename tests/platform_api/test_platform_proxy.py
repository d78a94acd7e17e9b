"""``vpp serve`` behind a reverse proxy on the same machine (README, "PostgreSQL behind a
reverse proxy"), on SQLite and PostgreSQL.

nginx is not run here: the test speaks to ``vpp serve`` (its own uvicorn, in its own
process) from 127.0.0.1 as nginx's ``location /`` block does, with the headers that
block sets. Checked: with ``X-Forwarded-Proto: https`` the dashboard's session cookie
is ``Secure``, without it not (so the header is what decides); the redirects stay on
the proxy's host (a path, no scheme or host of their own); the access log shows the
client's address from ``X-Forwarded-For``; and the cookie opens the dashboard.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from platform_helpers import PARK_FILE, REPO, free_port

#: Longest wait for ``vpp serve`` to answer [s].
START_TIMEOUT_S = 60.0
CLIENT = "203.0.113.7"  # the browser's address, as the proxy forwards it (TEST-NET-3)
PROXY_HEADERS = {
    "Host": "platform.park.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": CLIENT,
}


def test_forwarded_headers_from_the_local_proxy_make_the_cookie_secure(
    db_url: str, tmp_path: Path
) -> None:
    from vpp.platform.keys import create_key
    from vpp.platform.service import Platform

    platform = Platform.open(db_url)
    key = create_key(platform.sessions, "operator")[1]
    platform.close()
    port = free_port()
    log = tmp_path / "serve.log"
    command = [
        sys.executable,
        "-m",
        "vpp.cli",
        "serve",
        "--db",
        db_url,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--park",
        str(PARK_FILE),
        "--runs-dir",
        str(tmp_path / "runs"),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("FORWARDED_ALLOW_IPS", None)  # uvicorn's default: trust 127.0.0.1 and ::1
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        proxied = httpx.post(f"{base}/login", data={"key": key}, headers=PROXY_HEADERS)
        direct = httpx.post(f"{base}/login", data={"key": key})
        for answer in (proxied, direct):
            assert answer.status_code == 303
            assert answer.headers["location"] == "/dashboard"  # a path: the proxy's host
        secure = proxied.headers["set-cookie"].lower()
        assert "; secure" in secure
        assert "httponly" in secure and "samesite=strict" in secure and "path=/" in secure
        assert "; secure" not in direct.headers["set-cookie"].lower()
        cookie = proxied.headers["set-cookie"].split(";")[0]
        page = httpx.get(
            f"{base}/dashboard", headers={**PROXY_HEADERS, "Cookie": cookie}, follow_redirects=False
        )
        assert page.status_code == 303
        assert page.headers["location"] == "/dashboard/parks/xushuguan-park"
        park = httpx.get(f"{base}{page.headers['location']}", headers={"Cookie": cookie})
        assert park.status_code == 200
        assert 'href="/static/style.css"' in park.text
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert any(CLIENT in line and "POST /login" in line for line in lines), lines[-20:]
