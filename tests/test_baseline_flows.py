"""Energy flows of the baselines (session 8): ``summary["baselines"][name]["energy_flows_kwh"]``.

Each baseline schedule (no-assets, pv-only, rule-based) is split into flows source ->
sink by the optimized run's rule (:func:`vpp.runs.flows.schedule_flows_kwh`); a baseline
without batteries has no battery columns, which count as zero. The check is closure
against the baseline schedule's own columns, computed independently of the flows: each
source's outflows add up to its total (PV output, battery discharge, grid import) and
each sink's inflows to its total (the load, battery charging, grid export), over the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
from vpp.inputs.site import build_inputs
from vpp.runs.baselines import baseline_schedules
from vpp.runs.flows import SINKS, SOURCES

#: A flow total against the schedule's own total [kWh].
CLOSURE_TOL_KWH = 1e-6


def day(folder: Path) -> vpp.scenario.Scenario:
    """A day: office-like load, a PV midday surplus, a battery, a peak-priced evening."""
    load = [80.0] * 8 + [150.0] * 4 + [60.0] * 4 + [180.0] * 4 + [90.0] * 4
    pv = [0.0] * 7 + [40.0, 90.0, 160.0, 200.0, 210.0, 200.0, 160.0, 90.0, 40.0] + [0.0] * 8
    price = [0.3] * 8 + [0.9] * 4 + [0.6] * 4 + [1.2] * 4 + [0.6] * 4
    data = scenario_dict(
        folder,
        load,
        pv_kw=pv,
        price=price,
        export_price=0.1,
        batteries=[battery(energy_kwh=200.0, power_kw=80.0, eta_c=0.95, eta_d=0.95)],
    )
    return vpp.load_scenario(write_scenario(folder, data))


def totals(schedule, step_h: float) -> dict[tuple[str, str], float]:
    """Each source's and sink's total from the schedule's own columns [kWh]."""

    def kwh(column: str) -> float:
        return float(schedule[column].sum() * step_h) if column in schedule else 0.0

    return {
        ("source", "pv"): kwh("roof_pv_kw"),
        ("source", "battery"): kwh("bess_discharge_kw"),
        ("source", "generation"): 0.0,
        ("source", "grid"): kwh("grid_import_kw"),
        ("sink", "load"): kwh("load_kw"),
        ("sink", "battery"): kwh("bess_charge_kw"),
        ("sink", "grid"): kwh("grid_export_kw"),
    }


def test_each_baselines_flows_add_up_to_its_sources_and_sinks(tmp_path: Path) -> None:
    scenario = day(tmp_path)
    result = vpp.run(scenario)
    step_h = result.horizon.step_h
    schedules, _ = baseline_schedules(build_inputs(scenario), scenario)
    assert set(result.summary["baselines"]) == set(schedules)
    for name, schedule in schedules.items():
        flows = result.summary["baselines"][name]["energy_flows_kwh"]
        expected = totals(schedule, step_h)
        for source in SOURCES:
            out = sum(flows[f"{source}_to_{sink}_kwh"] for sink in SINKS)
            assert out == pytest.approx(expected[("source", source)], abs=CLOSURE_TOL_KWH), (
                name,
                source,
            )
        for sink in SINKS:
            into = sum(flows[f"{source}_to_{sink}_kwh"] for source in SOURCES)
            assert into == pytest.approx(expected[("sink", sink)], abs=CLOSURE_TOL_KWH), (
                name,
                sink,
            )
        assert all(v >= 0.0 for v in flows.values()), (name, flows)
    # what sets them apart: no PV in no-assets, no battery in pv-only, both in rule-based
    base = result.summary["baselines"]
    assert base["no-assets"]["energy_flows_kwh"]["pv_to_load_kwh"] == 0.0
    assert base["pv-only"]["energy_flows_kwh"]["pv_to_load_kwh"] > 0.0
    assert base["pv-only"]["energy_flows_kwh"]["battery_to_load_kwh"] == 0.0
    assert base["rule-based"]["energy_flows_kwh"]["battery_to_load_kwh"] > 0.0
    # the optimized run's flows sit beside them, by the same keys
    assert set(result.summary["energy_flows_kwh"]) == set(base["pv-only"]["energy_flows_kwh"])
