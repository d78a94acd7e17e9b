"""The genset block on small models, checked against hand computation (issue 13, item 4).

- With an energy price above its marginal cost (fuel price x slope + O&M, plus the
  intercept per kWh at rated power in the LP) in some hours and below it in others, and
  no cheaper source, it runs at rated power in exactly the dear hours.
- With a minimum stable load (a MILP) it is never between 0 and the minimum.
- The carbon account's diesel: tonnes = litres x density / 1000; with a carbon price on
  diesel the objective holds fuel + O&M + carbon, recomputed from the schedule.
- Rolling windows: the updater gives the numbers the builder would use.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pyomo.common.gc_manager import PauseGC
from pyomo.repn import generate_standard_repn

from vpp.assets.genset.block import build_genset, update_genset
from vpp.assets.genset.diesel import fuel_l
from vpp.assets.genset.money import genset_cost_cny, genset_diesel_t
from vpp.model import AssetInput, build_model, extract, solve
from vpp.model.blocks.updates import ColBounds, ColCost
from vpp.scenario.genset import Genset
from vpp.scenario.schema import EnergyPrice, Grid
from vpp.timeseries import Horizon

POWER_TOL_KW = 1e-6
COST_RTOL = 1e-9

try:  # until the model builds through the asset units, find the builder by its kind
    from vpp.model.blocks import registry as _blocks

    if "genset" not in _blocks.kinds():
        _blocks.register("genset")(build_genset)
except ImportError:  # the block registry is gone: build_model asks vpp.assets
    pass

RATED_KW = 200.0
SLOPE_L_PER_KWH = 0.25
FUEL_CNY_PER_L = 8.0
OM_CNY_PER_KWH = 0.1


def _horizon(n: int = 24, step_minutes: int = 60) -> Horizon:
    start = dt.datetime(2026, 7, 6)
    return Horizon.from_bounds(
        start, end=start + dt.timedelta(minutes=n * step_minutes), step_minutes=step_minutes
    )


def _genset(**extra) -> Genset:
    entry = {
        "name": "diesel",
        "rated_kw": RATED_KW,
        "fuel_slope_l_per_kwh": SLOPE_L_PER_KWH,
        "fuel_price_cny_per_l": FUEL_CNY_PER_L,
        "om_cost_cny_per_kwh": OM_CNY_PER_KWH,
    }
    entry.update(extra)
    return Genset(**entry)


def _solve(genset: Genset, price: np.ndarray, load_kw: float, *, carbon_cny_per_l=0.0, max_kw=None):
    horizon = _horizon(len(price))
    n = horizon.n
    grid = Grid(energy_price=EnergyPrice(calendar="jiangsu-2025-industrial"))
    series = {
        "max_kw": np.full(n, genset.rated_kw) if max_kw is None else np.asarray(max_kw, float),
        "carbon_cny_per_l": np.full(n, carbon_cny_per_l),
    }
    assets = [
        AssetInput(
            "grid",
            "grid",
            grid,
            {
                "price_cny_per_kwh": np.asarray(price, float),
                "export_price_cny_per_kwh": np.zeros(n),
            },
        ),
        AssetInput("load", "load", None, {"load_kw": np.full(n, load_kw)}),
        AssetInput(genset.name, "genset", genset, series),
    ]
    with PauseGC():
        model = build_model(assets, horizon)
    result = solve(model)
    assert result.status == "Optimal"
    return extract(model, result, horizon), horizon


def _prices(marginal: float, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """A price series above ``marginal`` in the afternoon and evening, below it elsewhere."""
    dear = np.zeros(n, dtype=bool)
    dear[[9, 10, 11, 14, 15, 19, 20]] = True
    price = np.where(dear, marginal + 0.3, marginal - 0.3)
    price[12] = marginal - 0.01  # just below: stays off
    price[13] = marginal + 0.01  # just above: runs
    dear[13] = True
    return price, dear


def test_runs_at_rated_power_exactly_when_the_price_beats_its_marginal_fuel_cost() -> None:
    genset = _genset()
    marginal = FUEL_CNY_PER_L * SLOPE_L_PER_KWH + OM_CNY_PER_KWH  # 2.1 CNY/kWh
    price, dear = _prices(marginal)
    solved, horizon = _solve(genset, price, load_kw=500.0)
    p = solved.schedule["diesel_power_kw"].to_numpy()
    np.testing.assert_allclose(p[dear], RATED_KW, atol=POWER_TOL_KW)
    np.testing.assert_allclose(p[~dear], 0.0, atol=POWER_TOL_KW)
    imp = solved.schedule["grid_import_kw"].to_numpy()
    np.testing.assert_allclose(imp, 500.0 - p, atol=POWER_TOL_KW)
    # the objective, by hand: grid energy plus fuel and O&M of the dear hours
    by_hand = float(price @ (500.0 - RATED_KW * dear)) + marginal * RATED_KW * dear.sum()
    assert solved.objective_cny == pytest.approx(by_hand, rel=COST_RTOL)


def test_lp_intercept_is_paid_in_proportion_to_the_output() -> None:
    """LP: u = P / rated, so the intercept costs a / rated per kWh at any output."""
    intercept = 10.0  # L/h
    genset = _genset(fuel_intercept_l_per_h=intercept)
    marginal = FUEL_CNY_PER_L * (SLOPE_L_PER_KWH + intercept / RATED_KW) + OM_CNY_PER_KWH
    price, dear = _prices(marginal)
    solved, horizon = _solve(genset, price, load_kw=500.0)
    s = solved.schedule
    p = s["diesel_power_kw"].to_numpy()
    np.testing.assert_allclose(p[dear], RATED_KW, atol=POWER_TOL_KW)
    np.testing.assert_allclose(p[~dear], 0.0, atol=POWER_TOL_KW)
    np.testing.assert_allclose(s["diesel_running_fraction"].to_numpy(), p / RATED_KW, atol=1e-9)
    litres = fuel_l(genset, s, horizon.step_h)
    np.testing.assert_allclose(litres, (intercept + SLOPE_L_PER_KWH * RATED_KW) * dear, atol=1e-6)


def test_a_derated_genset_gives_what_is_available() -> None:
    genset = _genset()
    marginal = FUEL_CNY_PER_L * SLOPE_L_PER_KWH + OM_CNY_PER_KWH
    price, dear = _prices(marginal)
    cap = np.full(24, RATED_KW)
    cap[[10, 15]] = 0.5 * RATED_KW
    cap[[19]] = 0.0
    solved, _ = _solve(genset, price, load_kw=500.0, max_kw=cap)
    p = solved.schedule["diesel_power_kw"].to_numpy()
    np.testing.assert_allclose(p, np.where(dear, cap, 0.0), atol=POWER_TOL_KW)


def test_minimum_stable_load_is_never_undercut() -> None:
    """MILP: off, or between the minimum stable load and the available power.

    The load (60 kW) is below the minimum (40 % of 200 kW = 80 kW) in the dear hours with
    no export: an LP would run at 60 kW; the switch keeps it off there, and on where the
    load (150 kW) allows the minimum.
    """
    intercept = 4.0
    genset = _genset(fuel_intercept_l_per_h=intercept, min_stable_fraction=0.4)
    n = 24
    price = np.full(n, 1.0)
    price[8:20] = 5.0  # far above the fuel cost at any load
    load = np.full(n, 60.0)
    load[14:20] = 150.0
    horizon = _horizon(n)
    grid = Grid(energy_price=EnergyPrice(calendar="jiangsu-2025-industrial"))
    assets = [
        AssetInput(
            "grid",
            "grid",
            grid,
            {"price_cny_per_kwh": price, "export_price_cny_per_kwh": np.zeros(n)},
        ),
        AssetInput("load", "load", None, {"load_kw": load}),
        AssetInput(
            "diesel",
            "genset",
            genset,
            {"max_kw": np.full(n, RATED_KW), "carbon_cny_per_l": np.zeros(n)},
        ),
    ]
    model = build_model(assets, horizon)
    result = solve(model)
    assert result.status == "Optimal"
    s = extract(model, result, horizon).schedule
    p = s["diesel_power_kw"].to_numpy()
    u = s["diesel_running_fraction"].to_numpy()
    low = 0.4 * RATED_KW
    assert not ((p > POWER_TOL_KW) & (p < low - POWER_TOL_KW)).any(), p
    np.testing.assert_allclose(u, np.round(u), atol=1e-6)
    np.testing.assert_allclose(p[:14], 0.0, atol=POWER_TOL_KW)  # 60 kW < 80 kW: off
    np.testing.assert_allclose(p[14:20], 150.0, atol=POWER_TOL_KW)  # covers the load
    np.testing.assert_allclose(u[14:20], 1.0, atol=1e-6)
    np.testing.assert_allclose(p[20:], 0.0, atol=POWER_TOL_KW)
    cost = genset_cost_cny(genset, _Site(), s, horizon.step_h)
    fuel = FUEL_CNY_PER_L * 6 * (intercept + SLOPE_L_PER_KWH * 150.0)
    assert cost["diesel_fuel_cny"].sum() == pytest.approx(fuel, rel=COST_RTOL)
    # an LP genset with the same curve would run at 60 kW in the dear hours
    lp_assets = [
        *assets[:2],
        AssetInput("diesel", "genset", _genset(fuel_intercept_l_per_h=intercept), assets[2].series),
    ]
    lp = build_model(lp_assets, horizon)
    lp_s = extract(lp, solve(lp), horizon).schedule
    np.testing.assert_allclose(lp_s["diesel_power_kw"].to_numpy()[8:14], 60.0, atol=POWER_TOL_KW)


class _Site:
    """A site with no carbon price (what the money terms read)."""

    carbon_price = None


def test_diesel_tonnes_and_carbon_price_in_the_objective() -> None:
    from vpp.scenario.schema import Site

    site = Site.model_validate(
        {
            "load": {"synthetic": {"peak_kw": 100.0}},
            "grid": {"energy_price": {"calendar": "jiangsu-2025-industrial"}},
            "carbon_price": {"cny_per_t": 100.0, "carriers": ["diesel"]},
        }
    )
    from vpp.assets.genset.diesel import carbon_cny_per_l, diesel_factor

    genset = _genset(fuel_intercept_l_per_h=6.0)
    factor = diesel_factor(site)
    assert factor.unit == "kgCO2/t" and factor.value == 3145.0  # GB/T 32151, diesel.yaml
    per_l = carbon_cny_per_l(genset, site)
    assert per_l == pytest.approx(100.0 * 0.844 * 3145.0 / 1e6, rel=1e-12)
    marginal = (FUEL_CNY_PER_L + per_l) * (SLOPE_L_PER_KWH + 6.0 / RATED_KW) + OM_CNY_PER_KWH
    price, dear = _prices(marginal)
    solved, horizon = _solve(genset, price, load_kw=500.0, carbon_cny_per_l=per_l)
    s = solved.schedule
    p = s["diesel_power_kw"].to_numpy()
    np.testing.assert_allclose(p, RATED_KW * dear, atol=POWER_TOL_KW)
    litres = float(fuel_l(genset, s, horizon.step_h).sum())
    assert litres == pytest.approx((6.0 + SLOPE_L_PER_KWH * RATED_KW) * dear.sum(), rel=1e-9)
    tonnes = genset_diesel_t(genset, s, horizon.step_h)
    assert tonnes == pytest.approx(litres * 0.844 / 1000.0, rel=1e-12)
    cost = genset_cost_cny(genset, site, s, horizon.step_h)
    assert cost["diesel_carbon_cny"].sum() == pytest.approx(
        tonnes * 3145.0 / 1000.0 * 100.0, rel=1e-9
    )
    grid = float(price @ s["grid_import_kw"].to_numpy())
    total = grid + sum(v.sum() for v in cost.values())
    assert solved.objective_cny == pytest.approx(total, rel=COST_RTOL)


def test_carbon_price_without_diesel_or_outside_the_objective_is_zero() -> None:
    from vpp.assets.genset.diesel import carbon_cny_per_l
    from vpp.scenario.schema import Site

    base = {
        "load": {"synthetic": {"peak_kw": 100.0}},
        "grid": {"energy_price": {"calendar": "jiangsu-2025-industrial"}},
    }
    for price in (
        {"cny_per_t": 100.0, "carriers": ["electricity"]},
        {"cny_per_t": 100.0, "in_objective": False},
    ):
        site = Site.model_validate({**base, "carbon_price": price})
        assert carbon_cny_per_l(_genset(), site) == 0.0
    own = Site.model_validate(
        {
            **base,
            "carbon_price": {"cny_per_t": 50.0},
            "emissions": {"factors": {"diesel": 3000.0}},
        }
    )
    assert carbon_cny_per_l(_genset(fuel_density_kg_per_l=0.83), own) == pytest.approx(
        50.0 * 0.83 * 3000.0 / 1e6, rel=1e-12
    )


@pytest.mark.parametrize("milp", [False, True])
def test_updater_gives_the_numbers_the_builder_uses(milp: bool) -> None:
    extra = {"min_stable_fraction": 0.3} if milp else {}
    genset = _genset(fuel_intercept_l_per_h=5.0, **extra)
    horizon = _horizon(6)
    series = {
        "max_kw": np.array([200.0, 100.0, 0.0, 50.0, 200.0, 150.0]),
        "carbon_cny_per_l": np.full(6, 0.3),
    }
    model = build_model(
        [
            AssetInput(
                "grid",
                "grid",
                Grid(energy_price=EnergyPrice(calendar="jiangsu-2025-industrial")),
                {"price_cny_per_kwh": np.full(6, 3.0), "export_price_cny_per_kwh": np.zeros(6)},
            ),
            AssetInput("load", "load", None, {"load_kw": np.full(6, 300.0)}),
            AssetInput("diesel", "genset", genset, series),
        ],
        horizon,
    )
    block = model.asset["diesel"]
    changes = update_genset(block, genset, horizon, series)
    bounds = [c for c in changes if isinstance(c, ColBounds)]
    costs = {c.variables.local_name: np.asarray(c.cost) for c in changes if isinstance(c, ColCost)}
    assert len(bounds) == 1 and bounds[0].variables is block.power_kw
    np.testing.assert_allclose(bounds[0].upper, [block.power_kw[t].ub for t in range(6)])
    std = generate_standard_repn(block.cost_cny.expr)
    by_var = {id(v): c for v, c in zip(std.linear_vars, std.linear_coefs)}
    np.testing.assert_allclose(costs["power_kw"], [by_var[id(block.power_kw[t])] for t in range(6)])
    np.testing.assert_allclose(
        costs["running_fraction"], [by_var[id(block.running_fraction[t])] for t in range(6)]
    )


def test_bad_entries_give_clear_errors() -> None:
    from pydantic import ValidationError

    cases = {
        "rated_kw": ({"rated_kw": -10.0}, "greater than 0"),
        "availability": ({"availability": 1.5}, "less than or equal to 1"),
        "fuel_slope_l_per_kwh": ({"fuel_slope_l_per_kwh": 0.0}, "greater than 0"),
        "fuel_price_cny_per_l": ({"fuel_price_cny_per_l": -1.0}, "greater than or equal to 0"),
        "min_stable_fraction": ({"min_stable_fraction": 1.2}, "less than or equal to 1"),
        "use": ({"use": "sometimes"}, "always"),
        "fuel_density_kg_per_l": ({"fuel_density_kg_per_l": 844.0}, "less than or equal to 1.2"),
        "colour": ({"colour": "red"}, "Extra inputs are not permitted"),
    }
    for key, (change, words) in cases.items():
        with pytest.raises(ValidationError) as info:
            _genset(**change)
        text = str(info.value)
        assert key in text and words in text, text
    with pytest.raises(ValidationError, match="check the units"):
        _genset(fuel_intercept_l_per_h=5000.0, rated_kw=100.0)


def test_schedule_without_the_genset_burns_nothing() -> None:
    s = pd.DataFrame({"grid_import_kw": [1.0, 2.0]})
    assert fuel_l(_genset(), s, 1.0).tolist() == [0.0, 0.0]
