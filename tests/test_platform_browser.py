"""The dashboard in a real browser: ``vpp serve --demo`` driven by Playwright on Chromium.

The test starts ``vpp serve --demo`` on a free loopback port with a fresh database,
once on SQLite and once on PostgreSQL (``db_url``, ``tests/conftest.py``: the demo loads
into either through ``--db``), reads the demo operator key it prints, logs in through
the form, walks every page, and checks that every number the pages mark (``data-key``
and ``data-value``) equals what the JSON API answers for the same thing, and that its
text shows that number. No page may log a console error or raise, nor the server log
an error. Screenshots go to ``$VPP_TEST_ARTIFACTS/dashboard-<database>/`` (else a pytest
temporary folder), one folder per database; the path is printed.

Playwright drives Debian's Chromium (``executable_path``); no browser is downloaded.
Without ``/usr/bin/chromium`` (or the ``playwright`` package) the test is skipped,
except under ``CI``, where it fails (as tests/test_report_browser.py does).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytester"]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
PARK = "xushuguan-park"
#: How long the demo server may take to answer its health check [s].
START_TIMEOUT_S = 90
#: Page values are the API's, printed with 17 significant digits at most [-].
REL_TOL = 1e-9


def _need(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI installs it)")
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, key: str) -> Any:
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


def _database(url: str) -> str:
    """``sqlite`` or ``postgresql``: the database behind ``url``."""
    return url.split(":", 1)[0].split("+", 1)[0]


@pytest.fixture
def demo_server(db_url: str, tmp_path: Path):
    """``vpp serve --demo`` on ``db_url``: (base URL, operator key, site key, database,
    the server's log)."""
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "vpp.cli", "serve", "--demo", "--port", str(port),
             "--db", db_url, "--log-level", "warning"],
            cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        key = None
        while time.monotonic() < deadline and process.poll() is None:
            lines = log.read_text().splitlines()
            found = [i for i, line in enumerate(lines) if "demo operator key" in line]
            if found and len(lines) > found[0] + 1:
                key = lines[found[0] + 1].strip()
                site_key = lines[found[0] - 1].strip()
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2)
                    break
                except OSError:
                    pass
            time.sleep(0.3)
        else:
            pytest.fail(f"vpp serve --demo did not start:\n{log.read_text()[-3000:]}")
        assert key and key.startswith("vpp_"), log.read_text()
        assert f"vpp serve: database {_database(db_url)}" in log.read_text(), log.read_text()
        yield f"http://127.0.0.1:{port}", key, site_key, _database(db_url), log
    finally:
        process.terminate()
        process.wait(timeout=30)


def _twice(section: Any) -> int:
    """Run a page's checks; once more if they fail, as a 15-minute step may end between
    the page and the API call (today's 'so far' figures then move on)."""
    try:
        return section()
    except AssertionError:
        return section()


def _check_numbers(page: Any, scope: Any, answer: Any, where: str) -> int:
    """Every ``data-key`` in ``scope`` equals ``answer`` at that key; returns the count."""
    count = 0
    for element in scope.query_selector_all("[data-key]"):
        path = element.get_attribute("data-key")
        expected = _dig(answer, path) if path != "flags" else len(answer["flags"])
        shown = element.get_attribute("data-value")
        if expected is None:
            assert shown == "None", (where, path, shown)
            continue
        assert float(shown) == pytest.approx(float(expected), rel=REL_TOL, abs=1e-9), (where, path)
        text = element.inner_text().replace(",", "").replace("%", "").strip()
        assert any(ch.isdigit() for ch in text), (where, path, text)
        count += 1
    return count


def test_dashboard_in_chromium(demo_server: tuple[Any, ...], tmp_path: Path) -> None:
    _need(CHROMIUM.exists(), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "the playwright package is not installed")
    base, key, site_key, database, log = demo_server
    shots = Path(os.environ.get("VPP_TEST_ARTIFACTS") or tmp_path) / f"dashboard-{database}"
    shots.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {shots}")
    api = f"{base}/api/v1/monitoring/parks/{PARK}"
    problems: list[str] = []
    checked = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        page.goto(f"{base}/dashboard")
        assert page.url.endswith("/login")
        page.fill("#key", key[:-2] + "xx")
        page.click("button[type=submit]")
        assert page.locator("#login-error").is_visible()
        problems.clear()  # the refused login's 401 is expected and its own check
        page.fill("#key", key)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/dashboard/parks/{PARK}")
        park: dict[str, Any] = {}

        def park_page() -> int:
            page.goto(f"{base}/dashboard/parks/{PARK}")
            park.update(_get(api, key))
            assert page.locator("h1").inner_text() == PARK
            assert page.locator("#demo-badge").inner_text() == "DEMO DATA"
            main = page.locator("main .cards").element_handle()
            count = _check_numbers(page, main, park, "park")
            sites = {s["site"]: s for s in park["sites"]}
            assert len(sites) == 4
            assert len(page.query_selector_all("tr[data-site]")) == len(sites)
            for row in page.query_selector_all("tr[data-site]"):
                site = row.get_attribute("data-site")
                count += _check_numbers(page, row, sites[site], f"park row {site}")
            assert page.locator("svg.chart polyline").count() >= 2
            page.screenshot(path=str(shots / "01-park.png"), full_page=True)
            return count

        checked += _twice(park_page)
        for n, site in enumerate(sorted(s["site"] for s in park["sites"])):

            def site_pages(n: int = n, site: str = site) -> int:
                page.goto(f"{base}/dashboard/parks/{PARK}/sites/{site}")
                view = _get(f"{api}/sites/{site}", key)
                count = _check_numbers(page, page.locator("main").element_handle(), view, site)
                assert page.locator("svg.chart").count() == 2 + len(view["today"]["soc_kwh"])
                page.screenshot(path=str(shots / f"02-day-{n}-{site}.png"), full_page=True)
                page.goto(f"{base}/dashboard/parks/{PARK}/sites/{site}/month")
                count += _check_numbers(page, page.locator("main").element_handle(), view, site)
                assert "Carbon account" in page.content()
                page.screenshot(path=str(shots / f"03-month-{n}-{site}.png"), full_page=True)
                return count

            checked += _twice(site_pages)

        def carbon_page() -> int:
            page.goto(f"{base}/dashboard/parks/{PARK}/carbon")
            sites = {s["site"]: s for s in _get(api, key)["sites"]}
            count = 0
            assert len(page.query_selector_all("tr[data-site]")) == len(sites) == 4
            for row in page.query_selector_all("tr[data-site]"):
                site = row.get_attribute("data-site")
                count += _check_numbers(page, row, sites[site], f"carbon {site}")
            # the demo's illustrative ledger (vpp.platform.demo.demo_ledger_entries)
            gec = page.locator("#certificates tr[data-ledger-site='biomedicine']")
            assert gec.count() == 1
            shown = ("DEMO-GEC-A (illustrative)", "2,000", "1,200")
            assert all(s in gec.inner_text() for s in shown), gec.inner_text()
            assert page.locator("#allowances tr[data-ledger-site='electronics']").count() == 2
            page.screenshot(path=str(shots / "04-carbon.png"), full_page=True)
            return count

        checked += _twice(carbon_page)

        page.goto(f"{base}/dashboard/parks/{PARK}/runs")
        runs = _get(f"{api}/runs", key)
        assert runs and runs[0]["status"] == "ok"
        assert page.locator("#runs tr").count() == len(runs) + 1
        checked += _check_numbers(
            page, page.locator("#runs tr").nth(1).element_handle(), runs[0], "runs"
        )
        page.screenshot(path=str(shots / "05-runs.png"), full_page=True)

        def gaps_page() -> int:
            page.goto(f"{base}/dashboard/parks/{PARK}/gaps")
            count = 0
            for table in page.query_selector_all("table[data-site]"):
                site = table.get_attribute("data-site")
                answer = _get(f"{api}/sites/{site}/gaps", key)
                report = {c["channel"]: c for c in answer["channels"]}
                for row in table.query_selector_all("tr[data-channel]"):
                    channel = row.get_attribute("data-channel")
                    count += _check_numbers(page, row, report[channel], f"gaps {site}")
            outage = page.locator("table[data-site='rnd-offices'] tr[data-channel='load_kw']")
            assert "12 steps" in outage.inner_text()  # the demo's three-hour meter outage
            page.screenshot(path=str(shots / "06-gaps.png"), full_page=True)
            return count

        checked += _twice(gaps_page)

        page.click("#logout")
        page.wait_for_url("**/login")
        page.goto(f"{base}/dashboard/parks/{PARK}")
        assert page.url.endswith("/login")

        page.fill("#key", site_key)  # a site key sees its own site only
        page.click("button[type=submit]")
        page.wait_for_url(f"**/dashboard/parks/{PARK}/sites/electronics")
        assert page.locator("header nav a").all_inner_texts() == [
            "electronics",
            "Carbon assets",
            "Telemetry gaps",
        ]
        page.screenshot(path=str(shots / "07-site-key.png"), full_page=True)
        problems_before = len(problems)
        refused = page.goto(f"{base}/dashboard/parks/{PARK}/sites/logistics")
        assert refused is not None and refused.status == 403
        refused = page.goto(f"{base}/dashboard/parks/{PARK}")
        assert refused is not None and refused.status == 403
        assert "may not see this page" in page.locator("#refusal").inner_text()
        del problems[problems_before:]  # the two refusals log their 403s: expected
        browser.close()
    assert not problems, problems
    assert checked >= 60, checked
    served = log.read_text()  # nor may the server raise behind any page
    assert "Traceback" not in served and "ERROR" not in served, served[-3000:]


def test_without_postgresql_the_browser_test_fails_not_skips(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No PostgreSQL binaries: the PostgreSQL run of this test is an error, not a skip
    (the ``pg_cluster`` fixture fails), so CI cannot pass without the database."""
    import vpp.platform.pg_cluster

    monkeypatch.setattr(vpp.platform.pg_cluster, "missing", lambda: "no binaries (test)")
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    pytester.makepyfile(test_browser_copy=Path(__file__).read_text())
    run = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-k", "dashboard and postgresql")
    run.assert_outcomes(errors=1, deselected=2)
    assert "no binaries (test); the platform's tests run against both" in run.stdout.str()
