"""The daily scheduling job: idempotent, flagged fallbacks, safe schedules, faults.

Each test runs ``vpp schedule`` on the demo park (``scenarios/park/``) for a sample date
with the sample forecasts, telemetry and notices in ``forecasts/``.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml
from helpers import telemetry_until

import vpp.cli
import vpp.jobs.schedule
from vpp.jobs.fallback import SAFE_SCHEDULE
from vpp.jobs.registry import Registry
from vpp.jobs.schedule import run_schedule

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
FORECASTS = ROOT / "forecasts"
TELEMETRY = FORECASTS / "telemetry"
NOTICES = FORECASTS / "notices"
VPP = str(Path(sys.executable).with_name("vpp"))


def job(out: Path, date: str = "2026-07-16", **kw: object):
    # the sample telemetry as taken by the default now, 15:00 the day before
    now = (pd.Timestamp(date) - pd.Timedelta(hours=9)).tz_localize("Asia/Shanghai")
    tele = telemetry_until(TELEMETRY, out.parent / f"telemetry-{date}", now.isoformat())
    args = {"forecasts_dir": FORECASTS, "telemetry_dir": tele, "notices_dir": NOTICES}
    args.update(kw)
    return run_schedule(PARK, date, out_dir=out, **args)


def files(folder: Path) -> dict[str, bytes]:
    paths = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    return {str(p.relative_to(folder)): p.read_bytes() for p in paths}


def json_differences(a: object, b: object, path: str = "$") -> list[str]:
    """The JSON paths where ``a`` and ``b`` differ, with both values (shortened)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in one" for k in sorted(set(a) ^ set(b), key=str)]
        for k in sorted(set(a) & set(b), key=str):
            out += json_differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        pairs = zip(a, b)
        out = [d for i, (x, y) in enumerate(pairs) for d in json_differences(x, y, f"{path}[{i}]")]
        longer, which = (a, "first") if len(a) > len(b) else (b, "second")
        extra = range(min(len(a), len(b)), len(longer))
        return out + [f"{path}[{i}]: only in the {which}: {str(longer[i])[:300]!r}" for i in extra]
    return [] if a == b else [f"{path}: {str(a)[:120]!r} != {str(b)[:120]!r}"]


def differences(before: dict[str, bytes], after: dict[str, bytes]) -> str:
    """What differs between two runs' files: names, and JSON paths in summary.json."""
    names = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
    lines = [f"differing files: {names}"]
    if "summary.json" in names and "summary.json" in before and "summary.json" in after:
        paths = json_differences(
            json.loads(before["summary.json"]), json.loads(after["summary.json"])
        )
        lines += ["summary.json differs at:"] + paths[:60]
    return "\n".join(lines)


def test_two_runs_for_a_date_give_identical_outputs(tmp_path: Path, capsys) -> None:
    first = job(tmp_path)
    before = files(tmp_path / "2026-07-16")
    second = job(tmp_path)
    assert first.status == second.status == "ok"
    after = files(tmp_path / "2026-07-16")
    assert after == before, differences(before, after)
    summary = json.loads(before["summary.json"])
    assert summary["sources"]["pv"]["electronics"]["file"] == "xushuguan-2026-07-16.csv"
    # the park file's event of today (the window's rest of today) and the notice's
    assert summary["sources"]["notices"] == ["summer-peak-0715", "summer-peak-0716"]
    assert "telemetry" in summary["sources"]["soc"]["electronics"]["bess"]
    assert {"sites/electronics/schedule.csv", "park_plan.csv", "final_soc.json"} <= set(before)
    assert vpp.cli.main(["runs", "--out", str(tmp_path), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in runs] == ["ok", "ok"]


class Leftover:
    """Garbage an earlier test may leave: a cycle holding an open file."""

    def __init__(self) -> None:
        self.itself = self
        self.file = open(__file__, encoding="utf-8")  # left open on purpose


def test_garbage_collected_during_the_second_run_changes_nothing(tmp_path: Path, monkeypatch):
    """What made the test above flaky in the full suite: a collection inside the job ran
    the finalizer of an earlier test's garbage, whose ResourceWarning became a flag."""
    job(tmp_path)
    before = files(tmp_path / "2026-07-16")
    run_day = vpp.jobs.schedule.run_day

    def collecting_run_day(*args, **kwargs):
        gc.enable()
        gc.collect()  # the collector's moment is the process's, not the run's
        return run_day(*args, **kwargs)

    monkeypatch.setattr(vpp.jobs.schedule, "run_day", collecting_run_day)
    enabled = gc.isenabled()
    gc.disable()  # the cycle outlives its last reference until the job's collection
    try:
        Leftover()
        second = job(tmp_path)
    finally:
        if enabled:
            gc.enable()
    after = files(tmp_path / "2026-07-16")
    assert after == before, differences(before, after)
    assert not any("ResourceWarning" in f for f in second.summary["flags"])
    log = (tmp_path / "logs" / "2026-07-16-run2.log").read_text()
    assert "garbage collection (not a flag, not the run's): ResourceWarning: unclosed file" in log


def test_a_missing_forecast_falls_back_and_is_flagged(tmp_path: Path) -> None:
    empty = tmp_path / "no-forecasts"
    empty.mkdir()
    with_measured = job(tmp_path / "a", forecasts_dir=empty)
    pv = with_measured.summary["sources"]["pv"]["electronics"]
    assert pv["method"] == "clear-sky index persistence"
    assert any("clear-sky index persistence" in f for f in with_measured.summary["flags"])
    without = job(tmp_path / "b", forecasts_dir=empty, telemetry_dir=None)
    assert without.summary["sources"]["pv"]["electronics"]["method"] == "clear sky"
    assert without.status == "ok"


def test_a_corrupt_forecast_is_skipped_and_named(tmp_path: Path) -> None:
    folder = tmp_path / "forecasts"
    folder.mkdir()
    for p in FORECASTS.glob("*.csv"):
        shutil.copy(p, folder)
    (folder / "xushuguan-2026-07-16.csv").write_text("# issued_at: yesterday\nnot,a,forecast\n")
    outcome = job(tmp_path / "out", forecasts_dir=folder)
    assert outcome.status == "ok"
    assert any("xushuguan-2026-07-16.csv skipped" in f for f in outcome.summary["flags"])
    # the older forecast (issued two days before, 34 h ahead) still covers the day
    assert outcome.summary["sources"]["pv"]["electronics"]["file"] == "xushuguan-2026-07-15.csv"


def test_telemetry_outside_bounds_is_clipped_and_flagged(tmp_path: Path) -> None:
    outcome = job(tmp_path)  # the sample's reading at 14:45 of the 15th is above 0.95 x 500
    soc = outcome.summary["sources"]["soc"]["rnd-offices"]["bess"]
    assert soc.startswith("475.0 kWh") and "clipped" in soc  # 0.95 x 500 kWh
    assert any("outside its bounds" in f for f in outcome.summary["flags"])


def test_an_infeasible_day_writes_the_safe_schedule(tmp_path: Path, capsys) -> None:
    shutil.copytree(PARK.parent, tmp_path / "park")
    park = tmp_path / "park" / PARK.name
    data = yaml.safe_load(park.read_text())
    data["shared_limit_kw"] = 3000
    park.write_text(yaml.safe_dump(data))
    code = vpp.cli.main(
        [
            "schedule",
            str(park),
            "--date",
            "2026-07-16",
            "--out",
            str(tmp_path / "out"),
            "--forecasts",
            str(FORECASTS),
        ]
    )
    assert code == 3
    summary = json.loads((tmp_path / "out" / "2026-07-16" / "summary.json").read_text())
    assert summary["status"] == "fallback" and "3000 kW cannot be kept" in summary["failure"]
    schedule = tmp_path / "out" / "2026-07-16" / "sites" / "electronics" / "schedule.csv"
    assert schedule.is_file()
    import pandas as pd

    frame = pd.read_csv(schedule)
    # the rule-based peak guard, not idle batteries: the battery acts, never both ways at once
    assert summary["fallback"] == SAFE_SCHEDULE
    charge, discharge = frame["bess_charge_kw"], frame["bess_discharge_kw"]
    assert (charge > 0).any() or (discharge > 0).any()
    assert not ((charge > 0) & (discharge > 0)).any()
    (run,) = Registry(tmp_path / "out" / "registry.sqlite").runs()
    assert run["status"] == "fallback" and run["exit_code"] == 3
    # the fallback cannot keep the limit either, and says which, where, when, by how much
    plan = pd.read_csv(tmp_path / "out" / "2026-07-16" / "park_plan.csv")
    over = plan["park_net_import_kw"].abs() - 3000
    (entry,) = [e for e in summary["limits_exceeded"] if e["limit"] == "shared_limit_kw"]
    assert entry["where"] == "park" and entry["limit_kw"] == 3000
    assert entry["steps"] == int((over > 1e-6).sum()) > 0
    assert abs(entry["max_excess_kw"] - over.max()) < 1e-3
    assert entry["hours"] and all(len(h) == 11 for h in entry["hours"])  # "HH:MM-HH:MM"
    assert any("exceeds shared_limit_kw 3000 kW" in f for f in summary["flags"])


def _start_paused(out: Path) -> subprocess.Popen:
    env = dict(os.environ, VPP_JOB_PAUSE_BEFORE_RENAME_S="60")
    proc = subprocess.Popen(
        [
            VPP,
            "schedule",
            str(PARK),
            "--date",
            "2026-07-16",
            "--out",
            str(out),
            "--forecasts",
            str(FORECASTS),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list(out.glob(".2026-07-16.*/summary.json")):
        assert proc.poll() is None and time.monotonic() < deadline, (
            "the job did not reach the write"
        )
        time.sleep(0.2)
    return proc


def test_a_killed_run_leaves_nothing_and_is_marked_failed(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    proc = _start_paused(out)
    # a second start for the same date is refused while the first holds it
    assert (
        vpp.cli.main(
            [
                "schedule",
                str(PARK),
                "--date",
                "2026-07-16",
                "--out",
                str(out),
                "--forecasts",
                str(FORECASTS),
            ]
        )
        == 5
    )
    assert "in progress" in capsys.readouterr().err
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "2026-07-16").exists()  # nothing half-written in place
    outcome = job(out)
    assert outcome.status == "ok"
    assert not list(out.glob(".2026-07-16.*"))  # the killed run's temporary folder is gone
    runs = Registry(out / "registry.sqlite").runs()
    assert [r["status"] for r in runs] == ["ok", "failed"]
    assert "killed or crashed" in runs[1]["message"]


def test_a_stale_forecast_is_not_used() -> None:
    """The forecast issued 2026-07-15 14:00 is 25 h old at now (2026-07-16 15:00): used
    within the default 36 h, refused (clear sky instead, said why) when the age limit is
    20 h."""
    import pandas as pd

    from vpp.jobs import inputs as job_inputs
    from vpp.jobs.telemetry import empty_telemetry
    from vpp.portfolio.park import load_park
    from vpp.solar.forecast_reader import read_forecast

    scenario = load_park(PARK).sites["electronics"]
    forecast = read_forecast(FORECASTS / "xushuguan-2026-07-16.csv")
    index = pd.date_range("2026-07-17", periods=96, freq="15min", tz="Asia/Shanghai")
    now = pd.Timestamp("2026-07-16T15:00", tz="Asia/Shanghai")
    none = empty_telemetry(now)
    _, fresh = job_inputs.pv_forecast("electronics", scenario, index, now, [forecast], none, [])
    assert fresh["method"] == "forecast"
    _, stale = job_inputs.pv_forecast(
        "electronics", scenario, index, now, [forecast], none, [], max_age_h=20.0
    )
    assert stale["method"] == "clear sky" and "within 20 h" in stale["why"]


def test_bad_telemetry_gives_the_safe_schedule_and_says_where(tmp_path: Path) -> None:
    tele = tmp_path / "telemetry"
    tele.mkdir()
    (tele / "soc.csv").write_text("site,battery,when,soc_kwh\nelectronics,bess,x,100\n")
    outcome = job(tmp_path / "out", telemetry_dir=tele)
    assert outcome.status == "fallback" and outcome.exit_code == 2
    failure = outcome.summary["failure"]
    assert "soc.csv" in failure and "timestamp" in failure and "lacks columns" in failure
