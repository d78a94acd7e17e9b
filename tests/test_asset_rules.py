"""The rules concern of the asset units: inputs read unit by unit, idle and rule behaviour.

``build_inputs``, the baselines, the rule-based baseline and the job's fallback iterate
the units (:mod:`vpp.assets.base`, ``rules.py`` section); these tests check what that
contract promises: every unit answers each capability itself, inputs keep model order
and collect every problem, the rule follows the shared storage dynamics, and the
baselines and fallback take their columns from the units.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
from vpp.assets import site_entries, unit, units
from vpp.assets.base import AssetUnit
from vpp.assets.storage import StorageDynamics
from vpp.errors import DataError, ScenarioError
from vpp.inputs.site import build_inputs
from vpp.jobs.fallback import fallback_states, site_fallback
from vpp.runs.baseline import baseline_schedule
from vpp.runs.baselines import no_assets_schedule
from vpp.runs.rule_based import rule_based_schedule

RULES_CAPABILITIES = (
    "inputs",
    "site_inputs",
    "idle",
    "delivered",
    "rule_power_kw",
    "rule",
    "fallback_final_kwh",
)

LOAD = [50.0, 60.0, 80.0, 120.0, 150.0, 90.0, 70.0, 40.0]
PV = [0.0, 20.0, 90.0, 160.0, 180.0, 120.0, 30.0, 0.0]


def shiftable(name: str) -> dict:
    return {
        "kind": "shiftable",
        "name": name,
        "energy_kwh": 40.0,
        "max_power_kw": 20.0,
        "window_start": "10:00",
        "window_end": "14:00",
    }


def site_with_everything(tmp_path, **extra):
    """Load, PV, two batteries and flexible loads of both kinds interleaved."""
    data = scenario_dict(
        tmp_path,
        LOAD,
        price={"calendar": "jiangsu-2025-industrial"},
        export_price=0.3,
        pv_kw=PV,
        curtailable_kw=[10.0] * len(LOAD),
        batteries=[
            battery("b1", energy_kwh=100.0, power_kw=50.0, eta_c=0.95, eta_d=0.95),
            battery("b2", energy_kwh=50.0, power_kw=25.0, soc_initial_fraction=0.5),
        ],
        flexible_loads=[shiftable("wash"), shiftable("dry")],
        **extra,
    )
    # the curtailable load between the two shiftable ones: model order is scenario order
    flex = data["site"]["flexible_loads"]
    flex.insert(1, flex.pop())
    return data


def load(tmp_path, data):
    return vpp.load_scenario(write_scenario(tmp_path, data))


@pytest.mark.parametrize("name", RULES_CAPABILITIES)
def test_every_unit_answers_each_rules_capability_itself(name):
    for u in units():
        assert getattr(type(u), name) is not getattr(AssetUnit, name), (u.kind, name)
        assert isinstance(u.input_stage, int), u.kind


def test_inputs_keep_model_order_and_the_load_column_first(tmp_path):
    scenario = load(tmp_path, site_with_everything(tmp_path))
    inputs = build_inputs(scenario)
    expected = [(getattr(e, "name", u.kind), u.kind) for u, e in site_entries(scenario.site)]
    assert [(a.name, a.kind) for a in inputs.assets] == expected
    names = ["grid", "load", "roof", "b1", "b2", "wash", "shed", "dry"]
    assert [a.name for a in inputs.assets] == names
    assert list(inputs.series.columns) == [
        "load_kw",
        "price_cny_per_kwh",
        "tou_period",
        "export_price_cny_per_kwh",
        "roof_available_kw",
        "wash_default_kw",
        "shed_power_kw",
        "dry_default_kw",
        "grid_factor_kg_per_kwh",
        "market_factor_kg_per_kwh",
    ]
    assert inputs.tariff_info["energy_price"] == "calendar jiangsu-2025-industrial"


def test_every_problem_is_collected_as_the_class_of_the_first(tmp_path):
    data = site_with_everything(tmp_path)
    data["site"]["load"]["series"]["column"] = "no_such_column"
    data["site"]["grid"]["energy_price"] = {"calendar": "no-such-calendar"}
    with pytest.raises(DataError) as info:  # the load is read first: a data problem
        build_inputs(load(tmp_path, data))
    keys = [p.key or "" for p in info.value.problems]
    assert len(keys) >= 2
    assert "site.load.series" in keys[0]
    assert any("energy_price" in k for k in keys[1:])

    data = site_with_everything(tmp_path)
    data["site"]["grid"]["energy_price"] = {"calendar": "no-such-calendar"}
    data["site"]["pv"][0]["series"]["column"] = "no_such_column"
    with pytest.raises(ScenarioError) as info:  # the tariff before the PV series
        build_inputs(load(tmp_path, data))
    keys = [p.key or "" for p in info.value.problems]
    assert any("energy_price" in k for k in keys)
    assert any("site.pv[0].series" in k for k in keys)


def test_rule_follows_the_storage_dynamics_and_only_batteries_act(tmp_path):
    scenario = load(tmp_path, site_with_everything(tmp_path))
    inputs = build_inputs(scenario)
    schedule, info = rule_based_schedule(inputs, scenario)
    dt = inputs.horizon.step_h
    acting = [a for a in inputs.assets if unit(a.kind).rule_power_kw(a) > 0.0]
    assert [a.name for a in acting] == ["b1", "b2"]
    assert set(info["final_soc_kwh"]) == {"b1", "b2"}
    for a in acting:
        dyn = StorageDynamics.of(a.spec, dt)
        soc = schedule[f"{a.name}_soc_kwh"].to_numpy()
        c = schedule[f"{a.name}_charge_kw"].to_numpy()
        d = schedule[f"{a.name}_discharge_kw"].to_numpy()
        after = [dyn.next_kwh(s, ci, di) for s, ci, di in zip(soc, c, d)]
        np.testing.assert_allclose(after[:-1], soc[1:], rtol=0, atol=1e-9)
        assert after[-1] == pytest.approx(info["final_soc_kwh"][a.name], abs=1e-9)
        assert (c >= 0).all() and (d >= 0).all()
        assert (c <= a.spec.charge_power_kw + 1e-9).all()
        assert (d <= a.spec.discharge_power_kw + 1e-9).all()
    for a in inputs.assets:
        if a not in acting:
            assert unit(a.kind).rule(a, None) is None, a.kind  # says so, reads nothing


def test_baseline_columns_come_from_idle_and_delivered(tmp_path):
    scenario = load(tmp_path, site_with_everything(tmp_path))
    inputs = build_inputs(scenario)
    base = baseline_schedule(inputs, scenario)
    s = inputs.series
    np.testing.assert_array_equal(base["wash_power_kw"], s["wash_default_kw"])
    assert (base["shed_shed_kw"] == 0.0).all()
    assert "b1_charge_kw" not in base  # batteries are not in the pv-only baseline
    demand = s["load_kw"] + s["wash_default_kw"] + s["dry_default_kw"] + s["shed_power_kw"]
    balance = base["grid_import_kw"] - base["grid_export_kw"] + base["roof_pv_kw"]
    np.testing.assert_allclose(balance, demand, atol=1e-9)
    np.testing.assert_allclose(
        base["roof_pv_kw"] + base["roof_curtailed_kw"], s["roof_available_kw"], atol=1e-9
    )
    none = no_assets_schedule(inputs, scenario)
    assert (none["roof_available_kw"] == 0.0).all() and (none["roof_pv_kw"] == 0.0).all()
    np.testing.assert_allclose(none["grid_import_kw"], demand, atol=1e-9)


def test_fallback_runs_the_rule_from_the_measured_state(tmp_path):
    """The fallback's batteries follow the rule's dynamics from their measured state, and
    the states it carries out are where its schedule ends."""
    scenario = load(tmp_path, site_with_everything(tmp_path))
    inputs = build_inputs(scenario)
    b2 = next(a for a in inputs.assets if a.name == "b2")
    b2.series["soc_initial_kwh"] = np.array([17.5])
    frame = site_fallback(inputs, scenario)
    assert frame["b1_soc_kwh"].iloc[0] == 0.0  # soc_initial_fraction 0
    assert frame["b2_soc_kwh"].iloc[0] == 17.5  # measured, not 0.5 x 50 kWh
    assert "grid_net_import_kw" not in frame  # the pv-only baseline's columns, and the rule's
    dt = inputs.horizon.step_h
    states = fallback_states({"site": frame}, {"site": inputs})
    for a in (a for a in inputs.assets if a.kind == "battery"):
        dyn = StorageDynamics.of(a.spec, dt)
        soc = frame[f"{a.name}_soc_kwh"].to_numpy()
        c, d = frame[f"{a.name}_charge_kw"].to_numpy(), frame[f"{a.name}_discharge_kw"].to_numpy()
        after = [dyn.next_kwh(s, ci, di) for s, ci, di in zip(soc, c, d)]
        np.testing.assert_allclose(after[:-1], soc[1:], rtol=0, atol=1e-9)
        assert states["site"][a.name] == pytest.approx(after[-1], abs=1e-9)
    assert (frame["b1_charge_kw"] > 0).any()  # it acts: the PV surplus charges b1


def test_a_window_cut_by_the_horizon_is_a_note(tmp_path):
    """A shiftable window 06:00-10:00 on a horizon ending at 08:00 owes half its energy:
    said in the inputs' notes, at its local time; windows wholly inside are not."""
    cut = {**shiftable("wash"), "window_start": "06:00", "window_end": "10:00"}
    inside = {**shiftable("dry"), "window_start": "01:00", "window_end": "05:00"}
    data = scenario_dict(tmp_path, LOAD, flexible_loads=[cut, inside])
    inputs = build_inputs(load(tmp_path, data))
    wash = next(a for a in inputs.assets if a.name == "wash")
    assert wash.series["window_energy_kwh"].tolist() == [20.0]
    (note,) = inputs.notes
    assert note.startswith("shiftable load 'wash': 1 window occurrence(s) cut by the horizon")
    assert "2026-01-05T06:00:00+08:00 (20.0 kWh)" in note
