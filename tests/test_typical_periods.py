"""Sizing on typical days (:mod:`vpp.planning.typical`).

With as many typical days as days, every day is its own typical day, the inter-period
battery state follows the calendar day by day and the model is the full sizing model
rewritten: the sizes and the objective must be the full sizing's. With fewer days the
bill error against the full-year sized run is computed and the month-peak days are
kept as typical days of their own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
from vpp.errors import ScenarioError
from vpp.planning.size import size

#: Days of the horizon: 2026-01-05 to 2026-02-15, two calendar months [days].
DAYS = 42
#: Relative tolerance of the exactness test (both LPs solved to HiGHS's tolerances) [-].
EXACT_RTOL = 1e-6
#: The frontier's points: each a fresh interior-point solve of a different LP [-].
FRONTIER_RTOL = 1e-5
#: ... and a size near zero, where the interior point (no crossover) stops off the
#: vertex, to this [kWh]; measured 0.0032 on both sides.
FRONTIER_ATOL_KWH = 0.01
#: Yearly emissions on 8 typical days (+ peak days) against every day [-].
EMISSIONS_RTOL = 0.05
#: The bill error 8 typical days (+ month-peak days) of the 42 may make here: measured
#: +2.0 %; unweighted day costs would make it about -75 % [-].
BILL_ERROR_BOUND = 0.05


def case(tmp_path: Path, days: int | None, *, compare_full: bool = False) -> vpp.Scenario:
    """A factory with a daily load shape that varies from day to day, PV, two-price TOU
    and a monthly demand charge; a battery candidate (lossless, no self-discharge)."""
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
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 15}
    if days is not None:
        data["planning"] = {"representative_periods": {"days": days, "compare_full": compare_full}}
    return vpp.load_scenario(write_scenario(tmp_path, data))


def net_load_peak_days(scenario: vpp.Scenario) -> set[int]:
    """Each calendar month's day of the largest load less PV, by hand from the inputs."""
    from vpp.inputs.site import build_inputs

    inputs = build_inputs(scenario)
    s = inputs.series
    net = (s["load_kw"] - s["roof_available_kw"]).to_numpy().reshape(DAYS, 24).max(axis=1)
    months = inputs.horizon.month_index[::24]
    return {int(np.flatnonzero(months == m)[np.argmax(net[months == m])]) for m in set(months)}


def test_as_many_typical_days_as_days_is_the_full_sizing(tmp_path: Path) -> None:
    full = size(case(tmp_path, None))
    typical = size(case(tmp_path, DAYS))
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


def test_fewer_days_report_the_bill_error_and_keep_the_peak_days(tmp_path: Path) -> None:
    scenario = case(tmp_path, 8, compare_full=True)
    result = size(scenario)
    rp = result.summary["representative_periods"]
    # the error is computed from the sized site's full-horizon run
    dispatch = result.dispatch
    bill = rp["sized_bill_cny"]
    assert bill == pytest.approx(dispatch.summary["total_cost_cny"], rel=1e-6)
    assert rp["bill_error_fraction"] == pytest.approx(
        (rp["typical_operating_cost_cny"] - bill) / bill, rel=1e-12
    )
    assert 0.0 < abs(rp["bill_error_fraction"]) <= BILL_ERROR_BOUND
    # each month's net-load peak day is a typical day standing for itself alone
    from vpp.planning.sizing_model import build_sizing_model

    agg = build_sizing_model(scenario).aggregation
    for day in net_load_peak_days(scenario):
        k = int(agg.order[day])
        assert agg.day_of_typical[k] == day and agg.weights[k] == 1.0
    assert len(agg.day_of_typical) == 8 + len(rp["extreme_days"])
    assert set(rp["size_error"]["bess"]) == {"energy_kwh", "power_kw"}


@pytest.mark.parametrize("days", [0, DAYS + 1])
def test_bad_numbers_of_days_are_refused(tmp_path: Path, days: int) -> None:
    with pytest.raises(ScenarioError) as err:
        size(case(tmp_path, days))
    assert "representative_periods" in str(err.value)


def test_the_frontier_on_as_many_typical_days_as_days_is_the_full_frontier(
    tmp_path: Path,
) -> None:
    full = size(case(tmp_path, None), frontier_points=3).frontier
    typical = size(case(tmp_path, DAYS), frontier_points=3).frontier
    for key in ("cap_t", "emissions_t_per_year", "cost_cny_per_year", "bess_energy_kwh"):
        assert typical[key].to_numpy() == pytest.approx(
            full[key].to_numpy(), rel=FRONTIER_RTOL, abs=FRONTIER_ATOL_KWH
        )


def test_the_frontier_on_fewer_typical_days_weighs_the_emissions(tmp_path: Path) -> None:
    full = size(case(tmp_path, None), frontier_points=2).frontier
    typical = size(case(tmp_path, 8), frontier_points=2).frontier
    # each typical day's emissions count once per day it stands for (unweighted: ~1/4)
    expected = full["emissions_t_per_year"].to_numpy()
    got = typical["emissions_t_per_year"].to_numpy()
    assert got == pytest.approx(expected, rel=EMISSIONS_RTOL)


def test_a_kind_that_opts_out_of_typical_days_is_refused() -> None:
    # a kind that cannot relink its block over the days stood for says so through the
    # shared answer NotOnTypicalDays (exit 2), naming the entry (kind-agnostic: the
    # kinds that opt out change as they learn typical days)
    from types import SimpleNamespace

    from vpp.assets.opt_outs import NotOnTypicalDays

    asset = SimpleNamespace(kind="some_kind", name="entry")
    with pytest.raises(ScenarioError) as err:
        NotOnTypicalDays().typical_days(None, asset, None, None)
    (problem,) = err.value.problems
    assert problem.key == "planning.representative_periods"
    assert "some_kind" in problem.message and "'entry'" in problem.message


def test_a_battery_with_cycle_ageing_is_refused_on_typical_days(tmp_path: Path) -> None:
    """The depth segments of ``cycle_ageing`` keep states that are not linked between
    typical days: exit 2 naming the key, not a model whose segments hold a meaningless
    chain (review of issue 16)."""
    study = Path(__file__).resolve().parent.parent / "scenarios" / "xushuguan-factory-planning.yaml"
    path = tmp_path / "ageing.yaml"
    path.write_text(
        f"extends: {study}\nname: ageing-typical\n"
        "horizon: {start: 2026-01-01, days: 14, step: 1h}\n"
        "planning: {representative_periods: {days: 4}}\n"
        "overrides:\n"
        "  site.batteries[0].cycle_ageing: {segments: 2, cost_cny_per_kwh: [0.05, 0.12]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match="cycle_ageing") as caught:
        size(vpp.load_scenario(path, allow_outside=True))
    assert caught.value.problems[0].key == "site.batteries[].cycle_ageing"
