"""Property tests of the model layer on random small sites (hypothesis).

For any prices, load, PV and battery, the solved dispatch must close the bus balance,
follow the battery's state equation within its bounds, never charge and discharge
at once, cost no more than leaving the battery idle, and report an objective equal
to the cost recomputed from its own schedule.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.common.gc_manager import PauseGC

import vpp.assets  # noqa: F401  (registers every unit's block builder)
from vpp.assets.battery.block import TIE_BREAK_CNY_PER_KWH
from vpp.model import AssetInput, build_model, extract, solve
from vpp.scenario.schema import Battery, EnergyPrice, Grid, ProfilePV
from vpp.timeseries import Horizon

BALANCE_TOL_KW = 1e-6
SOC_TOL_KWH = 1e-6
COST_RTOL = 1e-7
SIMULTANEOUS_TOL_KW = 1e-6

STEPS = 24

series = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=STEPS, max_size=STEPS)


@st.composite
def sites(draw: st.DrawFn) -> dict:
    return {
        "price": 0.2 + 1.0 * np.array(draw(series)),
        "export_price": 0.3 * np.array(draw(series)),
        "load": 50.0 + 400.0 * np.array(draw(series)),
        "pv": 300.0 * np.array(draw(series)),
        "energy_kwh": draw(st.floats(10.0, 500.0)),
        "c_rate": draw(st.floats(0.1, 2.0)),
        "eta_c": draw(st.floats(0.7, 1.0)),
        "eta_d": draw(st.floats(0.7, 1.0)),
        "soc0": draw(st.floats(0.1, 0.9)),
        "demand_rate": draw(st.sampled_from([0.0, 40.0])),
        "throughput": draw(st.sampled_from([0.0, 0.05])),
        "step_minutes": draw(st.sampled_from([60, 15])),
    }


def _solve(site: dict, with_battery: bool):
    horizon = Horizon.from_bounds(
        dt.datetime(2026, 7, 1), end=dt.datetime(2026, 7, 2), step_minutes=site["step_minutes"]
    )
    repeat = int(60 // site["step_minutes"])
    price, export_price, load, pv = (
        np.repeat(site[k], repeat) for k in ("price", "export_price", "load", "pv")
    )
    grid = Grid(
        import_limit_kw=None,
        export_limit_kw=100.0,
        energy_price=EnergyPrice(calendar="jiangsu-2025-industrial"),
        demand_charge_cny_per_kw_month=site["demand_rate"],
    )
    battery = Battery(
        name="bess",
        energy_kwh=site["energy_kwh"],
        charge_power_kw=site["c_rate"] * site["energy_kwh"],
        discharge_power_kw=site["c_rate"] * site["energy_kwh"],
        charge_efficiency=site["eta_c"],
        discharge_efficiency=site["eta_d"],
        soc_min_fraction=0.05,
        soc_max_fraction=0.95,
        soc_initial_fraction=site["soc0"],
        throughput_cost_cny_per_kwh=site["throughput"],
    )
    pv_spec = ProfilePV(kind="profile", name="roof", series={"file": "pv.csv", "column": "pv_kw"})
    assets = [
        AssetInput(
            "grid",
            "grid",
            grid,
            {"price_cny_per_kwh": price, "export_price_cny_per_kwh": export_price},
        ),
        AssetInput("load", "load", None, {"load_kw": load}),
        AssetInput("roof", "pv", pv_spec, {"available_kw": pv}),
    ]
    if with_battery:
        assets.append(AssetInput("bess", "battery", battery, {}))
    with PauseGC():
        model = build_model(assets, horizon)
    result = solve(model)
    assert result.status == "Optimal"
    return extract(model, result, horizon), horizon, battery, (price, export_price, load, pv)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sites())
def test_random_sites_hold_every_property(site: dict) -> None:
    solved, horizon, battery, (price, export_price, load, pv) = _solve(site, with_battery=True)
    s = solved.schedule
    dt_h = horizon.step_h
    imp, exp = s["grid_import_kw"].to_numpy(), s["grid_export_kw"].to_numpy()
    ch, dis = s["bess_charge_kw"].to_numpy(), s["bess_discharge_kw"].to_numpy()
    soc = np.append(s["bess_soc_kwh"].to_numpy(), solved.final_state["bess_soc_kwh"])

    balance = imp - exp + s["roof_pv_kw"].to_numpy() + dis - ch - load
    assert np.abs(balance).max() <= BALANCE_TOL_KW

    e = battery.energy_kwh
    assert soc.min() >= battery.soc_min_fraction * e - SOC_TOL_KWH
    assert soc.max() <= battery.soc_max_fraction * e + SOC_TOL_KWH
    expected = (
        soc[:-1] + (battery.charge_efficiency * ch - dis / battery.discharge_efficiency) * dt_h
    )
    assert np.abs(soc[1:] - expected).max() <= SOC_TOL_KWH
    assert soc[-1] >= soc[0] - SOC_TOL_KWH
    assert np.minimum(ch, dis).max() <= SIMULTANEOUS_TOL_KW

    cost = (
        float(imp @ price - exp @ export_price) * dt_h
        + site["demand_rate"] * imp.max()
        + battery.throughput_cost_cny_per_kwh * dis.sum() * dt_h
        + TIE_BREAK_CNY_PER_KWH * ch.sum() * dt_h
    )
    assert abs(cost - solved.objective_cny) <= COST_RTOL * max(1.0, abs(cost))

    idle, *_ = _solve(site, with_battery=False)
    assert solved.objective_cny <= idle.objective_cny + COST_RTOL * max(1.0, idle.objective_cny)
