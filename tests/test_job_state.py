"""The daily job plans from the state it will be in: rolled forward, and the month so far.

A one-site hourly park (``tests/job_parks.py``) whose plans are worked out by hand:

- **Rolled-forward state.** Load 40 kW all day; one 400 kWh battery, 100 kW, 0.9 both
  ways, no wear. Prices: valley 0.30 (00-08), flat 0.70 (08-18), peak 1.20 (18-22),
  shoulder 0.33 (22-24) CNY/kWh; no demand charge; no export. The value of a stored kWh
  at midnight is what refilling it in the next valley costs, 0.30 / 0.9 = 0.333 CNY
  (the valley can refill the whole battery). From 15:00 with 380 kWh measured:
  discharging to the load saves 0.9 x 0.70 = 0.63 (flat) and 0.9 x 1.20 = 1.08 (peak)
  per stored kWh, more than 0.333, and the battery holds more than the load takes
  until 22:00 (7 h x 40 kW / 0.9 = 311 kWh); in the shoulder, discharging saves
  0.9 x 0.33 = 0.297 < 0.333 and charging costs 0.33 / 0.9 = 0.367 > 0.333, so it idles.
  Midnight state: 380 - 7 x 40 / 0.9 = 68.89 kWh, and the target day starts there.
- **Month-to-date peak.** Load 100 kW with 150 kW at 10-12 each day; prices 0.50 except
  the peak 1.20 (18-22); demand charge 40 CNY/kW-month. Charging at 0.50 / 0.9 = 0.556
  to discharge at 0.9 x 1.20 = 1.08 pays; discharging at a 0.50 step saves 0.45 < 0.556
  and does not. With the grid meter's month-to-date peak of 200 kW above every import of
  the day, shaving the 150 kW hump buys nothing: the battery discharges only in the peak.
  Without the meter (month-to-date peak 0, flagged) the demand charge makes the plan shave
  the hump.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from job_parks import (
    DATE,
    calendar,
    read_frame,
    run_ok,
    write_park,
    write_rows,
    write_site,
    write_soc,
)

from vpp.jobs.states import SOC_MAX_AGE_H

NOW = "2026-07-15T15:00"
#: The LP's states against the hand-worked ones [kWh].
SOC_TOL_KWH = 1e-6
#: The LP's powers against the hand-worked ones [kW].
POWER_TOL_KW = 1e-6

ETA = 0.9
LOAD_KW = 40.0
MEASURED_KWH = 380.0
#: Hours from 15:00 to 22:00 the battery covers the load (flat 15-18, peak 18-22).
DISCHARGE_HOURS = 7
MIDNIGHT_KWH = MEASURED_KWH - DISCHARGE_HOURS * LOAD_KW / ETA
BESS = {
    "energy_kwh": 400.0,
    "charge_power_kw": 100.0,
    "discharge_power_kw": 100.0,
    "charge_efficiency": ETA,
    "discharge_efficiency": ETA,
    "soc_initial_fraction": 0.5,
    "final_soc": "at_least_initial",
}
ROLL_PRICES = calendar(
    [
        ("valley", "00:00", "08:00"),
        ("flat", "08:00", "18:00"),
        ("peak", "18:00", "22:00"),
        ("shoulder", "22:00", "24:00"),
    ],
    {"valley": 0.30, "flat": 0.70, "peak": 1.20, "shoulder": 0.33},
)


def _park(tmp: Path, load, prices, grid=None) -> Path:
    folder = tmp / "park"
    folder.mkdir(parents=True, exist_ok=True)
    site = write_site(folder, "plant", load, prices, bess=BESS, grid=grid)
    return write_park(folder, [site])


def test_the_target_day_starts_from_the_state_today_s_plan_leaves_at_midnight(tmp_path):
    park = _park(tmp_path, [LOAD_KW] * 24, ROLL_PRICES)
    tele = write_soc(tmp_path / "tele", "2026-07-15T15:00:00+08:00", MEASURED_KWH)
    outcome = run_ok(park, tmp_path / "out", NOW, tele)
    summary, folder = outcome.summary, outcome.out_dir
    assert summary["sources"]["soc"]["plant"]["bess"].startswith("380.0 kWh from telemetry")

    # the rest of today: the load covered from 15:00 to 22:00, idle in the shoulder
    today = read_frame(folder / "sites" / "plant" / "today.csv")
    assert len(today) == 9 and today.index[0].hour == 15
    discharge = today["bess_discharge_kw"].to_numpy()
    np.testing.assert_allclose(discharge[:DISCHARGE_HOURS], LOAD_KW, atol=POWER_TOL_KW)
    np.testing.assert_allclose(discharge[DISCHARGE_HOURS:], 0.0, atol=POWER_TOL_KW)
    np.testing.assert_allclose(today["bess_charge_kw"], 0.0, atol=POWER_TOL_KW)
    assert today["bess_soc_kwh"].iloc[0] == pytest.approx(MEASURED_KWH, abs=SOC_TOL_KWH)

    # its state at midnight, as reported and as the target day's first state
    revised = summary["revised_today"]["plant"]["final_soc_kwh"]["bess"]
    assert revised == pytest.approx(MIDNIGHT_KWH, abs=SOC_TOL_KWH)  # 68.89 kWh
    schedule = read_frame(folder / "sites" / "plant" / "schedule.csv")
    assert schedule.index[0] == pd.Timestamp(f"{DATE}T00:00+08:00")
    first = schedule["bess_soc_kwh"].iloc[0]
    assert first == pytest.approx(MIDNIGHT_KWH, abs=SOC_TOL_KWH)
    assert abs(first - MEASURED_KWH) > 100.0  # not the 15:00 reading
    state = json.loads((folder / "state.json").read_text())
    points = state["sites"]["plant"]["soc_kwh"]["bess"]
    assert points[f"{DATE}T00:00:00+08:00"] == pytest.approx(MIDNIGHT_KWH, abs=SOC_TOL_KWH)


def test_a_stale_reading_gives_way_to_the_previous_run_s_plan_at_now(tmp_path):
    park = _park(tmp_path, [LOAD_KW] * 24, ROLL_PRICES)
    out = tmp_path / "out"
    earlier = write_soc(tmp_path / "t1", "2026-07-15T12:00:00+08:00", MEASURED_KWH)
    run_ok(park, out, "2026-07-15T12:00", earlier)
    state = json.loads((out / DATE / "state.json").read_text())
    planned = state["sites"]["plant"]["soc_kwh"]["bess"]["2026-07-15T15:00:00+08:00"]

    stale = pd.Timestamp(NOW) - pd.Timedelta(hours=SOC_MAX_AGE_H + 0.5)
    tele = write_soc(tmp_path / "t2", stale.tz_localize("Asia/Shanghai").isoformat(), 250.0)
    outcome = run_ok(park, out, NOW, tele)
    source = outcome.summary["sources"]["soc"]["plant"]["bess"]
    assert source.startswith(f"{planned:.1f} kWh from previous run's plan at now")
    assert f"{DATE}/state.json" in source
    assert abs(planned - 250.0) > 1.0 and abs(planned - 0.5 * 400.0) > 1.0  # neither other
    assert any("more than 1 h before now" in f and "row 2" in f for f in outcome.summary["flags"])
    today = read_frame(outcome.out_dir / "sites" / "plant" / "today.csv")
    assert today["bess_soc_kwh"].iloc[0] == pytest.approx(planned, abs=SOC_TOL_KWH)


# ------------------------------------------------------------------ month-to-date peak

HUMP_KW = 150.0
BASE_KW = 100.0
MTD_PEAK_KW = 200.0
PEAK_PRICE = 1.20
PEAK_PRICES = calendar(
    [("flat", "00:00", "18:00"), ("peak", "18:00", "22:00"), ("late", "22:00", "24:00")],
    {"flat": 0.50, "peak": PEAK_PRICE, "late": 0.50},
)
DEMAND = {"basic_charge": {"method": "demand", "demand_cny_per_kw_month": 40.0}}


def _grid(folder: Path) -> Path:
    """The grid meter from the month's first hour to 14:00 (the step before now): 100 kW,
    one 200 kW hour on the 3rd."""
    stamps = pd.date_range("2026-07-01", "2026-07-15T14:00", freq="1h", tz="Asia/Shanghai")
    values = np.full(len(stamps), BASE_KW)
    values[50] = MTD_PEAK_KW
    rows = [f"{t.isoformat()},{v},0" for t, v in zip(stamps, values, strict=True)]
    write_rows(folder / "grid-plant.csv", "timestamp,import_kw,export_kw", rows)
    return folder


def test_the_month_to_date_peak_is_not_shaved_below(tmp_path):
    load = [HUMP_KW if h in (10, 11) else BASE_KW for h in range(24)]
    park = _park(tmp_path, load, PEAK_PRICES, grid=DEMAND)
    metered = _grid(write_soc(tmp_path / "t1", "2026-07-15T15:00:00+08:00", 200.0))
    unmetered = write_soc(tmp_path / "t2", "2026-07-15T15:00:00+08:00", 200.0)

    known = run_ok(park, tmp_path / "a", NOW, metered)
    peak = known.summary["sources"]["mtd_peak"]["plant"]
    assert peak["value_kw"] == MTD_PEAK_KW and peak["source"] == "telemetry grid-plant.csv"
    assert peak["month"] == "2026-07"
    assert known.summary["sites"]["plant"]["mtd_peak_kw"] == MTD_PEAK_KW
    day = read_frame(known.out_dir / "sites" / "plant" / "schedule.csv")
    assert day["grid_import_kw"].max() <= MTD_PEAK_KW + POWER_TOL_KW  # no added charge
    assert known.summary["sites"]["plant"]["peak_import_kw"] <= MTD_PEAK_KW + POWER_TOL_KW
    hump = day["load_kw"] == HUMP_KW
    assert hump.sum() == 2
    np.testing.assert_allclose(day.loc[hump, "grid_import_kw"], HUMP_KW, atol=POWER_TOL_KW)
    cheap = day["price_cny_per_kwh"] < PEAK_PRICE
    assert (day.loc[cheap, "bess_discharge_kw"] <= POWER_TOL_KW).all()  # only where it pays
    assert (day.loc[~cheap, "bess_discharge_kw"] > POWER_TOL_KW).all()  # and there it does
    assert not any("no month-to-date peak" in f for f in known.summary["flags"])

    blind = run_ok(park, tmp_path / "b", NOW, unmetered)
    peak = blind.summary["sources"]["mtd_peak"]["plant"]
    assert peak["value_kw"] == 0.0 and peak["source"] == "none (0 kW)"
    assert any("no month-to-date peak known" in f for f in blind.summary["flags"])
    shaved = read_frame(blind.out_dir / "sites" / "plant" / "schedule.csv")
    assert shaved["grid_import_kw"].max() < HUMP_KW - 1.0  # the hump is shaved
    assert (shaved.loc[hump, "bess_discharge_kw"] > POWER_TOL_KW).all()
