"""The daily job's safety net: per-site fallbacks, inputs that are dropped and flagged,
strict arguments, a fallback that never replaces a good schedule, and a registry that
cannot contradict the outputs.

Runs of the job use the demo park (copied, so that its files can be broken) and the
sample forecasts, telemetry and notices in ``forecasts/``; each takes a few seconds.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from helpers import telemetry_until
from sqlalchemy import Engine, event

import vpp.cli
from vpp.jobs.args import ArgumentError
from vpp.jobs.registry import Registry
from vpp.jobs.schedule import EXIT_IO, read_notices, run_schedule
from vpp.jobs.window import job_window, window_events
from vpp.portfolio.park import load_park

ROOT = Path(__file__).resolve().parent.parent
PARK_DIR = ROOT / "scenarios" / "park"
PARK = PARK_DIR / "xushuguan-park.yaml"
FORECASTS = ROOT / "forecasts"
TELEMETRY = FORECASTS / "telemetry"
NOTICES = FORECASTS / "notices"
SITES = {"electronics", "biomedicine", "logistics", "rnd-offices"}
DATE = "2026-07-16"
#: The job's default now for DATE: 15:00 the day before.
NOW = "2026-07-15T15:00:00+08:00"


@pytest.fixture
def park_copy(tmp_path: Path) -> Path:
    """A copy of the demo park (its park file) whose site files a test may break."""
    shutil.copytree(PARK_DIR, tmp_path / "park")
    return tmp_path / "park" / PARK.name


def job(park: Path, out: Path, **kw: object):
    tele = telemetry_until(TELEMETRY, out.parent / "telemetry-now", NOW)
    args: dict = {"forecasts_dir": FORECASTS, "telemetry_dir": tele, "notices_dir": NOTICES}
    args.update(kw)
    return run_schedule(park, DATE, out_dir=out, **args)


def scheduled(folder: Path) -> set[str]:
    return {p.parent.name for p in folder.glob("sites/*/schedule.csv")}


def files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def bad_notice(folder: Path) -> Path:
    """A notice whose second event runs past midnight (not valid); its first is good."""
    folder.mkdir()
    events = [
        {
            "name": "evening",
            "kind": "peak_shaving",
            "start": f"{DATE}T17:00:00",
            "end": f"{DATE}T19:00:00",
            "requested_kw": 800,
            "notified_at": "2026-07-15T10:00:00",
        },
        {
            "name": "late",
            "kind": "peak_shaving",
            "start": f"{DATE}T23:00:00",
            "end": "2026-07-17T01:00:00",
            "requested_kw": 500,
            "notified_at": "2026-07-15T10:00:00",
        },
    ]
    (folder / "grid.yaml").write_text(yaml.safe_dump(events))
    return folder


def missing_load(park: Path) -> None:
    site = park.parent / "sites" / "biomedicine.yaml"
    data = yaml.safe_load(site.read_text())
    data["site"]["load"] = {"series": {"file": "no-such-load.csv", "column": "load_kw"}}
    site.write_text(yaml.safe_dump(data))


def bad_telemetry(folder: Path) -> Path:
    folder.mkdir()
    (folder / "soc.csv").write_text("site,battery,when,soc_kwh\nelectronics,bess,x,100\n")
    return folder


@pytest.mark.parametrize("case", ["bad notice", "a site's load file missing", "bad telemetry"])
def test_every_site_that_can_be_read_gets_a_schedule(
    case: str, park_copy: Path, tmp_path: Path
) -> None:
    kw: dict = {}
    readable = set(SITES)
    if case == "bad notice":
        kw["notices_dir"] = bad_notice(tmp_path / "notices")
        kw["now"] = "2026-07-15T07:00:00Z"  # converted to the park's time zone
    elif case == "bad telemetry":
        kw["telemetry_dir"] = bad_telemetry(tmp_path / "telemetry")
    else:
        missing_load(park_copy)
        readable.discard("biomedicine")
        # without its metered load either (with it, the site's load is forecast from the
        # meter and the missing file only costs the events' baselines, flagged)
        tele = telemetry_until(TELEMETRY, tmp_path / "telemetry-without-load", NOW)
        (tele / "load-biomedicine.csv").unlink()
        kw["telemetry_dir"] = tele
    outcome = job(park_copy, tmp_path / "out", **kw)
    folder = tmp_path / "out" / DATE
    summary = json.loads((folder / "summary.json").read_text())
    assert scheduled(folder) == readable
    plan = pd.read_csv(folder / "park_plan.csv")
    assert {f"{n}_net_import_kw" for n in readable} <= set(plan.columns)
    if case == "bad notice":  # ignorable: dropped and flagged, the rest optimized
        assert outcome.status == "ok" and outcome.exit_code == 0
        assert summary["sources"]["notices"] == ["summer-peak-0715", "evening"]
        assert summary["sources"]["now"] == "2026-07-15T15:00:00+08:00"
        assert any("grid.yaml[1]" in f and "midnight" in f for f in summary["flags"])
        return
    assert outcome.status == "fallback" and outcome.exit_code == 2
    assert summary["sites_scheduled"] == sorted(readable)
    if case == "bad telemetry":
        assert "soc.csv" in summary["failure"] and summary["sites_without_schedule"] == {}
    else:
        assert list(summary["sites_without_schedule"]) == ["biomedicine"]
        assert "no-such-load.csv" in summary["sites_without_schedule"]["biomedicine"]
        assert "biomedicine_net_import_kw" not in plan.columns
        assert any("park plan sums the 3 site(s)" in f for f in summary["flags"])


def test_notices_that_cannot_be_used_are_dropped_and_named(tmp_path: Path) -> None:
    folder = bad_notice(tmp_path / "notices")
    (folder / "broken.yaml").write_text("- name: [unclosed\n")
    good = yaml.safe_load((folder / "grid.yaml").read_text())[0]
    more = [
        {**good, "name": "off-grid", "start": f"{DATE}T17:05:00", "end": f"{DATE}T19:05:00"},
        {**good},  # the same name again
        {**good, "name": "next-day", "start": "2026-07-17T17:00:00", "end": "2026-07-17T19:00:00"},
    ]
    (folder / "more.yaml").write_text(yaml.safe_dump(more))
    flags: list[str] = []
    notices = read_notices(folder, flags)
    park = load_park(PARK)
    now = pd.Timestamp("2026-07-15T15:00:00+08:00")
    window = job_window(park, pd.Timestamp(DATE), now, 48.0)  # 15:00 of the 15th + 48 h
    events = window_events(park, window, notices, flags)
    # the park file's event of today, the notice's of the target day
    assert [e.name for e in events] == ["summer-peak-0715", "evening"]
    text = "\n".join(flags)
    assert "broken.yaml dropped" in text and "line" in text
    assert "grid.yaml[1]" in text and "more.yaml[0] ('off-grid') dropped" in text
    assert "step grid" in text and "more.yaml[1] ('evening') dropped" in text
    assert "more.yaml[2] ('next-day') dropped: it starts after the window ends" in text
    assert len(flags) == 5


def test_a_stale_reading_takes_the_next_source_and_a_fallback_keeps_the_good_schedule(
    tmp_path: Path,
) -> None:
    tele = telemetry_until(TELEMETRY, tmp_path / "telemetry", NOW)
    soc = pd.read_csv(tele / "soc.csv", dtype=str)
    latest = (soc["site"] == "electronics") & soc["timestamp"].str.startswith("2026-07-15")
    soc[~latest].to_csv(tele / "soc.csv", index=False)  # its latest is a day old: stale
    out = tmp_path / "out"
    good = job(PARK, out, telemetry_dir=tele)
    assert good.status == "ok" and good.exit_code == 0
    (bess,) = load_park(PARK).sites["electronics"].site.batteries
    initial_kwh = bess.soc_initial_fraction * bess.energy_kwh  # the next source (no previous day)
    assert good.summary["sources"]["soc"]["electronics"]["bess"] == (
        f"{initial_kwh:.1f} kWh from scenario initial state"
    )
    assert any("more than 1 h before now" in f for f in good.summary["flags"])
    before = files(out / DATE)

    failed = job(PARK, out, telemetry_dir=bad_telemetry(tmp_path / "bad"))
    assert failed.status == "fallback" and failed.exit_code == 2
    assert {k: v for k, v in files(out / DATE).items() if not k.startswith("fallback/")} == before
    beside = json.loads((out / DATE / "fallback" / "summary.json").read_text())
    assert beside["status"] == "fallback" and beside["kept_schedule"]["folder"] == f"{DATE}/"
    assert scheduled(out / DATE / "fallback") == SITES
    runs = Registry(out / "registry.sqlite").runs()
    assert [r["status"] for r in runs] == ["fallback", "ok"]
    assert runs[0]["outputs"] == [str(out / DATE / "fallback")]
    assert "never replaces an earlier good schedule" in runs[0]["message"]

    again = job(PARK, out, telemetry_dir=tele)  # a good run again: the fallback is obsolete
    assert again.status == "ok" and again.exit_code == 0
    assert not (out / DATE / "fallback").exists()
    assert scheduled(out / DATE) == SITES
    assert not [p.name for p in out.iterdir() if p.name.startswith(f".{DATE}")]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--date", "2026-07-16T00:00:00Z"], "--date"),
        (["--date", "2026-02-30"], "--date"),
        (["--date", "9999-12-31"], "--date"),
        (["--date", DATE, "--now", "yesterday-ish"], "--now"),
        (["--date", DATE, "--now", "2026-07-15"], "--now"),
        (["--date", DATE, "--now", "2026-07-15T15:00 Asia/Shanghai"], "--now"),
    ],
)
def test_bad_arguments_are_refused_before_the_run_is_recorded(
    args: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    assert vpp.cli.main(["schedule", str(PARK), *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vpp: error (argument): {option}: ") and "allowed:" in err
    assert "Traceback" not in err and not out.exists()  # nothing recorded, nothing written


@pytest.mark.parametrize("limit", [-1.0, math.nan, math.inf, 0.0, True, "60"])
def test_a_time_limit_must_be_a_positive_finite_number(limit: object, tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="--time-limit"):
        job(PARK, tmp_path / "out", time_limit_s=limit)
    assert not (tmp_path / "out").exists()


def test_a_park_file_that_cannot_be_read_is_recorded(tmp_path: Path, capsys) -> None:
    park = tmp_path / "broken-park.yaml"
    park.write_text("name: [unclosed\n")
    out = tmp_path / "out"
    assert vpp.cli.main(["schedule", str(park), "--date", DATE, "--out", str(out)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    (run,) = Registry(out / "registry.sqlite").runs()
    assert run["park"] == "broken-park" and run["status"] == "failed" and run["exit_code"] == 2
    assert "not valid YAML" in run["message"] and run["ended_at"]


def _failing_update(_con, _cursor, statement: str, *_args: object) -> None:
    """Fail the registry's final update (the one that sets ``duration_s``) with a disk
    I/O error."""
    if statement.startswith("UPDATE runs SET") and "duration_s" in statement:
        raise sqlite3.OperationalError("disk I/O error")


def test_a_registry_that_cannot_record_the_end_does_not_contradict_the_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    event.listen(Engine, "before_cursor_execute", _failing_update)  # every engine's
    try:
        argv = ["schedule", str(PARK), "--date", DATE, "--out", str(out)]
        code = vpp.cli.main([*argv, "--forecasts", str(FORECASTS)])
    finally:
        event.remove(Engine, "before_cursor_execute", _failing_update)
    assert code == EXIT_IO
    err = capsys.readouterr().err
    assert "vpp: error (registry)" in err and "disk I/O error" in err and "complete" in err
    summary = json.loads((out / DATE / "summary.json").read_text())
    assert summary["status"] == "ok"  # the outputs are the truth ...
    assert summary["registry"]["recorded"] is False and summary["registry"]["exit_code"] == 1
    assert scheduled(out / DATE) == SITES
    # ... and the registry takes them once the run's process is gone
    registry = Registry(out / "registry.sqlite")
    (row,) = registry.runs()
    assert row["status"] == "running"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    with sqlite3.connect(out / "registry.sqlite") as con:
        con.execute("UPDATE runs SET pid = ?, proc_start = NULL", (int(dead.stdout),))
    con.close()
    assert registry.reap() == 1
    (row,) = registry.runs()
    assert row["status"] == "ok" and row["exit_code"] == 1
    assert "could not update the registry" in row["message"] and "disk I/O" in row["message"]
