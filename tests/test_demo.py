"""The shipped demo scenario, end to end: command line, output files, summary, invariants.

Why ``savings_cny >= 0`` must hold: the baseline dispatch (battery idle, shiftable
load at full power from each window's start, nothing shed, PV surplus exported up to
the limit) is itself a feasible point of the optimizer's LP for this scenario: the
battery has no self-discharge, so idling keeps ``soc_final == soc_initial``, which
meets ``at_least_initial``; the ASAP schedule serves each window's energy; and the
baseline's import stays within the import limit (asserted below). The optimizer
minimises bill + a tie-break cost that is zero for an idle battery, so its bill is at
most the baseline's bill, up to the solver's tolerance.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import COST_KEYS, POWER_TOL_KW, check_invariants, check_schedule

import vpp
import vpp.cli
from vpp.scenario import validate_scenario

DEMO = Path(__file__).resolve().parent.parent / "scenarios" / "xushuguan-factory.yaml"
FILES = (
    "schedule.parquet",
    "schedule.csv",
    "summary.json",
    "bill.csv",
    "dispatch.png",
    "report.html",
    "figures/peak_import.png",
    "figures/load_duration.png",
    "figures/bill_monthly.png",
    "figures/emissions_by_carrier.png",
    "figures/emissions_waterfall.png",
)
#: Savings may fall below zero by at most this share of the baseline bill (solver tolerance) [-].
SAVINGS_RTOL = 1e-7
#: summary.json against the in-memory summary [-].
JSON_RTOL = 1e-12
#: Window energy of the shiftable load [kWh].
ENERGY_TOL_KWH = 1e-5

SUMMARY_COST_KEYS = (*COST_KEYS, "peak_import_kw")


def demo_data(days: int | None = None) -> dict:
    """The demo scenario as a dict; series paths made absolute; horizon shortened."""
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    if days is not None:
        data["horizon"]["days"] = days

    def absolute(node: object) -> None:  # relative `file:` paths resolve against scenarios/
        if isinstance(node, dict):
            if "file" in node and not Path(node["file"]).is_absolute():
                node["file"] = str(DEMO.parent / node["file"])
            for value in node.values():
                absolute(value)
        elif isinstance(node, list):
            for value in node:
                absolute(value)

    absolute(data)
    return data


def run_cli(scenario_path: Path, out: Path) -> dict:
    code = vpp.cli.main(["run", str(scenario_path), "--out", str(out)])
    assert code == 0
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted((*FILES, ".vpp-manifest.json"))  # the manifest marks an output
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp folders
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def check_summary_shape(summary: dict, months: list[str]) -> None:
    for key in COST_KEYS:
        assert isinstance(summary[key], float), key
        assert isinstance(summary["baseline"][key], float), key
    assert sorted(summary["peak_import_kw"]) == months
    assert sorted(summary["baseline"]["peak_import_kw"]) == months
    assert sorted(summary["peak_shaving_kw"]) == months
    for month in months:
        shaved = summary["baseline"]["peak_import_kw"][month] - summary["peak_import_kw"][month]
        assert summary["peak_shaving_kw"][month] == pytest.approx(shaved, abs=POWER_TOL_KW)
    assert summary["peak_shaving_max_kw"] == pytest.approx(
        max(summary["peak_shaving_kw"].values()), abs=POWER_TOL_KW
    )
    assert summary["savings_cny"] == pytest.approx(
        summary["baseline"]["total_cost_cny"] - summary["total_cost_cny"], rel=1e-9
    )
    # The baseline is feasible for the optimizer (see module docstring) ...
    assert summary["baseline"]["import_limit_violations"]["steps"] == 0
    # ... so the optimum cannot cost more.
    assert summary["savings_cny"] >= -SAVINGS_RTOL * abs(summary["baseline"]["total_cost_cny"])
    assert summary["savings_cny"] > 0.0  # and with a 1 MW / 2 MWh battery it saves
    assert summary["status"] == "Optimal"


def check_shiftable_windows(scenario, schedule: pd.DataFrame) -> None:
    """Each weekday window 22:00-08:00 serves 900 kWh, prorated where the horizon cuts it."""
    (flex,) = scenario.site.flexible_loads
    assert (flex.window_start, flex.window_end, flex.days) == ("22:00", "08:00", "weekdays")
    dt_h = 1.0
    power = schedule[f"{flex.name}_power_kw"]
    idx = power.index
    h_start, h_end = idx[0], idx[-1] + pd.Timedelta(hours=dt_h)
    covered = pd.Series(False, index=idx)
    day = h_start.normalize() - pd.Timedelta(days=1)
    n_windows = 0
    while day < h_end:
        opens, closes = day + pd.Timedelta(hours=22), day + pd.Timedelta(hours=32)
        if day.day_of_week < 5 and closes > h_start and opens < h_end:
            inside = (idx >= opens) & (idx < closes)
            share = (min(closes, h_end) - max(opens, h_start)) / (closes - opens)
            served = float(power[inside].sum()) * dt_h
            assert served == pytest.approx(flex.energy_kwh * share, abs=ENERGY_TOL_KWH), str(day)
            covered |= inside
            n_windows += 1
        day += pd.Timedelta(days=1)
    assert n_windows > 0
    assert (power[~covered].abs() <= POWER_TOL_KW).all()


def test_demo_two_weeks_cli_and_api(tmp_path):
    data = demo_data(days=14)
    scenario = validate_scenario(copy.deepcopy(data), base_dir=DEMO.parent)
    assert scenario.horizon.days == 14
    path = tmp_path / "demo-14d.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "runs" / "demo"
    summary = run_cli(path, out)
    check_summary_shape(summary, ["2026-01"])
    assert summary["horizon"]["steps"] == 14 * 24

    # The written schedule keeps its tz-aware horizon index and passes the invariants.
    schedule = pd.read_parquet(out / "schedule.parquet")
    check_schedule(scenario, schedule, summary)
    expected_index = pd.date_range("2026-01-01", periods=14 * 24, freq="1h", tz="Asia/Shanghai")
    assert schedule.index.equals(expected_index)
    csv = pd.read_csv(out / "schedule.csv")
    assert len(csv) == len(schedule)
    stamps = pd.DatetimeIndex(pd.to_datetime(csv.iloc[:, 0]))  # written with their +08:00
    assert stamps.tz_convert("Asia/Shanghai").equals(expected_index)
    assert np.allclose(csv["grid_import_kw"], schedule["grid_import_kw"], atol=1e-6)
    check_shiftable_windows(scenario, schedule)

    # The Python API gives the same numbers as summary.json.
    result = vpp.run(scenario)
    check_invariants(result)
    for key in COST_KEYS:
        assert result.summary[key] == pytest.approx(summary[key], rel=JSON_RTOL)
        assert result.summary["baseline"][key] == pytest.approx(
            summary["baseline"][key], rel=JSON_RTOL
        )
    assert result.schedule.index.equals(expected_index)
    assert result.baseline.index.equals(expected_index)


@pytest.mark.slow
def test_demo_full_year_cli(tmp_path):
    out = tmp_path / "demo"
    summary = run_cli(DEMO, out)
    months = [f"2026-{m:02d}" for m in range(1, 13)]
    check_summary_shape(summary, months)
    assert summary["horizon"]["steps"] == 8760
    scenario = vpp.load_scenario(DEMO)
    schedule = pd.read_parquet(out / "schedule.parquet")
    check_invariants(SimpleNamespace(scenario=scenario, schedule=schedule, summary=summary))
    check_shiftable_windows(scenario, schedule)
    # The demand charge pays: every month's peak is shaved.
    assert min(summary["peak_shaving_kw"].values()) > 0.0
