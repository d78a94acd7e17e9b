"""The invariant checker itself, and the invariants on random small scenarios.

First: ``check_invariants`` must fail on a schedule that breaks any one invariant (or
the other tests would pass vacuously). Then: seeded random scenarios, each solved and
checked, with ``savings >= 0`` where the baseline is feasible for the optimizer.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import battery, check_invariants, scenario_dict, solve_case

#: Savings may fall below zero by at most this share of the baseline bill [-].
SAVINGS_RTOL = 1e-7


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inv")
    data = scenario_dict(
        folder,
        [200.0, 250.0, 300.0, 220.0],
        price=[0.3, 1.2, 1.0, 0.4],
        export_price=0.2,
        pv_kw=[0.0, 100.0, 150.0, 0.0],
        curtailable_kw=[20.0] * 4,
        batteries=[battery(energy_kwh=100.0, power_kw=80.0, eta_c=0.95, eta_d=0.95)],
        grid={"demand_charge_cny_per_kw_month": 10.0, "export_limit_kw": 50.0},
    )
    return solve_case(folder, data)


def tampered(result, column=None, step=1, delta=0.0, summary_key=None):
    schedule = result.schedule.copy()
    summary = copy.deepcopy(result.summary)
    if column is not None:
        schedule.iloc[step, schedule.columns.get_loc(column)] += delta
    if summary_key is not None:
        summary[summary_key] += 1e-3
    return SimpleNamespace(
        scenario=result.scenario, schedule=schedule, summary=summary, baseline=result.baseline
    )


def test_untouched_result_passes(solved):
    check_invariants(solved)


@pytest.mark.parametrize(
    ("column", "delta", "summary_key"),
    [
        ("grid_import_kw", 1e-4, None),  # balance
        ("roof_pv_kw", -1e-4, None),  # balance
        ("bess_soc_kwh", 1e-4, None),  # dynamics
        ("shed_shed_kw", 1e-4, None),  # balance
        (None, 0.0, "total_cost_cny"),  # bill
        (None, 0.0, "savings_cny"),  # savings
        (None, 0.0, "demand_charge_cny"),  # bill
    ],
)
def test_a_broken_invariant_is_caught(solved, column, delta, summary_key):
    with pytest.raises(AssertionError):
        check_invariants(tampered(solved, column, 1, delta, summary_key))


def test_simultaneous_charge_and_discharge_is_caught(solved):
    # +x kW charge and +x eta_c eta_d kW discharge: balance changes, so re-close it on
    # the grid, and the soc dynamics stay right. Only the simultaneity is wrong.
    s = solved.schedule.copy()
    x = 1.0
    t = int(np.argmax(s["bess_charge_kw"].to_numpy() < 1e-6))  # a step that does not charge
    s.iloc[t, s.columns.get_loc("bess_charge_kw")] += x
    s.iloc[t, s.columns.get_loc("bess_discharge_kw")] += x * 0.95 * 0.95
    s.iloc[t, s.columns.get_loc("grid_import_kw")] += x * (1 - 0.95 * 0.95)
    fake = SimpleNamespace(scenario=solved.scenario, schedule=s, summary=solved.summary)
    with pytest.raises(AssertionError, match="charges and discharges at once"):
        check_invariants(fake)


def test_final_soc_rule_is_caught(tmp_path):
    data = scenario_dict(
        tmp_path,
        [100.0, 100.0],
        price=[0.2, 1.0],
        batteries=[battery(energy_kwh=50.0, power_kw=50.0, soc_initial_fraction=0.5)],
    )
    result = solve_case(tmp_path, data)  # final free: it discharges what it has
    assert result.schedule["bess_discharge_kw"].sum() > 1.0
    strict = result.scenario.model_copy(
        update={
            "site": result.scenario.site.model_copy(
                update={
                    "batteries": [
                        result.scenario.site.batteries[0].model_copy(
                            update={"final_soc": "equal_initial"}
                        )
                    ]
                }
            )
        }
    )
    fake = SimpleNamespace(scenario=strict, schedule=result.schedule, summary=result.summary)
    with pytest.raises(AssertionError, match="final soc"):
        check_invariants(fake)


# ---------------------------------------------------------------- random scenarios


@pytest.mark.parametrize("seed", range(8))
def test_random_scenarios_hold_the_invariants(tmp_path, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 49))
    load = rng.uniform(50, 400, n).round(2)
    price = rng.uniform(0.2, 1.3, n).round(3)
    if seed % 4 == 3:
        price[rng.integers(0, n, 2)] = -0.1  # negative prices: simultaneity allowed there
    pv = np.clip(rng.normal(150, 120, n), 0, None).round(2)
    final = ["at_least_initial", "equal_initial", "free"][seed % 3]
    batteries = [
        battery(
            energy_kwh=float(rng.uniform(50, 400)),
            power_kw=float(rng.uniform(20, 200)),
            eta_c=float(rng.uniform(0.8, 1.0)),
            eta_d=float(rng.uniform(0.8, 1.0)),
            soc_min_fraction=0.1,
            soc_max_fraction=0.9,
            soc_initial_fraction=float(rng.uniform(0.1, 0.9)),
            final_soc=final,
            throughput_cost_cny_per_kwh=float(rng.uniform(0, 0.1)),
        )
    ]
    flexible = [
        {
            "kind": "shiftable",
            "name": "batch",
            "energy_kwh": 100.0,
            "max_power_kw": 50.0,
            "window_start": "20:00",
            "window_end": "06:00",
        }
    ]
    data = scenario_dict(
        tmp_path,
        load.tolist(),
        price=price.tolist(),
        export_price=float(rng.uniform(0, 0.4)),
        pv_kw=pv.tolist(),
        curtailable_kw=rng.uniform(0, 50, n).round(2).tolist(),
        batteries=batteries,
        flexible_loads=flexible,
        grid={
            "export_limit_kw": float(rng.uniform(0, 200)),
            "demand_charge_cny_per_kw_month": float(rng.choice([0.0, 30.0])),
        },
        start="2026-01-31T12:00:00",  # crosses into February
    )
    summary = solve_case(tmp_path, data).summary  # asserts the invariants
    # No import limit and no self-discharge: the baseline is feasible for the optimizer
    # (the idle battery keeps its initial soc), so the optimum cannot cost more.
    assert summary["savings_cny"] >= -SAVINGS_RTOL * abs(summary["baseline"]["total_cost_cny"])
