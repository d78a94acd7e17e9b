"""The baselines (no-assets, pv-only, rule-based) and their place in the summary.

Why the optimizer's bill is a lower bound of the rule-based and the pv-only bills:
both baselines are feasible points of the optimizer's LP for the scenarios here
(asserted below): the batteries keep their power and state-of-charge limits and the
scenario's final-state rule (the rule-based run steers into the reachable corridor at
the end), shiftable loads take their window energy as soon as possible, nothing is
shed, export stays within its limit, the import stays within the import limit, and
there are no green contracts or targets that the baselines would leave out. The LP
minimises bill + TIE_BREAK_CNY_PER_KWH x charged energy, so its bill is at most the
baseline's bill plus that tie-break on the baseline's charge, up to the solver's
tolerance (OPTIMUM_RTOL).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import (
    SOC_TOL_KWH,
    ZERO_TOL_KW,
    battery,
    check_balance,
    check_batteries,
    check_bill,
    scenario_dict,
    solve_case,
    step_h_of,
    write_scenario,
)

import vpp
from vpp.assets.battery.block import TIE_BREAK_CNY_PER_KWH
from vpp.inputs.site import build_inputs
from vpp.runs.baselines import BASELINE_NAMES
from vpp.runs.rule_based import rule_based_schedule

#: The optimum may exceed a feasible baseline's bill by this share (solver tolerance) [-].
OPTIMUM_RTOL = 1e-6
#: Hand-computed bill vs the summary [CNY].
BILL_ATOL_CNY = 1e-7
#: The rule on 8760 steps must take less than this [s].
RULE_TIME_LIMIT_S = 0.1

HOURS = np.arange(72)
#: A clear-sky-like PV bell 07:00-17:00 [kW] and a day-shift load with an evening bump [kW].
PV_KW = np.clip(np.sin((HOURS % 24 - 7) / 10 * np.pi), 0.0, None) * 300.0
LOAD_KW = 120.0 + 80.0 * ((HOURS % 24 >= 8) & (HOURS % 24 < 20)) + 60.0 * (HOURS % 24 == 21)


def tou_case(tmp_path, final_soc: str = "at_least_initial", **extra):
    """Three days under the Jiangsu 2025 calendar with PV, a lossy battery and a batch load."""
    return scenario_dict(
        tmp_path,
        LOAD_KW.tolist(),
        price={"calendar": "jiangsu-2025-industrial"},
        export_price=0.3,
        pv_kw=PV_KW.tolist(),
        batteries=[
            battery(
                energy_kwh=400.0,
                power_kw=150.0,
                eta_c=0.93,
                eta_d=0.95,
                soc_min_fraction=0.1,
                soc_max_fraction=0.9,
                soc_initial_fraction=0.5,
                final_soc=final_soc,
                self_discharge_fraction_per_h=0.001,
                throughput_cost_cny_per_kwh=0.02,
            )
        ],
        flexible_loads=[
            {
                "kind": "shiftable",
                "name": "batch",
                "energy_kwh": 200.0,
                "max_power_kw": 50.0,
                "window_start": "22:00",
                "window_end": "06:00",
            }
        ],
        grid={"demand_charge_cny_per_kw_month": 40.0, "export_limit_kw": 100.0},
        **extra,
    )


def check_rule_battery(scenario, schedule) -> None:
    """SOC recomputed step by step stays in bounds; powers within limits; end rule kept."""
    dt_h = step_h_of(scenario)
    for b in scenario.site.batteries:
        ch = schedule[f"{b.name}_charge_kw"].to_numpy()
        dis = schedule[f"{b.name}_discharge_kw"].to_numpy()
        keep = (1.0 - b.self_discharge_fraction_per_h) ** dt_h
        soc = [b.soc_initial_fraction * b.energy_kwh]
        for c, d in zip(ch, dis):
            soc.append(
                keep * soc[-1] + b.charge_efficiency * c * dt_h - d * dt_h / b.discharge_efficiency
            )
        soc = np.array(soc)
        assert np.allclose(soc[:-1], schedule[f"{b.name}_soc_kwh"], atol=SOC_TOL_KWH)
        assert soc.min() >= b.soc_min_fraction * b.energy_kwh - SOC_TOL_KWH
        assert soc.max() <= b.soc_max_fraction * b.energy_kwh + SOC_TOL_KWH
        assert (ch >= 0.0).all() and (ch <= b.charge_power_kw + ZERO_TOL_KW).all()
        assert (dis >= 0.0).all() and (dis <= b.discharge_power_kw + ZERO_TOL_KW).all()
        assert not ((ch > ZERO_TOL_KW) & (dis > ZERO_TOL_KW)).any()
    check_batteries(scenario, schedule)  # the same checks as an optimized schedule
    check_balance(scenario, schedule, with_batteries=True)


@pytest.mark.parametrize("final_soc", ["at_least_initial", "equal_initial", "free"])
def test_rule_based_respects_the_battery_and_is_bounded_by_the_optimum(tmp_path, final_soc):
    result = solve_case(tmp_path, tou_case(tmp_path, final_soc))
    scenario, s = result.scenario, result.summary
    assert list(result.baselines) == list(BASELINE_NAMES)
    assert list(s["baselines"]) == list(BASELINE_NAMES)
    rule = result.baselines["rule-based"]
    check_rule_battery(scenario, rule)
    assert rule["bess_discharge_kw"].sum() > 0.0  # the rule does use the battery
    dt_h = step_h_of(scenario)
    for name in BASELINE_NAMES:
        entry = s["baselines"][name]
        check_bill(scenario, result.baselines[name], entry)
        assert entry["import_limit_violations"]["steps"] == 0
    tie = TIE_BREAK_CNY_PER_KWH * float(rule["bess_charge_kw"].sum()) * dt_h
    for name in ("pv-only", "rule-based"):
        base_cost = s["baselines"][name]["total_cost_cny"]
        assert s["total_cost_cny"] <= base_cost + tie + OPTIMUM_RTOL * abs(base_cost), name
    # pv-only in summary["baselines"] is summary["baseline"], and savings_cny refers to it.
    assert s["baselines"]["pv-only"]["total_cost_cny"] == s["baseline"]["total_cost_cny"]
    versus = s["kpis"]["vs_baseline"]
    assert versus["pv-only"]["savings_cny"] == pytest.approx(s["savings_cny"], rel=1e-12)
    assert (
        versus["rule-based"]["savings_cny"]
        >= -OPTIMUM_RTOL * abs(s["baselines"]["rule-based"]["total_cost_cny"]) - tie
    )


def test_rule_based_at_quarter_hour_steps(tmp_path):
    data = tou_case(tmp_path, step="15min", resample="hold")
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    schedule, info = rule_based_schedule(build_inputs(scenario), scenario)
    assert len(schedule) == 72 * 4
    check_rule_battery(scenario, schedule)
    assert set(info["peak_limit_kw"]) == {"2026-01"}


def test_no_assets_bill_by_hand(tmp_path):
    price = [0.3, 0.5, 1.0, 0.8, 0.4, 0.6]
    load = [100.0, 140.0, 180.0, 160.0, 90.0, 120.0]
    data = scenario_dict(
        tmp_path,
        load,
        price=price,
        pv_kw=[0.0, 50.0, 80.0, 40.0, 0.0, 0.0],
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, final_soc="at_least_initial")],
        grid={"demand_charge_cny_per_kw_month": 40.0},
    )
    result = solve_case(tmp_path, data)
    entry = result.summary["baselines"]["no-assets"]
    by_hand = sum(p * x for p, x in zip(price, load)) * 1.0 + 40.0 * max(load)
    assert entry["total_cost_cny"] == pytest.approx(by_hand, abs=BILL_ATOL_CNY)
    assert entry["demand_charge_cny"] == pytest.approx(40.0 * 180.0, abs=BILL_ATOL_CNY)
    assert entry["peak_import_kw"] == {"2026-01": pytest.approx(180.0, abs=ZERO_TOL_KW)}
    assert entry["energy_kwh"]["import_kwh"] == pytest.approx(sum(load), abs=1e-9)
    assert entry["kpis"]["pv_generated_kwh"] == 0.0
    assert entry["emissions_t"]["location_based_t"] > 0.0
    cut = result.summary["kpis"]["vs_baseline"]["no-assets"]["emission_reduction_t"]
    assert cut["location_based_t"] > 0.0  # PV avoids grid energy
    assert result.summary["kpis"]["vs_baseline"]["no-assets"]["peak_shaving_max_kw"] > 0.0


def test_import_limit_violations_of_baselines_are_counted(tmp_path):
    data = scenario_dict(
        tmp_path,
        [100.0, 100.0, 150.0, 100.0],
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, soc_initial_fraction=0.5)],
        grid={"import_limit_kw": 120.0},
    )
    result = solve_case(tmp_path, data)
    for name in ("no-assets", "pv-only"):
        v = result.summary["baselines"][name]["import_limit_violations"]
        assert v["steps"] == 1 and v["max_excess_kw"] == pytest.approx(30.0, abs=ZERO_TOL_KW)
    # The rule shaves to its set point (150 - 0.5 x 50 = 125 kW): still 5 kW above.
    rule = result.summary["baselines"]["rule-based"]
    assert rule["rule"]["peak_limit_kw"] == {"2026-01": pytest.approx(125.0)}
    v = rule["import_limit_violations"]
    assert v["steps"] == 1 and v["max_excess_kw"] == pytest.approx(5.0, abs=ZERO_TOL_KW)


def test_fixed_set_point_is_kept_while_the_battery_has_energy(tmp_path):
    data = scenario_dict(
        tmp_path,
        [50.0, 150.0, 140.0, 50.0],
        batteries=[battery(energy_kwh=200.0, power_kw=100.0, soc_initial_fraction=1.0)],
    )
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    schedule, info = rule_based_schedule(build_inputs(scenario), scenario, peak_limit_kw=100.0)
    assert np.allclose(schedule["grid_import_kw"], [50.0, 100.0, 100.0, 50.0], atol=ZERO_TOL_KW)
    assert info["final_soc_kwh"]["bess"] == pytest.approx(110.0, abs=SOC_TOL_KWH)


def test_rule_on_a_year_is_fast(tmp_path):
    hours = np.arange(8760)
    load = 300.0 + 100.0 * np.sin(hours / 24 * 2 * np.pi)
    pv = np.clip(np.sin((hours % 24 - 7) / 10 * np.pi), 0.0, None) * 500.0
    data = scenario_dict(
        tmp_path,
        load.tolist(),
        start="2026-01-01T00:00:00",
        price={"calendar": "jiangsu-2025-industrial"},
        pv_kw=pv.tolist(),
        batteries=[battery(energy_kwh=400.0, power_kw=200.0, eta_c=0.95, eta_d=0.95)],
    )
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    inputs = build_inputs(scenario)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        schedule, _ = rule_based_schedule(inputs, scenario)
        best = min(best, time.perf_counter() - t0)
    assert best < RULE_TIME_LIMIT_S
    check_rule_battery(scenario, schedule)
