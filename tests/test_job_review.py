"""Regression tests of the daily job's review fixes (commit "Review fixes: ..."), one per fix.

Each test was checked to fail with its fix reverted. The park is the one of
``tests/test_job_intraday.py`` (``tests/job_parks.py``: one hourly site ``plant``):

- load 0 kW in the valley (00-08, 0.30 CNY/kWh), 100 kW in the flat (08-18, 0.70) and the
  shoulder (22-24, 0.32), 140 kW in the peak (18-22, 1.20);
- one 200 kWh battery, 50 kW both ways, charge efficiency 0.9, discharge 1.0.

The day-ahead plan for 2026-07-16 (from 15:00 the day before, battery full) imports at
most the flat load, 100 kW: that is the intraday runs' peak target. With 180 kWh at 16:00
the battery holds the peak hours to 100 kW (4 x 40 kWh = 160 kWh); a battery empty when
a peak-shaving event starts cannot lower the import below the load.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from job_parks import (
    DATE,
    EVENING_BESS,
    EVENING_LOAD_KW,
    EVENING_PRICES,
    SOC_HEADER,
    calendar,
    read_frame,
    run_ok,
    schedule_cli,
    write_park,
    write_rows,
    write_site,
    write_soc,
)

from vpp.jobs.schedule import run_schedule

TZ = "Asia/Shanghai"
DAY_AHEAD_NOW = "2026-07-15T15:00"
#: The LP's powers against the hand-worked ones [kW].
POWER_TOL_KW = 1e-6
#: The LP's states against the previous run's planned ones [kWh].
SOC_TOL_KWH = 1e-6
#: The day-ahead plan's peak import for DATE, the intraday peak target [kW].
TARGET_KW = 100.0


def _event(name: str, day: str, notified_at: str, requested_kw: float = 30.0) -> dict:
    """A two-hour peak-shaving event in the evening peak (19-21) of ``day``."""
    return {
        "name": name,
        "kind": "peak_shaving",
        "start": f"{day}T19:00",
        "end": f"{day}T21:00",
        "requested_kw": requested_kw,
        "notified_at": notified_at,
    }


def _park(tmp: Path, events=(), **site) -> Path:
    folder = tmp / "park"
    folder.mkdir(parents=True, exist_ok=True)
    path = write_site(folder, "plant", EVENING_LOAD_KW, EVENING_PRICES, bess=EVENING_BESS, **site)
    return write_park(folder, [path], events=events)


# ------------------------------------------------- 1. a measured load file ending at now


def test_a_load_file_ending_at_now_with_a_load_meter_is_scheduled(tmp_path, capsys):
    """The site's load is a measured series file with no row after ``now`` (the window
    reaches 2026-07-17 15:00); its meter ``load-plant.csv`` holds the 4 weeks before."""
    park = _park(tmp_path, load_until=DAY_AHEAD_NOW)
    series = pd.read_csv(park.parent / "plant-load.csv")
    assert series["timestamp"].iloc[-1] == "2026-07-15T14:00:00+08:00"  # history only
    tele = write_soc(tmp_path / "tele", DAY_AHEAD_NOW, 200.0)
    meter = pd.date_range("2026-06-15", "2026-07-15T14:00", freq="1h", tz=TZ)
    write_rows(
        tele / "load-plant.csv",
        "timestamp,load_kw",
        [f"{t.isoformat()},{EVENING_LOAD_KW[t.hour]}" for t in meter],
    )
    out = tmp_path / "out"
    code = schedule_cli(park, out, DAY_AHEAD_NOW, tele)
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / DATE / "summary.json").read_text())
    assert summary["status"] == "ok"
    assert summary["sources"]["load"]["plant"]["history"] == "telemetry load-plant.csv"
    day = read_frame(out / DATE / "sites" / "plant" / "schedule.csv")
    assert len(day) == 24
    np.testing.assert_allclose(
        day["load_kw"], EVENING_LOAD_KW, atol=POWER_TOL_KW
    )  # the meter's days


# --------------------------------------- 2. an offer decided intraday is kept by the next

#: Announced on the day, after the day-ahead run's now and before the first intraday's.
LATE_EVENT = _event("evening-late", DATE, f"{DATE}T10:00")


def test_an_offer_decided_intraday_is_kept_by_the_next_intradayrun_ok(tmp_path):
    park, out = _park(tmp_path, events=[LATE_EVENT]), tmp_path / "out"
    ahead = run_ok(park, out, DAY_AHEAD_NOW, write_soc(tmp_path / "t0", DAY_AHEAD_NOW, 200.0))
    assert ahead.summary["sources"]["not_yet_notified"] == [LATE_EVENT["name"]]
    assert ahead.summary["offers_kw"] == {}
    noon = f"{DATE}T12:00"
    first = run_ok(park, out, noon, write_soc(tmp_path / "t1", noon, 200.0), intraday=True)
    decided = first.summary["offers_kw"]
    assert decided == {LATE_EVENT["name"]: pytest.approx(LATE_EVENT["requested_kw"])}

    # at 19:00 the battery is empty: the event cannot be delivered, a fresh decision
    # (the control, in an empty output folder) offers less
    evening = f"{DATE}T19:00"
    empty = write_soc(tmp_path / "t2", evening, 0.0)
    fresh = run_ok(park, tmp_path / "fresh", evening, empty, intraday=True)
    assert fresh.summary["offers_kw"][LATE_EVENT["name"]] < decided[LATE_EVENT["name"]] - 1.0

    kept = run_ok(park, out, evening, empty, intraday=True)
    assert kept.summary["offers_kw"] == decided
    planned = kept.summary["planned_offers_kw"][LATE_EVENT["name"]]
    assert planned < decided[LATE_EVENT["name"]] - 1.0  # what the park can, up to the offer
    assert any(
        "cannot be delivered in full" in f and LATE_EVENT["name"] in f
        for f in kept.summary["flags"]
    )


# --------------------------------------------- 3. a notice not yet announced is dropped


def test_a_notice_announced_after_now_is_dropped_and_flagged(tmp_path):
    notices = tmp_path / "notices"
    notices.mkdir()
    known = _event("announced", DATE, "2026-07-15T10:00")
    # tonight's event, inside the window, announced at 18:00: not known at 15:00
    future = _event("not-yet", "2026-07-15", "2026-07-15T18:00")
    (notices / "n.yaml").write_text(yaml.safe_dump([known, future]), encoding="utf-8")
    outcome = run_ok(
        _park(tmp_path),
        tmp_path / "out",
        DAY_AHEAD_NOW,
        write_soc(tmp_path / "t", DAY_AHEAD_NOW, 200.0),
        notices_dir=notices,
    )
    summary = outcome.summary
    assert summary["sources"]["notices"] == ["announced"]
    assert [e["name"] for e in summary["demand_response"]] == ["announced"]
    assert "not-yet" not in summary["offers_kw"]
    (flag,) = [f for f in summary["flags"] if "'not-yet'" in f]
    assert "dropped" in flag
    assert "announced at 2026-07-15T18:00:00+08:00, after now" in flag


# ------------------------------------ 4. the day's DR payment counts the target day only


def test_the_dr_payment_counts_only_the_target_day_s_events(tmp_path):
    today = _event("tonight", "2026-07-15", "2026-07-15T09:00")
    target = _event("tomorrow", DATE, "2026-07-15T09:00")
    outcome = run_ok(
        _park(tmp_path, events=[today, target]),
        tmp_path / "out",
        DAY_AHEAD_NOW,
        write_soc(tmp_path / "t", DAY_AHEAD_NOW, 200.0),
    )
    summary = outcome.summary
    by_name = {e["name"]: e for e in summary["demand_response"]}
    assert by_name["tonight"]["date"] == "2026-07-15"
    assert by_name["tomorrow"]["date"] == DATE
    paid = {n: e["settlement"]["payment_cny"] for n, e in by_name.items()}
    assert paid["tonight"] > 0.0 and paid["tomorrow"] > 0.0  # both planned and paid
    assert summary["dr_payment_cny"] == pytest.approx(paid["tomorrow"])
    assert summary["net_cost_cny"] == pytest.approx(summary["total_cost_cny"] - paid["tomorrow"])


# ------------------------------------- 5. the month-to-date peak of a target day in a new month

HUMP_KW = 150.0
BASE_KW = 100.0
JULY_PEAK_KW = 200.0
PEAK_PRICES = calendar(
    [("flat", "00:00", "18:00"), ("peak", "18:00", "22:00"), ("late", "22:00", "24:00")],
    {"flat": 0.50, "peak": 1.20, "late": 0.50},
)
DEMAND = {"basic_charge": {"method": "demand", "demand_cny_per_kw_month": 40.0}}


def test_a_target_day_in_a_new_month_starts_its_peak_at_zero(tmp_path):
    """July's metered peak (200 kW) is the window's state for July only; 2026-08-01 starts
    August at 0: its figure says so, and its plan shaves the 150 kW hump (with July's 200 kW
    as August's floor it would not: ``tests/test_job_state.py``)."""
    folder = tmp_path / "park"
    folder.mkdir()
    load = [HUMP_KW if h in (10, 11) else BASE_KW for h in range(24)]
    site = write_site(folder, "plant", load, PEAK_PRICES, bess=EVENING_BESS, grid=DEMAND)
    park = write_park(folder, [site])
    now = "2026-07-31T15:00"
    tele = write_soc(tmp_path / "tele", now, 200.0)
    stamps = pd.date_range("2026-07-01", "2026-07-31T14:00", freq="1h", tz=TZ)
    values = np.full(len(stamps), BASE_KW)
    values[50] = JULY_PEAK_KW
    write_rows(
        tele / "grid-plant.csv",
        "timestamp,import_kw,export_kw",
        [f"{t.isoformat()},{v},0" for t, v in zip(stamps, values, strict=True)],
    )
    outcome = run_schedule(
        park,
        "2026-08-01",
        out_dir=tmp_path / "out",
        forecasts_dir=None,
        telemetry_dir=tele,
        now=now,
    )
    assert outcome.status == "ok", outcome.summary.get("failure")
    summary = outcome.summary
    source = summary["sources"]["mtd_peak"]["plant"]
    assert source["value_kw"] == JULY_PEAK_KW and source["month"] == "2026-07"
    assert summary["sites"]["plant"]["mtd_peak_kw"] == 0.0
    assert summary["sites"]["plant"]["mtd_peak_month"] == "2026-08"
    day = read_frame(outcome.out_dir / "sites" / "plant" / "schedule.csv")
    assert day.index[0] == pd.Timestamp("2026-08-01T00:00+08:00")
    assert day["grid_import_kw"].max() < HUMP_KW - 1.0


# ------------------------------------------- 6. an intraday target caps only the rest of today

#: Saturday 2026-07-18 (in the 16:00 intraday window, not in the day-ahead one): 200 kW in
#: the flat hours, more than the battery's 50 kW can bring down to the 100 kW target.
SATURDAY_LOAD = [0.0] * 8 + [200.0] * 10 + [140.0] * 4 + [100.0] * 2


def test_the_intraday_peak_target_caps_only_the_rest_of_today(tmp_path):
    park = _park(tmp_path, load_on_weekday_kw={5: SATURDAY_LOAD})
    out = tmp_path / "out"
    ahead = run_ok(park, out, DAY_AHEAD_NOW, write_soc(tmp_path / "t0", DAY_AHEAD_NOW, 200.0))
    assert ahead.summary["sites"]["plant"]["peak_import_kw"] == pytest.approx(
        TARGET_KW, abs=POWER_TOL_KW
    )
    now = f"{DATE}T16:00"
    outcome = run_ok(park, out, now, write_soc(tmp_path / "t1", now, 180.0), intraday=True)
    summary = outcome.summary
    assert summary["sources"]["peak_targets_kw"] == {"plant": pytest.approx(TARGET_KW)}
    assert not any("broken" in f for f in summary["flags"])
    rest = read_frame(outcome.out_dir / "sites" / "plant" / "schedule.csv")
    assert rest["grid_import_kw"].max() <= TARGET_KW + POWER_TOL_KW
    # the window's look-ahead (past midnight) imports above the target on Saturday
    window = outcome.decision.window.index
    imports = np.asarray(outcome.decision.plan.plans["plant"]["grid_import_kw"], float)
    after = window >= pd.Timestamp("2026-07-17T00:00+08:00")
    assert imports[~after].max() <= TARGET_KW + POWER_TOL_KW
    assert (
        imports[after].max() >= SATURDAY_LOAD[8] - EVENING_BESS["discharge_power_kw"] - POWER_TOL_KW
    )


# ---------------------------------------- 7. a fallback's state.json starts the next run


def test_the_next_run_starts_from_the_fallback_s_state(tmp_path, capsys):
    park, out = _park(tmp_path), tmp_path / "out"
    bad = write_rows(
        tmp_path / "bad" / "soc.csv", SOC_HEADER, [f"plant,bess,{DAY_AHEAD_NOW}:00+08:00,nan"]
    ).parent
    code = schedule_cli(park, out, DAY_AHEAD_NOW, bad)
    assert code == 2, capsys.readouterr().err
    summary = json.loads((out / DATE / "summary.json").read_text())
    assert summary["status"] == "fallback"
    state = json.loads((out / DATE / "state.json").read_text())
    assert state["now"] == f"{DAY_AHEAD_NOW}:00+08:00"
    later = "2026-07-15T20:00"
    planned = state["sites"]["plant"]["soc_kwh"]["bess"][f"{later}:00+08:00"]
    # the fallback's schedule itself: its state at 20:00 is the one the next run takes
    today = read_frame(out / DATE / "sites" / "plant" / "today.csv")
    assert today.loc[pd.Timestamp(f"{later}+08:00"), "bess_soc_kwh"] == pytest.approx(planned)

    empty = tmp_path / "empty"
    empty.mkdir()
    outcome = run_ok(park, out, later, empty)
    source = outcome.summary["sources"]["soc"]["plant"]["bess"]
    assert source.startswith(f"{planned:.1f} kWh from previous run's plan at now")
    assert f"{DATE}/state.json" in source
    first = read_frame(outcome.out_dir / "sites" / "plant" / "today.csv")["bess_soc_kwh"].iloc[0]
    assert first == pytest.approx(planned, abs=SOC_TOL_KWH)


# ------------------- found by these tests: an intraday re-plan's state starts the next run


def test_the_next_intraday_run_starts_from_the_dispatched_intraday_plan(tmp_path):
    """The 16:00 re-plan (battery measured empty) is the plan dispatched; a 17:00 re-plan
    without SOC telemetry takes its state at 17:00, not the day-ahead plan's (which
    expected a battery full at 16:00)."""
    park, out = _park(tmp_path), tmp_path / "out"
    run_ok(park, out, DAY_AHEAD_NOW, write_soc(tmp_path / "t0", DAY_AHEAD_NOW, 200.0))
    now = f"{DATE}T16:00"
    first = run_ok(park, out, now, write_soc(tmp_path / "t1", now, 0.0), intraday=True)
    later = f"{DATE}T17:00"
    state = json.loads((first.out_dir / "state.json").read_text())
    planned = state["sites"]["plant"]["soc_kwh"]["bess"][f"{later}:00+08:00"]
    day_ahead = json.loads((out / DATE / "state.json").read_text())
    assert abs(day_ahead["sites"]["plant"]["soc_kwh"]["bess"][f"{later}:00+08:00"] - planned) > 1.0
    empty = tmp_path / "empty"
    empty.mkdir()
    outcome = run_ok(park, out, later, empty, intraday=True)
    source = outcome.summary["sources"]["soc"]["plant"]["bess"]
    assert source.startswith(f"{planned:.1f} kWh from previous run's plan at now")
    assert f"{DATE}/intraday/1600/state.json" in source


def test_events_are_planned_with_a_load_file_ending_at_now(tmp_path):
    """A decision estimates an event's baseline from the whole days before its own date
    (a load file ending at now has nothing later); the settlement reads every day."""
    tonight = _event("tonight", "2026-07-15", "2026-07-15T09:00")
    target = _event("tomorrow", DATE, "2026-07-15T09:00")
    park = _park(tmp_path, events=[tonight, target], load_until=DAY_AHEAD_NOW)
    tele = write_soc(tmp_path / "t", DAY_AHEAD_NOW, 200.0)
    outcome = run_ok(park, tmp_path / "out", DAY_AHEAD_NOW, tele)
    assert not any("dropped" in f for f in outcome.summary["flags"])
    assert {e["name"] for e in outcome.summary["demand_response"]} == {"tonight", "tomorrow"}
