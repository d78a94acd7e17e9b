"""Edges of issue 15, item 6, through the command line: a run with no emissions at all,
and shiftable windows that no step of the run can serve.

A run without emissions writes its summary and report with the reduction fractions
'n/a' (a share of nothing), not a crash. A window whose end is its start, and a window
shorter than one step of the run (a step serves its power for the whole step, so such a
window holds one step start or none), are bad input: exit 2 with the key, the step and
the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import battery, index, scenario_dict, write_csv, write_scenario

import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, EXIT_OK

#: Emissions of a run without any [t].
ZERO_T = 1e-12


def run_cli(folder: Path, data: dict) -> tuple[int, Path]:
    out = folder / "out"
    code = vpp.cli.main(["run", str(write_scenario(folder, data)), "--out", str(out)])
    return code, out


def check_no_emissions(out: Path) -> None:
    """summary.json and report.html are written; every emission is zero and every
    reduction fraction is n/a (None in the summary)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    carbon = summary["carbon"]
    for account in (carbon, carbon["baseline"]):
        assert abs(account["location_based_t"]) <= ZERO_T
        assert abs(account["market_based_t"]) <= ZERO_T
    cut = carbon["reduction_vs_baseline"]
    assert cut["location_based_fraction"] is None
    assert cut["market_based_fraction"] is None
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "market-based reduction (n/a)" in page
    assert (out / "figures" / "emissions_waterfall.png").stat().st_size > 0


def test_pv_and_battery_site_that_never_imports(tmp_path: Path) -> None:
    """PV (20 kW) always above the load (10 kW), no fuels: no step imports, in the run or
    its baselines, so there is nothing to reduce."""
    data = scenario_dict(
        tmp_path,
        [10.0] * 24,
        pv_kw=[20.0] * 24,
        batteries=[battery(energy_kwh=10.0, power_kw=5.0)],
    )
    code, out = run_cli(tmp_path, data)
    assert code == EXIT_OK
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["energy_kwh"]["import_kwh"] == 0.0
    check_no_emissions(out)


def test_grid_factor_series_of_zeros(tmp_path: Path) -> None:
    """The site imports its whole load, but every hour's grid factor is zero (and the
    market-based factor follows the series)."""
    data = scenario_dict(tmp_path, [100.0] * 24, batteries=[battery(energy_kwh=10.0, power_kw=5.0)])
    write_csv(tmp_path / "factor.csv", index(24), kg_per_kwh=[0.0] * 24)
    data["site"]["emissions"] = {
        "grid_factor_series": {"file": "factor.csv", "column": "kg_per_kwh"}
    }
    code, out = run_cli(tmp_path, data)
    assert code == EXIT_OK
    check_no_emissions(out)


def shiftable_case(folder: Path, start: str, end: str, step_min: int = 60) -> dict:
    """A flat site at ``step_min`` with one shiftable load (5 kWh at up to 30 kW)."""
    load = {
        "kind": "shiftable",
        "name": "wash",
        "energy_kwh": 5.0,
        "max_power_kw": 30.0,
        "window_start": start,
        "window_end": end,
    }
    n = 24 * 60 // step_min
    return scenario_dict(folder, [10.0] * n, series_step_min=step_min, flexible_loads=[load])


def test_zero_length_window_names_window_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out = run_cli(tmp_path, shiftable_case(tmp_path, "08:00", "08:00"))
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "site.flexible_loads[0].window_end" in err
    assert "the window is empty" in err
    assert "00:00 to 24:00" in err  # the fix for a whole day
    assert not out.exists()


@pytest.mark.parametrize(("start", "end"), [("08:10", "08:20"), ("08:00", "08:10")])
def test_window_shorter_than_one_step(
    tmp_path: Path, start: str, end: str, capsys: pytest.CaptureFixture
) -> None:
    """At a 1 h step a 10-min window holds no step start (08:10-08:20: its energy would
    never be served) or one (08:00-08:10: served over the whole hour, outside it)."""
    code, out = run_cli(tmp_path, shiftable_case(tmp_path, start, end))
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "site.flexible_loads[0].window_end" in err
    assert "shorter than one step of the run (60 min)" in err
    assert f"{start} to {end} (10 min)" in err
    assert "widen the window to at least 60 min" in err
    assert "horizon.step" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("start", "end", "step_min"), [("08:00", "09:00", 60), ("08:10", "08:20", 10)]
)
def test_window_of_one_step_runs(tmp_path: Path, start: str, end: str, step_min: int) -> None:
    """A window of exactly one step is served: its 5 kWh in that step."""
    code, out = run_cli(tmp_path, shiftable_case(tmp_path, start, end, step_min))
    assert code == EXIT_OK
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    load_kwh = 10.0 * 24
    assert summary["energy_kwh"]["import_kwh"] == pytest.approx(load_kwh + 5.0, rel=1e-9)
