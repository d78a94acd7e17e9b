"""Bills worked out by hand: energy by TOU period, export credit, basic charge by each method.

Every solved case also passes :func:`helpers.check_invariants` (through ``solve_case``),
which checks the monthly table against the totals as well.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from helpers import (
    COST_ATOL_CNY,
    COST_RTOL,
    POWER_TOL_KW,
    battery,
    scenario_dict,
    solve_case,
)

import vpp
import vpp.assets  # registers every unit's block builder
from vpp.assets.grid.tariff import basic_charge_series, basic_charge_terms
from vpp.inputs.site import build_inputs
from vpp.model import AssetInput, build_model, solve
from vpp.report.files import write_run
from vpp.runs.bill import EXTRA_COLUMNS, bill, monthly_bill
from vpp.scenario.schema import BasicCharge, EnergyPrice, Grid
from vpp.timeseries import Horizon

J2025 = {"calendar": "jiangsu-2025-industrial"}
J2023 = {"calendar": "jiangsu-2023-industrial"}
#: Illustrative 2025 prices (purchase 0.42 x k + adders 0.32) [CNY/kWh].
PEAK_2025, FLAT_2025, VALLEY_2025 = 1.076, 0.74, 0.467
#: The 2023 table [CNY/kWh].
PEAK_2023, FLAT_2023, VALLEY_2023 = 1.1275, 0.6557, 0.2744
#: Energy in kWh summed from steps: exact up to float summation [kWh].
KWH_TOL = 1e-6


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def one_row(summary: dict, month: str) -> dict:
    (row,) = [r for r in summary["bill_monthly"] if r["month"] == month]
    return row


# ------------------------------------------------------------------ hand-calculated months


def _feb_2025_load_and_pv() -> tuple[list[float], list[float]]:
    # February is a summer_winter month of the 2025 calendar: valley 00-06 and 11-13,
    # flat 06-11, 13-14 and 22-24, peak 14-22 (8 h each). Load 100 kW in valley hours,
    # 200 kW in flat hours, 300 kW in peak hours; PV 150 kW at 11:00 and 12:00.
    load_day = [100.0] * 6 + [200.0] * 5 + [100.0] * 2 + [200.0] + [300.0] * 8 + [200.0] * 2
    pv_day = [0.0] * 11 + [150.0] * 2 + [0.0] * 11
    return load_day * 28, pv_day * 28


def test_hand_calculated_month_2025_calendar(tmp_path):
    load, pv = _feb_2025_load_and_pv()
    data = scenario_dict(
        tmp_path,
        load,
        price=J2025,
        export_price=0.391,
        pv_kw=pv,
        start="2026-02-01T00:00:00",
        grid={
            "export_limit_kw": 100.0,
            "basic_charge": {"method": "demand", "demand_cny_per_kw_month": 40.0},
        },
    )
    result = solve_case(tmp_path, data)
    s = result.summary
    # Per day: valley 6 h x 100 (11-13 covered by PV), flat 8 h x 200, peak 8 h x 300;
    # export 2 h x 50 kW. 28 days.
    row = one_row(s, "2026-02")
    expected = {
        "tou_peak_import_kwh": 67_200.0,
        "tou_peak_energy_cost_cny": 72_307.2,  # 67 200 x 1.076
        "tou_flat_import_kwh": 44_800.0,
        "tou_flat_energy_cost_cny": 33_152.0,  # 44 800 x 0.74
        "tou_valley_import_kwh": 16_800.0,
        "tou_valley_energy_cost_cny": 7_845.6,  # 16 800 x 0.467
        "import_kwh": 128_800.0,
        "energy_cost_cny": 113_304.8,
        "export_kwh": 2_800.0,
        "export_revenue_cny": 1_094.8,  # 2 800 x 0.391
        "peak_import_kw": 300.0,
        "demand_charge_cny": 12_000.0,  # 40 x 300
        "green_contracts_cny": 0.0,
        "certificates_cny": 0.0,
        "carbon_cny": 0.0,
        "bill_cny": 124_210.0,
        "battery_cost_cny": 0.0,
        "curtailment_cost_cny": 0.0,
        "total_cost_cny": 124_210.0,
    }
    assert list(row) == ["month", *expected]
    for key, value in expected.items():
        assert row[key] == approx_cny(value), key
    assert s["total_cost_cny"] == approx_cny(124_210.0)
    assert s["basic_charge_method"] == "demand"
    assert s["tariff"]["energy_price"] == "calendar jiangsu-2025-industrial"
    (note,) = s["tariff"]["notes"]  # 2026 lies inside the calendar's validity, but ...
    assert "60-minute step" in note  # ... the hourly maximum stands in for the 15-min one
    periods = result.schedule["tou_period"]
    assert periods.iloc[11] == "valley" and periods.iloc[14] == "peak"


def test_hand_calculated_month_2023_calendar_with_holiday_deep_valley(tmp_path):
    # Constant 100 kW through February 2026 under the pre-2025 calendar: valley 00-08,
    # peak 08-11 and 17-22, flat 11-17 and 22-24 (8 h each a day). The holiday deep
    # valley, switched on, makes 11-15 deep valley on the Spring Festival holiday
    # (2026-02-15 .. 2026-02-23: 9 days x 4 h).
    data = scenario_dict(
        tmp_path,
        [100.0] * (28 * 24),
        price={**J2023, "day_rules": {"holiday_deep_valley": True}},
        start="2026-02-01T00:00:00",
    )
    s = solve_case(tmp_path, data).summary
    row = one_row(s, "2026-02")
    deep = 9 * 4 * 100.0
    assert row["tou_deep_valley_import_kwh"] == pytest.approx(deep, abs=KWH_TOL)
    deep_price = FLAT_2023 - 0.2 * PEAK_2023  # 0.4302
    assert row["tou_deep_valley_energy_cost_cny"] == approx_cny(deep * deep_price)
    assert row["tou_flat_import_kwh"] == pytest.approx(22_400.0 - deep, abs=KWH_TOL)
    assert row["tou_flat_energy_cost_cny"] == approx_cny((22_400.0 - deep) * FLAT_2023)
    assert row["tou_valley_energy_cost_cny"] == approx_cny(22_400.0 * VALLEY_2023)
    assert row["tou_peak_energy_cost_cny"] == approx_cny(22_400.0 * PEAK_2023)
    total = 3_600 * 0.4302 + 18_800 * FLAT_2023 + 22_400 * (VALLEY_2023 + PEAK_2023)
    assert total == pytest.approx(1_548.72 + 12_327.16 + 6_146.56 + 25_256.0)
    assert s["energy_cost_cny"] == approx_cny(total)
    assert [k for k in row if k.startswith("tou_")][::2] == [
        "tou_peak_import_kwh",
        "tou_flat_import_kwh",
        "tou_valley_import_kwh",
        "tou_deep_valley_import_kwh",
    ]
    tariff = s["tariff"]
    assert tariff["day_rules_days"] == {"holiday_deep_valley": 9}
    assert tariff["period_prices_cny_per_kwh"]["deep_valley"] == pytest.approx(deep_price)
    (note,) = tariff["notes"]  # the run lies after the calendar's validity
    assert "2025-05-31" in note and "jiangsu-2023-industrial" in note


def test_price_series_bills_one_period_and_csv_holds_both_cases(tmp_path):
    prices = [0.3, 0.9, 0.6] * 8
    data = scenario_dict(
        tmp_path,
        [100.0] * 24,
        price=prices,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0)],
    )
    result = solve_case(tmp_path, data)
    (row,) = result.summary["bill_monthly"]
    assert [k for k in row if k.startswith("tou_")] == [
        "tou_series_import_kwh",
        "tou_series_energy_cost_cny",
    ]
    assert set(result.schedule["tou_period"]) == {"series"}
    files = write_run(result, tmp_path / "out")
    assert tmp_path / "out" / "bill.csv" in files
    csv = pd.read_csv(tmp_path / "out" / "bill.csv")
    assert list(csv["case"]) == ["optimized", "baseline"]
    assert list(csv.columns[:2]) == ["case", "month"]
    assert csv["total_cost_cny"].to_numpy() == pytest.approx(
        [result.summary["total_cost_cny"], result.summary["baseline"]["total_cost_cny"]]
    )


# ------------------------------------------------------------------ TOU calendars steer dispatch


def _summer_week(folder, calendar: dict) -> vpp.sim.RunResult:
    # 7 days of July, flat 1 MW load; a 2 h battery with wear 0.25 CNY/kWh and a little
    # self-discharge (so that of two equal prices the later one is chosen for charging).
    bess = battery(
        energy_kwh=400.0,
        power_kw=200.0,
        eta_c=0.95,
        eta_d=0.95,
        throughput_cost_cny_per_kwh=0.25,
        self_discharge_fraction_per_h=0.002,
    )
    data = scenario_dict(
        folder, [1000.0] * (7 * 24), price=calendar, batteries=[bess], start="2026-07-06T00:00:00"
    )
    return solve_case(folder, data)


def test_2025_calendar_moves_charging_into_the_midday_valley(tmp_path):
    # 2025 (summer): valley 00-06 and 11-13, peak 14-22. One kWh stored costs
    # 0.467 / 0.9025 + 0.25 = 0.767 CNY: only the peak (1.076) pays it back, and the
    # midday valley is the last valley before the peak, so all charging moves there.
    # Pre-2025: valley 00-08, peak 08-11 and 17-22: charging at night for the morning
    # peak and in the afternoon flat (15-17) for the evening peak; none at 11-13.
    shares = {}
    for name, calendar in (("2025", J2025), ("2023", J2023)):
        result = _summer_week(tmp_path / name, calendar)
        charge = result.schedule["bess_charge_kw"]
        midday = charge[(charge.index.hour >= 11) & (charge.index.hour < 13)].sum()
        assert charge.sum() > 1000.0, name  # the battery works under both tariffs
        shares[name] = float(midday / charge.sum())
    assert shares["2025"] > 0.8
    assert shares["2023"] < 0.05


# ------------------------------------------------------------------ basic charge


def _basic(**entry) -> dict:
    return {"basic_charge": {"method": "demand", **entry}}


def test_contracted_demand_excess_above_105_percent_is_billed_double(tmp_path):
    # No flexibility: the peak is 300 kW against a contract of 200 kW (tolerance 210 kW).
    # Billed: 40 x 200 + 2 x 40 x (300 - 210) = 8 000 + 7 200.
    rate, contract = 40.0, 200.0
    data = scenario_dict(
        tmp_path,
        [100.0, 300.0, 100.0],
        price=0.5,
        grid=_basic(demand_cny_per_kw_month=rate, contracted_demand_kw=contract),
    )
    s = solve_case(tmp_path, data).summary
    assert s["basic_charge_method"] == "contracted_demand"
    assert s["demand_charge_cny"] == approx_cny(8_000.0 + 7_200.0)
    assert s["total_cost_cny"] == approx_cny(0.5 * 500.0 + 15_200.0)
    info = s["tariff"]["basic_charge"]
    assert info["billed_contract_kw"] == contract
    assert info["excess_threshold_kw"] == pytest.approx(210.0)


def test_contracted_demand_is_billed_when_the_peak_stays_below(tmp_path):
    # Peak 150 kW < contract 200 kW: the contract is billed (按合同确定值收取).
    data = scenario_dict(
        tmp_path,
        [100.0, 150.0, 100.0],
        price=0.5,
        grid=_basic(demand_cny_per_kw_month=40.0, contracted_demand_kw=200.0),
    )
    assert solve_case(tmp_path, data).summary["demand_charge_cny"] == approx_cny(8_000.0)


@pytest.mark.parametrize("contracted", [True, False])
def test_double_rate_makes_shaving_to_105_percent_pay(tmp_path, contracted):
    # Load [20, 300, 20] kW, 1 h steps, flat 0.5 CNY/kWh. The battery (empty, 200 kWh,
    # eta_c 1, eta_d 0.5) can only move energy from t=0 to t=1: lowering the peak by
    # delta costs 2 delta kWh bought at t=0 less delta saved at t=1, 0.5 CNY per kW.
    # Demand rate r = 0.3 CNY/kW-month: by actual demand a kW of peak saves 0.3 < 0.5,
    # so the battery idles; with a contract of 200 kW every kW above 210 kW costs
    # 2 r = 0.6 > 0.5 and below 210 kW nothing, so the optimizer shaves exactly to 210 kW:
    # delta = 90, charge 180 kW at t=0 (import 200 <= 210).
    p, rate = 0.5, 0.3
    entry = {"demand_cny_per_kw_month": rate}
    if contracted:
        entry["contracted_demand_kw"] = 200.0
    data = scenario_dict(
        tmp_path,
        [20.0, 300.0, 20.0],
        price=p,
        grid=_basic(**entry),
        batteries=[battery(energy_kwh=200.0, power_kw=200.0, eta_c=1.0, eta_d=0.5)],
    )
    result = solve_case(tmp_path, data)
    s, sched = result.summary, result.schedule
    if contracted:
        assert sched["grid_import_kw"].to_numpy() == pytest.approx(
            [200.0, 210.0, 20.0], abs=POWER_TOL_KW
        )
        assert s["peak_import_kw"]["2026-01"] == pytest.approx(210.0, abs=POWER_TOL_KW)
        assert s["demand_charge_cny"] == approx_cny(rate * 200.0)
        assert s["total_cost_cny"] == approx_cny(p * 430.0 + rate * 200.0)  # 275
        baseline = p * 340.0 + rate * 200.0 + 2 * rate * 90.0  # 284
        assert s["baseline"]["total_cost_cny"] == approx_cny(baseline)
        assert s["savings_cny"] == approx_cny(9.0)
    else:
        assert sched["bess_charge_kw"].to_numpy() == pytest.approx([0.0] * 3, abs=POWER_TOL_KW)
        assert s["total_cost_cny"] == approx_cny(p * 340.0 + rate * 300.0)
        assert s["savings_cny"] == approx_cny(0.0)


def test_contracted_demand_same_at_15_min_and_1_h(tmp_path):
    # The shaving case above, hour-constant inputs held at 15 min: same bill.
    totals = {}
    for step in ("1h", "15min"):
        data = scenario_dict(
            tmp_path / step,
            [20.0, 300.0, 20.0],
            price=0.5,
            grid=_basic(demand_cny_per_kw_month=0.3, contracted_demand_kw=200.0),
            batteries=[battery(energy_kwh=200.0, power_kw=200.0, eta_c=1.0, eta_d=0.5)],
            step=step,
            resample="hold",
        )
        s = solve_case(tmp_path / step, data).summary
        assert s["peak_import_kw"]["2026-01"] == pytest.approx(210.0, abs=POWER_TOL_KW)
        totals[step] = s["total_cost_cny"]
    assert totals["15min"] == approx_cny(totals["1h"])
    assert totals["1h"] == approx_cny(275.0)


def test_capacity_charge_is_fixed_whatever_the_dispatch(tmp_path):
    # Two months touched (Jan 31 and Feb 1): 30 CNY/kVA-month x 500 kVA x 2 months, for
    # the optimized dispatch and the baseline alike; the model has no peak variables.
    load = [100.0 + 10.0 * t for t in range(48)]
    data = scenario_dict(
        tmp_path,
        load,
        price=[0.3 if t % 24 < 8 else 1.0 for t in range(48)],
        start="2026-01-31T00:00:00",
        batteries=[battery(energy_kwh=200.0, power_kw=100.0)],
        grid={
            "basic_charge": {
                "method": "capacity",
                "capacity_cny_per_kva_month": 30.0,
                "transformer_kva": 500.0,
            }
        },
    )
    result = solve_case(tmp_path, data)
    s = result.summary
    assert s["basic_charge_method"] == "capacity"
    assert s["demand_charge_cny"] == approx_cny(30_000.0)
    assert s["baseline"]["demand_charge_cny"] == approx_cny(30_000.0)
    assert [r["demand_charge_cny"] for r in s["bill_monthly"]] == [
        approx_cny(15_000.0),
        approx_cny(15_000.0),
    ]
    assert s["savings_cny"] > 0.0  # arbitrage only
    inputs = build_inputs(result.scenario)
    grid = build_model(inputs.assets, inputs.horizon).asset["grid"]
    assert not hasattr(grid, "peak_import_kw") and not hasattr(grid, "excess_demand_kw")


def test_basic_charge_options_for_the_same_dispatch(tmp_path):
    # No flexibility, peaks 300 kW (January) and 450 kW (February); rates 40 CNY/kW-month
    # and 30 CNY/kVA-month, contract 350 kW, transformer 800 kVA.
    load = [100.0] * 48
    load[10], load[40] = 300.0, 450.0
    data = scenario_dict(
        tmp_path,
        load,
        price=0.5,
        start="2026-01-31T00:00:00",
        grid=_basic(
            demand_cny_per_kw_month=40.0,
            contracted_demand_kw=350.0,
            capacity_cny_per_kva_month=30.0,
            transformer_kva=800.0,
        ),
    )
    s = solve_case(tmp_path, data).summary
    report = s["basic_charge_options"]
    assert report["in_force"] == "contracted_demand"
    options = report["options"]
    assert options["demand"]["monthly_cny"] == {
        "2026-01": approx_cny(12_000.0),
        "2026-02": approx_cny(18_000.0),
    }
    # Contract 350 (above 40% of 800): January 40 x 350; February + 80 x (450 - 367.5).
    assert options["contracted_demand"]["monthly_cny"] == {
        "2026-01": approx_cny(14_000.0),
        "2026-02": approx_cny(14_000.0 + 6_600.0),
    }
    assert options["contracted_demand"]["total_cny"] == approx_cny(s["demand_charge_cny"])
    # Hindsight: contract peak / 1.05, floor 320 kW (40% of 800 kVA) in January.
    hindsight = options["contracted_demand_hindsight"]
    assert hindsight["contracted_demand_kw"]["2026-01"] == pytest.approx(320.0)
    assert hindsight["contracted_demand_kw"]["2026-02"] == pytest.approx(450.0 / 1.05)
    assert hindsight["total_cny"] == approx_cny(40.0 * 320.0 + 40.0 * 450.0 / 1.05)
    assert options["capacity"]["total_cny"] == approx_cny(2 * 30.0 * 800.0)
    assert report["cheapest"] == "demand"  # 30 000 < 34 600 < 48 000
    assert report["not_available"] == {}


def test_options_name_what_they_lack_and_the_shorthand_key_still_works(tmp_path):
    data = scenario_dict(
        tmp_path, [100.0, 300.0, 100.0], price=0.5, grid={"demand_charge_cny_per_kw_month": 40.0}
    )
    s = solve_case(tmp_path, data).summary
    assert s["demand_charge_cny"] == approx_cny(12_000.0)
    report = s["basic_charge_options"]
    assert report["in_force"] == "demand"
    assert set(report["options"]) == {"demand", "contracted_demand_hindsight"}
    assert "transformer_kva" in report["not_available"]["capacity"]
    assert "contracted_demand_kw" in report["not_available"]["contracted_demand"]
    assert any("60-minute step" in n for n in s["tariff"]["notes"])  # 1 h stands in for 15 min


def test_contract_below_40_percent_of_the_transformer_is_raised(tmp_path):
    data = scenario_dict(
        tmp_path,
        [100.0, 150.0, 100.0],
        price=0.5,
        grid=_basic(
            demand_cny_per_kw_month=40.0, contracted_demand_kw=100.0, transformer_kva=500.0
        ),
    )
    s = solve_case(tmp_path, data).summary
    assert s["demand_charge_cny"] == approx_cny(40.0 * 200.0)  # billed as 200 kW
    assert s["tariff"]["basic_charge"]["billed_contract_kw"] == pytest.approx(200.0)
    assert any("below 40%" in n for n in s["tariff"]["notes"])


# ------------------------------------------------------------------ export and extras


def test_export_price_from_the_calendar(tmp_path):
    data = scenario_dict(
        tmp_path,
        [100.0] * 24,
        price=J2025,
        pv_kw=[0.0] * 10 + [300.0] * 4 + [0.0] * 10,
        grid={"export_limit_kw": 500.0},
    )
    data["site"]["grid"]["export_price_cny_per_kwh"] = "calendar"
    result = solve_case(tmp_path, data)
    assert result.schedule["export_price_cny_per_kwh"].to_numpy() == pytest.approx(
        np.full(24, 0.391)
    )
    assert result.summary["export_revenue_cny"] == approx_cny(4 * 200.0 * 0.391)


def test_no_export_is_said_in_the_summary(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * 3, price=0.5, export_price=0.391)
    s = solve_case(tmp_path, data).summary
    assert s["tariff"]["export_price"] == "no export (export_limit_kw 0)"


def test_extra_monthly_costs_join_the_table_and_the_totals(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * 48, price=0.5, start="2026-01-31T00:00:00")
    result = solve_case(tmp_path, data)
    extra = {"carbon_cny": {"2026-01": 7.5, "2026-02": 2.5}, "dr_payment_cny": {"2026-02": -4.0}}
    step_h = result.summary["horizon"]["step_h"]
    parts = bill(result.schedule, result.scenario, step_h, extra)
    plain = bill(result.schedule, result.scenario, step_h)
    assert parts["carbon_cny"] == approx_cny(10.0)
    assert parts["dr_payment_cny"] == approx_cny(-4.0)
    assert parts["total_cost_cny"] == approx_cny(plain["total_cost_cny"] + 6.0)
    table = monthly_bill(result.schedule, result.scenario, step_h, extra)
    assert list(table.index) == ["2026-01", "2026-02"]
    assert [c for c in table.columns if c in (*EXTRA_COLUMNS, "dr_payment_cny")] == [
        *EXTRA_COLUMNS,
        "dr_payment_cny",
    ]
    assert table["carbon_cny"].tolist() == [7.5, 2.5]
    assert table["total_cost_cny"].sum() == approx_cny(parts["total_cost_cny"])
    assert table["bill_cny"].sum() == approx_cny(parts["total_cost_cny"])


@pytest.mark.parametrize(("floor_kw", "excess_kw"), [(None, 45.0), (200.0, 95.0)])
def test_grid_block_contract_with_a_peak_set_earlier_in_the_month(floor_kw, excess_kw):
    # Grid and load only, 2 h of 100 and 150 kW at 0.5 CNY/kWh; contract 100 kW at
    # 10 CNY/kW-month: F = 1 000, tau = 105 kW, x = 20. A peak of 200 kW already set
    # earlier in the month (rolling horizon) bills its excess too.
    horizon = Horizon.from_bounds(dt.datetime(2026, 1, 5), end=dt.datetime(2026, 1, 5, 2))
    grid = Grid(
        energy_price=EnergyPrice(calendar="jiangsu-2025-industrial"),
        basic_charge=BasicCharge(demand_cny_per_kw_month=10.0, contracted_demand_kw=100.0),
    )
    series = {
        "price_cny_per_kwh": np.full(2, 0.5),
        "export_price_cny_per_kwh": np.zeros(2),
        **basic_charge_series(basic_charge_terms(grid), 1),
    }
    if floor_kw is not None:
        series["peak_floor_kw"] = np.array([floor_kw])
    assets = [
        AssetInput("grid", "grid", grid, series),
        AssetInput("load", "load", None, {"load_kw": np.array([100.0, 150.0])}),
    ]
    model = build_model(assets, horizon)
    result = solve(model)
    assert result.status == "Optimal"
    assert result.objective_cny == approx_cny(0.5 * 250.0 + 1_000.0 + 20.0 * excess_kw)
    assert result.values(model.asset["grid"].excess_demand_kw) == pytest.approx([excess_kw])
    partial = {k: series[k] for k in ("price_cny_per_kwh", "export_price_cny_per_kwh")}
    with pytest.raises(ValueError, match="basic_charge"):  # terms missing: refused, not ignored
        build_model([AssetInput("grid", "grid", grid, partial), assets[1]], horizon)


def test_inline_calendar_with_its_own_price_rule_and_validity(tmp_path):
    price = {
        "calendar": {
            "seasons": [
                {
                    "name": "all",
                    "months": list(range(1, 13)),
                    "periods": [
                        {"period": "valley", "start": "00:00", "end": "08:00"},
                        {"period": "peak", "start": "08:00", "end": "24:00"},
                    ],
                }
            ],
            "price_rule": {
                "purchase_cny_per_kwh": 0.5,
                "coefficients": {"valley": 0.4, "peak": 1.6},
                "fixed_adders_cny_per_kwh": 0.2,
            },
            "source": "my utility bill of 2025-12",
            "valid_from": "2025-12-01",
            "valid_to": "2025-12-31",
        }
    }
    data = scenario_dict(tmp_path, [100.0] * 24, price=price)
    s = solve_case(tmp_path, data).summary
    assert s["tariff"]["period_prices_cny_per_kwh"] == {
        "valley": pytest.approx(0.4),
        "peak": pytest.approx(1.0),
    }
    assert s["energy_cost_cny"] == approx_cny(800.0 * 0.4 + 1_600.0 * 1.0)
    assert s["tariff"]["source"] == "my utility bill of 2025-12"
    (note,) = s["tariff"]["notes"]
    assert "the scenario's calendar" in note and "2025-12-31" in note
