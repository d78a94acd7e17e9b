"""Known answers on tiny dispatch problems, worked out by hand.

Every solved case also passes :func:`helpers.check_invariants` (through ``solve_case``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import (
    COST_ATOL_CNY,
    COST_RTOL,
    POWER_TOL_KW,
    ZERO_TOL_KW,
    battery,
    check_invariants,
    scenario_dict,
    solve_case,
    write_csv,
    write_scenario,
)

import vpp
import vpp.errors
from vpp.inputs.site import make_horizon

#: 15 min and 1 h runs of hour-constant inputs agree to this [-].
STEP_RTOL = 1e-6


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def approx_kw(values: object) -> object:
    return pytest.approx(values, abs=POWER_TOL_KW)


# ----------------------------------------------------------- 1. nothing to optimize


LOAD_24 = [120.0, 110, 105, 100, 100, 110, 150, 260, 380, 420, 430, 410,
           300, 390, 425, 415, 400, 350, 280, 220, 190, 170, 150, 130]  # fmt: skip
PRICE_24 = [0.31, 0.31, 0.30, 0.30, 0.30, 0.31, 0.55, 0.72, 1.08, 1.08, 1.10, 0.74,
            0.74, 0.74, 1.08, 1.08, 1.09, 1.09, 0.74, 0.74, 0.74, 0.74, 0.46, 0.32]  # fmt: skip


def test_no_flexibility_price_series(tmp_path):
    # total = sum(load x price x 1 h): computed here with plain Python floats.
    expected = sum(load * price for load, price in zip(LOAD_24, PRICE_24, strict=True))
    result = solve_case(tmp_path, scenario_dict(tmp_path, LOAD_24, price=PRICE_24))
    s = result.summary
    assert s["total_cost_cny"] == approx_cny(expected)
    assert s["energy_cost_cny"] == approx_cny(expected)
    assert s["demand_charge_cny"] == 0.0
    assert s["savings_cny"] == approx_cny(0.0)
    assert result.schedule["grid_import_kw"].to_numpy() == approx_kw(LOAD_24)
    assert s["peak_import_kw"] == {"2026-01": pytest.approx(430.0, abs=POWER_TOL_KW)}


def test_no_flexibility_inline_tou_calendar(tmp_path):
    # valley 00-08 at 0.3, peak 08-12 and 17-21 at 1.2, flat otherwise at 0.7.
    calendar = {
        "calendar": {
            "seasons": [
                {
                    "name": "all",
                    "months": list(range(1, 13)),
                    "periods": [
                        {"period": "valley", "start": "00:00", "end": "08:00"},
                        {"period": "peak", "start": "08:00", "end": "12:00"},
                        {"period": "flat", "start": "12:00", "end": "17:00"},
                        {"period": "peak", "start": "17:00", "end": "21:00"},
                        {"period": "flat", "start": "21:00", "end": "24:00"},
                    ],
                }
            ]
        },
        "prices_cny_per_kwh": {"valley": 0.3, "peak": 1.2, "flat": 0.7},
    }
    hours = np.arange(24)
    price = np.where(
        hours < 8, 0.3, np.where((hours < 12) | ((hours >= 17) & (hours < 21)), 1.2, 0.7)
    )
    expected = float(np.dot(LOAD_24, price))
    # 2 days: the calendar repeats, the demand charge is off.
    result = solve_case(tmp_path, scenario_dict(tmp_path, LOAD_24 * 2, price=calendar))
    assert result.summary["total_cost_cny"] == approx_cny(2 * expected)
    assert result.schedule["price_cny_per_kwh"].to_numpy() == pytest.approx(np.tile(price, 2))


def test_no_flexibility_demand_charge_two_months(tmp_path):
    # 48 h from 2026-01-31 00:00: load 100 + 10 t kW. January's peak is t=23 (330 kW),
    # February's t=47 (570 kW). Total = energy + 40 x (330 + 570).
    load = [100.0 + 10.0 * t for t in range(48)]
    price = [0.5 if t % 3 else 0.9 for t in range(48)]
    rate = 40.0
    energy = sum(a * b for a, b in zip(load, price, strict=True))
    data = scenario_dict(
        tmp_path,
        load,
        price=price,
        start="2026-01-31T00:00:00",
        grid={"demand_charge_cny_per_kw_month": rate},
    )
    s = solve_case(tmp_path, data).summary
    assert s["peak_import_kw"] == {
        "2026-01": pytest.approx(330.0, abs=POWER_TOL_KW),
        "2026-02": pytest.approx(570.0, abs=POWER_TOL_KW),
    }
    assert s["demand_charge_cny"] == approx_cny(rate * (330.0 + 570.0))
    assert s["energy_cost_cny"] == approx_cny(energy)
    assert s["total_cost_cny"] == approx_cny(energy + rate * 900.0)
    assert s["savings_cny"] == approx_cny(0.0)


# ----------------------------------------------------------- 2-3. arbitrage


P_LOW, P_HIGH = 0.3, 1.1
LOAD_KW = 500.0  # >= battery power: everything discharged is used on site


def test_lossless_battery_earns_capacity_times_spread(tmp_path):
    e_kwh = 200.0
    data = scenario_dict(
        tmp_path,
        [LOAD_KW, LOAD_KW],
        price=[P_LOW, P_HIGH],
        batteries=[battery(energy_kwh=e_kwh, power_kw=400.0)],
    )
    result = solve_case(tmp_path, data)
    s = result.summary
    baseline = LOAD_KW * (P_LOW + P_HIGH)
    assert s["baseline"]["total_cost_cny"] == approx_cny(baseline)
    assert s["savings_cny"] == approx_cny(e_kwh * (P_HIGH - P_LOW))
    assert s["total_cost_cny"] == approx_cny(baseline - e_kwh * (P_HIGH - P_LOW))
    sched = result.schedule
    assert sched["bess_charge_kw"].to_numpy() == approx_kw([e_kwh, 0.0])
    assert sched["bess_discharge_kw"].to_numpy() == approx_kw([0.0, e_kwh])
    assert sched["bess_soc_kwh"].to_numpy() == approx_kw([0.0, e_kwh])


@pytest.mark.parametrize(("eta_c", "eta_d"), [(0.9, 0.8), (0.95, 0.95), (1.0, 0.7)])
def test_lossy_battery_known_optimum(tmp_path, eta_c, eta_d):
    # Start empty, final free, power not binding: charge E/eta_c in the cheap hour
    # (filling the battery), discharge E x eta_d in the expensive one (emptying it).
    e_kwh, p_low, p_high = 100.0, 0.3, 1.0
    assert p_low / p_high < eta_c * eta_d  # the spread pays
    data = scenario_dict(
        tmp_path,
        [300.0, 300.0],
        price=[p_low, p_high],
        batteries=[battery(energy_kwh=e_kwh, power_kw=200.0, eta_c=eta_c, eta_d=eta_d)],
    )
    result = solve_case(tmp_path, data)
    savings = e_kwh * eta_d * p_high - e_kwh / eta_c * p_low
    assert savings > 0
    assert result.summary["savings_cny"] == approx_cny(savings)
    sched = result.schedule
    assert sched["bess_charge_kw"].to_numpy() == approx_kw([e_kwh / eta_c, 0.0])
    assert sched["bess_discharge_kw"].to_numpy() == approx_kw([0.0, e_kwh * eta_d])


@pytest.mark.parametrize(("p_low", "eta_c", "eta_d"), [(0.8, 0.9, 0.8), (0.93, 0.95, 0.95)])
def test_lossy_battery_idle_when_spread_too_small(tmp_path, p_low, eta_c, eta_d):
    p_high = 1.0
    assert p_low / p_high > eta_c * eta_d  # a kWh bought at p_low returns eta_c eta_d kWh
    data = scenario_dict(
        tmp_path,
        [300.0, 300.0],
        price=[p_low, p_high],
        batteries=[battery(energy_kwh=100.0, power_kw=200.0, eta_c=eta_c, eta_d=eta_d)],
    )
    result = solve_case(tmp_path, data)
    assert result.summary["savings_cny"] == approx_cny(0.0)
    assert result.schedule["bess_charge_kw"].to_numpy() == approx_kw([0.0, 0.0])
    assert result.schedule["bess_discharge_kw"].to_numpy() == approx_kw([0.0, 0.0])


def test_throughput_cost_is_paid_per_kwh_discharged(tmp_path):
    # Lossless, spread 0.8, wear 0.25 CNY/kWh discharged: still pays, net 0.55 per kWh.
    e_kwh, wear = 200.0, 0.25
    data = scenario_dict(
        tmp_path,
        [LOAD_KW, LOAD_KW],
        price=[P_LOW, P_HIGH],
        batteries=[battery(energy_kwh=e_kwh, power_kw=400.0, throughput_cost_cny_per_kwh=wear)],
    )
    s = solve_case(tmp_path, data).summary
    assert s["battery_cost_cny"] == approx_cny(wear * e_kwh)
    assert s["savings_cny"] == approx_cny(e_kwh * (P_HIGH - P_LOW - wear))


# ----------------------------------------------------------- 4. demand charge


@pytest.mark.parametrize(("eta_c", "eta_d"), [(1.0, 1.0), (0.9, 0.9)])
def test_demand_charge_caps_the_peak(tmp_path, eta_c, eta_d):
    # Load [100, 300, 100] kW for 1 h each, flat price p, demand charge D >> p.
    # The battery starts empty, so it can only charge at t=0 (c) and discharge at t=1
    # (d = eta c). The peak is max(100 + c, 300 - d); it is least when both are equal:
    # c = 200 / (1 + eta), peak = 100 + c. Energy bought = 500 + c - d.
    p, rate = 0.5, 100.0
    eta = eta_c * eta_d
    c = 200.0 / (1.0 + eta)
    d = eta * c
    peak = 100.0 + c
    data = scenario_dict(
        tmp_path,
        [100.0, 300.0, 100.0],
        price=p,
        grid={"demand_charge_cny_per_kw_month": rate},
        batteries=[battery(energy_kwh=150.0, power_kw=200.0, eta_c=eta_c, eta_d=eta_d)],
    )
    result = solve_case(tmp_path, data)
    s = result.summary
    assert s["peak_import_kw"]["2026-01"] == pytest.approx(peak, abs=POWER_TOL_KW)
    assert s["baseline"]["peak_import_kw"]["2026-01"] == pytest.approx(300.0, abs=POWER_TOL_KW)
    assert s["peak_shaving_kw"]["2026-01"] == pytest.approx(300.0 - peak, abs=POWER_TOL_KW)
    assert s["peak_shaving_max_kw"] == pytest.approx(300.0 - peak, abs=POWER_TOL_KW)
    assert s["demand_charge_cny"] == approx_cny(rate * peak)
    assert s["energy_cost_cny"] == approx_cny(p * (500.0 + c - d))
    assert s["total_cost_cny"] == approx_cny(p * (500.0 + c - d) + rate * peak)
    assert s["baseline"]["total_cost_cny"] == approx_cny(p * 500.0 + rate * 300.0)
    sched = result.schedule
    assert sched["grid_import_kw"].to_numpy()[:2] == approx_kw([peak, peak])
    assert sched["bess_charge_kw"].iloc[0] == pytest.approx(c, abs=POWER_TOL_KW)
    assert sched["bess_discharge_kw"].iloc[1] == pytest.approx(d, abs=POWER_TOL_KW)


# ----------------------------------------------------------- 5. 15 min vs 1 h


def _hour_constant_day(folder, step: str) -> dict:
    hours = np.arange(24)
    load = (300 + 150 * np.sin((hours - 6) / 24 * 2 * np.pi) ** 2 + 80 * (hours % 5 == 0)).round(3)
    pv = np.clip(500 * np.sin((hours - 6) / 12 * np.pi), 0, None).round(3)
    price = np.where(hours < 8, 0.32, np.where((hours >= 17) & (hours < 21), 1.15, 0.74))
    price = price + 0.01 * (hours % 3)  # break ties between equal-price hours
    return scenario_dict(
        folder,
        load.tolist(),
        price=price.tolist(),
        export_price=0.391,
        pv_kw=pv.tolist(),
        curtailable_kw=[60.0] * 24,
        batteries=[
            battery(
                energy_kwh=400.0,
                power_kw=150.0,
                eta_c=0.95,
                eta_d=0.93,
                soc_min_fraction=0.1,
                soc_max_fraction=0.9,
                soc_initial_fraction=0.5,
                final_soc="at_least_initial",
                throughput_cost_cny_per_kwh=0.03,
            )
        ],
        flexible_loads=[
            {
                "kind": "shiftable",
                "name": "batch",
                "energy_kwh": 250.0,
                "max_power_kw": 100.0,
                "window_start": "10:00",
                "window_end": "18:00",
            }
        ],
        grid={
            "export_limit_kw": 100.0,
            "import_limit_kw": 2000.0,
            "demand_charge_cny_per_kw_month": 35.0,
        },
        step=step,
        resample="hold",
    )


def test_same_cost_at_15_min_and_1_h(tmp_path):
    hourly = solve_case(tmp_path / "h", _hour_constant_day(tmp_path / "h", "1h"))
    quarter = solve_case(tmp_path / "q", _hour_constant_day(tmp_path / "q", "15min"))
    assert len(hourly.schedule) == 24 and len(quarter.schedule) == 96
    # The curtailable price (1.0) sits between prices, so some shedding happens.
    assert hourly.summary["curtailment_cost_cny"] > 1.0
    for key in ("total_cost_cny", "demand_charge_cny"):
        assert quarter.summary[key] == pytest.approx(hourly.summary[key], rel=STEP_RTOL)
    # The inputs were held, not interpolated.
    held = quarter.schedule["load_kw"].to_numpy().reshape(24, 4)
    assert held == pytest.approx(np.repeat(hourly.schedule["load_kw"].to_numpy()[:, None], 4, 1))


# ----------------------------------------------------------- 6. no simultaneous charge


@pytest.mark.parametrize("eta", [1.0, 0.9])
def test_no_simultaneous_charge_and_discharge_with_unexportable_surplus(tmp_path, eta):
    # PV surplus of 300 kW for 3 h, export limit 0: energy at the margin is worthless,
    # so charging and discharging at once would cost nothing (a tie) without the
    # tie-break. The battery fills from the surplus, the rest is curtailed.
    load = [100.0] * 6
    pv = [0.0, 400.0, 400.0, 400.0, 0.0, 0.0]
    data = scenario_dict(
        tmp_path,
        load,
        price=1.0,
        pv_kw=pv,
        grid={"export_limit_kw": 0.0},
        batteries=[battery(energy_kwh=200.0, power_kw=100.0, eta_c=eta, eta_d=eta)],
    )
    result = solve_case(tmp_path, data)  # check_invariants asserts no simultaneity
    sched = result.schedule
    ch, dis = sched["bess_charge_kw"].to_numpy(), sched["bess_discharge_kw"].to_numpy()
    assert not ((ch > ZERO_TOL_KW) & (dis > ZERO_TOL_KW)).any()
    assert sched["roof_curtailed_kw"].sum() > 100.0  # there was surplus to waste
    # Stored energy 200 kWh (the battery fills), returned as 200 eta kWh in hours 4-5.
    assert sched["bess_discharge_kw"].to_numpy()[4:].sum() == pytest.approx(
        200.0 * eta, abs=POWER_TOL_KW
    )
    assert result.summary["savings_cny"] == approx_cny(200.0 * eta * 1.0)


# ----------------------------------------------------------- 7. flexible loads


def _window_sums(power: np.ndarray, slices: list[slice]) -> list[float]:
    return [float(power[sl].sum()) for sl in slices]


def test_shiftable_load_moves_into_cheapest_steps(tmp_path):
    # Window 08:00-20:00 daily, 300 kWh at <= 100 kW: 3 full hours per window, the 3
    # cheapest of the window. 48 h from Monday 00:00.
    rng = np.random.default_rng(3)
    price = rng.permutation(np.linspace(0.30, 1.20, 48)).round(4)  # all distinct
    data = scenario_dict(
        tmp_path,
        [200.0] * 48,
        price=price.tolist(),
        flexible_loads=[
            {
                "kind": "shiftable",
                "name": "batch",
                "energy_kwh": 300.0,
                "max_power_kw": 100.0,
                "window_start": "08:00",
                "window_end": "20:00",
            }
        ],
    )
    result = solve_case(tmp_path, data)
    power = result.schedule["batch_power_kw"].to_numpy()
    expected = np.zeros(48)
    for day in range(2):
        window = np.arange(24 * day + 8, 24 * day + 20)
        expected[window[np.argsort(price[window])[:3]]] = 100.0
    assert power == approx_kw(expected)
    windows = [slice(8, 20), slice(32, 44)]
    assert _window_sums(power, windows) == approx_kw([300.0, 300.0])
    base_cost = float(np.dot(200.0 + result.baseline["batch_power_kw"].to_numpy(), price))
    assert result.summary["total_cost_cny"] == approx_cny(float(np.dot(200.0 + expected, price)))
    assert result.summary["baseline"]["total_cost_cny"] == approx_cny(base_cost)
    # The baseline runs at full power from the window's start.
    base = result.baseline["batch_power_kw"].to_numpy()
    assert base[8:11] == approx_kw([100.0] * 3) and base[32:35] == approx_kw([100.0] * 3)
    assert base.sum() == pytest.approx(600.0, abs=POWER_TOL_KW)


def test_curtailable_load_sheds_only_above_its_cost(tmp_path):
    # Shed cost 0.8 CNY/kWh, at most 60 % of 50 kW: shed 30 kW exactly where price > 0.8.
    price = [0.3, 0.79, 0.81, 1.5, 0.8 - 0.05, 2.0]
    data = scenario_dict(tmp_path, [100.0] * 6, price=price, curtailable_kw=[50.0] * 6)
    data["site"]["flexible_loads"][0].update(max_shed_fraction=0.6, shed_cost_cny_per_kwh=0.8)
    result = solve_case(tmp_path, data)
    expected = [30.0 if p > 0.8 else 0.0 for p in price]
    assert result.schedule["shed_shed_kw"].to_numpy() == approx_kw(expected)
    assert result.baseline["shed_shed_kw"].to_numpy() == approx_kw([0.0] * 6)
    gain = sum(30.0 * (p - 0.8) for p in price if p > 0.8)
    assert result.summary["curtailment_cost_cny"] == approx_cny(0.8 * 30.0 * 3)
    assert result.summary["savings_cny"] == approx_cny(gain)


# ----------------------------------------------------------- 8. windows and the horizon


def test_window_across_midnight_and_cut_by_the_horizon(tmp_path):
    # Window 22:00-04:00 (6 h), 120 kWh at <= 60 kW; horizon Mon 00:00 .. Wed 00:00.
    # Occurrences: Sun 22:00 (cut: 4 of 6 h inside -> 80 kWh in 00:00-04:00),
    # Mon 22:00 - Tue 04:00 (whole: 120 kWh), Tue 22:00 (cut: 2 of 6 h -> 40 kWh).
    price = np.full(48, 0.9)
    price[[1, 3]] = [0.2, 0.25]  # first window: cheapest at 01:00, then 03:00
    price[[23, 26, 22]] = [0.2, 0.21, 0.3]  # middle window: 23:00 and 02:00 (after midnight)
    price[47] = 0.5  # last window: 22:00 vs 23:00
    data = scenario_dict(
        tmp_path,
        [150.0] * 48,
        price=price.tolist(),
        flexible_loads=[
            {
                "kind": "shiftable",
                "name": "cure",
                "energy_kwh": 120.0,
                "max_power_kw": 60.0,
                "window_start": "22:00",
                "window_end": "04:00",
            }
        ],
    )
    result = solve_case(tmp_path, data)
    power = result.schedule["cure_power_kw"].to_numpy()
    windows = [slice(0, 4), slice(22, 28), slice(46, 48)]
    assert _window_sums(power, windows) == approx_kw([80.0, 120.0, 40.0])
    inside = np.zeros(48, dtype=bool)
    for sl in windows:
        inside[sl] = True
    assert power[~inside] == approx_kw(np.zeros((~inside).sum()))
    expected = np.zeros(48)
    expected[1], expected[3] = 60.0, 20.0  # 80 kWh: 60 at the cheapest, 20 at the next
    expected[23], expected[26] = 60.0, 60.0  # across midnight
    expected[47] = 40.0
    assert power == approx_kw(expected)


def test_weekday_windows_skip_the_weekend(tmp_path):
    # Fri 2026-01-09 00:00 .. Mon 2026-01-12 12:00; window 08:00-12:00 on weekdays:
    # Friday and Monday only, 100 kWh each.
    n = 24 * 3 + 12
    data = scenario_dict(
        tmp_path,
        [80.0] * n,
        price=[0.5] * n,
        start="2026-01-09T00:00:00",
        flexible_loads=[
            {
                "kind": "shiftable",
                "name": "press",
                "energy_kwh": 100.0,
                "max_power_kw": 50.0,
                "window_start": "08:00",
                "window_end": "12:00",
                "days": "weekdays",
            }
        ],
    )
    result = solve_case(tmp_path, data)
    power = result.schedule["press_power_kw"].to_numpy()
    assert power[8:12].sum() == pytest.approx(100.0, abs=POWER_TOL_KW)
    assert power[72 + 8 : 72 + 12].sum() == pytest.approx(100.0, abs=POWER_TOL_KW)
    assert power.sum() == pytest.approx(200.0, abs=POWER_TOL_KW)


# ----------------------------------------------------------- Python API


def test_python_api_returns_schedule_summary_baseline(tmp_path):
    data = scenario_dict(
        tmp_path,
        [LOAD_KW, LOAD_KW, LOAD_KW],
        price=[P_LOW, P_HIGH, P_LOW],
        batteries=[battery(energy_kwh=100.0, power_kw=100.0)],
    )
    path = write_scenario(tmp_path, data)
    scenario = vpp.load_scenario(path)
    assert scenario.site.load.series.file == tmp_path.resolve() / "load.csv"
    result = vpp.run(scenario)
    check_invariants(result)
    assert result.scenario is scenario
    horizon = make_horizon(scenario)
    expected_index = pd.date_range("2026-01-05 00:00", periods=3, freq="1h", tz="Asia/Shanghai")
    for frame in (result.schedule, result.baseline):
        assert isinstance(frame, pd.DataFrame)
        assert frame.index.equals(horizon.index)
        assert frame.index.equals(expected_index)
    for column in ("grid_import_kw", "grid_export_kw", "bess_charge_kw", "bess_discharge_kw",
                   "bess_soc_kwh", "load_kw", "price_cny_per_kwh"):  # fmt: skip
        assert column in result.schedule
    assert result.summary["savings_cny"] == approx_cny(100.0 * (P_HIGH - P_LOW))
    assert result.summary["horizon"]["steps"] == 3
    assert result.summary["horizon"]["step_h"] == 1.0


def test_window_follows_the_local_clock_on_a_dst_day(tmp_path):
    # Europe/Berlin, 2026-03-29: clocks jump 02:00 -> 03:00 (23 h day). A window
    # 06:00-07:00 local must put its 100 kWh (100 kW max) in the 06:00 step.
    stamps = pd.date_range(pd.Timestamp("2026-03-29", tz="Europe/Berlin"), periods=23, freq="1h")
    write_csv(tmp_path / "load.csv", stamps, load_kw=[100.0] * 23)
    write_csv(tmp_path / "price.csv", stamps, price_cny_per_kwh=[1.0] * 23)
    data = {
        "name": "dst",
        "timezone": "Europe/Berlin",
        "horizon": {"start": "2026-03-29T00:00:00", "days": 1, "step": "1h"},
        "site": {
            "load": {"series": {"file": "load.csv", "column": "load_kw"}},
            "flexible_loads": [
                {
                    "kind": "shiftable",
                    "name": "batch",
                    "energy_kwh": 100.0,
                    "max_power_kw": 100.0,
                    "window_start": "06:00",
                    "window_end": "07:00",
                }
            ],
            "grid": {
                "energy_price": {"series": {"file": "price.csv", "column": "price_cny_per_kwh"}}
            },
        },
    }
    power = solve_case(tmp_path, data).schedule["batch_power_kw"]
    assert len(power) == 23
    running = power[power > ZERO_TOL_KW]
    assert [t.strftime("%H:%M") for t in running.index] == ["06:00"]


def test_whole_day_window(tmp_path):
    # 24 h from Monday 00:00; 100 kWh at <= 50 kW anywhere in the day: the 2 cheapest hours.
    price = np.full(24, 0.9)
    price[[3, 15]] = [0.2, 0.3]
    data = scenario_dict(
        tmp_path,
        [150.0] * 24,
        price=price.tolist(),
        flexible_loads=[
            {
                "kind": "shiftable",
                "name": "batch",
                "energy_kwh": 100.0,
                "max_power_kw": 50.0,
                "window_start": "00:00",
                "window_end": "24:00",
            }
        ],
    )
    power = solve_case(tmp_path, data).schedule["batch_power_kw"].to_numpy()
    expected = np.zeros(24)
    expected[[3, 15]] = 50.0
    assert power == approx_kw(expected)
