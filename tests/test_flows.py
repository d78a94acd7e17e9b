"""Energy flows between sources and sinks (issue 15, item 5): ``vpp.runs.flows``.

- Hand-computed steps: each flow follows the priority rule of the module docstring
  (PV: load, battery, grid; battery: load, grid; grid: load, battery).
- Property (hypothesis): any balanced non-negative step gives non-negative flows that
  close: every source's outflows add up to it, every sink's inflows add up to it.
- A solved demo run: the flow columns close against the schedule's own columns (PV
  arrays, battery, grid, load + flexible loads) and the summary's totals are their sums.
- Negative prices: a solved run that imports and exports, and charges and discharges, in
  the same steps still closes, through ``grid_to_grid`` and ``battery_to_battery``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import battery, scenario_dict, solve_case
from hypothesis import given, settings
from hypothesis import strategies as st
from test_demo import demo_data

import vpp
from vpp.assets.bus_flows import BUS_FLOW_COLUMNS
from vpp.errors import SolverError
from vpp.report.html import build_report
from vpp.runs.flows import (
    FLOW_CLOSURE_TOL_KW,
    FLOW_COLUMNS,
    FlowClosureError,
    allocate_flows,
    flow_column,
)
from vpp.runs.solved_schedule import with_derived_columns
from vpp.scenario import validate_scenario

#: Hand-computed flows: exact sums and differences of small numbers [kW].
HAND_TOL_KW = 1e-12
#: A solved schedule's flows against its own columns: the bus balance's tolerance [kW].
SOLVED_TOL_KW = 1e-5
#: The summary's totals against the columns' sums [kWh].
TOTAL_TOL_KWH = 1e-6
#: Flows of a random step against its sources and sinks [kW] (sums of floats up to 1e4).
PROPERTY_TOL_KW = 1e-7

#: The seven flows the issue names, as schedule columns.
SEVEN = (
    "flow_grid_to_load_kw",
    "flow_grid_to_battery_kw",
    "flow_pv_to_load_kw",
    "flow_pv_to_battery_kw",
    "flow_pv_to_grid_kw",
    "flow_battery_to_load_kw",
    "flow_battery_to_grid_kw",
)


def flows_of(**powers: list[float]) -> dict[str, np.ndarray]:
    """Flows of steps given as ``pv``, ``discharge``, ``generation``, ``grid_import``
    (sources) and ``load``, ``charge``, ``export`` (sinks) [kW], keyed ``a_to_b``."""
    names = {
        "pv": ("src", "pv"),
        "discharge": ("src", "battery"),
        "generation": ("src", "generation"),
        "grid_import": ("src", "grid"),
        "load": ("sink", "load"),
        "charge": ("sink", "battery"),
        "export": ("sink", "grid"),
    }
    sources = {names[k][1]: np.array(v, float) for k, v in powers.items() if names[k][0] == "src"}
    sinks = {names[k][1]: np.array(v, float) for k, v in powers.items() if names[k][0] == "sink"}
    return {f"{a}_to_{b}": v for (a, b), v in allocate_flows(sources, sinks).items()}


def expect(flows: dict[str, np.ndarray], **expected: list[float]) -> None:
    """Named flows equal ``expected``; every other flow is zero."""
    for key, values in flows.items():
        want = np.array(expected.get(key, [0.0] * len(values)), float)
        assert np.allclose(values, want, rtol=0.0, atol=HAND_TOL_KW), (key, values, want)


def test_the_flow_columns_are_the_ones_the_grid_unit_declares() -> None:
    assert tuple(BUS_FLOW_COLUMNS) == FLOW_COLUMNS
    assert set(SEVEN) <= set(FLOW_COLUMNS)


def test_the_issue_step_pv_serves_load_then_battery_then_grid() -> None:
    # PV 100, load 60, battery charging 30: the rest (100 - 60 - 30 = 10) is exported.
    flows = flows_of(pv=[100.0], load=[60.0], charge=[30.0], export=[10.0])
    expect(flows, pv_to_load=[60.0], pv_to_battery=[30.0], pv_to_grid=[10.0])


def test_hand_computed_steps_follow_the_priority_rule() -> None:
    # step 0: load 80 = PV 20 + discharge 30 + import 30: each source serves the load.
    # step 1: import 50 serves the load 20 first, then charging 30.
    # step 2: discharge 50 serves the load 20, then export 30.
    # step 3: PV 40 < load 70 + charging 10: PV to load only; import 40 serves the rest
    #         of the load (30), then the charging (10).
    flows = flows_of(
        pv=[20.0, 0.0, 0.0, 40.0],
        discharge=[30.0, 0.0, 50.0, 0.0],
        grid_import=[30.0, 50.0, 0.0, 40.0],
        load=[80.0, 20.0, 20.0, 70.0],
        charge=[0.0, 30.0, 0.0, 10.0],
        export=[0.0, 0.0, 30.0, 0.0],
    )
    expect(
        flows,
        pv_to_load=[20.0, 0.0, 0.0, 40.0],
        battery_to_load=[30.0, 0.0, 20.0, 0.0],
        battery_to_grid=[0.0, 0.0, 30.0, 0.0],
        grid_to_load=[30.0, 20.0, 0.0, 30.0],
        grid_to_battery=[0.0, 30.0, 0.0, 10.0],
    )


def test_generation_serves_load_after_pv_and_battery_before_the_grid() -> None:
    # load 100 = PV 30 + discharge 20 + genset 40 + import 10; charging 0.
    # step 1: a genset of 50 with load 20: 20 to the load, 30 charges, nothing exported.
    flows = flows_of(
        pv=[30.0, 0.0],
        discharge=[20.0, 0.0],
        generation=[40.0, 50.0],
        grid_import=[10.0, 0.0],
        load=[100.0, 20.0],
        charge=[0.0, 30.0],
    )
    expect(
        flows,
        pv_to_load=[30.0, 0.0],
        battery_to_load=[20.0, 0.0],
        generation_to_load=[40.0, 20.0],
        generation_to_battery=[0.0, 30.0],
        grid_to_load=[10.0, 0.0],
    )


def test_simultaneous_charge_and_discharge_and_import_and_export_close() -> None:
    # step 0: charge 30 and discharge 30, nothing else: the discharge has no load and no
    #         export to serve, so it goes to the batteries (battery_to_battery 30).
    # step 1: PV 30 charges (30); the discharge 30 is exported (battery_to_grid 30).
    # step 2: import 100, export 90, load 10: import serves the load (10), the rest is
    #         exported again (grid_to_grid 90).
    flows = flows_of(
        pv=[0.0, 30.0, 0.0],
        discharge=[30.0, 30.0, 0.0],
        grid_import=[0.0, 0.0, 100.0],
        load=[0.0, 0.0, 10.0],
        charge=[30.0, 30.0, 0.0],
        export=[0.0, 30.0, 90.0],
    )
    expect(
        flows,
        battery_to_battery=[30.0, 0.0, 0.0],
        pv_to_battery=[0.0, 30.0, 0.0],
        battery_to_grid=[0.0, 30.0, 0.0],
        grid_to_load=[0.0, 0.0, 10.0],
        grid_to_grid=[0.0, 0.0, 90.0],
    )


def test_unbalanced_or_negative_steps_are_refused() -> None:
    with pytest.raises(FlowClosureError, match="do not balance"):
        flows_of(pv=[100.0], load=[60.0])  # 40 kW go nowhere
    with pytest.raises(FlowClosureError, match="below zero"):
        flows_of(pv=[-1.0], load=[-1.0])
    # rounding below zero within the tolerance is zero
    flows = flows_of(pv=[10.0], load=[10.0], charge=[-0.5 * FLOW_CLOSURE_TOL_KW])
    expect(flows, pv_to_load=[10.0])


POWER = st.floats(min_value=0.0, max_value=1e4, allow_nan=False, allow_infinity=False)
SHARE = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(POWER, POWER, POWER, POWER, SHARE, SHARE, SHARE), min_size=1, max_size=8))
def test_random_balanced_steps_give_non_negative_flows_that_close(steps: list) -> None:
    # Sources drawn at random; the sinks split their total by random shares, so each
    # step balances. Closure is recomputed here from the flows, not by check_closure.
    rows = np.array(steps, float)
    pv, dis, gen, imp = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    shares = rows[:, 4:7] + 1e-9
    shares = shares / shares.sum(axis=1, keepdims=True)
    total = pv + dis + gen + imp
    load, charge, export = (total * shares[:, i] for i in range(3))
    export = total - load - charge  # exact balance up to one rounding
    export = np.maximum(export, 0.0)
    flows = allocate_flows(
        {"pv": pv, "battery": dis, "generation": gen, "grid": imp},
        {"load": load, "battery": charge, "grid": export},
        tol_kw=PROPERTY_TOL_KW,
    )
    for pair, values in flows.items():
        assert (values >= 0.0).all(), pair
    given_ = {
        ("src", "pv"): pv,
        ("src", "battery"): dis,
        ("src", "generation"): gen,
        ("src", "grid"): imp,
        ("sink", "load"): load,
        ("sink", "battery"): charge,
        ("sink", "grid"): export,
    }
    for (side, name), power in given_.items():
        index = 0 if side == "src" else 1
        summed = sum(v for pair, v in flows.items() if pair[index] == name)
        assert np.allclose(summed, power, rtol=0.0, atol=PROPERTY_TOL_KW), (side, name)
    # PV serves the load first: PV to load is the smaller of the two
    assert np.allclose(flows[("pv", "load")], np.minimum(pv, load), atol=PROPERTY_TOL_KW)


def close_against_columns(result: vpp.sim.RunResult) -> None:
    """The flow columns of a solved run close against the schedule's own columns."""
    scenario, s = result.scenario, result.schedule
    site = scenario.site
    for column in FLOW_COLUMNS:
        assert (s[column] >= 0.0).all(), column
    pv = sum((s[f"{a.name}_pv_kw"] for a in site.pv), 0.0 * s["load_kw"])
    charge = sum((s[f"{b.name}_charge_kw"] for b in site.batteries), 0.0 * s["load_kw"])
    dis = sum((s[f"{b.name}_discharge_kw"] for b in site.batteries), 0.0 * s["load_kw"])
    load = s["load_kw"].copy()
    for f in site.flexible_loads:  # the demo's shiftable load, drawn from the bus
        load = load + s[f"{f.name}_power_kw"]
    out = {
        "pv": pv,
        "battery": dis,
        "grid": s["grid_import_kw"],
    }
    into = {"load": load, "battery": charge, "grid": s["grid_export_kw"]}
    for name, power in out.items():
        summed = sum(s[flow_column(name, b)] for b in ("load", "battery", "grid"))
        assert np.allclose(summed, power, rtol=0.0, atol=SOLVED_TOL_KW), name
    for name, power in into.items():
        summed = sum(s[flow_column(a, name)] for a in ("pv", "battery", "generation", "grid"))
        assert np.allclose(summed, power, rtol=0.0, atol=SOLVED_TOL_KW), name
    dt_h = result.horizon.step_h
    totals = result.summary["energy_flows_kwh"]
    for column in FLOW_COLUMNS:
        key = column.removeprefix("flow_").removesuffix("_kw") + "_kwh"
        assert totals[key] == pytest.approx(s[column].sum() * dt_h, abs=TOTAL_TOL_KWH), key


def test_a_solved_demo_run_has_flows_that_close() -> None:
    result = vpp.run(validate_scenario(demo_data(3)))
    assert set(SEVEN) <= set(result.schedule.columns)
    close_against_columns(result)
    flows = result.summary["energy_flows_kwh"]
    # the demo's PV and battery do serve the load
    assert flows["pv_to_load_kwh"] > 0.0 and flows["battery_to_load_kwh"] > 0.0
    # report.html: the source-by-sink table [MWh], PV row = PV's three flows
    html = build_report(result, {})
    row = "".join(
        f"<td>{flows[f'pv_to_{b}_kwh'] / 1e3:,.1f}</td>" for b in ("load", "battery", "grid")
    )
    assert "energy flows [MWh]" in html and f"<td>PV</td>{row}" in html


def test_negative_prices_import_and_export_and_cycle_at_once(tmp_path: Path) -> None:
    # Import pays 1 CNY/kWh to the site at every step: it imports as much as it can
    # absorb and exports what the load (50 kW) does not take, up to the export limit
    # (120 kW). A full lossy battery (efficiency 0.5 each way, 20 kW) absorbs more only by
    # charging and discharging at once: charging c stores 0.5 c, discharging d takes 2 d,
    # so a full store needs d >= c / 4 and absorbs at most c - d = 15 kW (c = 20, d = 5),
    # below the import limit (50 + 120 + 15 < 200). One step: over several, discharging in
    # one step and charging in the next absorbs as much, so the optimum would not be
    # unique. Every flow still closes.
    data = scenario_dict(
        tmp_path,
        [50.0],
        price=[-1.0],
        export_price=0.0,
        batteries=[
            battery(energy_kwh=100.0, power_kw=20.0, eta_c=0.5, eta_d=0.5, soc_initial_fraction=1.0)
        ],
        grid={"import_limit_kw": 200.0, "export_limit_kw": 120.0},
    )
    result = solve_case(tmp_path, data)
    s = result.schedule
    both_grid = np.minimum(s["grid_import_kw"], s["grid_export_kw"])
    both_battery = np.minimum(s["bess_charge_kw"], s["bess_discharge_kw"])
    assert both_grid.max() > 1.0 and both_battery.max() > 1.0  # the case happens
    close_against_columns(result)
    # At the step: import 185, export 120, charge 20, discharge 5. The discharge serves
    # the load first (5), the import the rest of the load (45), the charging (20), and
    # what it brings beyond goes back out (120).
    hand = {
        "grid_import_kw": 185.0,
        "grid_export_kw": 120.0,
        "bess_charge_kw": 20.0,
        "bess_discharge_kw": 5.0,
        "flow_battery_to_load_kw": 5.0,
        "flow_grid_to_load_kw": 45.0,
        "flow_grid_to_battery_kw": 20.0,
        "flow_grid_to_grid_kw": 120.0,
    }
    for column, kw in hand.items():
        assert np.allclose(s[column], kw, rtol=0.0, atol=SOLVED_TOL_KW), column
    others = [c for c in FLOW_COLUMNS if c not in hand]
    assert np.allclose(s[others].to_numpy(), 0.0, rtol=0.0, atol=SOLVED_TOL_KW)


def test_a_schedule_with_a_negative_power_is_an_internal_error() -> None:
    result = vpp.run(validate_scenario(demo_data(1)))
    broken = result.schedule.drop(columns=[*FLOW_COLUMNS, "grid_net_import_kw"])
    broken["bess_charge_kw"] = -1.0  # a store cannot charge below zero
    with pytest.raises(SolverError, match="energy flows"):
        with_derived_columns(broken, result.scenario)


def test_vehicles_giving_more_than_the_site_consumes_count_as_generation(tmp_path: Path) -> None:
    # A site without load and one V2G car (00:00-23:00, 30 kWh to deliver); export pays
    # 2 CNY/kWh (up to 100 kW), more than recharging costs, so the car exports in some
    # steps. A fleet is not a store: its charging is load, and its net supply into the bus
    # (the load is 0) is on-site generation, exported: generation_to_grid = discharge -
    # charge there.
    from test_ev_fleet import fleet_case

    rows = [{"vehicle": "car-1", "arrival": "0 00:00", "departure": "0 23:00", "energy_kwh": 30}]
    data = fleet_case(
        tmp_path,
        rows,
        hours=24,
        load_kw=0.0,
        grid={"export_price_cny_per_kwh": 2.0, "export_limit_kw": 100.0},
        model="per_vehicle",
        charge_efficiency=0.95,
        v2g=True,
        discharge_efficiency=0.95,
        degradation_cost_cny_per_kwh=0.05,
    )
    result = solve_case(tmp_path, data)
    s = result.schedule
    net_out = (s["carport_discharge_kw"] - s["carport_charge_kw"]).clip(lower=0.0)
    net_in = (s["carport_charge_kw"] - s["carport_discharge_kw"]).clip(lower=0.0)
    assert net_out.max() > 1.0  # the case happens
    load = sum(s[flow_column(a, "load")] for a in ("pv", "battery", "generation", "grid"))
    assert np.allclose(load, net_in, rtol=0.0, atol=SOLVED_TOL_KW)
    assert np.allclose(s["flow_generation_to_grid_kw"], net_out, rtol=0.0, atol=SOLVED_TOL_KW)
    assert np.allclose(s["flow_grid_to_load_kw"], net_in, rtol=0.0, atol=SOLVED_TOL_KW)
