"""The asset units' blocks: registration, the one storage equation, one battery builder
whether sized or not, and windows whose blocks cannot be updated in place."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pyomo.environ as pyo
import pytest

import vpp.assets
from vpp.assets.battery.block import TIE_BREAK_CNY_PER_KWH
from vpp.assets.storage import StorageDynamics, add_storage_balance
from vpp.model import AssetInput, build_model, solve
from vpp.model.blocks.registry import builder
from vpp.model.blocks.updates import updater
from vpp.model.update import ReusableModel, structure_key
from vpp.scenario.schema import Battery, EnergyPrice, Grid
from vpp.timeseries import Horizon

STEPS = 24


def horizon() -> Horizon:
    return Horizon.from_bounds(
        dt.datetime(2026, 7, 1), end=dt.datetime(2026, 7, 2), step_minutes=60
    )


def site(battery: AssetInput | None = None, *extra: AssetInput) -> list[AssetInput]:
    hours = np.arange(STEPS)
    price = np.where((hours >= 8) & (hours < 20), 1.2, 0.3)
    grid = Grid(
        import_limit_kw=None,
        export_limit_kw=0.0,
        energy_price=EnergyPrice(calendar="jiangsu-2025-industrial"),
    )
    assets = [
        AssetInput(
            "grid",
            "grid",
            grid,
            {"price_cny_per_kwh": price, "export_price_cny_per_kwh": np.zeros(STEPS)},
        ),
        AssetInput("load", "load", None, {"load_kw": np.full(STEPS, 200.0)}),
    ]
    if battery is not None:
        assets.append(battery)
    return assets + list(extra)


def bess(**changes: float) -> Battery:
    values = {
        "name": "bess",
        "energy_kwh": 400.0,
        "charge_power_kw": 100.0,
        "discharge_power_kw": 100.0,
        "charge_efficiency": 0.95,
        "discharge_efficiency": 0.9,
        "self_discharge_fraction_per_h": 0.001,
        "soc_initial_fraction": 0.5,
    }
    return Battery(**{**values, **changes})


def test_every_unit_registers_its_block_and_its_updater():
    for unit in vpp.assets.units():
        assert builder(unit.kind) == unit.build
        assert updater(unit.kind) == (unit.update, unit.signature)


def test_storage_rows_carry_the_dynamics_of_each_store():
    spec = bess()
    model = build_model(site(AssetInput("bess", "battery", spec, {})), horizon())
    dyn = StorageDynamics.of(spec, 1.0)
    block = model.asset["bess"]
    for t in (0, 11, STEPS - 1):
        body = block.soc_balance[t].body
        assert list(body.linear_coefs) == [
            1.0,
            -dyn.keep,
            -dyn.gain_kwh_per_kw,
            dyn.loss_kwh_per_kw,
        ]
        assert [v.name for v in body.linear_vars] == [
            block.soc_kwh[t + 1].name,
            block.soc_kwh[t].name,
            block.charge_kw[t].name,
            block.discharge_kw[t].name,
        ]
    # a store indexed by (session, step): the next state is (session, step + 1)
    m = pyo.ConcreteModel()
    m.ST = pyo.Set(initialize=[(0, 2), (0, 3), (1, 5)], dimen=2, ordered=True)
    m.SK = pyo.Set(initialize=[(0, 2), (0, 3), (0, 4), (1, 5), (1, 6)], dimen=2, ordered=True)
    m.e = pyo.Var(m.SK)
    m.c = pyo.Var(m.ST)
    lossless = StorageDynamics(0.5, 0.9)
    rows = add_storage_balance(m, "balance", m.ST, lossless, m.e, m.c)
    assert list(rows[1, 5].body.linear_coefs) == [1.0, -1.0, -0.45]
    assert [v.name for v in rows[1, 5].body.linear_vars] == ["e[1,6]", "e[1,5]", "c[1,5]"]


def sizing_keys(energy_kwh: float, power_kw: float, energy_cost: float) -> dict:
    one = lambda v: np.array([float(v)])  # noqa: E731
    return {
        "energy_min_kwh": one(energy_kwh),
        "energy_max_kwh": one(energy_kwh),
        "power_max_kw": one(power_kw),
        "duration_h": one(np.nan),
        "unit_energy_kwh": one(np.nan),
        "energy_cost_cny_per_kwh": one(energy_cost),
        "power_cost_cny_per_kw": one(0.0),
    }


def test_a_sized_battery_held_to_a_size_is_that_battery():
    """One builder: capacities as variables pinned to the numbers give the same dispatch
    cost, plus exactly the capacity cost."""
    spec = bess()
    fixed = solve(build_model(site(AssetInput("bess", "battery", spec, {})), horizon()))
    keys = sizing_keys(spec.energy_kwh, spec.charge_power_kw, energy_cost=2.0)
    model = build_model(site(AssetInput("bess", "battery", spec, keys)), horizon())
    sized = solve(model)
    assert fixed.status == sized.status == "Optimal"
    block = model.asset["bess"]
    assert sized.value(block.energy_kwh) == pytest.approx(spec.energy_kwh)
    capacity_cny = 2.0 * spec.energy_kwh
    assert sized.objective_cny - capacity_cny == pytest.approx(fixed.objective_cny, rel=1e-9)
    # the battery does work here: without it the day costs more
    idle = solve(build_model(site(), horizon()))
    assert idle.objective_cny > fixed.objective_cny + 10.0
    charged = sized.values(block.charge_kw).sum()
    assert charged > 0.0
    assert TIE_BREAK_CNY_PER_KWH * charged < 1e-3


def green_contract() -> AssetInput:
    spec = SimpleNamespace(
        energy_price_cny_per_mwh=300.0,
        green_premium_cny_per_mwh=20.0,
        grid_fees_cny_per_kwh=0.1,
        take_or_pay_fraction=0.0,
        shortfall_penalty_cny_per_mwh=0.0,
    )
    series = {
        "period_id": np.zeros(STEPS),
        "period_volume_kwh": np.array([1000.0]),
        "price_cny_per_kwh": np.full(STEPS, 0.5),
    }
    return AssetInput("ppa", "green_contract", spec, series)


def test_a_window_with_a_block_that_cannot_be_updated_is_built_afresh():
    assets = site(AssetInput("bess", "battery", bess(), {}))
    assert structure_key(assets, horizon()) is not None
    with_contract = [*assets, green_contract()]
    assert structure_key(with_contract, horizon()) is None
    model = ReusableModel(with_contract, horizon())
    assert model.key is None
    assert model.solve().status == "Optimal"
    with pytest.raises(ValueError, match="cannot be updated in place"):
        model.update(with_contract, horizon())
