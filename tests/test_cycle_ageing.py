"""Cycle-ageing cost over depth segments (issue 16 item 3, dispatch; Xu et al. 2018).

A lossless 100 kWh / 100 kW battery, empty at the start, on a two-step day: it may
charge at the low price in step 0 and discharge at the high price in step 1 against a
200 kW load (no export). Every kWh cycled saves ``high - low``; the LP cycles a kWh
only where that margin exceeds the kWh's ageing cost. Hand-computed expectations in
each test; every solve also goes through :func:`helpers.check_invariants`, which
recomputes the bill by hand (:func:`helpers.recompute_bill`, segment columns included).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pydantic
import pyomo.environ as pyo
import pytest
from helpers import (
    COST_ATOL_CNY,
    COST_RTOL,
    POWER_TOL_KW,
    battery,
    check_invariants,
    scenario_dict,
    solve_case,
    write_scenario,
)

import vpp
import vpp.cli
from vpp.assets.battery.ageing import ageing_cost_cny, shallow_first_cost_cny
from vpp.assets.battery.block import TIE_BREAK_CNY_PER_KWH
from vpp.errors import EXIT_BAD_INPUT, ScenarioError
from vpp.inputs.site import build_inputs
from vpp.model import AssetInput, build_model, solve
from vpp.planning.finance import crf
from vpp.planning.size import size
from vpp.scenario.schema import Battery, EnergyPrice, Grid
from vpp.timeseries import Horizon

LOAD_KW = 200.0
LOW, HIGH = 0.2, 1.0  # margin 0.8 CNY/kWh: between c_1 = 0.5 and c_2 = 1.0
DEEP_HIGH = 2.0  # margin 1.8 CNY/kWh: above c_2
TWO_SEGMENTS = {"segments": 2, "cost_cny_per_kwh": [0.5, 1.0]}


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def approx_kw(values: object) -> object:
    return pytest.approx(values, abs=POWER_TOL_KW)


def two_price_day(tmp_path: Path, high: float, **terms: object) -> dict:
    b = battery(energy_kwh=100.0, power_kw=100.0, **terms)
    return scenario_dict(tmp_path, [LOAD_KW, LOAD_KW], price=[LOW, high], batteries=[b])


def test_one_segment_costs_what_the_same_throughput_cost_costs(tmp_path):
    # c_1 = 0.3 < margin 0.8: a full 100 kWh cycle, 0.3 x 100 = 30 CNY of wear either way;
    # energy 200 x 0.2 + 100 x 0.2 + (200 - 100) x 1.0 = 160 CNY.
    ageing = solve_case(
        tmp_path / "a",
        two_price_day(
            tmp_path / "a", HIGH, cycle_ageing={"segments": 1, "cost_cny_per_kwh": [0.3]}
        ),
    )
    wear = solve_case(
        tmp_path / "w", two_price_day(tmp_path / "w", HIGH, throughput_cost_cny_per_kwh=0.3)
    )
    for result in (ageing, wear):
        assert result.schedule["bess_discharge_kw"].to_numpy() == approx_kw([0.0, 100.0])
        assert result.summary["battery_cost_cny"] == approx_cny(30.0)
        assert result.summary["total_cost_cny"] == approx_cny(190.0)
    assert ageing.schedule["bess_segment1_discharge_kw"].to_numpy() == approx_kw([0.0, 100.0])


def test_a_margin_between_the_segment_costs_cycles_exactly_the_shallow_depth(tmp_path):
    # 0.5 < 0.8 < 1.0: only the shallow segment's 50 kWh pays; wear 0.5 x 50 = 25 CNY,
    # energy 200 x 0.2 + 50 x 0.2 + 150 x 1.0 = 200 CNY.
    result = solve_case(tmp_path, two_price_day(tmp_path, HIGH, cycle_ageing=TWO_SEGMENTS))
    s = result.schedule
    assert s["bess_charge_kw"].to_numpy() == approx_kw([50.0, 0.0])
    assert s["bess_discharge_kw"].to_numpy() == approx_kw([0.0, 50.0])
    assert s["bess_segment1_discharge_kw"].to_numpy() == approx_kw([0.0, 50.0])
    assert s["bess_segment2_discharge_kw"].to_numpy() == approx_kw([0.0, 0.0])
    assert result.summary["battery_cost_cny"] == approx_cny(25.0)
    assert result.summary["total_cost_cny"] == approx_cny(225.0)


def test_a_deep_cycle_pays_the_shallow_cost_then_the_deep_one(tmp_path):
    # margin 1.8 > 1.0: the full 100 kWh; the first 50 kWh at 0.5, the next 50 at 1.0:
    # wear 25 + 50 = 75 CNY; energy 200 x 0.2 + 100 x 0.2 + 100 x 2.0 = 260 CNY.
    result = solve_case(tmp_path, two_price_day(tmp_path, DEEP_HIGH, cycle_ageing=TWO_SEGMENTS))
    s = result.schedule
    assert s["bess_discharge_kw"].to_numpy() == approx_kw([0.0, 100.0])
    assert s["bess_segment1_discharge_kw"].to_numpy() == approx_kw([0.0, 50.0])
    assert s["bess_segment2_discharge_kw"].to_numpy() == approx_kw([0.0, 50.0])
    assert result.summary["battery_cost_cny"] == approx_cny(75.0)
    assert result.summary["total_cost_cny"] == approx_cny(335.0)


def test_the_objective_is_the_bill_plus_the_tie_break(tmp_path):
    # The LP's own objective = the bill (ageing inside battery_cost_cny) + eps x kWh
    # charged: 335 + 1e-6 x 100 CNY.
    data = two_price_day(tmp_path, DEEP_HIGH, cycle_ageing=TWO_SEGMENTS)
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    inputs = build_inputs(scenario)
    solved = solve(build_model(inputs.assets, inputs.horizon))
    expected = 335.0 + TIE_BREAK_CNY_PER_KWH * 100.0
    assert solved.objective_cny == pytest.approx(expected, rel=COST_RTOL, abs=COST_ATOL_CNY)
    result = vpp.run(scenario)
    check_invariants(result)
    charged_kwh = float(result.schedule["bess_charge_kw"].sum())
    bill_cny = result.summary["total_cost_cny"] + TIE_BREAK_CNY_PER_KWH * charged_kwh
    assert solved.objective_cny == approx_cny(bill_cny)


def test_costs_derived_from_a_cycle_life_curve():
    # Phi = 1/N: Phi(0.5) = 1/4000, Phi(1) = 1/1000; R = 1000 CNY/kWh, J = 2, eta_dis 0.8:
    # c_1 = 1000 x 2 x 2.5e-4 / 0.8 = 0.625, c_2 = 1000 x 2 x 7.5e-4 / 0.8 = 1.875.
    # A full cycle of 100 kWh from storage (80 kWh at the bus): 0.625 x 40 + 1.875 x 40
    # = 100 CNY = R E Phi(1), the paper's cost of one cycle of depth 1.
    spec = Battery(
        name="bess",
        energy_kwh=100.0,
        charge_power_kw=50.0,
        discharge_power_kw=50.0,
        discharge_efficiency=0.8,
        cycle_ageing={
            "segments": 2,
            "replacement_cny_per_kwh": 1000.0,
            "cycle_life_at_dod": {0.5: 4000, 1.0: 1000},
        },
    )
    costs = spec.cycle_ageing.bus_costs_cny_per_kwh(spec.discharge_efficiency)
    assert costs == pytest.approx([0.625, 1.875], rel=1e-12)
    assert 40.0 * sum(costs) == pytest.approx(1000.0 * 100.0 / 1000.0, rel=1e-12)


def test_the_ageing_model_stays_a_linear_program():
    spec = Battery(
        name="bess",
        energy_kwh=100.0,
        charge_power_kw=50.0,
        discharge_power_kw=50.0,
        cycle_ageing={"segments": 4, "cost_cny_per_kwh": [0.1, 0.2, 0.3, 0.4]},
    )
    steps = 4
    grid = Grid(energy_price=EnergyPrice(calendar="jiangsu-2025-industrial"))
    series = {"price_cny_per_kwh": np.full(steps, 0.5), "export_price_cny_per_kwh": np.zeros(4)}
    assets = [
        AssetInput("grid", "grid", grid, series),
        AssetInput("load", "load", None, {"load_kw": np.full(steps, 100.0)}),
        AssetInput("bess", "battery", spec, {}),
    ]
    horizon = Horizon.from_bounds(
        dt.datetime(2026, 7, 1), end=dt.datetime(2026, 7, 1, 4), step_minutes=60
    )
    model = build_model(assets, horizon)
    block = model.asset["bess"]
    names = {v.local_name for v in block.component_objects(pyo.Var)}
    assert {f"segment{j}_discharge_kw" for j in range(1, 5)} <= names
    assert all(v.is_continuous() for v in model.component_data_objects(pyo.Var))


BAD = [
    ({"segments": 2, "cost_cny_per_kwh": [1.0, 0.5]}, "decrease with depth"),
    ({"segments": 0, "cost_cny_per_kwh": []}, "greater than or equal to 1"),
    ({"segments": 3, "cost_cny_per_kwh": [0.1, 0.2]}, "has 2 values for 3 segments"),
    (
        {"segments": 2, "replacement_cny_per_kwh": 1000.0, "cycle_life_at_dod": {0.5: 3000}},
        "must include depth 1.0",
    ),
    (  # 1/N concave: 1/2000 at half depth, 1/1500 at full depth
        {
            "segments": 2,
            "replacement_cny_per_kwh": 1000.0,
            "cycle_life_at_dod": {0.5: 2000, 1.0: 1500},
        },
        "decrease with depth",
    ),
    (
        {"segments": 1, "cost_cny_per_kwh": [0.1], "replacement_cny_per_kwh": 1000.0},
        "give either",
    ),
]


@pytest.mark.parametrize(("ageing", "message"), BAD)
def test_bad_cycle_ageing_is_refused(ageing, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        Battery(
            name="bess",
            energy_kwh=100.0,
            charge_power_kw=50.0,
            discharge_power_kw=50.0,
            cycle_ageing=ageing,
        )


def test_decreasing_costs_exit_2_from_the_cli(tmp_path, capsys):
    data = two_price_day(
        tmp_path, HIGH, cycle_ageing={"segments": 2, "cost_cny_per_kwh": [1.0, 0.5]}
    )
    path = write_scenario(tmp_path, data)
    code = vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")])
    assert code == EXIT_BAD_INPUT
    assert "cycle_ageing" in capsys.readouterr().err


def test_rolling_runs_refuse_cycle_ageing(tmp_path):
    data = scenario_dict(
        tmp_path,
        [LOAD_KW] * 48,
        price=([LOW] * 8 + [HIGH] * 16) * 2,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, cycle_ageing=TWO_SEGMENTS)],
    )
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "lookahead_h": 24},
    }
    with pytest.raises(ScenarioError, match="rolling runs do not support"):
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))


def test_without_the_key_nothing_changes(tmp_path):
    # The same day without cycle_ageing: the full cycle, no wear, no segment columns.
    result = solve_case(tmp_path, two_price_day(tmp_path, HIGH))
    check_invariants(result)
    assert result.summary["battery_cost_cny"] == approx_cny(0.0)
    assert result.summary["total_cost_cny"] == approx_cny(160.0)
    assert not [c for c in result.schedule.columns if "segment" in c]


def test_flows_without_segments_are_priced_shallowest_first():
    # c = [0.5, 1.0], 100 kWh lossless, full at the start: 30 kWh out of segment 1
    # (15 CNY), 30 kWh in (segment 1 back to 50), 60 kWh out: 50 from segment 1 (25)
    # and 10 from segment 2 (10): [15, 0, 35] CNY.
    spec = Battery(
        name="bess",
        energy_kwh=100.0,
        charge_power_kw=100.0,
        discharge_power_kw=100.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        soc_initial_fraction=1.0,
        cycle_ageing=TWO_SEGMENTS,
    )
    cost = shallow_first_cost_cny(
        spec, np.array([0.0, 30.0, 0.0]), np.array([30.0, 0.0, 60.0]), 1.0
    )
    assert cost == pytest.approx([15.0, 0.0, 35.0], abs=COST_ATOL_CNY)


@pytest.mark.parametrize(("high", "wear_cny"), [(HIGH, 25.0), (DEEP_HIGH, 75.0)])
def test_shallowest_first_prices_the_lp_schedule_as_the_lp_does(tmp_path, high, wear_cny):
    # A rule-based baseline's bill prices its flows this way; on the LP's own schedule it
    # gives the LP's ageing cost (25 and 75 CNY above).
    result = solve_case(tmp_path, two_price_day(tmp_path, high, cycle_ageing=TWO_SEGMENTS))
    s = result.schedule
    spec = result.scenario.site.batteries[0]
    flows = s[["bess_charge_kw", "bess_discharge_kw"]].to_numpy().T
    assert float(shallow_first_cost_cny(spec, *flows, 1.0).sum()) == approx_cny(wear_cny)
    without = s.drop(columns=[c for c in s.columns if "segment" in c])
    assert float(ageing_cost_cny(spec, without, 1.0).sum()) == approx_cny(wear_cny)


def test_the_rule_based_baseline_pays_its_ageing_too(tmp_path):
    # 100 kWh of PV surplus in step 0, price 2.0 in step 1. The rule-based baseline
    # discharges 50 kWh (0.5 equivalent full cycles of 100 kWh): within the shallow
    # segment's 50 kWh, 0.5 x 50 = 25 CNY. The optimizer cycles all 100 kWh: 75 CNY.
    b = battery(energy_kwh=100.0, power_kw=100.0, cycle_ageing=TWO_SEGMENTS)
    data = scenario_dict(
        tmp_path, [LOAD_KW, LOAD_KW], price=[LOW, DEEP_HIGH], pv_kw=[300.0, 0.0], batteries=[b]
    )
    result = solve_case(tmp_path, data)
    rule = result.summary["baselines"]["rule-based"]
    assert rule["kpis"]["equivalent_full_cycles"]["bess"] == pytest.approx(0.5)
    assert rule["battery_cost_cny"] == approx_cny(25.0)
    assert result.summary["battery_cost_cny"] == approx_cny(75.0)


def test_a_sized_battery_cycles_only_its_shallow_segment(tmp_path):
    # 7 days of 12 h at 0.3 then 12 h at 0.8 (margin 0.5), c = [0.2, 0.7]: only the
    # shallow half of the chosen E pays, 0.3 CNY per kWh, once a day. At half the
    # break-even capital cost of that (0.15 CNY per kWh of E a day) the size is the
    # largest allowed, 500 kWh, and the gain 7 x 0.3 x 250 less the annualized cost.
    days, low, high, rate, life = 7, 0.3, 0.8, 0.06, 15
    capex = 0.5 * 365.0 * 0.15 / crf(rate, life)
    ageing = {"segments": 2, "cost_cny_per_kwh": [0.2, 0.7]}
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * days),
        price=([low] * 12 + [high] * 12) * days,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0, cycle_ageing=ageing)],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": capex,
        "lifetime_years": life,
    }
    data["finance"] = {"discount_rate": rate, "analysis_years": 10}
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)))
    e = 500.0
    assert result.sizes["bess"]["energy_kwh"] == pytest.approx(e, abs=1e-4)
    s = result.summary
    invested = s["annualized_investment_cny"] * s["horizon_years"]
    gain = s["as_is_total_cost_cny"] - s["sized_total_cost_cny"] - invested
    cost = days / 365.0 * crf(rate, life) * capex * e
    assert gain == pytest.approx(days * (high - low - 0.2) * e / 2 - cost, rel=1e-6)
