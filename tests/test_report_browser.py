"""report.html of a short demo run, opened in a real headless Chromium.

Chromium loads a copy of the report with a small probe script put first in its
``<head>``. The probe records console errors and warnings, uncaught exceptions and
resource load errors, and on ``load`` writes what it found, with the number of
images and of images that decoded (``complete`` and ``naturalWidth > 0``), into
attributes of ``<html>``; ``--dump-dom`` prints the DOM after that. Chromium's own
log (``--enable-logging=stderr``) lists every console message as ``CONSOLE``; the
report has no script, so it must print none. Without ``/usr/bin/chromium`` the
browser tests are skipped, except under ``CI`` (set by CI), where they fail:
``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from test_demo import demo_data

import vpp.cli

CHROMIUM = Path("/usr/bin/chromium")
#: Flags that run Debian's Chromium headless as root on a machine with a closed network.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=10000",
)
#: Wall-clock limit for one Chromium run [s].
CHROMIUM_TIMEOUT_S = 120
FIGURES = (
    "peak_import.png",
    "load_duration.png",
    "bill_monthly.png",
    "emissions_by_carrier.png",
    "emissions_waterfall.png",
)
HEADINGS = (
    "Summary",
    "Monthly peak import",
    "Load-duration curves",
    "A representative week",
    "Monthly bill",
    "Emissions",
)

PROBE = """<script>
(function () {
  var errors = [];
  var keep = function (kind, args) {
    errors.push(kind + ": " + Array.prototype.map.call(args, String).join(" "));
  };
  var error = console.error, warn = console.warn;
  console.error = function () {
    keep("console.error", arguments); error.apply(console, arguments);
  };
  console.warn = function () {
    keep("console.warn", arguments); warn.apply(console, arguments);
  };
  window.addEventListener("error", function (e) {
    var t = e.target;
    errors.push(t && t !== window ? "failed to load " + (t.src || t.href || t.tagName)
                                  : "uncaught: " + e.message);
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    errors.push("unhandled rejection: " + e.reason);
  });
  window.addEventListener("load", function () {
    var images = Array.prototype.slice.call(document.images);
    var root = document.documentElement;
    root.setAttribute("data-probe-images", String(images.length));
    root.setAttribute("data-probe-loaded", String(images.filter(function (i) {
      return i.complete && i.naturalWidth > 0;
    }).length));
    root.setAttribute("data-probe-errors", JSON.stringify(errors));
  });
})();
</script>"""


def need_chromium() -> None:
    """Skip without Chromium, but fail under CI, which must have installed it."""
    if CHROMIUM.is_file():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run should install Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")


def browse(page: Path, work: Path) -> tuple[str, dict, list[str]]:
    """Open a probed copy of ``page`` in headless Chromium.

    Returns
    -------
    tuple
        The DOM after ``load``, the probe's findings (``images``, ``loaded``,
        ``errors``) and the console lines of Chromium's log.
    """
    text = page.read_text(encoding="utf-8")
    head = re.search(r"<head[^>]*>", text)
    assert head is not None, "no <head> in the page"
    probed = work / f"probed-{page.name}"
    probed.write_text(text[: head.end()] + PROBE + text[head.end() :], encoding="utf-8")
    profile = work / "chromium-profile"
    shutil.rmtree(profile, ignore_errors=True)
    profile.mkdir()
    done = subprocess.run(
        [
            str(CHROMIUM),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dom = done.stdout
    found = {}
    for key in ("images", "loaded", "errors"):
        match = re.search(rf'data-probe-{key}="([^"]*)"', dom)
        assert match is not None, f"the probe did not run (no data-probe-{key}):\n{dom[:500]}"
        found[key] = match.group(1)
    probe = {
        "images": int(found["images"]),
        "loaded": int(found["loaded"]),
        "errors": json.loads(found["errors"].replace("&quot;", '"').replace("&amp;", "&")),
    }
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return dom, probe, console


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    """`vpp run` of the demo shortened to 7 days; the run folder."""
    tmp = tmp_path_factory.mktemp("report")
    path = tmp / "demo-7d.yaml"
    path.write_text(yaml.safe_dump(demo_data(days=7), sort_keys=False), encoding="utf-8")
    out = tmp / "runs" / "demo"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == 0
    return out


def test_report_and_pngs_are_written(demo_run):
    report = demo_run / "report.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    embedded = {base64.b64decode(u) for u in uris}
    for name in ("dispatch.png", *(f"figures/{f}" for f in FIGURES)):
        png = (demo_run / name).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert png in embedded, f"{name} is not the image embedded in report.html"
    assert len(uris) == 1 + len(FIGURES)
    # Self-contained: no script, no external resource, no link out of the file.
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", text)
    assert "url(" not in text


def test_report_renders_in_chromium(demo_run, tmp_path):
    need_chromium()
    dom, probe, console = browse(demo_run / "report.html", tmp_path)
    assert "<title>vpp report: xushuguan-factory</title>" in dom
    assert "<h1>vpp report: xushuguan-factory</h1>" in dom
    for heading in HEADINGS:
        assert re.search(rf"<h2[^>]*>{re.escape(heading)}</h2>", dom), heading
    assert "<table>" in dom
    assert probe["images"] == 1 + len(FIGURES)
    assert probe["loaded"] == probe["images"], probe
    assert probe["errors"] == []
    assert console == []


def test_browser_check_catches_broken_pages(tmp_path):
    """The check itself: a broken image and console errors are reported."""
    need_chromium()
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>broken</title></head><body><h1>broken</h1>"
        '<img src="missing.png" alt="missing"><script>console.error("boom");'
        "notDefined();</script></body></html>",
        encoding="utf-8",
    )
    _dom, probe, console = browse(page, tmp_path)
    assert probe["images"] == 1 and probe["loaded"] == 0
    assert any("console.error: boom" in e for e in probe["errors"])
    assert any("missing.png" in e for e in probe["errors"])
    assert any("notDefined" in e for e in probe["errors"])
    assert any("boom" in line for line in console)
