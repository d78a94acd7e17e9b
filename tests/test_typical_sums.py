"""Sizing on typical days with rows that sum over many days: green contracts (monthly
volumes, take-or-pay), an annual renewable target and the carbon account
(:mod:`vpp.assets.typical_days`, each unit's ``typical.py``).

With as many typical days as days the model is the full sizing model rewritten, so the
sizes and the objective must be the full sizing's; with fewer, a monthly volume row
holds the days each typical day stands for in that month.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import battery, index, scenario_dict, write_csv, write_scenario

import vpp
from vpp.assets.certificates.block import GREEN_TIE_BREAK_CNY_PER_KWH
from vpp.errors import ScenarioError
from vpp.planning.size import size

#: Days of the horizon: 2026-01-05 to 2026-02-15, two calendar months [days].
DAYS = 42
#: Relative tolerance of the exactness test (both LPs solved to HiGHS's tolerances) [-].
EXACT_RTOL = 1e-6
#: The bill error of 8 typical days (+ month-peak days) of the hourly variant [-].
HOURLY_BILL_ERROR_BOUND = 0.05
#: Monthly contract volumes [MWh]: below the site's consumption, so the caps bind.
VOLUME_MWH = {"2026-01": 60.0, "2026-02": 30.0}


def case(
    tmp_path: Path, days: int | None, stores: tuple[dict, ...] | list[dict] = (), **site: Any
) -> vpp.Scenario:
    """A factory with a daily load shape that varies from day to day, PV, two-price TOU
    and a monthly demand charge; a battery candidate; a green contract with monthly
    volumes and take-or-pay, an annual renewable target with certificates and a carbon
    price in the objective; ``stores``: more batteries, of given sizes; ``site``: keys
    of the site replaced."""
    rng = np.random.default_rng(16)
    hours = np.arange(24 * DAYS)
    hour = hours % 24
    day = hours // 24
    level = 800.0 + 300.0 * rng.random(DAYS)[day]
    shape = np.where((hour >= 8) & (hour < 20), 1.0, 0.5)
    load = (level * shape + 50.0 * rng.random(len(hours))).tolist()
    sun = np.clip(np.sin((hour - 6) / 12 * np.pi), 0.0, None)
    pv = (400.0 * sun * (0.5 + 0.5 * rng.random(DAYS)[day])).tolist()
    price = np.where((hour >= 8) & (hour < 22), 0.9, 0.3).tolist()
    data = scenario_dict(
        tmp_path,
        load,
        price=price,
        pv_kw=pv,
        batteries=[battery(energy_kwh=100.0, power_kw=100.0, eta_c=0.95, eta_d=0.95)],
        grid={"demand_charge_cny_per_kw_month": 40.0},
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 4000.0,
        "max_power_kw": 1000.0,
        "capex_cny_per_kwh": 1500.0,
        "capex_cny_per_kw": 200.0,
        "lifetime_years": 15,
    }
    data["site"]["batteries"] += list(stores)
    data["site"]["green_contracts"] = [
        {
            "name": "wind",
            "monthly_mwh": VOLUME_MWH,
            "volume_shape": "free",
            "settlement": "monthly",
            "energy_price_cny_per_mwh": 300.0,
            "green_premium_cny_per_mwh": 30.0,
            "grid_fees_cny_per_kwh": 0.2,
            "take_or_pay_fraction": 0.8,
            "shortfall_penalty_cny_per_mwh": 50.0,
        }
    ]
    data["site"]["renewable_target"] = {
        "basis": "annual",
        "fraction": 0.3,
        "certificate_price_cny_per_mwh": 40.0,
    }
    # certificates count for the target only (not against the carbon price): it binds
    data["site"]["emissions"] = {
        "activity": {"natural_gas_nm3": 1000.0},
        "market_based_certificates": False,
    }
    data["site"]["carbon_price"] = {"cny_per_t": 200.0, "in_objective": True}
    data["site"].update(site)
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 15}
    if days is not None:
        data["planning"] = {"representative_periods": {"days": days}}
    return vpp.load_scenario(write_scenario(tmp_path, data))


def hourly(tmp_path: Path) -> dict[str, Any]:
    """The site's keys of an hourly variant: a contract settled by the hour on a wind
    profile with take-or-pay (a period per clock hour, as many as steps at 1 h) and an
    hourly renewable target with certificates."""
    rng = np.random.default_rng(17)
    wind = (120.0 * rng.random(24 * DAYS)).tolist()
    write_csv(tmp_path / "wind.csv", index(24 * DAYS), wind_kw=wind)
    contract = {
        "name": "wind",
        "profile": {"file": "wind.csv", "column": "wind_kw"},
        "settlement": "hourly",
        "energy_price_cny_per_mwh": 500.0,
        "green_premium_cny_per_mwh": 30.0,
        "grid_fees_cny_per_kwh": 0.2,
        "take_or_pay_fraction": 0.5,
        "shortfall_penalty_cny_per_mwh": 100.0,
    }
    target = {
        "basis": "hourly",
        "fraction": 0.2,
        "certificates_count": True,
        "certificate_price_cny_per_mwh": 40.0,
    }
    return {"green_contracts": [contract], "renewable_target": target}


@pytest.mark.parametrize("settlement", ["monthly", "hourly"])
def test_as_many_typical_days_as_days_is_the_full_sizing(tmp_path: Path, settlement: str) -> None:
    site = hourly(tmp_path) if settlement == "hourly" else {}
    full = size(case(tmp_path, None, **site))
    typical = size(case(tmp_path, DAYS, **site))
    rp = typical.summary["representative_periods"]
    assert rp["typical_days"] == DAYS and rp["extreme_days"] == []
    for key in ("energy_kwh", "power_kw"):
        expected = full.sizes["bess"][key]
        assert 0.0 < expected  # an interior size: the linking decides it
        assert typical.sizes["bess"][key] == pytest.approx(expected, rel=EXACT_RTOL)
    assert typical.summary["objective_cny"] == pytest.approx(
        full.summary["objective_cny"], rel=EXACT_RTOL
    )
    assert abs(rp["bill_error_fraction"]) <= EXACT_RTOL


def test_an_hourly_settlement_on_fewer_typical_days_rows_each_clock_hour(tmp_path: Path) -> None:
    # a period per clock hour: as many periods as steps at 1 h, none of them a series
    # to slice; each hour's take-or-pay row holds the typical step standing for it
    from pyomo.repn import generate_standard_repn

    from vpp.assets.typical_days import typical_step_of
    from vpp.planning.sizing_model import build_sizing_model

    sm = build_sizing_model(case(tmp_path, 8, **hourly(tmp_path)))
    block = sm.model.asset["wind"]
    rows = block.take_or_pay_typical
    assert len(rows) == 24 * DAYS
    tau = typical_step_of(sm.aggregation)
    take = block.take_kw
    for p in (0, 5 * 24 + 13, 24 * DAYS - 1):
        repn = generate_standard_repn(rows[p].body)
        steps = [v.index() for v in repn.linear_vars if v.parent_component() is take]
        assert steps == [tau[p]]
        # the hour's own volume (the full horizon's profile), not the typical day's
        wind_kwh = float(sm.inputs.series["wind_available_kw"].iloc[p])
        assert rows[p].lower == pytest.approx(0.5 * wind_kwh)
    assert (
        abs(
            size(case(tmp_path, 8, **hourly(tmp_path))).summary["representative_periods"][
                "bill_error_fraction"
            ]
        )
        < HOURLY_BILL_ERROR_BOUND
    )


def test_the_days_are_not_clustered_on_labels_copies_or_near_constants() -> None:
    # a contract brings a month label, a copy of the grid's price and a flat monthly
    # delivery of 400.0-400.5 kW; tsam scales each series to its range, so any of them
    # would weigh as much as the load in choosing the days (measured on the demo year
    # at 15 min: a bill error of +9.6 % with them, +1.3 % without)
    from vpp.model import AssetInput
    from vpp.planning.typical import features

    n = 48
    price = np.where(np.arange(n) % 24 >= 8, 0.9, 0.3)
    load = 100.0 + np.arange(n, dtype=float)
    grid = AssetInput("grid", "grid", None, {"price_cny_per_kwh": price, "load_kw": load})
    contract = AssetInput(
        "wind",
        "green_contract",
        None,
        {
            "price_cny_per_kwh": price.copy(),
            "period_id": np.repeat([0, 1], 24),
            "available_kw": np.repeat([400.0, 400.5], 24),
            "window_index": np.arange(n) % 3,
            "shape_kw": np.repeat([400.0, 440.0], 24),
        },
    )
    assert list(features([grid, contract], n)) == [
        "grid.price_cny_per_kwh",
        "grid.load_kw",
        "wind.shape_kw",
    ]


def test_green_storage_is_refused_on_typical_days(tmp_path: Path) -> None:
    target = {
        "basis": "annual",
        "fraction": 0.3,
        "certificate_price_cny_per_mwh": 40.0,
        "green_storage": ["store"],
    }
    store = battery("store", energy_kwh=200.0, power_kw=100.0)
    with pytest.raises(ScenarioError) as err:
        size(case(tmp_path, 8, stores=[store], renewable_target=target))
    (problem,) = err.value.problems
    assert problem.key == "site.renewable_target.green_storage"
    assert problem.value == "store"


def test_period_weights_count_the_days_each_typical_day_stands_for() -> None:
    from vpp.assets.typical_days import Aggregation, PeriodSums, period_weights

    # 5 days of 2 steps; typical day 0 stands for days 0, 1 and 4, typical day 1 for 2, 3;
    # periods: days 0-2 (the last half of day 2 in the next), then days 3-4
    agg = Aggregation(2, np.array([0, 2]), np.array([0, 0, 1, 1, 0]), [])
    period = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    w = period_weights(agg, period, 2)
    assert w.tolist() == [[2.0, 1.0], [0.5, 1.5]]
    assert w.sum(axis=1).tolist() == agg.weights.tolist()
    sums = PeriodSums.of(agg, period, 2)
    # step 0 of typical day 0 (step 0) stands for 2 steps of period 0; step 1 of
    # typical day 1 (step 3) for none of period 0 and 2 of period 1
    assert dict(zip(sums.steps[0].tolist(), sums.counts[0].tolist())) == {0: 2, 1: 2, 2: 1}
    assert dict(zip(sums.steps[1].tolist(), sums.counts[1].tolist())) == {0: 1, 1: 1, 2: 1, 3: 2}
    assert sums.total(1, np.array([1.0, 10.0, 100.0, 1000.0])) == pytest.approx(2111.0)


# ------------------------------------------------- a hand case where the weights matter

#: Saving of a green kWh against the grid: 0.8 CNY/kWh TOU less 0.3 + 0.2 [CNY/kWh].
HAND_SAVING_CNY_PER_KWH = 0.3
#: In-horizon volumes of the hand case (2 of January's 31 days, 2 of February's 28) [kWh].
HAND_JAN_KWH, HAND_FEB_KWH = 3000.0, 2000.0
#: Solver tolerance on energies of the hand case [kWh].
HAND_ATOL_KWH = 1e-4
#: ... and on its objective [CNY].
HAND_ATOL_CNY = 1e-4


def hand_model(tmp_path: Path) -> tuple[Any, Any]:
    """Four days, 2026-01-30 to 2026-02-02, a flat 100 kW load at 0.8 CNY/kWh, a green
    contract at 0.5 CNY/kWh all in, free within 3000 kWh in January and 2000 kWh in
    February, a 60 % annual target and a carbon price. Two typical days by hand:
    typical day 0 is Jan 30 and stands for Jan 30, Jan 31 and Feb 2; typical day 1 is
    Feb 1 and stands for itself. So :math:`w_{0,Jan} = 2, w_{0,Feb} = 1, w_{1,Jan} = 0,
    w_{1,Feb} = 1`."""
    from vpp.assets.typical_days import Aggregation
    from vpp.inputs.site import build_inputs
    from vpp.planning.typical import build_on_days

    data = scenario_dict(tmp_path, [100.0] * 96, price=0.8, start="2026-01-30T00:00:00")
    data["site"]["green_contracts"] = [
        {
            "name": "wind",
            "monthly_mwh": {"2026-01": 3.0 * 31 / 2, "2026-02": 2.0 * 28 / 2},
            "volume_shape": "free",
            "settlement": "monthly",
            "energy_price_cny_per_mwh": 300.0,
            "green_premium_cny_per_mwh": 0.0,
            "grid_fees_cny_per_kwh": 0.2,
        }
    ]
    data["site"]["renewable_target"] = {
        "basis": "annual",
        "fraction": 0.6,
        "certificate_price_cny_per_mwh": 10.0,
    }
    data["site"]["emissions"] = {"market_based_certificates": False}
    data["site"]["carbon_price"] = {"cny_per_t": 100.0, "in_objective": True}
    inputs = build_inputs(vpp.load_scenario(write_scenario(tmp_path, data)))
    agg = Aggregation(24, np.array([0, 2]), np.array([0, 0, 1, 0]), [])
    model, notes = build_on_days(inputs.assets, inputs.horizon, agg)
    assert notes == []  # the period sums are folded exactly: nothing to note
    return inputs, model


def test_monthly_volumes_hold_the_days_each_typical_day_stands_for(tmp_path: Path) -> None:
    from vpp.model import solve

    inputs, model = hand_model(tmp_path)
    result = solve(model)
    assert result.status == "Optimal"
    take = result.values(model.asset["wind"].take_kw).reshape(2, 24).sum(axis=1)  # kWh
    # max 3 G0 + G1 (the days each stands for) subject to, by hand,
    # January: 2 G0 <= 3000, February: G0 + G1 <= 2000, each day at most 2400 kWh
    # (unweighted, the rows would read G0 <= 3000 and G1 <= 2000: 2400 and 2000)
    assert take == pytest.approx([1500.0, 500.0], abs=HAND_ATOL_KWH)
    # the full horizon's volumes, each month's row holding its days
    assert 2.0 * take[0] == pytest.approx(HAND_JAN_KWH, abs=HAND_ATOL_KWH)
    assert 1.0 * take[0] + 1.0 * take[1] == pytest.approx(HAND_FEB_KWH, abs=HAND_ATOL_KWH)
    # the annual target: 60 % of 4 x 2400 kWh = 5760, of which 5000 green, 760 bought
    certificates = result.values(model.asset["green"].certificates_kw).reshape(2, 24).sum(axis=1)
    assert 3.0 * certificates[0] + certificates[1] == pytest.approx(760.0, abs=HAND_ATOL_KWH)
    # the carbon account: (9600 - 5000) kWh of grey import over the four days
    factor = float(inputs.series["market_factor_kg_per_kwh"].iloc[0])
    assert result.value(model.asset["carbon"].electricity_kg) == pytest.approx(
        4600.0 * factor, abs=HAND_ATOL_KWH
    )
    # the objective: every step cost once per day stood for, the account priced once:
    # TOU 0.8 x 9600, contract -0.3 x 5000, certificates 0.01 x 760, carbon 0.1 CNY/kg,
    # the green-use tie-break on 5000 kWh
    expected = (
        0.8 * 9600.0
        - HAND_SAVING_CNY_PER_KWH * 5000.0
        + 0.01 * 760.0
        + 0.1 * 4600.0 * factor
        - GREEN_TIE_BREAK_CNY_PER_KWH * 5000.0
    )
    assert result.objective_cny == pytest.approx(expected, abs=HAND_ATOL_CNY)


# ------------------------------------------------------------ the planning example

ROOT = Path(__file__).resolve().parent.parent
#: The issue's bound on the bill error of 12 typical days (+ month-peak days) on the
#: demo year (issue 16, item 2); measured +1.36 % at 1 h (+1.30 % at 15 min) [-].
DEMO_BILL_ERROR_BOUND = 0.02
#: The sized run's bill against its objective: they differ by the LP's tie-break terms
#: (green use, battery charging), a few CNY on a 12 M CNY year [-].
TIE_BREAK_RTOL = 1e-4


@pytest.mark.slow
def test_the_planning_example_sizes_on_typical_days(tmp_path: Path) -> None:
    # the example as shipped (its shiftable load, green contract, renewable target and
    # carbon price) on 12 typical days
    study = ROOT / "scenarios" / "xushuguan-factory-planning.yaml"
    path = tmp_path / "typical.yaml"
    path.write_text(
        f"extends: {study}\n"
        "name: planning-typical\n"
        "planning:\n"
        "  representative_periods: {days: 12}\n"
    )
    scenario = vpp.load_scenario(path, allow_outside=True)
    assert scenario.site.green_contracts and scenario.site.renewable_target
    assert scenario.site.carbon_price is not None and scenario.site.carbon_price.in_objective
    assert scenario.site.flexible_loads
    result = size(scenario)
    assert result.summary["status"] == "Optimal"
    rp = result.summary["representative_periods"]
    assert len(rp["extreme_days"]) > 0
    assert abs(rp["bill_error_fraction"]) < DEMO_BILL_ERROR_BOUND
    # the shiftable window 22:00-08:00 is closed on each typical day: said in the outputs
    assert any("batch_curing" in note for note in rp["approximations"])
    # the money and the accounts are the full year's run at the chosen sizes
    dispatch = result.dispatch.summary
    assert dispatch["horizon"]["steps"] == 8760
    assert rp["sized_bill_cny"] == pytest.approx(dispatch["total_cost_cny"], rel=TIE_BREAK_RTOL)
    contract = dispatch["green"]["contracts"]["wind_ppa"]
    assert contract["contracted_mwh"] == pytest.approx(3507.0)  # the year's volumes


def test_the_typical_days_line_counts_the_units_represented_approximately() -> None:
    from vpp.planning.typical import typical_days_line

    rp = {"days": 12, "extreme_days": ["2026-01-05"], "bill_error_fraction": 0.0123}
    assert "approximately" not in typical_days_line(rp)
    line = typical_days_line({**rp, "approximations": ["a note", "another"]})
    assert "+1.23 %" in line and "2 unit(s) represented approximately" in line
