"""The daily job plans a demand charge from the peak already metered this month.

A one-site hourly park (``tests/job_parks.py``) worked out by hand. Load 100 kW with a
150 kW hump at 10-12 every day; one 400 kWh battery, 100 kW, 0.9 both ways, no wear.
Every hour costs 0.50 CNY/kWh, so the battery moves energy only for the demand charge
``pk``: 40 CNY/kW-month on the import in the TOU period ``peak`` (10-12), billed per
month. Shaving 1 kW of both hump hours costs 2 kWh of round-trip losses,
2 x 0.50 x (1 / 0.81 - 1) = 0.23 CNY, far below the 40 CNY the kW saves.

The grid meter (``grid-plant.csv``, hourly from the month's first hour to 14:00, the hour
before ``now``) reads 100 kW but for 140 kW at 11:00 on the 3rd (in the window) and
300 kW at 03:00 on the 5th (outside it: not billed). So the billed peak so far is
140 kW: shaving the hump to 140 kW pays (10 kW x 40 CNY), shaving below it buys nothing
and costs losses. The target day's hump imports exactly 140 kW. Without the measured
floor (the scenario's ``peak_floor_kw`` 0) the plan shaves the hump below 140 kW; with
the 300 kW reading counted (no window) it would not shave at all.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from job_parks import calendar, read_frame, run_ok, write_park, write_rows, write_site, write_soc

NOW = "2026-07-15T15:00"
#: The LP's powers against the hand-worked ones [kW].
POWER_TOL_KW = 1e-6
BASE_KW = 100.0
HUMP_KW = 150.0
#: The metered billed peak so far (07-03 11:00, in the window) [kW].
METERED_PEAK_KW = 140.0
#: A reading outside the window (07-05 03:00) [kW].
OFF_WINDOW_KW = 300.0
PRICES = calendar(
    [("flat", "00:00", "10:00"), ("peak", "10:00", "12:00"), ("late", "12:00", "24:00")],
    {"flat": 0.50, "peak": 0.50, "late": 0.50},
)
BESS = {
    "energy_kwh": 400.0,
    "charge_power_kw": 100.0,
    "discharge_power_kw": 100.0,
    "charge_efficiency": 0.9,
    "discharge_efficiency": 0.9,
    "soc_initial_fraction": 0.5,
    "final_soc": "at_least_initial",
}
CHARGE = {"name": "pk", "rate_cny_per_kw": 40.0, "on": "import", "per": "month"}


def _park(tmp: Path) -> Path:
    folder = tmp / "park"
    folder.mkdir(parents=True, exist_ok=True)
    load = [HUMP_KW if h in (10, 11) else BASE_KW for h in range(24)]
    site = write_site(folder, "plant", load, PRICES, bess=BESS)
    data = yaml.safe_load(site.read_text(encoding="utf-8"))
    data["site"]["demand_charges"] = [dict(CHARGE, periods=["peak"])]
    site.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return write_park(folder, [site])


def _grid(folder: Path) -> Path:
    """The grid meter from the month's first hour to 14:00 (module docstring)."""
    stamps = pd.date_range("2026-07-01", "2026-07-15T14:00", freq="1h", tz="Asia/Shanghai")
    values = np.full(len(stamps), BASE_KW)
    values[stamps.get_loc(pd.Timestamp("2026-07-03T11:00", tz="Asia/Shanghai"))] = METERED_PEAK_KW
    values[stamps.get_loc(pd.Timestamp("2026-07-05T03:00", tz="Asia/Shanghai"))] = OFF_WINDOW_KW
    rows = [f"{t.isoformat()},{v},0" for t, v in zip(stamps, values, strict=True)]
    write_rows(folder / "grid-plant.csv", "timestamp,import_kw,export_kw", rows)
    return folder


def _hump(folder: Path) -> pd.Series:
    day = read_frame(folder / "sites" / "plant" / "schedule.csv")
    hump = day["load_kw"] == HUMP_KW
    assert hump.sum() == 2
    return day.loc[hump, "grid_import_kw"]


def test_the_metered_peak_of_the_month_is_the_charge_s_floor(tmp_path):
    park = _park(tmp_path)
    metered = _grid(write_soc(tmp_path / "t1", "2026-07-15T15:00:00+08:00", 200.0))
    known = run_ok(park, tmp_path / "a", NOW, metered)
    source = known.summary["sources"]["demand_peaks"]["plant"]["pk"]
    assert source == {
        "value_kw": METERED_PEAK_KW,
        "period": "2026-07",
        "source": "telemetry grid-plant.csv",
    }
    # shaved to the floor, not below it (below buys nothing and costs losses)
    np.testing.assert_allclose(_hump(known.out_dir), METERED_PEAK_KW, atol=POWER_TOL_KW)
    state = json.loads((known.out_dir / "state.json").read_text(encoding="utf-8"))
    carried = state["sites"]["plant"]["demand_peaks_kw"]["pk"]
    assert carried["period"] == "2026-07" and carried["value"] == METERED_PEAK_KW
    planned = pd.Series(carried["planned_kw"])
    stamps = pd.to_datetime(planned.index, format="ISO8601").tz_convert("Asia/Shanghai")
    assert set(stamps.hour) == {10, 11}  # the window's steps only, every one in July
    assert (stamps.month == 7).all() and len(stamps) >= 2
    np.testing.assert_allclose(planned.to_numpy(float), METERED_PEAK_KW, atol=POWER_TOL_KW)

    # the next run without a meter reading starts from this plan's peak
    later = run_ok(park, tmp_path / "a", "2026-07-16T15:00", None, date="2026-07-17")
    source = later.summary["sources"]["demand_peaks"]["plant"]["pk"]
    assert source["value_kw"] == METERED_PEAK_KW and source["period"] == "2026-07"
    assert source["source"].startswith("previous run's plan")
    np.testing.assert_allclose(_hump(later.out_dir), METERED_PEAK_KW, atol=POWER_TOL_KW)


def test_without_a_meter_or_plan_the_scenario_floor_is_used_and_flagged(tmp_path):
    park = _park(tmp_path)
    blind = run_ok(park, tmp_path / "b", NOW, write_soc(tmp_path / "t2", NOW, 200.0))
    source = blind.summary["sources"]["demand_peaks"]["plant"]["pk"]
    assert source["source"] == "scenario peak_floor_kw" and source["value_kw"] == 0.0
    assert any("demand charge 'pk': no billed peak so far" in f for f in blind.summary["flags"])
    assert _hump(blind.out_dir).max() < METERED_PEAK_KW - 1.0  # shaved below 140 kW


def test_a_fallback_carries_the_billed_peak_too(tmp_path):
    """A bad ``soc.csv`` row the next day stops the optimization (the fallback writes the
    schedule) and voids that day's telemetry: the charge's billed peak so far comes from
    the previous run's plan (140 kW) and the fallback's ``state.json`` carries it."""
    from vpp.jobs.schedule import run_schedule

    park = _park(tmp_path)
    metered = _grid(write_soc(tmp_path / "t1", "2026-07-15T15:00:00+08:00", 200.0))
    run_ok(park, tmp_path / "c", NOW, metered)
    bad = write_rows(
        tmp_path / "t3" / "soc.csv",
        "site,battery,timestamp,soc_kwh",
        ["plant,bess,2026-07-16T15:00:00+08:00,n/a"],
    ).parent
    outcome = run_schedule(
        park,
        "2026-07-17",
        out_dir=tmp_path / "c",
        forecasts_dir=None,
        telemetry_dir=bad,
        now="2026-07-16T15:00",
    )
    assert outcome.status == "fallback"
    source = outcome.summary["sources"]["demand_peaks"]["plant"]["pk"]
    assert source["source"].startswith("previous run's plan")
    state = json.loads((outcome.out_dir / "state.json").read_text(encoding="utf-8"))
    carried = state["sites"]["plant"]["demand_peaks_kw"]["pk"]
    assert carried["period"] == "2026-07" and carried["value"] == METERED_PEAK_KW
    planned = pd.Series(carried["planned_kw"], dtype=float)
    stamps = pd.to_datetime(planned.index, format="ISO8601").tz_convert("Asia/Shanghai")
    assert len(stamps) >= 1 and set(stamps.hour) <= {10, 11}
