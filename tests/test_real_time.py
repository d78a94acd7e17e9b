"""The real-time rule: batteries follow their schedule within bounds; the peak guard.

Hand-computed cases on a lossless 100 kWh / 50 kW battery at 1 h steps, and a property
test: whatever the set points and the net demand, powers stay within their limits and
the state of charge within its bounds, and without a guard a feasible schedule is
followed exactly.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from vpp.assets.battery.operation import run_batteries
from vpp.scenario.schema import Battery

#: Powers and energies computed here vs the rule [kW], [kWh].
TOL = 1e-9


def bess(**kw: float) -> Battery:
    spec = {
        "name": "b",
        "energy_kwh": 100.0,
        "charge_power_kw": 50.0,
        "discharge_power_kw": 50.0,
        "charge_efficiency": 1.0,
        "discharge_efficiency": 1.0,
        "soc_min_fraction": 0.0,
        "soc_max_fraction": 1.0,
        "soc_initial_fraction": 0.5,
        "final_soc": "free",
    }
    spec.update(kw)
    return Battery(**spec)


def arrays(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


def test_a_feasible_schedule_is_followed_exactly() -> None:
    b = bess()
    run = run_batteries([b], {"b": 50.0}, {"b": arrays(10, 0, 0)}, {"b": arrays(0, 20, 30)},
                        arrays(100, 100, 100), 1.0)  # fmt: skip
    assert np.allclose(run.charge_kw["b"], [10, 0, 0], atol=TOL)
    assert np.allclose(run.discharge_kw["b"], [0, 20, 30], atol=TOL)
    assert abs(run.soc_kwh["b"] - 10.0) <= TOL


def test_set_points_are_cut_at_the_state_bounds() -> None:
    b = bess(soc_min_fraction=0.1, soc_max_fraction=0.9)
    run = run_batteries([b], {"b": 30.0}, {"b": arrays(0, 0, 50, 50)},
                        {"b": arrays(15, 15, 0, 0)}, arrays(0, 0, 0, 0), 1.0)  # fmt: skip
    # 30 -> 15 -> 10 (cut from 15 to 5 kW at the 10 kWh floor) -> 60 -> 90 (cut to 30 kW)
    assert np.allclose(run.discharge_kw["b"], [15, 5, 0, 0], atol=TOL)
    assert np.allclose(run.charge_kw["b"], [0, 0, 50, 30], atol=TOL)
    assert abs(run.soc_kwh["b"] - 90.0) <= TOL


def test_peak_guard_charges_less_then_discharges_more() -> None:
    b = bess()
    month = np.zeros(3, dtype=int)
    run = run_batteries([b], {"b": 50.0}, {"b": arrays(20, 0, 0)}, {"b": arrays(0, 0, 0)},
                        arrays(190, 230, 170), 1.0, guard_kw={0: 200.0},
                        month_of=month)  # fmt: skip
    # step 0: 190 + 20 = 210 > 200 -> charge 10; step 1: 230 -> discharge 30; step 2: below
    assert np.allclose(run.charge_kw["b"], [10, 0, 0], atol=TOL)
    assert np.allclose(run.discharge_kw["b"], [0, 30, 0], atol=TOL)
    assert abs(run.soc_kwh["b"] - 30.0) <= TOL


def test_an_unavoidable_peak_raises_the_months_guard() -> None:
    b = bess()
    month = np.array([0, 0, 1])
    run = run_batteries([b], {"b": 20.0}, {"b": arrays(0, 0, 0)}, {"b": arrays(0, 0, 0)},
                        arrays(260, 240, 240), 1.0, guard_kw={0: 200.0, 1: 200.0},
                        month_of=month)  # fmt: skip
    # step 0: 20 kWh left -> import 240; the month's guard rises to 240, so step 1 (240)
    # needs nothing; step 2 is another month whose guard is still 200, but the battery
    # is empty
    assert np.allclose(run.discharge_kw["b"], [20, 0, 0], atol=TOL)
    assert abs(run.soc_kwh["b"]) <= TOL


def test_the_guard_holds_the_import_limit_below_the_months_peak() -> None:
    b = bess()
    run = run_batteries([b], {"b": 50.0}, {"b": arrays(0)}, {"b": arrays(0)}, arrays(320),
                        1.0, guard_kw={0: 400.0}, month_of=np.zeros(1, dtype=int),
                        import_limit_kw=300.0)  # fmt: skip
    assert abs(run.discharge_kw["b"][0] - 20.0) <= TOL


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-80, 80), st.floats(-200, 600)), min_size=1, max_size=30),
    st.floats(0.0, 1.0),
    st.sampled_from([None, 150.0]),
    st.floats(0.8, 1.0),
)
def test_limits_and_bounds_always_hold(steps, soc0, guard, eta) -> None:
    b = bess(soc_min_fraction=0.1, soc_max_fraction=0.9, charge_efficiency=eta,
             discharge_efficiency=eta, self_discharge_fraction_per_h=0.001)  # fmt: skip
    setpoint = np.array([s for s, _ in steps])
    net = np.array([x for _, x in steps])
    charge, discharge = np.maximum(setpoint, 0.0), np.maximum(-setpoint, 0.0)
    start = 10.0 + 80.0 * soc0
    n = len(net)
    run = run_batteries(
        [b], {"b": start}, {"b": charge}, {"b": discharge}, net, 0.5,
        guard_kw=None if guard is None else {0: guard}, month_of=np.zeros(n, dtype=int),
    )  # fmt: skip
    c, d = run.charge_kw["b"], run.discharge_kw["b"]
    assert (c >= -TOL).all() and (c <= 50.0 + TOL).all()
    assert (d >= -TOL).all() and (d <= 50.0 + TOL).all()
    soc = start
    keep = 0.999**0.5
    for t in range(n):
        soc = keep * soc + eta * c[t] * 0.5 - d[t] * 0.5 / eta
        assert 10.0 - 1e-7 <= soc <= 90.0 + 1e-7
    assert abs(run.soc_kwh["b"] - soc) <= 1e-7
    if guard is None:  # never more discharge than planned; more charge only to hold the floor
        assert (d <= discharge + TOL).all()
        assert (c <= np.maximum(charge, 50.0 * (1 - keep) * 10 / (eta * 0.5)) + TOL).all()
