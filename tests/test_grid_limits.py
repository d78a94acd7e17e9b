"""Grid limits that change over time, and batteries that do not export (issue 15, item 3).

``site.grid.import_limit_kw`` and ``export_limit_kw`` as a series bound the grid block
step by step (:mod:`vpp.assets.grid.limits`); every reader of a limit (the rolling run's
real-time rule, the job's fallback, the diagnosis) reads the limit of the step; a
battery with ``export_to_grid: false`` keeps the site's export at or below the PV surplus
over the load. Tiny hourly cases whose optima are worked out by hand in each test.
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    battery,
    check_invariants,
    index,
    scenario_dict,
    solve_case,
    write_csv,
    write_scenario,
)

import vpp
import vpp.cli
from vpp.assets import unit
from vpp.assets.battery.operation import BatteryController, run_batteries
from vpp.assets.control import MonthGuard, Window, run_steps
from vpp.errors import DataError, InfeasibleError, ScenarioError
from vpp.inputs.site import build_inputs
from vpp.jobs.fallback import limits_exceeded, site_fallback
from vpp.model.blocks.updates import ColBounds

#: Hand-computed powers and energies vs the solver [kW, kWh].
POWER_TOL_KW = 1e-6
#: Hand-computed cost vs the solver [-].
COST_RTOL = 1e-9
#: Exit code of bad input.
EXIT_BAD_INPUT = 2


def limit_series(folder: Path, name: str, values: list[float]) -> dict[str, str]:
    """A limit series file (hourly, from the helpers' start) and its scenario entry."""
    write_csv(folder / f"{name}.csv", index(len(values)), limit_kw=values)
    return {"file": f"{name}.csv", "column": "limit_kw"}


# ---------------------------------------------------------------- the optimizer


def test_a_step_wise_import_limit_makes_the_battery_pre_charge_exactly_the_shortfall(tmp_path):
    # Flat load 50 kW, flat price 0.5; the limit drops from 200 to 30 kW in hours 2-3:
    # 20 kW short in each. The lossy battery (0.9 each way, empty, final free) must give
    # 20 kWh in each of those hours and no more (any more throughput is lost energy), so
    # it takes 40 / 0.81 kWh in hours 0-1. Cost: 0.5 * (4 * 50 - 40 + 40 / 0.81).
    eta = 0.9
    load = [50.0] * 4
    data = scenario_dict(
        tmp_path,
        load,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0, eta_c=eta, eta_d=eta)],
        grid={"import_limit_kw": limit_series(tmp_path, "limit", [200.0, 200.0, 30.0, 30.0])},
    )
    result = solve_case(tmp_path, data)
    s = result.schedule
    np.testing.assert_allclose(s["bess_discharge_kw"], [0, 0, 20, 20], atol=POWER_TOL_KW)
    np.testing.assert_allclose(s["grid_import_kw"].iloc[2:], [30, 30], atol=POWER_TOL_KW)
    charged = s["bess_charge_kw"].iloc[:2].sum()
    assert charged == pytest.approx(40.0 / eta**2, abs=POWER_TOL_KW)
    expected = 0.5 * (4 * 50.0 - 40.0 + 40.0 / eta**2)
    assert result.summary["total_cost_cny"] == pytest.approx(expected, rel=COST_RTOL)


def test_an_export_limit_series_caps_export_hour_by_hour(tmp_path):
    # 100 kW of PV, no load, export paid 0.4: export up to each hour's limit, the rest
    # is curtailed. Revenue 0.4 * (100 + 50 + 20 + 0).
    limits = [100.0, 50.0, 20.0, 0.0]
    data = scenario_dict(
        tmp_path,
        [0.0] * 4,
        pv_kw=[100.0] * 4,
        export_price=0.4,
        grid={"export_limit_kw": limit_series(tmp_path, "export", limits)},
    )
    result = solve_case(tmp_path, data)
    np.testing.assert_allclose(result.schedule["grid_export_kw"], limits, atol=POWER_TOL_KW)
    assert result.summary["export_revenue_cny"] == pytest.approx(0.4 * 170.0, rel=COST_RTOL)


def arbitrage(folder: Path, export_to_grid: bool) -> dict:
    """Cheap import in hours 0-1 (0.2), export paid 1.0 in hours 2-3 (import 0.9 there);
    PV 60 kW and load 10 kW in hours 2-3 (surplus 50 kW); export limit 80 kW."""
    return scenario_dict(
        folder,
        [10.0] * 4,
        price=[0.2, 0.2, 0.9, 0.9],
        export_price=[0.0, 0.0, 1.0, 1.0],
        pv_kw=[0.0, 0.0, 60.0, 60.0],
        batteries=[
            battery(energy_kwh=100.0, power_kw=100.0, export_to_grid=export_to_grid),
        ],
        grid={"export_limit_kw": 80.0},
    )


def test_a_battery_that_does_not_export_leaves_export_at_the_pv_surplus(tmp_path):
    # With export allowed the battery buys at 0.2 and sells at 1.0: export reaches the
    # 80 kW limit in hours 2-3. With export_to_grid false the export is at most
    # min(80, max(0, 60 - 10)) = 50 kW, and the PV surplus is worth exporting: 50 kW.
    free = solve_case(tmp_path / "free", arbitrage(tmp_path / "free", True))
    np.testing.assert_allclose(free.schedule["grid_export_kw"], [0, 0, 80, 80], atol=POWER_TOL_KW)
    kept = solve_case(tmp_path / "kept", arbitrage(tmp_path / "kept", False))
    s = kept.schedule
    surplus = np.maximum(s["roof_available_kw"] - s["load_kw"], 0.0)
    np.testing.assert_allclose(s["grid_export_kw"], np.minimum(80.0, surplus), atol=POWER_TOL_KW)
    # the battery then has nothing to gain: import 10 kW in hours 0-1 at 0.2, export 2 x 50
    assert kept.summary["total_cost_cny"] == pytest.approx(0.2 * 20 - 1.0 * 100, rel=COST_RTOL)


def test_the_baselines_keep_the_no_export_rule(tmp_path):
    # What the grid takes of a surplus in the baselines (its idle export bound) is
    # min(limit, PV surplus) where export is paid, 0 elsewhere: [0, 0, 50, 50]; the
    # rule-based baseline's export stays within it.
    kept = solve_case(tmp_path, arbitrage(tmp_path, False))
    inputs = build_inputs(kept.scenario)
    grid = next(a for a in inputs.assets if a.kind == "grid")
    idle = unit("grid").idle(grid, inputs.series)
    np.testing.assert_allclose(idle.export_max_kw, [0, 0, 50, 50], atol=POWER_TOL_KW)
    rule = kept.baselines["rule-based"]
    assert (rule["grid_export_kw"].to_numpy() <= idle.export_max_kw + POWER_TOL_KW).all()


def test_the_updater_moves_both_bounds_to_the_window(tmp_path):
    # A reused model gets the import and the export bound of the new window's steps.
    data = scenario_dict(
        tmp_path,
        [10.0] * 4,
        pv_kw=[0.0, 0.0, 60.0, 60.0],
        batteries=[battery(energy_kwh=10.0, power_kw=10.0, export_to_grid=False)],
        grid={
            "import_limit_kw": limit_series(tmp_path, "imp", [90.0, 80.0, 70.0, 60.0]),
            "export_limit_kw": limit_series(tmp_path, "exp", [5.0, 40.0, 40.0, 30.0]),
        },
    )
    inputs = build_inputs(vpp.load_scenario(write_scenario(tmp_path, data)))
    grid = next(a for a in inputs.assets if a.kind == "grid")
    block = types.SimpleNamespace(import_kw="import", export_kw="export")
    changes = unit("grid").update(block, grid.spec, inputs.horizon, grid.series)
    bounds = {c.variables: c.upper for c in changes if isinstance(c, ColBounds)}
    np.testing.assert_allclose(bounds["import"], [90, 80, 70, 60])
    # export: min(limit, max(0, PV - load)) = min([5, 40, 40, 30], [0, 0, 50, 50])
    np.testing.assert_allclose(bounds["export"], [0, 0, 40, 30])


# ---------------------------------------------------------------- rolling and real time


def test_a_window_and_the_job_plan_the_no_export_rule_on_the_forecasts(tmp_path):
    # Steps 1-3 of the arbitrage case with forecasts load [20, 10, 0] and PV [0, 40, 30]:
    # the window's cap is the forecast surplus max(0, PV - load) = [0, 30, 30], and its
    # limits are the series' steps 1-3.
    scenario = vpp.load_scenario(write_scenario(tmp_path, arbitrage(tmp_path, False)))
    inputs = build_inputs(scenario)
    grid = next(a for a in inputs.assets if a.kind == "grid")
    forecasts = {
        "load_kw": np.array([20.0, 10.0, 0.0]),
        "roof_available_kw": np.array([0, 40, 30.0]),
    }
    window = Window(scenario, inputs.horizon, 1, 4, forecasts)
    u = unit("grid")
    planned = u.window(grid, u.initial_state(grid, inputs.horizon), window)
    np.testing.assert_allclose(planned.series["export_cap_kw"], [0, 30, 30], atol=POWER_TOL_KW)
    np.testing.assert_allclose(planned.series["export_limit_kw"], [80, 80, 80])
    # the job's inputs on forecasts (with_forecasts): the same rule over the horizon
    on_forecasts = {"load_kw": np.full(4, 20.0), "roof_available_kw": np.array([0, 10, 50, 90.0])}
    job = u.with_forecasts(grid, on_forecasts, None)
    np.testing.assert_allclose(job.series["export_cap_kw"], [0, 0, 30, 70], atol=POWER_TOL_KW)


def test_a_rolling_run_keeps_a_series_import_limit(tmp_path):
    # Two days, one window a day (24 h look-ahead, perfect load forecast), flat load 80 kW;
    # the limit is 100 kW except 60 kW in hours 30-31 (the second window): the battery
    # (lossy, so no needless throughput) covers exactly 20 kW there; no violation.
    load = [80.0] * 48
    limits = [100.0] * 48
    limits[30] = limits[31] = 60.0
    data = scenario_dict(
        tmp_path,
        load,
        batteries=[battery(energy_kwh=60.0, power_kw=30.0, eta_c=0.9, eta_d=0.9)],
        grid={"import_limit_kw": limit_series(tmp_path, "limit", limits)},
    )
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "lookahead_h": 24},
    }
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    rolling = result.summary["rolling"]
    assert rolling["solves"] == 2
    assert rolling["violations"]["import_limit"]["steps"] == 0
    s = result.schedule
    assert (s["grid_import_kw"].to_numpy() <= np.array(limits) + POWER_TOL_KW).all()
    np.testing.assert_allclose(s["grid_import_kw"].iloc[30:32], [60, 60], atol=POWER_TOL_KW)
    np.testing.assert_allclose(s["bess_discharge_kw"].iloc[30:32], [20, 20], atol=POWER_TOL_KW)
    check_invariants(result)


def test_a_rolling_run_reused_equals_rebuilt_with_series_limits_and_no_export(tmp_path):
    # Two days of the arbitrage pattern (cheap import at night, export paid by day) with
    # series limits that differ between the two windows and export_to_grid false: a
    # reused model (bounds moved by the updater) gives the rebuilt model's schedule; the
    # export never exceeds min(limit, PV surplus) and nothing is violated.
    day = [0.2] * 8 + [0.9] * 16
    pv = [0.0] * 8 + [60.0] * 8 + [0.0] * 8
    exp_limits = [80.0] * 24 + [30.0] * 24
    imp_limits = [200.0] * 24 + [120.0] * 24
    data = scenario_dict(
        tmp_path,
        [10.0] * 48,
        price=day * 2,
        export_price=[0.0] * 8 + [1.0] * 16 + [0.0] * 8 + [1.0] * 16,
        pv_kw=pv * 2,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, export_to_grid=False)],
        grid={
            "import_limit_kw": limit_series(tmp_path, "imp", imp_limits),
            "export_limit_kw": limit_series(tmp_path, "exp", exp_limits),
        },
    )
    results = {}
    for reuse in (True, False):
        data["operation"] = {
            "mode": "rolling",
            "rolling": {
                "load_forecast": "perfect",
                "pv_forecast": "perfect",
                "lookahead_h": 24,
                "reuse_model": reuse,
            },
        }
        results[reuse] = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    reused, rebuilt = results[True], results[False]
    assert reused.summary["rolling"]["models_built"] < reused.summary["rolling"]["solves"]
    columns = ["grid_import_kw", "grid_export_kw", "bess_charge_kw", "bess_discharge_kw"]
    np.testing.assert_allclose(
        reused.schedule[columns], rebuilt.schedule[columns], atol=POWER_TOL_KW
    )
    s = reused.schedule
    surplus = np.maximum(s["roof_available_kw"] - s["load_kw"], 0.0).to_numpy()
    bound = np.minimum(exp_limits, surplus)
    assert (s["grid_export_kw"].to_numpy() <= bound + POWER_TOL_KW).all()
    # export pays (1.0 > 0), so all of it goes out: 50 kW on day 1, 30 kW on day 2
    np.testing.assert_allclose(s["grid_export_kw"], bound, atol=POWER_TOL_KW)
    violations = reused.summary["rolling"]["violations"]
    assert violations["import_limit"]["steps"] == violations["export_limit"]["steps"] == 0


def test_the_peak_guard_holds_the_import_limit_of_each_step():
    # Net 50 kW without the battery in three steps, guard level 100 kW, limit 30 kW in
    # the middle step: the battery (plan idle) discharges 20 kW there only.
    b = vpp.scenario.schema.Battery(**battery(energy_kwh=100.0, power_kw=50.0))
    zeros = {"bess": np.zeros(3)}
    run = run_batteries(
        [b],
        {"bess": 50.0},
        zeros,
        zeros,
        np.full(3, 50.0),
        1.0,
        guard_kw={0: 100.0},
        month_of=np.zeros(3, dtype=int),
        import_limit_kw=np.array([100.0, 30.0, 100.0]),
    )
    np.testing.assert_allclose(run.discharge_kw["bess"], [0, 20, 0], atol=POWER_TOL_KW)
    guard = MonthGuard({0: 100.0}, np.zeros(3, dtype=int), np.array([100.0, 30.0, np.inf]))
    assert [guard.level_kw(t) for t in range(3)] == [100.0, 30.0, 100.0]


def test_the_real_time_rule_discharges_less_instead_of_exporting():
    # The plan discharges 40 kW at a step where the site has 10 kW of surplus without the
    # battery, and the no-export cap is that surplus: the battery discharges nothing.
    b = vpp.scenario.schema.Battery(**battery(energy_kwh=100.0, power_kw=50.0))
    c = BatteryController(b, 50.0, np.zeros(2), np.array([40.0, 40.0]), 1.0)
    run_steps([c], np.array([-10.0, 30.0]), None, np.array([10.0, 0.0]))
    # step 0: export would be 50 > 10: cut by 40; step 1: import 30 - 40 -> export 10 > 0:
    # cut by 10, so the battery covers the 30 kW net demand
    np.testing.assert_allclose(c.discharge_kw, [0.0, 30.0], atol=POWER_TOL_KW)


def test_the_job_fallback_holds_and_reports_a_series_import_limit(tmp_path):
    # The guard holds min(level, limit of the step); a battery too weak to hold it is
    # reported with the limit of the first step it breaks.
    load = [80.0, 90.0, 130.0, 150.0]
    limits = [200.0, 200.0, 100.0, 60.0]
    grid = {"import_limit_kw": limit_series(tmp_path, "limit", limits)}
    data = scenario_dict(
        tmp_path,
        load,
        batteries=[battery(energy_kwh=500.0, power_kw=100.0, soc_initial_fraction=0.6)],
        grid=grid,
    )
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    frame = site_fallback(build_inputs(scenario), scenario, mtd_peak_kw=140.0)
    # level 140 kW capped by the limit: min(load, 140, limit)
    np.testing.assert_allclose(frame["grid_import_kw"], [80, 90, 100, 60], atol=POWER_TOL_KW)
    weak = scenario_dict(
        tmp_path,
        load,
        batteries=[battery(energy_kwh=500.0, power_kw=10.0, soc_initial_fraction=0.6)],
        grid=grid,
    )
    scenario = vpp.load_scenario(write_scenario(tmp_path, weak))
    frame = site_fallback(build_inputs(scenario), scenario, mtd_peak_kw=140.0)
    park = types.SimpleNamespace(
        spec=types.SimpleNamespace(shared_limit_kw=None), sites={"s": scenario}
    )
    (entry,) = limits_exceeded(park, {"s": frame}, None)
    # hour 2: 130 - 10 = 120 > 100; hour 3: 150 - 10 = 140 > 60 (by 80)
    assert entry["limit_kw"] == 100.0
    assert entry["steps"] == 2
    assert entry["max_excess_kw"] == pytest.approx(80.0, abs=POWER_TOL_KW)


# ---------------------------------------------------------------- diagnosis and bad input


def test_an_infeasible_hour_names_the_limit_of_that_hour(tmp_path):
    # 50 kW of load, no battery: the limit of 40 kW at hour 2 cannot be kept.
    data = scenario_dict(
        tmp_path,
        [50.0] * 4,
        grid={"import_limit_kw": limit_series(tmp_path, "limit", [100.0, 100.0, 40.0, 100.0])},
    )
    with pytest.raises(InfeasibleError) as exc:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (p,) = [p for p in exc.value.problems if p.key == "site.grid.import_limit_kw"]
    assert "import limit of 40 kW" in p.message
    assert p.timestamp.startswith("2026-01-05T02:00")


def run_cli(folder: Path, data: dict, capsys: pytest.CaptureFixture) -> tuple[int, str]:
    path = write_scenario(folder, data)
    code = vpp.cli.main(["run", str(path), "--out", str(folder / "out")])
    return code, capsys.readouterr().err


def test_a_limit_series_shorter_than_the_horizon_is_bad_input(tmp_path, capsys):
    data = scenario_dict(tmp_path, [50.0] * 6)
    short = limit_series(tmp_path, "limit", [100.0] * 4)  # hours 4-5 missing
    data["site"]["grid"]["export_limit_kw"] = short
    with pytest.raises(DataError) as exc:
        build_inputs(vpp.load_scenario(write_scenario(tmp_path, data)))
    (p,) = exc.value.problems
    assert p.key.startswith("site.grid.export_limit_kw")
    assert p.file.endswith("limit.csv")
    assert p.timestamp.startswith("2026-01-05T04:00")  # the first hour without a limit
    assert "4 rows" in p.value
    code, err = run_cli(tmp_path, data, capsys)
    assert code == EXIT_BAD_INPUT
    assert "site.grid.export_limit_kw" in err and "limit.csv" in err and "04:00" in err


@pytest.mark.parametrize("bad", [-5.0, float("inf")])
def test_a_negative_or_infinite_limit_is_bad_input(tmp_path, capsys, bad):
    data = scenario_dict(tmp_path, [50.0] * 4)
    data["site"]["grid"]["import_limit_kw"] = limit_series(
        tmp_path, "limit", [100.0, bad, 100.0, 100.0]
    )
    with pytest.raises(DataError) as exc:
        build_inputs(vpp.load_scenario(write_scenario(tmp_path, data)))
    (p,) = exc.value.problems
    assert p.key.startswith("site.grid.import_limit_kw")
    assert p.timestamp.startswith("2026-01-05T01:00")
    code, err = run_cli(tmp_path, data, capsys)
    assert code == EXIT_BAD_INPUT
    assert "site.grid.import_limit_kw" in err and "limit.csv" in err


def test_batteries_of_one_site_must_agree_on_export_to_grid(tmp_path, capsys):
    data = scenario_dict(
        tmp_path,
        [10.0] * 4,
        batteries=[
            battery("a", energy_kwh=10.0, power_kw=10.0, export_to_grid=False),
            battery("b", energy_kwh=10.0, power_kw=10.0),
        ],
    )
    with pytest.raises(ScenarioError) as exc:
        build_inputs(vpp.load_scenario(write_scenario(tmp_path, data)))
    (p,) = exc.value.problems
    assert "export_to_grid" in p.key and "false for a" in p.value
    code, err = run_cli(tmp_path, data, capsys)
    assert code == EXIT_BAD_INPUT and "export_to_grid" in err


def test_battery_energy_the_rule_lets_through_is_a_note(tmp_path):
    # PV 100 kW, no fixed load, a curtailable load of 100 kW (shedding costs 100/kWh),
    # the battery full, export paid 0.9 > import 0.5. The cap max(0, PV - fixed load)
    # = 100 kW lets the battery serve the curtailable load while the PV is exported:
    # by the flows' PV-first rule that is battery energy on the grid, which the
    # summary's notes must say (the bound after flexible loads is not linear).
    def case(folder, flexible):
        data = scenario_dict(
            folder,
            [0.0] * 4,
            price=0.5,
            export_price=0.9,
            pv_kw=[100.0] * 4,
            curtailable_kw=[100.0] * 4 if flexible else None,
            batteries=[
                {
                    **battery(energy_kwh=200.0, power_kw=100.0, export_to_grid=False),
                    "soc_initial_fraction": 1.0,
                    "final_soc": "free",
                }
            ],
            grid={"export_limit_kw": 1000.0},
        )
        if flexible:
            data["site"]["flexible_loads"][-1]["shed_cost_cny_per_kwh"] = 100.0
        return solve_case(folder, data)

    leaky = case(tmp_path / "flex", True)
    through_kwh = float(leaky.schedule["flow_battery_to_grid_kw"].sum())  # 1 h steps
    assert through_kwh > 1.0
    notes = [n for n in leaky.summary["notes"] if n.startswith("export_to_grid is false")]
    assert len(notes) == 1 and f"{through_kwh:,.1f} kWh" in notes[0], leaky.summary["notes"]
    # Without the flexible load, battery energy worth nothing at the end (final_soc free)
    # ties with PV: whatever the LP picks, the note is there exactly when the flows show
    # battery energy on the grid.
    fixed = case(tmp_path / "fixed", False)
    through_kwh = float(fixed.schedule["flow_battery_to_grid_kw"].sum())
    notes = [n for n in fixed.summary["notes"] if n.startswith("export_to_grid")]
    assert len(notes) == (1 if through_kwh > 1e-3 else 0), (through_kwh, notes)
