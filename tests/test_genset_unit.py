"""The genset unit's concerns in isolation: inputs, window inputs, real-time rule, money.

Each check is computed by hand on a few steps; the end-to-end runs are in
``tests/test_genset_runs.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest
from helpers import index, write_csv

from vpp.assets.genset import GensetUnit
from vpp.assets.genset.operation import (
    forecast_need_kw,
    real_time,
    window_series,
    with_rule_forecasts,
)
from vpp.assets.genset.rules import genset_input
from vpp.errors import DataError, ScenarioError
from vpp.scenario.schema import Site
from vpp.timeseries import Horizon

N = 6
LOAD = np.array([500.0, 900.0, 1200.0, 700.0, 1000.0, 950.0])
PV = np.array([0.0, 50.0, 100.0, 200.0, 300.0, 0.0])


def horizon(n: int = N) -> Horizon:
    start = dt.datetime(2026, 1, 5)
    return Horizon.from_bounds(start, end=start + dt.timedelta(hours=n), step_minutes=60)


def site(*, limit: float | None = 800.0, **genset: object) -> Site:
    entry = {
        "name": "backup",
        "rated_kw": 300.0,
        "fuel_slope_l_per_kwh": 0.25,
        "fuel_price_cny_per_l": 7.0,
    }
    entry.update(genset)
    grid: dict = {"energy_price": {"calendar": "jiangsu-2025-industrial"}}
    if limit is not None:
        grid["import_limit_kw"] = limit
    return Site.model_validate(
        {
            "load": {"synthetic": {"peak_kw": 1000.0}},
            "pv": [
                {"kind": "profile", "name": "roof", "series": {"file": "pv.csv", "column": "kw"}}
            ],
            "grid": grid,
            "gensets": [entry],
        }
    )


def cols() -> dict[str, np.ndarray]:
    return {"load_kw": LOAD.copy(), "roof_available_kw": PV.copy()}


def read(s: Site):
    return genset_input(s.gensets[0], s, horizon(), cols())


# ------------------------------------------------------------------ inputs


def test_always_is_rated_power_times_availability() -> None:
    a = read(site(availability=0.8))
    assert a.kind == "genset" and a.name == "backup"
    np.testing.assert_allclose(a.series["max_kw"], 240.0)
    np.testing.assert_allclose(a.series["carbon_cny_per_l"], 0.0)
    assert "need_kw" not in a.series


def test_grid_limit_opens_the_steps_where_load_less_pv_is_above_the_limit() -> None:
    a = read(site(use="grid_limit"))
    need = np.maximum(0.0, LOAD - PV - 800.0)  # 0, 50, 300, 0, 0, 150
    np.testing.assert_allclose(a.series["need_kw"], need)
    np.testing.assert_allclose(a.series["max_kw"], np.where(need > 0, 300.0, 0.0))


def test_dr_events_is_closed_on_a_single_site_and_opened_by_the_park() -> None:
    a = read(site(use="dr_events", availability=0.5))
    np.testing.assert_allclose(a.series["max_kw"], 0.0)
    in_event = np.array([False, False, True, True, False, False])
    opened = GensetUnit().with_event_steps(a, in_event)
    np.testing.assert_allclose(opened.series["max_kw"], [0, 0, 150, 150, 0, 0])
    always = read(site())
    assert GensetUnit().with_event_steps(always, in_event) is always


def test_carbon_price_on_diesel_reaches_the_block() -> None:
    data = site().model_dump()
    data["carbon_price"] = {"cny_per_t": 100.0}
    a = read(Site.model_validate(data))
    np.testing.assert_allclose(a.series["carbon_cny_per_l"], 100.0 * 0.844 * 3145.0 / 1e6)


def test_grid_limit_without_an_import_limit_is_refused() -> None:
    with pytest.raises(ScenarioError) as exc:
        read(site(limit=None, use="grid_limit"))
    (problem,) = exc.value.problems
    assert problem.key == "site.gensets[0].use" and "import_limit_kw" in problem.fix


def test_a_reserved_or_taken_name_is_refused() -> None:
    """The site checks a genset's name with every other asset's (Site._unique_names)."""
    for name in ("grid", "roof"):
        with pytest.raises(pydantic.ValidationError, match=rf"clashing: \['{name}'\]"):
            site(name=name)


def test_an_unknown_diesel_factor_is_left_to_the_sites_emission_factors() -> None:
    """The site's emission factors name it (once); the genset's input does not repeat it."""
    data = site().model_dump()
    data["carbon_price"] = {"cny_per_t": 100.0}
    data["emissions"] = {"factors": {"diesel": "no-such-factor"}}
    a = read(Site.model_validate(data))
    np.testing.assert_allclose(a.series["carbon_cny_per_l"], 0.0)


def test_availability_series_outside_0_to_1_is_a_data_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", index(N), share=[1.0, 0.5, 1.2, 1.0, -0.1, 1.0])
    s = site(availability={"file": str(path), "column": "share"})
    with pytest.raises(DataError) as exc:
        read(s)
    (problem,) = exc.value.problems
    assert problem.file == str(path) and problem.value == "1.2"
    assert problem.timestamp == index(N)[2].isoformat()
    assert "2 row(s) of the file" in problem.message and "data row 3" in problem.message


def test_availability_series_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", index(N), share=[1.0, 0.5, 0.0, 1.0, 0.25, 1.0])
    a = read(site(availability={"file": str(path), "column": "share"}))
    np.testing.assert_allclose(a.series["max_kw"], [300, 150, 0, 300, 75, 300])


# ------------------------------------------------------------------ rolling windows


def test_window_recomputes_the_grid_limit_rule_on_forecasts() -> None:
    a = read(site(use="grid_limit"))
    forecasts = {"load_kw": np.array([1000.0, 600.0, 900.0]), "roof_available_kw": np.zeros(3)}
    w = window_series(a, 2, 5, forecasts)
    np.testing.assert_allclose(w["need_kw"], [200.0, 0.0, 100.0])
    np.testing.assert_allclose(w["max_kw"], [300.0, 0.0, 300.0])
    np.testing.assert_allclose(w["carbon_cny_per_l"], a.series["carbon_cny_per_l"][2:5])
    # without forecasts of a column, its actual series stays
    kept = with_rule_forecasts(a.series, {})
    np.testing.assert_allclose(kept["need_kw"], a.series["need_kw"])
    need = forecast_need_kw(a, {"load_kw": np.array([1000.0, 1000.0])}, 3, 2)
    np.testing.assert_allclose(need, np.maximum(0, 1000.0 - PV[3:5] - 800.0))


def test_window_of_an_always_genset_is_its_series_on_the_steps() -> None:
    a = read(site(availability=0.5))
    w = window_series(a, 1, 4, {"load_kw": np.zeros(3)})
    assert set(w) == set(a.series)
    np.testing.assert_allclose(w["max_kw"], 150.0)


def test_job_forecasts_reach_a_grid_limit_genset_only() -> None:
    unit = GensetUnit()
    a = read(site(use="grid_limit"))
    moved = unit.with_forecasts(a, {"load_kw": np.full(N, 1000.0)}, None)
    np.testing.assert_allclose(moved.series["need_kw"], np.maximum(0, 1000.0 - PV - 800.0))
    always = read(site())
    assert unit.with_forecasts(always, {"load_kw": np.zeros(N)}, None) is always


# ------------------------------------------------------------------ real time


def test_real_time_follows_a_plan_made_on_perfect_forecasts() -> None:
    g = site().gensets[0]
    plan = np.array([0.0, 120.0, 300.0])
    out = real_time(g, plan, np.array([300.0, 300.0, 300.0]))
    np.testing.assert_allclose(out["power_kw"], plan)
    np.testing.assert_allclose(out["running_fraction"], plan / 300.0)
    need = np.array([0.0, 120.0, 50.0])
    same = real_time(g, plan, np.full(3, 300.0), need, need)
    np.testing.assert_allclose(same["power_kw"], plan)


def test_real_time_caps_the_plan_and_takes_up_a_missed_need() -> None:
    g = site(use="grid_limit").gensets[0]
    plan = np.array([100.0, 0.0, 200.0, 250.0])
    cap = np.array([300.0, 300.0, 0.0, 300.0])
    need = np.array([180.0, 40.0, 0.0, 100.0])
    seen = np.array([100.0, 0.0, 200.0, 150.0])
    out = real_time(g, plan, cap, need, seen)
    # +80 missed; +40 missed; closed (no need); no miss (need fell): the plan
    np.testing.assert_allclose(out["power_kw"], [180.0, 40.0, 0.0, 250.0])


def test_real_time_with_a_minimum_stable_load() -> None:
    g = site(use="grid_limit", min_stable_fraction=0.4).gensets[0]  # 120 kW
    plan = np.array([0.0, 150.0, 150.0, 0.0])
    cap = np.array([300.0, 300.0, 100.0, 0.0])
    need = np.array([30.0, 150.0, 50.0, 0.0])
    seen = np.array([0.0, 150.0, 150.0, 0.0])
    out = real_time(g, plan, cap, need, seen)
    # a missed need of 30 starts it at its minimum; a cap below the minimum stops it
    np.testing.assert_allclose(out["power_kw"], [120.0, 150.0, 0.0, 0.0])
    np.testing.assert_allclose(out["running_fraction"], [1.0, 1.0, 0.0, 0.0])
    plain = site(min_stable_fraction=0.4).gensets[0]
    stop = real_time(plain, np.array([150.0, 150.0]), np.array([300.0, 90.0]))
    np.testing.assert_allclose(stop["power_kw"], [150.0, 0.0])


def test_controller_supplies_the_settled_output() -> None:
    pytest.importorskip("vpp.assets.control", reason="the operation concern is not merged yet")
    from vpp.assets.control import Applied

    unit = GensetUnit()
    a = read(site(use="grid_limit"))
    h = horizon()
    plan = {"backup_power_kw": np.array([50.0, 300.0, 0.0, 0.0])}  # from step 1
    forecasts = {"load_kw": LOAD[1:5].copy(), "roof_available_kw": PV[1:5].copy()}
    actual = pd.DataFrame(cols(), index=h.index)
    applied = Applied(None, h, 1, 4, plan, forecasts, actual, "follow_schedule")
    ctrl = unit.controller(a, None, applied)
    np.testing.assert_allclose(ctrl.supply_kw(), [50.0, 300.0, 0.0])
    assert set(ctrl.columns()) == {"backup_power_kw", "backup_running_fraction"}
    assert unit.carry(a, None, ctrl) is None


# ------------------------------------------------------------------ money


def schedule() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "backup_power_kw": [0.0, 300.0, 150.0, 0.0],
            "backup_running_fraction": [0.0, 1.0, 0.5, 0.0],
        },
        index=index(4),
    )


def test_costs_are_fuel_and_om_and_only_for_sites_with_gensets() -> None:
    unit = GensetUnit()
    s = site(om_cost_cny_per_kwh=0.02, fuel_intercept_l_per_h=6.0)
    assert unit.bill_columns(s) == {"genset_cost_cny": "own"}
    cost = unit.costs(s, schedule(), 0.5)["genset_cost_cny"]
    litres = (6.0 * np.array([0, 1, 0.5, 0]) + 0.25 * np.array([0, 300, 150, 0])) * 0.5
    np.testing.assert_allclose(cost, 7.0 * litres + 0.02 * np.array([0, 300, 150, 0]) * 0.5)
    empty = Site.model_validate({**s.model_dump(), "gensets": []})
    assert unit.bill_columns(empty) == {} and unit.costs(empty, schedule(), 0.5) == {}
    assert unit.objective_extra(s, schedule(), 0.5) == 0.0
    assert unit.monthly_costs(s, schedule(), 0.5) == {}
    assert unit.energy_flows(s, schedule()) == {}
    assert unit.equivalent_full_cycles(s, schedule(), 0.5) == {}


def test_carbon_flow_is_the_diesel_in_tonnes() -> None:
    unit = GensetUnit()
    s = site()
    (flow,) = unit.carbon_flows(s, schedule(), 1.0).values()
    litres = 0.25 * np.array([0.0, 300.0, 150.0, 0.0])
    np.testing.assert_allclose(flow.amount, litres * 0.844 / 1000.0)
    assert dict(flow.lines) == {"diesel": 1.0}
    empty = Site.model_validate({**s.model_dump(), "gensets": []})
    assert unit.carbon_flows(empty, schedule(), 1.0) == {}


def test_a_genset_is_never_sized_and_has_no_objective_extra() -> None:
    unit = GensetUnit()
    s = site()
    g = s.gensets[0]
    assert unit.objective_extra(s, schedule(), 1.0) == 0.0
    assert unit.sizing_series(g, None, horizon(), {}) is None
    assert unit.sizing_problems(g, s) == []
    assert unit.sized_values(None, {}, float) == ({}, 0.0)
    entry = g.model_dump()
    assert unit.sized_entry(entry, {}) is entry
    assert unit.investment(g, {}, schedule(), 1.0, 1.0) is None
    assert unit.sized_output_kw(g, schedule()) is None
    assert unit.signature(g, horizon(), {}) == ()
