"""The daily job's fallback: the rule-based peak guard from the measured state.

Small hourly sites on a flat tariff (no TOU peak or valley steps), so that only PV
self-consumption and the guard act and every number can be worked out by hand
(:mod:`vpp.jobs.fallback`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
from vpp.assets import unit
from vpp.errors import DataError
from vpp.inputs.site import build_inputs
from vpp.jobs.fallback import SAFE_SCHEDULE, fallback_states, site_fallback

#: Tolerance on powers and states worked out by hand [kW, kWh].
TOL = 1e-9
MTD_PEAK_KW = 100.0
#: Load above the month-to-date peak in three steps: 30, 50 and 20 kW over it.
LOAD = [80.0, 90.0, 130.0, 150.0, 120.0, 95.0, 70.0, 60.0]
ETA_D = 0.9
ETA_C = 0.95
MEASURED_KWH = 300.0


def site(tmp_path, load=LOAD, pv=None, grid=None, **bess):
    """A site with one 500 kWh / 100 kW battery whose scenario start (100 kWh) differs
    from the measured state; its inputs carry the measured state as the job puts it."""
    spec = {"energy_kwh": 500.0, "power_kw": 100.0, "eta_c": ETA_C, "eta_d": ETA_D}
    spec.update(soc_initial_fraction=0.2, final_soc="at_least_initial")
    spec.update(bess)
    data = scenario_dict(
        tmp_path, load, price=0.6, pv_kw=pv, batteries=[battery(**spec)], grid=grid
    )
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    return scenario, build_inputs(scenario)


def measured(inputs, soc_kwh=MEASURED_KWH):
    """The inputs with the battery's measured state put in (the unit's ``with_forecasts``,
    as the job does)."""
    assets = [
        unit(a.kind).with_forecasts(a, {}, soc_kwh if a.kind == "battery" else None)
        for a in inputs.assets
    ]
    return dataclasses.replace(inputs, assets=assets)


def test_the_guard_holds_the_month_to_date_peak_with_the_measured_energy(tmp_path):
    scenario, inputs = site(tmp_path)
    inputs = measured(inputs)
    frame = site_fallback(inputs, scenario, mtd_peak_kw=MTD_PEAK_KW)
    load = np.array(LOAD)
    over = np.maximum(load - MTD_PEAK_KW, 0.0)
    assert (over > 0).sum() == 3  # k = 3 steps, X = 30, 50, 20 kW
    imp = frame["grid_import_kw"].to_numpy()
    assert imp.max() <= MTD_PEAK_KW + TOL  # never above the peak already paid for
    np.testing.assert_allclose(imp, np.minimum(load, MTD_PEAK_KW), atol=TOL)
    np.testing.assert_allclose(frame["bess_discharge_kw"], over, atol=TOL)  # not below it
    assert (frame["bess_charge_kw"] == 0.0).all()  # no surplus, no valley
    soc = frame["bess_soc_kwh"].to_numpy()
    assert soc[0] == MEASURED_KWH  # the measured state, not 0.2 x 500 kWh
    final = fallback_states({"site": frame}, {"site": inputs})["site"]["bess"]
    dt_h = inputs.horizon.step_h
    assert final == pytest.approx(MEASURED_KWH - over.sum() * dt_h / ETA_D, abs=TOL)
    assert soc[-1] == pytest.approx(final, abs=TOL)  # nothing moves in the last step
    assert list(frame.columns[:2]) == ["load_kw", "price_cny_per_kwh"]
    assert "grid_net_import_kw" not in frame
    assert "peak guard" in SAFE_SCHEDULE and "measured" in SAFE_SCHEDULE


def test_without_a_measured_state_it_starts_from_the_scenario(tmp_path):
    scenario, inputs = site(tmp_path)
    frame = site_fallback(inputs, scenario, mtd_peak_kw=MTD_PEAK_KW)
    assert frame["bess_soc_kwh"].iloc[0] == pytest.approx(0.2 * 500.0)


def test_pv_surplus_charges_the_battery(tmp_path):
    load = [50.0, 50.0, 50.0, 50.0]
    pv = [0.0, 80.0, 90.0, 0.0]
    scenario, inputs = site(tmp_path, load=load, pv=pv)
    inputs = measured(inputs)
    frame = site_fallback(inputs, scenario, mtd_peak_kw=MTD_PEAK_KW)
    surplus = np.maximum(np.array(pv) - np.array(load), 0.0)
    np.testing.assert_allclose(frame["bess_charge_kw"], surplus, atol=TOL)
    assert (frame["grid_export_kw"] == 0.0).all()
    assert (frame["roof_curtailed_kw"] == 0.0).all()  # all PV used: self-consumption
    final = fallback_states({"site": frame}, {"site": inputs})["site"]["bess"]
    assert final == pytest.approx(MEASURED_KWH + surplus.sum() * ETA_C, abs=TOL)


def test_above_every_import_the_battery_does_not_discharge_for_the_peak(tmp_path):
    scenario, inputs = site(tmp_path)
    inputs = measured(inputs)
    frame = site_fallback(inputs, scenario, mtd_peak_kw=max(LOAD) + 1.0)
    assert (frame["bess_discharge_kw"] == 0.0).all()
    np.testing.assert_allclose(frame["grid_import_kw"], LOAD, atol=TOL)
    assert fallback_states({"s": frame}, {"s": inputs}) == {"s": {"bess": MEASURED_KWH}}


def test_a_peak_it_cannot_shave_is_paid_for_and_not_shaved_below(tmp_path):
    """30 kW of power: the 150 kW step is shaved to 120 kW, which is then paid for; the
    125 kW step after it is shaved to that, not to 100, and the 110 kW step not at all."""
    load = [80.0, 150.0, 110.0, 125.0, 90.0]
    scenario, inputs = site(tmp_path, load=load, power_kw=30.0)
    frame = site_fallback(measured(inputs), scenario, mtd_peak_kw=MTD_PEAK_KW)
    np.testing.assert_allclose(frame["bess_discharge_kw"], [0, 30, 0, 5, 0], atol=TOL)
    np.testing.assert_allclose(frame["grid_import_kw"], [80, 120, 110, 120, 90], atol=TOL)


def test_the_guard_keeps_the_import_limit_and_defaults_without_a_peak(tmp_path):
    scenario, inputs = site(tmp_path, grid={"import_limit_kw": 110.0})
    frame = site_fallback(measured(inputs), scenario, mtd_peak_kw=140.0)
    np.testing.assert_allclose(frame["grid_import_kw"], np.minimum(LOAD, 110.0), atol=TOL)
    scenario, inputs = site(tmp_path)
    inputs = measured(inputs)
    # no month-to-date peak: the rule's default set point, month peak - half the power
    frame = site_fallback(inputs, scenario)
    assert frame["grid_import_kw"].max() == pytest.approx(max(LOAD) - 0.5 * 100.0, abs=TOL)


@pytest.mark.parametrize("bad", [float("nan"), -1.0, float("inf")])
def test_an_unusable_month_to_date_peak_is_a_data_error(tmp_path, bad):
    scenario, inputs = site(tmp_path)
    with pytest.raises(DataError, match="month-to-date peak"):
        site_fallback(inputs, scenario, mtd_peak_kw=bad)
