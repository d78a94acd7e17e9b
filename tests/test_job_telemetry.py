"""The daily job's telemetry: bad readings are named input errors, ages pick the source.

Every kind of bad reading (not a finite number, negative power, future-dated, repeated,
a timestamp that does not parse, a column missing) is a DataError naming the file, the
row (header = line 1) and the column; a state of charge outside the battery's bounds is
the documented exception (clipped and flagged). A reading older than its maximum age is
not used: the next source is, flagged (docs/telemetry.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vpp.errors import DataError
from vpp.jobs.states import (
    METER_MAX_GAP_H,
    SOC_MAX_AGE_H,
    battery_soc_kwh,
    mtd_peak_kw,
    park_mtd_peak_kw,
    read_final_soc,
    read_previous_plan,
    site_states,
)
from vpp.jobs.telemetry import empty_telemetry, read_telemetry

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "scenarios" / "park" / "xushuguan-park.yaml"
TZ = "Asia/Shanghai"
NOW = pd.Timestamp("2026-07-15T15:00", tz=TZ)
STEP = pd.Timedelta(minutes=15)
#: (scenario initial, lowest, highest) state of a 1000 kWh battery [kWh].
BOUNDS = (500.0, 100.0, 950.0)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def problem_text(folder: Path, names=("a",), now: pd.Timestamp = NOW) -> str:
    with pytest.raises(DataError) as err:
        read_telemetry(folder, list(names), now)
    return str(err.value)


SOC_HEADER = "site,battery,timestamp,soc_kwh\n"
GOOD_SOC = "a,bess,2026-07-15T14:45:00+08:00,400\n"


@pytest.mark.parametrize("cell", ["n/a", "", "abc", "nan", "inf", "-inf", "1e999"])
def test_a_soc_reading_that_is_not_a_finite_number_is_named(tmp_path: Path, cell: str) -> None:
    folder = write(
        tmp_path, "soc.csv", SOC_HEADER + GOOD_SOC + f"a,bess2,2026-07-15T14:45:00+08:00,{cell}\n"
    )
    text = problem_text(folder)
    assert "soc.csv" in text and "row 3, column soc_kwh" in text and "not a finite number" in text


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("load-a.csv", "timestamp,load_kw\n2026-07-15T14:00:00+08:00,-5\n", "load_kw"),
        ("pv-a.csv", "timestamp,roof_pv_kw\n2026-07-15T14:00:00+08:00,-0.1\n", "roof_pv_kw"),
        (
            "grid-a.csv",
            "timestamp,import_kw,export_kw\n2026-07-15T14:00:00+08:00,3,-1\n",
            "export_kw",
        ),
        (
            "ev-a.csv",
            "timestamp,fleet,session,delivered_kwh\n2026-07-15T14:00:00+08:00,f,v1,-2\n",
            "delivered_kwh",
        ),
    ],
)
def test_a_negative_reading_is_named(tmp_path: Path, name: str, text: str, column: str) -> None:
    out = problem_text(write(tmp_path, name, text))
    assert name in out and f"row 2, column {column}" in out and "negative" in out


def test_a_future_dated_reading_is_named(tmp_path: Path) -> None:
    text = (
        "timestamp,import_kw,export_kw\n"
        "2026-07-15T14:45:00+08:00,3,0\n2026-07-15T15:15:00+08:00,3,0\n"
    )
    out = problem_text(write(tmp_path, "grid-a.csv", text))
    assert "grid-a.csv" in out and "row 3, column timestamp" in out and "future-dated" in out
    # at now itself it is not in the future
    read_telemetry(tmp_path, ["a"], pd.Timestamp("2026-07-15T15:15", tz=TZ))


def test_a_repeated_reading_is_named(tmp_path: Path) -> None:
    out = problem_text(write(tmp_path, "soc.csv", SOC_HEADER + GOOD_SOC + GOOD_SOC))
    assert "row 3, column timestamp" in out and "repeated" in out
    pv = "timestamp,roof_pv_kw\n2026-07-15T14:00:00+08:00,1\n2026-07-15T06:00:00Z,2\n"
    out = problem_text(write(tmp_path / "pv", "pv-a.csv", pv))  # the same instant, written twice
    assert "pv-a.csv" in out and "row 3, column timestamp" in out and "repeated" in out


@pytest.mark.parametrize(
    "stamp", ["yesterday", "", "2026-07-15T14:00:00", "2026-13-01T00:00+08:00"]
)
def test_a_bad_timestamp_is_named(tmp_path: Path, stamp: str) -> None:
    out = problem_text(write(tmp_path, "load-a.csv", f"timestamp,load_kw\n{stamp},5\n"))
    assert "load-a.csv" in out and "row 2, column timestamp" in out and "offset" in out


@pytest.mark.parametrize(
    ("name", "text", "missing"),
    [
        ("soc.csv", "site,battery,when,soc_kwh\na,bess,x,1\n", "timestamp"),
        ("grid-a.csv", "timestamp,import_kw\n2026-07-15T14:00:00+08:00,1\n", "export_kw"),
        ("pv-a.csv", "timestamp,roof_kw\n2026-07-15T14:00:00+08:00,1\n", "<array>_pv_kw"),
        ("ev-a.csv", "timestamp,fleet,delivered_kwh\n2026-07-15T14:00:00+08:00,f,1\n", "session"),
    ],
)
def test_a_missing_column_is_named(tmp_path: Path, name: str, text: str, missing: str) -> None:
    out = problem_text(write(tmp_path, name, text))
    assert name in out and "lacks columns" in out and missing in out and "row 1" in out


def test_every_problem_of_every_file_is_raised_together(tmp_path: Path) -> None:
    write(tmp_path, "soc.csv", SOC_HEADER + "a,bess,2026-07-15T14:45:00+08:00,x\n")
    write(tmp_path, "load-a.csv", "timestamp,load_kw\n2026-07-15T14:00:00+08:00,-1\n")
    with pytest.raises(DataError) as err:
        read_telemetry(tmp_path, ["a"], NOW)
    assert {p.file.split("/")[-1] for p in err.value.problems} == {"soc.csv", "load-a.csv"}


def test_good_files_are_read_in_now_s_zone(tmp_path: Path) -> None:
    write(tmp_path, "soc.csv", SOC_HEADER + "a,bess,2026-07-15T06:45:00Z,400\n")
    write(
        tmp_path,
        "ev-a.csv",
        "timestamp,fleet,session,delivered_kwh\n2026-07-15T14:00:00+08:00,f,v1,2\n",
    )
    tele = read_telemetry(tmp_path, ["a", "b"], NOW)
    assert tele.soc["timestamp"].iloc[0] == pd.Timestamp("2026-07-15T14:45", tz=TZ)
    assert tele.soc["soc_kwh"].iloc[0] == 400.0 and tele.soc["row"].iloc[0] == 2
    assert tele.ev["a"]["delivered_kwh"].iloc[0] == 2.0 and "b" not in tele.ev
    assert read_telemetry(None, ["a"], NOW).soc is None


# ------------------------------------------------------------------ states and ages


def soc_telemetry(tmp_path: Path, stamp: str, value: float):
    write(tmp_path, "soc.csv", SOC_HEADER + f"a,bess,{stamp},{value}\n")
    return read_telemetry(tmp_path, ["a"], NOW)


def state_json(out: Path, date: str, run_now: str, soc: dict, peak: dict | None = None) -> Path:
    folder = out / date
    folder.mkdir(parents=True, exist_ok=True)
    site: dict = {"soc_kwh": {"bess": soc}}
    if peak is not None:
        site["mtd_peak_kw"] = peak
    (folder / "state.json").write_text(json.dumps({"now": run_now, "sites": {"a": site}}))
    return folder / "state.json"


def test_a_state_outside_the_bounds_is_clipped_and_flagged(tmp_path: Path) -> None:
    tele = soc_telemetry(tmp_path, "2026-07-15T14:45:00+08:00", 990.0)
    flags: list[str] = []
    value, source = battery_soc_kwh("a", "bess", BOUNDS, tele, None, None, NOW, flags)
    assert value == 950.0 and "telemetry" in source and "clipped" in source
    assert any("outside its bounds" in f for f in flags)


def test_a_stale_soc_reading_gives_way_to_the_previous_plan(tmp_path: Path) -> None:
    old = NOW - pd.Timedelta(hours=SOC_MAX_AGE_H) - STEP
    tele = soc_telemetry(tmp_path / "t", old.isoformat(), 400.0)
    out = tmp_path / "out"
    plan = {"2026-07-15T14:00:00+08:00": 600.0, "2026-07-15T16:00:00+08:00": 700.0}
    state_json(out, "2026-07-15", "2026-07-14T15:00:00+08:00", plan)
    flags: list[str] = []
    previous = read_previous_plan(out, NOW, flags)
    assert previous is not None
    value, source = battery_soc_kwh("a", "bess", BOUNDS, tele, previous, None, NOW, flags)
    assert value == pytest.approx(650.0) and "previous run's plan" in source  # 15:00 of 14..16
    assert any("more than 1 h before now" in f for f in flags)
    # without a plan: the scenario's initial state, flagged
    flags = []
    value, source = battery_soc_kwh("a", "bess", BOUNDS, tele, None, None, NOW, flags)
    assert value == 500.0 and source == "scenario initial state" and len(flags) == 2
    # a fresh reading wins over the plan
    fresh = soc_telemetry(tmp_path / "f", "2026-07-15T14:30:00+08:00", 420.0)
    value, source = battery_soc_kwh("a", "bess", BOUNDS, fresh, previous, None, NOW, [])
    assert value == 420.0 and "telemetry" in source


def test_the_newest_plan_holding_now_is_chosen_and_none_from_the_future(tmp_path: Path) -> None:
    out = tmp_path / "out"
    span = {"2026-07-15T00:00:00+08:00": 300.0, "2026-07-16T00:00:00+08:00": 300.0}
    state_json(out, "2026-07-14", "2026-07-13T15:00:00+08:00", span)
    state_json(out, "2026-07-15", "2026-07-14T15:00:00+08:00", {k: 400.0 for k in span})
    state_json(out, "2026-07-16", "2026-07-15T16:00:00+08:00", {k: 900.0 for k in span})  # later
    (out / "2026-07-13").mkdir()
    (out / "2026-07-13" / "state.json").write_text("{not json")
    flags: list[str] = []
    previous = read_previous_plan(out, NOW, flags)
    assert previous is not None and previous.file.endswith("2026-07-15/state.json")
    assert previous.soc_kwh["a"]["bess"].iloc[0] == 400.0
    assert any("2026-07-13" in f and "not used" in f for f in flags)


def test_final_soc_is_used_only_at_the_end_of_its_date(tmp_path: Path) -> None:
    (tmp_path / "2026-07-15").mkdir()
    (tmp_path / "2026-07-15" / "final_soc.json").write_text('{"a": {"bess": 333.0}}')
    midnight = pd.Timestamp("2026-07-16T00:00", tz=TZ)
    assert read_final_soc(tmp_path, midnight, []) == {"a": {"bess": 333.0}}
    assert read_final_soc(tmp_path, midnight + STEP, []) is None


def grid_csv(folder: Path, stamps: pd.DatetimeIndex, import_kw) -> Path:
    frame = pd.DataFrame(
        {"timestamp": [t.isoformat() for t in stamps], "import_kw": import_kw, "export_kw": 0.0}
    )
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "grid-a.csv", index=False)
    return folder


def month_so_far(end: pd.Timestamp = NOW) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp("2026-07-01", tz=TZ), end - STEP, freq=STEP)


def test_the_month_to_date_peak_comes_from_the_grid_meter(tmp_path: Path) -> None:
    stamps = month_so_far()
    values = np.full(len(stamps), 100.0)
    values[500] = 812.5
    tele = read_telemetry(grid_csv(tmp_path, stamps, values), ["a"], NOW)
    flags: list[str] = []
    peak, source = mtd_peak_kw("a", tele, None, NOW, STEP, flags)
    assert peak == 812.5 and source["month"] == "2026-07" and "telemetry" in source["source"]
    assert not flags
    assert park_mtd_peak_kw(tele, ["a"], NOW, STEP) == 812.5


def test_a_gap_in_the_grid_meter_gives_the_previous_plan_then_zero(tmp_path: Path) -> None:
    stamps = month_so_far()
    gap = int(METER_MAX_GAP_H / 0.25) + 2
    stamps = stamps.delete(slice(200, 200 + gap))
    tele = read_telemetry(grid_csv(tmp_path / "t", stamps, 100.0), ["a"], NOW)
    out = tmp_path / "out"
    state_json(
        out,
        "2026-07-15",
        "2026-07-14T15:00:00+08:00",
        {"2026-07-15T00:00:00+08:00": 1.0, "2026-07-16T00:00:00+08:00": 1.0},
        {"month": "2026-07", "value": 640.0},
    )
    previous = read_previous_plan(out, NOW, [])
    flags: list[str] = []
    peak, source = mtd_peak_kw("a", tele, previous, NOW, STEP, flags)
    assert peak == 640.0 and "previous run" in source["source"]
    assert any("does not cover 2026-07" in f for f in flags)
    assert park_mtd_peak_kw(tele, ["a"], NOW, STEP) is None
    flags = []
    peak, source = mtd_peak_kw("a", tele, None, NOW, STEP, flags)
    assert peak == 0.0 and any("may buy a new peak" in f for f in flags)
    # a stale meter (last reading 2 h old) does not cover the month either
    stale = read_telemetry(
        grid_csv(tmp_path / "s", month_so_far(NOW - pd.Timedelta(hours=2)), 90.0), ["a"], NOW
    )
    assert mtd_peak_kw("a", stale, None, NOW, STEP, [])[0] == 0.0


def window_inputs(scenario, now: pd.Timestamp, days: int = 2):
    from vpp.inputs.site import build_inputs

    horizon = scenario.horizon.model_copy(
        update={"start": now.tz_localize(None).to_pydatetime(), "end": None, "days": days}
    )
    return build_inputs(scenario.model_copy(update={"horizon": horizon}))


def test_site_states_take_soc_and_peak_in_the_engine_s_form(tmp_path: Path) -> None:
    from vpp.portfolio.park import load_park

    scenario = load_park(PARK).sites["electronics"]
    inputs = window_inputs(scenario, NOW)
    write(
        tmp_path,
        "soc.csv",
        SOC_HEADER.replace("a,", "") + "electronics,bess,2026-07-15T14:45:00+08:00,720.5\n",
    )
    stamps = month_so_far()
    frame = pd.DataFrame(
        {"timestamp": [t.isoformat() for t in stamps], "import_kw": 1500.0, "export_kw": 0.0}
    )
    frame.to_csv(tmp_path / "grid-electronics.csv", index=False)
    tele = read_telemetry(tmp_path, ["electronics"], NOW)
    flags: list[str] = []
    sources: dict = {}
    states = site_states("electronics", scenario, inputs, tele, None, NOW, flags, sources)
    assert states["bess"] == 720.5 and sources["soc"]["electronics"]["bess"].startswith("720.5 kWh")
    (grid,) = [
        v
        for v in states.values()
        if isinstance(v, np.ndarray) and len(v) == len(inputs.horizon.months)
    ]
    assert grid[0] == 1500.0 and sources["mtd_peak"]["electronics"]["value_kw"] == 1500.0
    # no telemetry: scenario state and a zero peak, flagged
    flags = []
    states = site_states(
        "electronics", scenario, inputs, empty_telemetry(NOW), None, NOW, flags, {}
    )
    assert any("may buy a new peak" in f for f in flags)


def test_a_measured_ev_session_needs_the_rest_of_its_energy(tmp_path: Path) -> None:
    """truck01 plugged in 20:00..06:30 for 170 kWh; at 22:00 it was given 100 kWh: it
    needs 70 kWh more, whatever its pro-rata share of the window."""
    from vpp.portfolio.park import load_park

    now = pd.Timestamp("2026-07-15T22:00", tz=TZ)
    scenario = load_park(PARK).sites["logistics"]
    inputs = window_inputs(scenario, now)
    text = "timestamp,fleet,session,delivered_kwh\n"
    text += "2026-07-15T21:45:00+08:00,trucks,truck01,100\n"
    text += "2026-07-15T21:45:00+08:00,trucks,truck99,5\n"  # not connected now
    text += "2026-07-15T19:00:00+08:00,trucks,truck03,1\n"  # 3 h old: stale
    tele = read_telemetry(write(tmp_path, "ev-logistics.csv", text), ["logistics"], now)
    flags: list[str] = []
    sources: dict = {}
    states = site_states("logistics", scenario, inputs, tele, None, now, flags, sources)
    (fleet,) = [a for a in inputs.assets if a.name == "trucks"]
    series = fleet.series
    (s,) = [
        i
        for i, v in enumerate(series["session_vehicle"])
        if v == "truck01" and series["session_first_step"][i] == 0
    ]
    assert states["trucks"][s] == pytest.approx(series["session_energy_kwh"][s] - 70.0)
    others = np.delete(states["trucks"], s)
    assert (others == 0).all()
    assert any("truck99" in f and "not connected" in f for f in flags)
    assert any("truck03" in f and "old" in f for f in flags)
    assert sources["ev"]["logistics"]["trucks"]["measured_sessions"] == ["truck01"]
