"""``vpp serve`` behind a reverse proxy on the same machine (README, "PostgreSQL behind a
reverse proxy"), on SQLite and PostgreSQL.

nginx is not run here: the test speaks to ``vpp serve`` (its own uvicorn, in its own
process) from 127.0.0.1 as nginx's ``location /`` block does, with the headers that
block sets. Checked: with ``X-Forwarded-Proto: https`` the dashboard's session cookie
is ``Secure``, without it not (so the header is what decides); the redirects stay on
the proxy's host (a path, no scheme or host of their own); the access log shows the
client's address from ``X-Forwarded-For``; and the cookie opens the dashboard.

Under a path prefix (``vpp serve --root-path /vpp`` behind nginx's
``location /vpp/ { proxy_pass http://127.0.0.1:8000/; }``, which strips the prefix),
the requests arrive without it, and every redirect, link, form and the cookie's path
carry it; the API keeps its key check before the body is read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def serving(db_url: str, tmp_path: Path, *extra: str) -> Iterator[tuple[str, str, Path]]:
    """``vpp serve`` on the demo park in its own process: its base URL, an operator key
    and its log file (read it after the context)."""
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
        *extra,
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
        yield base, key, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_forwarded_headers_from_the_local_proxy_make_the_cookie_secure(
    db_url: str, tmp_path: Path
) -> None:
    with serving(db_url, tmp_path) as (base, key, log):
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
        page = httpx.get(f"{base}/dashboard", headers={**PROXY_HEADERS, "Cookie": cookie})
        assert page.status_code == 303
        assert page.headers["location"] == "/dashboard/parks/xushuguan-park"
        park = httpx.get(f"{base}{page.headers['location']}", headers={"Cookie": cookie})
        assert park.status_code == 200
        assert 'href="/static/style.css"' in park.text
    lines = log.read_text().splitlines()
    assert any(CLIENT in line and "POST /login" in line for line in lines), lines[-20:]


def test_under_a_path_prefix_links_redirects_and_the_cookie_carry_it(
    db_url: str, tmp_path: Path
) -> None:
    prefix = "/vpp"
    with serving(db_url, tmp_path, "--root-path", prefix) as (base, key, _):
        # nginx strips the prefix: the requests arrive without it
        login = httpx.post(f"{base}/login", data={"key": key}, headers=PROXY_HEADERS)
        assert login.status_code == 303
        assert login.headers["location"] == f"{prefix}/dashboard"
        cookie_line = login.headers["set-cookie"].lower()
        assert f"path={prefix};" in cookie_line and "; secure" in cookie_line
        cookie = {"Cookie": login.headers["set-cookie"].split(";")[0]}
        home = httpx.get(f"{base}/dashboard", headers=cookie)
        assert home.headers["location"] == f"{prefix}/dashboard/parks/xushuguan-park"
        park = httpx.get(f"{base}/dashboard/parks/xushuguan-park", headers=cookie)
        assert park.status_code == 200
        assert f'href="{prefix}/static/style.css"' in park.text
        assert f'href="{prefix}/dashboard/parks/xushuguan-park/sites/electronics"' in park.text
        assert f'action="{prefix}/logout"' in park.text
        assert 'href="/dashboard' not in park.text and 'href="/static' not in park.text
        assert httpx.get(f"{base}/static/style.css").status_code == 200
        assert httpx.get(f"{base}/dashboard").headers["location"] == f"{prefix}/login"
        form = httpx.get(f"{base}/login")
        assert f'action="{prefix}/login"' in form.text
        out = httpx.post(f"{base}/logout", headers=cookie)
        assert out.headers["location"] == f"{prefix}/login"
        assert f"path={prefix}" in out.headers["set-cookie"].lower()
        assert f"{prefix}/openapi.json" in httpx.get(f"{base}/docs").text
        # the API: the key is checked before the body is read, under the prefix too
        telemetry = f"{base}/api/v1/parks/xushuguan-park/sites/electronics/telemetry"
        json_type = {"content-type": "application/json"}
        bad = httpx.post(telemetry, content=b"{not json", headers=json_type)
        assert bad.status_code == 401
        assert httpx.get(f"{base}/api/v1/parks").status_code == 401
        parks = httpx.get(f"{base}/api/v1/parks", headers={"X-API-Key": key})
        assert parks.status_code == 200
        assert [p["park"] for p in parks.json()] == ["xushuguan-park"]


def test_a_root_path_that_is_not_a_prefix_is_refused(tmp_path: Path) -> None:
    for bad in ("vpp", "/vpp/"):
        done = subprocess.run(
            [sys.executable, "-m", "vpp.cli", "serve", "--root-path", bad],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 2
        assert f"--root-path {bad!r}" in done.stderr and "/vpp" in done.stderr
