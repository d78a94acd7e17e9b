"""Rolling horizon: model reuse equals rebuilding, analytical limits, invariants, bad input.

- Reusing one compiled model per window structure (updating its numbers in HiGHS)
  gives exactly the dispatch of rebuilding every window.
- With perfect forecasts and a look-ahead that reaches the end of the horizon, every
  re-optimization sees the whole remaining problem, so the operated year costs what
  the perfect-foresight optimum costs (the month-to-date peak floor, the carried state
  of charge and the energy shiftable loads still owe make each window the exact
  continuation).
- With forecast errors, a year operated without violations is a feasible dispatch of
  the perfect-foresight problem, so it costs at least as much.
- Every operated schedule passes the invariants of every solved case.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import COST_RTOL, battery, check_invariants, scenario_dict, write_scenario

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, DataError, ScenarioError
from vpp.operation.windows import decision_steps
from vpp.report.files import write_run
from vpp.scenario.operation import NO_FORECAST_SOURCE, Operation, RollingSpec

ROOT = Path(__file__).resolve().parent.parent
VPP = str(Path(sys.executable).with_name("vpp"))
DEMO = ROOT / "scenarios" / "xushuguan-factory.yaml"
#: Reused vs rebuilt models: the same LP solved from scratch by the same HiGHS [kW].
REUSE_TOL_KW = 1e-7
#: Energy served vs due per shiftable window occurrence [kWh].
ENERGY_TOL_KWH = 1e-5


def demo(days: int, start: str = "2026-01-01", **rolling: object) -> vpp.Scenario:
    """The demo scenario, cut to ``days`` from ``start``, with rolling settings."""
    base = vpp.load_scenario(DEMO)
    spec = {"load_forecast": "profile", "pv_forecast": "synthetic", **rolling}
    return base.model_copy(
        update={
            "horizon": base.horizon.model_copy(
                update={"start": pd.Timestamp(start).to_pydatetime(), "days": days}
            ),
            "operation": Operation(mode="rolling", rolling=RollingSpec(**spec)),
        }
    )


def without_green(scenario: vpp.Scenario) -> vpp.Scenario:
    site = scenario.site.model_copy(update={"green_contracts": [], "renewable_target": None})
    return scenario.model_copy(update={"site": site})


def test_reuse_equals_rebuild() -> None:
    """Crosses a month end and weekday/weekend shiftable patterns; 1 h steps, 48 h look-ahead."""
    reused = vpp.run(demo(6, "2026-01-28", reuse_model=True))
    rebuilt = vpp.run(demo(6, "2026-01-28", reuse_model=False))
    r, b = reused.summary["rolling"], rebuilt.summary["rolling"]
    assert r["solves"] == b["solves"] == 6
    assert b["models_built"] == 6
    assert r["models_built"] < r["solves"]
    columns = [c for c in rebuilt.schedule.columns if c.endswith(("_kw", "_kwh"))]
    diff = (reused.schedule[columns] - rebuilt.schedule[columns]).abs().max()
    assert diff.max() <= REUSE_TOL_KW, diff[diff > REUSE_TOL_KW]
    assert math.isclose(
        reused.summary["total_cost_cny"], rebuilt.summary["total_cost_cny"], rel_tol=1e-12
    )
    check_invariants(reused)


def test_perfect_forecasts_with_full_lookahead_equal_perfect_foresight() -> None:
    """Three days over a month end (the month-to-date peak floor restarts), 72 h look-ahead."""
    scenario = without_green(
        demo(3, "2026-03-30", load_forecast="perfect", pv_forecast="perfect", lookahead_h=72)
    )
    result = vpp.run(scenario)
    rolling = result.summary["rolling"]
    assert rolling["solves"] == 3
    assert math.isclose(
        result.summary["total_cost_cny"],
        rolling["perfect"]["total_cost_cny"],
        rel_tol=COST_RTOL,
    ), rolling["cost_of_imperfect_forecasts_cny"]
    assert rolling["forecast_error"]["load"]["mae_kw"] == 0.0
    assert rolling["forecast_error"]["pv"]["mae_kw"] == 0.0
    check_invariants(result)


def test_perfect_forecasts_at_15_minutes_equal_perfect_foresight() -> None:
    """The same identity at 15-min steps (look-ahead and interval counted in steps)."""
    scenario = without_green(
        demo(2, "2026-07-14", load_forecast="perfect", pv_forecast="perfect", lookahead_h=48)
    )
    scenario = scenario.model_copy(
        update={"horizon": scenario.horizon.model_copy(update={"step": "15min"})}
    )
    result = vpp.run(scenario)
    rolling = result.summary["rolling"]
    assert rolling["solves"] == 2
    assert math.isclose(
        result.summary["total_cost_cny"], rolling["perfect"]["total_cost_cny"], rel_tol=COST_RTOL
    )
    check_invariants(result)


def test_forecast_errors_cost_money_and_the_schedule_holds() -> None:
    result = vpp.run(demo(14, "2026-05-04"))
    s, rolling = result.schedule, result.summary["rolling"]
    check_invariants(result)
    # the settlement holds the operated dispatch without rounding residues as bounds
    assert result.summary["solver"]["warnings"] == []
    assert rolling["violations"]["import_limit"]["steps"] == 0
    assert rolling["violations"]["export_limit"]["steps"] == 0
    # no violations: the operated dispatch is feasible for the perfect problem
    assert (
        rolling["cost_of_imperfect_forecasts_cny"]
        >= -COST_RTOL * rolling["perfect"]["total_cost_cny"]
    )
    # forecasts were really used: they differ from the actuals, within physics
    assert rolling["forecast_error"]["load"]["mae_kw"] > 1.0
    # both load methods evaluated on the same decisions; the one used is the one applied
    evaluation = rolling["load_forecast_evaluation"]
    assert set(evaluation) == {"persistence", "profile", "profile_scaled"}
    assert evaluation["profile"]["n"] == rolling["forecast_error"]["load"]["n"] == len(s)
    for key in ("mae_kw", "rmse_kw", "bias_kw"):
        assert evaluation["profile"][key] == pytest.approx(
            rolling["forecast_error"]["load"][key], rel=1e-9
        )
    assert evaluation["persistence"]["skill_fraction"] == 0.0
    # a battery ending below its final rule is priced into the cost of imperfect forecasts
    refill = sum(v["value_cny"] for v in rolling["final_soc_shortfall"].values())
    assert rolling["cost_of_imperfect_forecasts_cny"] == pytest.approx(
        result.summary["total_cost_cny"] + refill - rolling["perfect"]["total_cost_cny"],
        rel=1e-12,
    )
    assert rolling["forecast_error"]["pv"]["mae_kw"] > 1.0
    for a in result.scenario.site.pv:
        assert (s[f"{a.name}_forecast_kw"] >= 0.0).all()
    # at night the PV forecast is zero, as is the actual
    night = s.index.hour.isin([0, 1, 2, 3])
    assert (s.loc[night, "roof_forecast_kw"] == 0.0).all()
    # the shiftable load received exactly its energy in every window occurrence
    flex = result.scenario.site.flexible_loads[0]
    served = s[f"{flex.name}_power_kw"].to_numpy()
    local = s.index.tz_localize(None)
    for day in pd.date_range("2026-05-04", "2026-05-15"):
        if day.day_of_week >= 5:
            continue
        opens = day + pd.Timedelta(hours=22)
        inside = (local >= opens) & (local < opens + pd.Timedelta(hours=10))
        if (local[-1] + pd.Timedelta(hours=1)) < opens + pd.Timedelta(hours=10):
            continue  # cut by the horizon's end
        assert abs(served[inside].sum() - flex.energy_kwh) <= ENERGY_TOL_KWH, day
    assert result.summary["mode"] == "rolling"


def test_decision_steps_follow_the_hour_and_interval() -> None:
    scenario = demo(2, reoptimize_hour=6, interval_h=12, lookahead_h=24)
    horizon = vpp.inputs.site.make_horizon(scenario)
    steps = decision_steps(horizon, scenario.operation.rolling)
    hours = horizon.index[steps].hour.tolist()
    assert hours == [0, 6, 18, 6, 18]


def test_violations_are_counted_and_infeasible_forecast_windows_are_planned(
    tmp_path: Path,
) -> None:
    """Load above the import limit for two hours: planned elastically, reported, not hidden."""
    load = [80.0] * 48
    load[30] = load[31] = 130.0
    data = scenario_dict(
        tmp_path,
        load,
        batteries=[battery(energy_kwh=10.0, power_kw=10.0)],
        grid={"import_limit_kw": 100.0},
    )
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "lookahead_h": 24},
    }
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    rolling = result.summary["rolling"]
    v = rolling["violations"]["import_limit"]
    assert v["steps"] == 2
    # 2 h x 30 kW above the limit, less the 10 kWh the (empty at the start) battery can
    # charge in the six hours before and give back; how it splits them is the LP's choice
    assert v["energy_kwh"] == pytest.approx(50.0, abs=1e-6)
    assert 25.0 - 1e-6 <= v["max_kw"] <= 30.0 + 1e-6
    assert "infeasible" in rolling["perfect"]
    assert rolling["cost_of_imperfect_forecasts_cny"] is None
    assert v["first"].startswith("2026-01-06T06:00")
    assert rolling["windows_infeasible_on_forecast"]["count"] == 1
    files = write_run(result, tmp_path / "run")
    html = (tmp_path / "run" / "report.html").read_text()
    assert "Cost of imperfect forecasts: not defined" in html and files
    col = result.schedule["grid_import_violation_kw"]
    assert col.iloc[30] == pytest.approx(
        result.schedule["grid_import_kw"].iloc[30] - 100.0, abs=1e-9
    )


# ---- bad input ----------------------------------------------------------------------


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any HiGHS solve fails the test: the preconditions must be checked before one."""
    import highspy

    def refuse(self: object) -> None:
        raise AssertionError("HiGHS was asked to solve before every precondition was checked")

    monkeypatch.setattr(highspy.Highs, "run", refuse)


def test_missing_load_history_is_found_before_any_solve(tmp_path: Path, no_solve: None) -> None:
    """A 4-week profile forecast on a load file that starts with the run: the 28 days it
    lacks are reported at once, before the perfect-foresight reference is solved."""
    data = scenario_dict(tmp_path, [100.0] * 72)
    data["operation"] = {"mode": "rolling", "rolling": {"load_forecast": "profile"}}
    with pytest.raises(DataError) as exc:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    problem = exc.value.problems[0]
    assert problem.key == "operation.rolling.load_forecast"
    assert "28 full days" in problem.message
    assert problem.timestamp.startswith("2025-12-07T00:00")  # 29 days before 2026-01-05


def test_every_settings_problem_is_reported_before_any_solve(
    tmp_path: Path, no_solve: None
) -> None:
    """A look-ahead off the 15-min grid and a site with PV but no PV forecast: both named."""
    data = scenario_dict(tmp_path, [100.0] * 96, pv_kw=[10.0] * 96, series_step_min=15)
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "lookahead_h": 24.1},
    }
    with pytest.raises(ScenarioError) as exc:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    keys = [p.key for p in exc.value.problems]
    assert keys == ["operation.rolling.pv_forecast", "operation.rolling.lookahead_h"]


def test_persistence_with_a_week_of_history_runs_to_the_end(tmp_path: Path) -> None:
    """Persistence reads 7 days; the evaluation of the 4-week profile beside it must not
    fail the run at its end: it leaves out the decisions without 28 days of history."""
    load = [100.0 + (h % 24) for h in range(24 * 10)]
    data = scenario_dict(tmp_path, load)
    data["horizon"]["start"] = "2026-01-13T00:00:00"  # 8 days of history in the file
    data["operation"] = {"mode": "rolling", "rolling": {"load_forecast": "persistence"}}
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    rolling = result.summary["rolling"]
    assert rolling["solves"] == 2
    assert rolling["load_forecast_evaluation"] == {}
    # the same weekday a week earlier: the flat daily shape of the history
    assert result.schedule["load_forecast_kw"].to_numpy() == pytest.approx(load[-48:])


def _scenario_with(tmp_path: Path, operation: dict) -> Path:
    data = scenario_dict(tmp_path, [100.0] * 24)
    data["operation"] = operation
    return write_scenario(tmp_path, data)


def _message(exc: pytest.ExceptionInfo) -> str:
    return str(exc.value)


def test_lookahead_shorter_than_interval_is_refused(tmp_path: Path) -> None:
    path = _scenario_with(
        tmp_path,
        {"mode": "rolling", "rolling": {"load_forecast": "profile", "lookahead_h": 12}},
    )
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(path)
    text = _message(exc)
    assert "operation.rolling" in text and "shorter than the re-optimization interval" in text
    assert "12 h" in text and "24 h" in text and str(path) in text


@pytest.mark.parametrize("hour", [24, -1])
def test_reoptimization_hour_outside_the_day_is_refused(tmp_path: Path, hour: int) -> None:
    path = _scenario_with(
        tmp_path,
        {"mode": "rolling", "rolling": {"load_forecast": "profile", "reoptimize_hour": hour}},
    )
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(path)
    text = _message(exc)
    assert "operation.rolling.reoptimize_hour" in text and "0..23" in text and str(hour) in text


def test_rolling_without_forecast_source_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = _scenario_with(tmp_path, {"mode": "rolling"})
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(path)
    assert "needs a forecast source" in _message(exc)
    # the same scenario without 'operation', run in rolling mode from the API and the CLI
    plain = _scenario_with(tmp_path, {"mode": "perfect"})
    with pytest.raises(ScenarioError) as exc:
        vpp.run(vpp.load_scenario(plain), mode="rolling")
    assert exc.value.problems[0].key == "operation.rolling"
    assert NO_FORECAST_SOURCE in _message(exc)
    code = vpp.cli.main(["run", str(plain), "--mode", "rolling", "--out", str(tmp_path / "o")])
    assert code == EXIT_BAD_INPUT
    assert "forecast source" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_pv_without_pv_forecast_is_refused(tmp_path: Path) -> None:
    data = scenario_dict(tmp_path, [100.0] * 24, pv_kw=[0.0] * 8 + [50.0] * 8 + [0.0] * 8)
    data["operation"] = {"mode": "rolling", "rolling": {"load_forecast": "perfect"}}
    with pytest.raises(ScenarioError) as exc:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    assert exc.value.problems[0].key == "operation.rolling.pv_forecast"


def test_load_forecast_without_history_is_refused(tmp_path: Path) -> None:
    path = _scenario_with(
        tmp_path, {"mode": "rolling", "rolling": {"load_forecast": "persistence"}}
    )
    with pytest.raises(DataError) as exc:
        vpp.run(vpp.load_scenario(path))
    problem = exc.value.problems[0]
    assert problem.key == "operation.rolling.load_forecast"
    assert problem.timestamp.startswith("2025-12-28T00:00")  # 8 days before 2026-01-05
    assert "7 full days" in problem.message


def test_lookahead_off_the_step_grid_is_refused(tmp_path: Path) -> None:
    path = _scenario_with(
        tmp_path,
        {"mode": "rolling", "rolling": {"load_forecast": "perfect", "lookahead_h": 24.5}},
    )
    with pytest.raises(ScenarioError) as exc:
        vpp.run(vpp.load_scenario(path))
    assert exc.value.problems[0].key == "operation.rolling.lookahead_h"


def test_cli_runs_the_demo_in_rolling_mode(tmp_path: Path) -> None:
    """Through the installed console script, as a user would."""
    data = yaml.safe_load(DEMO.read_text())
    data["horizon"]["days"] = 10
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    proc = subprocess.run(
        [VPP, "run", str(path), "--mode", "rolling", "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = yaml.safe_load((out / "summary.json").read_text())
    assert summary["mode"] == "rolling"
    assert summary["rolling"]["solves"] == 10
    assert (out / "report.html").is_file()
    schedule = pd.read_parquet(out / "schedule.parquet")
    assert np.isfinite(schedule["load_forecast_kw"]).all()


# ---- PV forecasts from weather-forecast files --------------------------------------


def test_pv_forecast_files_use_the_latest_forecast_issued_before_each_decision() -> None:
    from vpp.solar.forecast import array_column, pv_forecast_kw
    from vpp.solar.forecast_reader import read_forecast

    folder = ROOT / "forecasts"
    scenario = demo(4, "2026-07-15", pv_forecast="files", pv_forecast_folder=folder)
    result = vpp.run(scenario)
    check_invariants(result)
    s = result.schedule
    # the decision at 07-16 00:00 uses the file issued 07-15 14:00 (covering 07-16 and 07-17)
    day = s.loc["2026-07-16"].index
    forecast = read_forecast(folder / "xushuguan-2026-07-16.csv")
    expected = pv_forecast_kw(scenario, forecast, index=day)
    for a in scenario.site.pv:
        got = s.loc["2026-07-16", f"{a.name}_forecast_kw"].to_numpy()
        assert np.allclose(got, expected[array_column(a.name)].to_numpy(), atol=1e-9)
    assert result.summary["rolling"]["pv_forecast"] == "files"
    assert result.summary["rolling"]["forecast_error"]["pv"]["mae_kw"] > 1.0


def test_pv_forecast_files_must_cover_every_decision(no_solve: None) -> None:
    """Found before any solve: the perfect-foresight reference would come first."""
    scenario = demo(2, "2026-07-20", pv_forecast="files", pv_forecast_folder=ROOT / "forecasts")
    with pytest.raises(DataError) as exc:
        vpp.run(scenario)
    problem = exc.value.problems[0]
    assert problem.key == "operation.rolling.pv_forecast_folder"
    assert problem.timestamp.startswith("2026-07-20T00:00")


def test_pv_forecast_files_needs_a_folder(tmp_path: Path) -> None:
    path = _scenario_with(
        tmp_path,
        {"mode": "rolling", "rolling": {"load_forecast": "perfect", "pv_forecast": "files"}},
    )
    with pytest.raises(ScenarioError) as exc:
        vpp.load_scenario(path)
    assert "pv_forecast_folder" in str(exc.value)
