"""Demand charges (``site.demand_charges``) and the basic charge's month-to-date peak:
analytical cases, each optimum worked out by hand in its comment (issue 15, item 2).

Every case also goes through the objective check of every solve
(:func:`vpp.runs.solved_schedule.check_objective`), and here through a bill written out
independently from the schedule (:func:`charge_by_hand`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import battery, check_balance, check_batteries, scenario_dict, write_scenario

import vpp
import vpp.cli
from vpp.errors import ScenarioError
from vpp.inputs.site import build_inputs
from vpp.model import build_model
from vpp.model.solve import solve
from vpp.runs.solved_schedule import objective_extra_cny

#: Hand-computed money vs the solver's [-] and [CNY].
COST_RTOL = 1e-6
COST_ATOL_CNY = 1e-5
#: Hand-computed powers vs the solver's [kW].
POWER_TOL_KW = 1e-5

#: One day at 1 h: valley 00-08 and 20-24, peak 08-20, one price (no arbitrage).
TWO_PERIOD_DAY = {
    "calendar": {
        "seasons": [
            {
                "name": "all",
                "months": list(range(1, 13)),
                "periods": [
                    {"period": "valley", "start": "00:00", "end": "08:00"},
                    {"period": "peak", "start": "08:00", "end": "20:00"},
                    {"period": "valley", "start": "20:00", "end": "24:00"},
                ],
            }
        ]
    },
    "prices_cny_per_kwh": {"peak": 0.5, "valley": 0.5},
}
PRICE = 0.5
RATE = 10.0
#: A tiny discharge cost: the battery discharges only where it pays [CNY/kWh].
WEAR = 0.01


def run(folder: Path, data: dict[str, Any]) -> Any:
    """Write, load and run; the balance and battery invariants hold."""
    result = vpp.run(vpp.load_scenario(write_scenario(folder, data)))
    check_balance(result.scenario, result.schedule, with_batteries=True)
    check_batteries(result.scenario, result.schedule, result.summary)
    return result


def charge_by_hand(schedule: Any, charge: dict[str, Any], peaks_in: list[list[int]]) -> float:
    """``rate x max(floor, largest metered power)`` summed over billing periods given as
    lists of step positions (written out here, not through vpp)."""
    imp = schedule["grid_import_kw"].to_numpy()
    exp = schedule["grid_export_kw"].to_numpy()
    q = {"import": imp, "export": exp, "net": np.abs(imp - exp)}[charge.get("on", "import")]
    total = 0.0
    for k, steps in enumerate(peaks_in):
        floor = charge.get("peak_floor_kw", 0.0) if k == 0 else 0.0
        total += charge["rate_cny_per_kw"] * max([floor, *(q[t] for t in steps)])
    return total


def spiky_day(tmp_path: Path, **battery_extra: Any) -> dict[str, Any]:
    """Load 100 kW, 300 kW at 02:00 (valley) and 200 kW at 10:00 (peak); a lossless
    50 kWh battery that starts empty, with a discharge cost WEAR."""
    load = [100.0] * 24
    load[2], load[10] = 300.0, 200.0
    bess = battery(energy_kwh=50.0, power_kw=200.0, throughput_cost_cny_per_kwh=WEAR)
    bess.update(battery_extra)
    return scenario_dict(tmp_path, load, price=TWO_PERIOD_DAY, batteries=[bess])


# ------------------------------------------------------------------ windows


@pytest.mark.parametrize(
    ("periods", "peak_kw", "shaved_step"),
    [
        # Peak window: the 50 kWh shave 10:00 from 200 to 150 kW; 02:00 is outside.
        (["peak"], 150.0, 10),
        # No window: the 50 kWh shave 02:00 from 300 to 250 kW (10:00 at 200 is below).
        (None, 250.0, 2),
    ],
)
def test_windowed_charge_on_a_two_period_day(tmp_path, periods, peak_kw, shaved_step):
    # Energy is one price and the battery lossless: energy costs 0.5 x 2700 kWh = 1350
    # CNY whatever the dispatch; the charge is RATE x the billed peak; 50 kWh discharged
    # at WEAR cost 0.5 CNY. Total = 1350 + RATE x peak + 0.5.
    data = spiky_day(tmp_path)
    charge = {"name": "peak_demand", "rate_cny_per_kw": RATE}
    if periods is not None:
        charge["periods"] = periods
    data["site"]["demand_charges"] = [charge]
    result = run(tmp_path, data)
    s, summary = result.schedule, result.summary
    imp = s["grid_import_kw"].to_numpy()
    window = list(range(8, 20)) if periods else list(range(24))
    assert imp[window].max() == pytest.approx(peak_kw, abs=POWER_TOL_KW)
    discharge = s["bess_discharge_kw"].to_numpy()
    assert discharge[shaved_step] == pytest.approx(50.0, abs=POWER_TOL_KW)
    assert discharge.sum() == pytest.approx(50.0, abs=POWER_TOL_KW)
    if periods:  # the valley spike is not shaved: the peak window does not see it
        assert imp[2] >= 300.0 - POWER_TOL_KW
    assert summary["peak_demand_charge_cny"] == pytest.approx(RATE * peak_kw, rel=COST_RTOL)
    assert summary["peak_demand_charge_cny"] == pytest.approx(
        charge_by_hand(s, charge, [window]), rel=COST_RTOL
    )
    expected = PRICE * 2700.0 + RATE * peak_kw + WEAR * 50.0
    assert summary["total_cost_cny"] == pytest.approx(expected, rel=COST_RTOL, abs=COST_ATOL_CNY)


def test_export_peak_charge_caps_export_at_break_even(tmp_path):
    # PV leaves a surplus S_t of 10, 20, ..., 100 kW (shuffled) over 10 hours; export
    # price p = 0.4 CNY/kWh, export charge r = 1.5 CNY/kW-month. Exporting up to a flat
    # level X earns p x N(X) per kW more, N(X) = hours with S_t > X: N = 4 on [60, 70)
    # (1.6 > 1.5, worth raising), N = 3 on [70, 80) (1.2 < 1.5, not). So X = 70 kW,
    # export min(S_t, 70), revenue 0.4 x (10+...+70 + 3 x 70) = 0.4 x 490 = 196, charge
    # 1.5 x 70 = 105: cost -91 CNY (no import: PV covers the 10 kW load).
    surplus = [30.0, 100.0, 10.0, 70.0, 50.0, 90.0, 20.0, 80.0, 60.0, 40.0]
    load = [10.0] * len(surplus)
    pv = [10.0 + x for x in surplus]
    data = scenario_dict(
        tmp_path, load, pv_kw=pv, export_price=0.4, grid={"export_limit_kw": 1000.0}
    )
    charge = {"name": "export_peak", "rate_cny_per_kw": 1.5, "on": "export"}
    data["site"]["demand_charges"] = [charge]
    result = run(tmp_path, data)
    exp = result.schedule["grid_export_kw"].to_numpy()
    np.testing.assert_allclose(exp, np.minimum(surplus, 70.0), atol=POWER_TOL_KW)
    assert result.summary["export_peak_charge_cny"] == pytest.approx(105.0, rel=COST_RTOL)
    assert result.summary["total_cost_cny"] == pytest.approx(-91.0, rel=COST_RTOL)


@pytest.mark.parametrize(
    ("on", "export_kw", "charge_cny"),
    [
        # |net|: import sets 100 kW; exporting above 100 earns 0.4 and costs RATE per kW.
        ("net", 100.0, RATE * 100.0),
        # import: export is free of the charge, all 150 kW go.
        ("import", 150.0, RATE * 100.0),
        # export: one hour at 0.4 CNY/kWh never pays RATE per kW; nothing goes.
        ("export", 0.0, 0.0),
    ],
)
def test_net_charge_counts_import_and_export(tmp_path, on, export_kw, charge_cny):
    # Four hours import 100 kW (no PV), then one hour PV 250 kW over a 100 kW load
    # leaves 150 kW to export at 0.4 CNY/kWh (below the import price, so import and
    # export at once never pay). Cost = 0.5 x 400 - 0.4 x export + charge.
    load = [100.0] * 5
    pv = [0.0, 0.0, 0.0, 0.0, 250.0]
    data = scenario_dict(
        tmp_path,
        load,
        price=PRICE,
        pv_kw=pv,
        export_price=0.4,
        grid={"export_limit_kw": 1000.0},
    )
    charge = {"name": "exchange", "rate_cny_per_kw": RATE, "on": on}
    data["site"]["demand_charges"] = [charge]
    result = run(tmp_path, data)
    s = result.schedule
    assert s["grid_export_kw"].iloc[4] == pytest.approx(export_kw, abs=POWER_TOL_KW)
    assert result.summary["exchange_charge_cny"] == pytest.approx(charge_cny, abs=COST_ATOL_CNY)
    assert result.summary["exchange_charge_cny"] == pytest.approx(
        charge_by_hand(s, charge, [list(range(5))]), abs=COST_ATOL_CNY
    )
    expected = PRICE * 400.0 - 0.4 * export_kw + charge_cny
    assert result.summary["total_cost_cny"] == pytest.approx(expected, rel=COST_RTOL)


@pytest.mark.parametrize(
    ("extra", "charge_cny"),
    [
        # Two days, one month: day peaks 200 and 150 kW.
        ({"per": "day"}, RATE * (200.0 + 150.0)),
        ({"per": "month"}, RATE * 200.0),
        # Hours 09:00-11:00 hold both spikes (10:00); 11:00-13:00 only 100 kW.
        ({"per": "day", "hours": [{"start": "09:00", "end": "11:00"}]}, RATE * 350.0),
        ({"per": "day", "hours": [{"start": "11:00", "end": "13:00"}]}, RATE * 200.0),
        # Over midnight: 22:00-02:00 sees 100 kW each day.
        ({"per": "day", "hours": [{"start": "22:00", "end": "02:00"}]}, RATE * 200.0),
        # Months: January holds the run.
        ({"per": "day", "months": [1]}, RATE * 350.0),
    ],
)
def test_per_day_and_per_month(tmp_path, extra, charge_cny):
    # No storage: the bill is the load's. Energy 0.5 x (46 x 100 + 200 + 150) = 2475.
    load = [100.0] * 48
    load[10], load[24 + 10] = 200.0, 150.0
    data = scenario_dict(tmp_path, load, price=PRICE)
    data["site"]["demand_charges"] = [{"name": "dc", "rate_cny_per_kw": RATE, **extra}]
    result = run(tmp_path, data)
    assert result.summary["dc_charge_cny"] == pytest.approx(charge_cny, rel=COST_RTOL)
    assert result.summary["total_cost_cny"] == pytest.approx(2475.0 + charge_cny, rel=COST_RTOL)


# ------------------------------------------------------------------ floors


@pytest.mark.parametrize(
    ("floor_kw", "peak_kw", "discharged_kwh"),
    [
        # A floor above any import: RATE x 500 is paid whatever, the battery idles.
        (500.0, 500.0, 0.0),
        # A floor of 170: shaving 10:00 below 170 gains nothing, so 30 kWh only.
        (170.0, 170.0, 30.0),
    ],
)
def test_floor_is_paid_and_not_shaved_below(tmp_path, floor_kw, peak_kw, discharged_kwh):
    # The spiky day with a peak-window charge (see the first test); the floor is the
    # peak already metered this month. Total = 1350 + RATE x max(floor, 150) + WEAR x
    # discharge.
    data = spiky_day(tmp_path)
    charge = {
        "name": "peak_demand",
        "rate_cny_per_kw": RATE,
        "periods": ["peak"],
        "peak_floor_kw": floor_kw,
    }
    data["site"]["demand_charges"] = [charge]
    result = run(tmp_path, data)
    discharge = result.schedule["bess_discharge_kw"].to_numpy()
    assert discharge.sum() == pytest.approx(discharged_kwh, abs=POWER_TOL_KW)
    assert result.summary["peak_demand_charge_cny"] == pytest.approx(RATE * peak_kw)
    expected = PRICE * 2700.0 + RATE * peak_kw + WEAR * discharged_kwh
    assert result.summary["total_cost_cny"] == pytest.approx(expected, rel=COST_RTOL)


@pytest.mark.parametrize(("mtd_kw", "billed_kw"), [(500.0, 500.0), (250.0, 300.0)])
def test_basic_charge_month_to_date_peak(tmp_path, mtd_kw, billed_kw):
    # No storage, largest import 300 kW; the basic charge bills 40 CNY/kW-month on
    # max(month-to-date peak, 300) in the first month.
    load = [100.0] * 24
    load[2] = 300.0
    basic = {"method": "demand", "demand_cny_per_kw_month": 40.0, "month_to_date_peak_kw": mtd_kw}
    data = scenario_dict(tmp_path, load, price=PRICE, grid={"basic_charge": basic})
    result = run(tmp_path, data)
    assert result.summary["demand_charge_cny"] == pytest.approx(40.0 * billed_kw, rel=COST_RTOL)
    assert list(result.summary["peak_import_kw"].values()) == pytest.approx([billed_kw])


def test_bill_equals_objective(tmp_path):
    # Three charges at once (windowed import per day, export and |net| per month) with
    # a battery: the LP's objective equals the bill recomputed from the schedule (plus
    # the battery's tie-break), and each charge equals the hand bill of the schedule.
    load = [100.0] * 48
    load[10], load[34] = 200.0, 150.0
    pv = [0.0] * 48
    pv[12], pv[36] = 300.0, 260.0
    bess = battery(energy_kwh=40.0, power_kw=100.0, throughput_cost_cny_per_kwh=WEAR)
    data = scenario_dict(
        tmp_path,
        load,
        price=TWO_PERIOD_DAY,
        pv_kw=pv,
        export_price=0.3,
        batteries=[bess],
        grid={"export_limit_kw": 1000.0},
    )
    charges = [
        {"name": "a", "rate_cny_per_kw": 2.0, "per": "day", "periods": ["peak"]},
        {"name": "b", "rate_cny_per_kw": 3.0, "on": "export", "peak_floor_kw": 20.0},
        {"name": "c", "rate_cny_per_kw": 4.0, "on": "net"},
    ]
    data["site"]["demand_charges"] = charges
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    result = vpp.run(scenario)
    inputs = build_inputs(scenario)
    objective = solve(build_model(inputs.assets, inputs.horizon)).objective_cny
    s = result.schedule
    extra = objective_extra_cny(s, scenario, 1.0)
    assert objective == pytest.approx(result.summary["total_cost_cny"] + extra, rel=COST_RTOL)
    days = [[t for t in range(48) if 8 <= t % 24 < 20 and t // 24 == d] for d in (0, 1)]
    every = [list(range(48))]
    for charge, steps in zip(charges, [days, every, every], strict=True):
        assert result.summary[f"{charge['name']}_charge_cny"] == pytest.approx(
            charge_by_hand(s, charge, steps), rel=COST_RTOL, abs=COST_ATOL_CNY
        )


# ------------------------------------------------------------------ rolling


def test_rolling_run_carries_the_billed_peak(tmp_path):
    # Two days, one decision a day on perfect forecasts. Day 1: the 20 kWh battery
    # shaves the 10:00 spike from 200 to 180 kW, the month's billed peak. Day 2: its
    # spike is 150 kW, below the carried 180, so its window pays nothing for it and the
    # battery does not discharge (each kWh costs WEAR). Without the carried peak the
    # second window would shave 150 to 130 kW. Charge: RATE x 180.
    load = [100.0] * 48
    load[10], load[34] = 200.0, 150.0
    bess = battery(energy_kwh=20.0, power_kw=200.0, throughput_cost_cny_per_kwh=WEAR)
    data = scenario_dict(tmp_path, load, price=TWO_PERIOD_DAY, batteries=[bess])
    data["site"]["demand_charges"] = [
        {"name": "peak_demand", "rate_cny_per_kw": RATE, "periods": ["peak"]}
    ]
    data["operation"] = {
        "mode": "rolling",
        "rolling": {
            "load_forecast": "perfect",
            "interval_h": 24,
            "lookahead_h": 24,
            "real_time_rule": "follow_schedule",
        },
    }
    result = run(tmp_path, data)
    s = result.schedule
    discharge = s["bess_discharge_kw"].to_numpy()
    assert discharge[:24].sum() == pytest.approx(20.0, abs=POWER_TOL_KW)
    assert discharge[24:].sum() == pytest.approx(0.0, abs=POWER_TOL_KW)
    assert result.summary["peak_demand_charge_cny"] == pytest.approx(RATE * 180.0)


#: Reused vs rebuilt window models: the same LP solved from scratch by HiGHS [kW].
REUSE_TOL_KW = 1e-6


def test_rolling_reuse_equals_rebuild_across_a_month_end(tmp_path):
    # Four days from 29 January, one day per window: every window has the same
    # structure, so the reused model takes each window's floors from the charges'
    # updater (the month's billed peak so far: 180 kW after day 1, binding on days 2
    # and 3; 0 again on 1 February), while rebuilt windows take them from the build.
    # Both must give the same dispatch and bill.
    load = [100.0] * 96
    for day, spike in enumerate((200.0, 170.0, 190.0, 150.0)):
        load[24 * day + 10] = spike
    bess = battery(energy_kwh=20.0, power_kw=100.0, throughput_cost_cny_per_kwh=WEAR)
    data = scenario_dict(
        tmp_path, load, price=TWO_PERIOD_DAY, batteries=[bess], start="2026-01-29T00:00:00"
    )
    data["site"]["demand_charges"] = [
        {"name": "peak_demand", "rate_cny_per_kw": RATE, "periods": ["peak"]},
        # The night hours, where the battery charges: a per-day charge with a floor.
        {
            "name": "daily",
            "rate_cny_per_kw": 1.0,
            "per": "day",
            "hours": [{"start": "00:00", "end": "08:00"}],
            "peak_floor_kw": 120.0,
        },
    ]
    runs = {}
    for reuse in (True, False):
        data["operation"] = {
            "mode": "rolling",
            "rolling": {
                "load_forecast": "perfect",
                "interval_h": 24,
                "lookahead_h": 24,
                "real_time_rule": "follow_schedule",
                "reuse_model": reuse,
            },
        }
        runs[reuse] = run(tmp_path, data)
    reused, rebuilt = runs[True], runs[False]
    assert reused.summary["rolling"]["models_built"] == 1
    assert rebuilt.summary["rolling"]["models_built"] == 4
    columns = [c for c in rebuilt.schedule.columns if c.endswith(("_kw", "_kwh"))]
    diff = (reused.schedule[columns] - rebuilt.schedule[columns]).abs().to_numpy().max()
    assert diff <= REUSE_TOL_KW
    for key in ("total_cost_cny", "peak_demand_charge_cny", "daily_charge_cny"):
        assert reused.summary[key] == pytest.approx(rebuilt.summary[key], rel=1e-12)
    # January: 200 shaved to 180 on day 1, nothing after; February: 150 shaved to 130.
    assert reused.summary["peak_demand_charge_cny"] == pytest.approx(RATE * (180.0 + 130.0))


# ------------------------------------------------------------------ bad input


def test_unknown_period_is_bad_input(tmp_path, capsys):
    data = spiky_day(tmp_path)
    data["site"]["demand_charges"] = [
        {"name": "dc", "rate_cny_per_kw": RATE, "periods": ["peak", "superpeak"]}
    ]
    path = write_scenario(tmp_path, data)
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(path))
    (problem,) = info.value.problems
    assert problem.key == "site.demand_charges[0].periods"
    assert problem.value == "superpeak"
    assert "valley" in problem.allowed and "peak" in problem.allowed
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "superpeak" in capsys.readouterr().err


def test_periods_with_a_price_series_is_bad_input(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * 24, price=[0.5] * 24)
    data["site"]["demand_charges"] = [{"name": "dc", "rate_cny_per_kw": RATE, "periods": ["peak"]}]
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (problem,) = info.value.problems
    assert problem.key == "site.demand_charges[0].periods"
    assert "series" in problem.message


@pytest.mark.parametrize("clock", ["25:00", "8:00", "24:30"])
def test_hours_off_the_clock_are_bad_input(tmp_path, capsys, clock):
    data = spiky_day(tmp_path)
    data["site"]["demand_charges"] = [
        {"name": "dc", "rate_cny_per_kw": RATE, "hours": [{"start": clock, "end": "12:00"}]}
    ]
    path = write_scenario(tmp_path, data)
    assert vpp.cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "site.demand_charges[0].hours[0].start" in err and clock in err


@pytest.mark.parametrize("name", ["bess", "demand"])
def test_name_clash_is_bad_input(tmp_path, name):
    # 'bess' is the battery's name; 'demand' would bill into the grid's demand_charge_cny.
    data = spiky_day(tmp_path)
    data["site"]["demand_charges"] = [{"name": name, "rate_cny_per_kw": RATE}]
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (problem,) = info.value.problems
    assert problem.key == "site.demand_charges[0].name"
    assert problem.value == name


def test_empty_window_is_a_note(tmp_path):
    # A January run with a July window: no step in it, only the floor (0) is billed.
    data = spiky_day(tmp_path)
    data["site"]["demand_charges"] = [{"name": "dc", "rate_cny_per_kw": RATE, "months": [7]}]
    result = run(tmp_path, data)
    assert result.summary["dc_charge_cny"] == 0.0
    assert any("'dc'" in n and "no step" in n for n in result.summary["notes"])


# ---------------------------------------------------------- the daily job's metered peak

#: Meter readings on 2026-07-15 (Asia/Shanghai) at 01:00, 09:00, 10:00, 21:00, 22:00:
#: (import, export) [kW]. TWO_PERIOD_DAY: 09:00 and 10:00 are peak, the others valley.
METER_HOURS = [1, 9, 10, 21, 22]
METER_IMPORT_KW = [500.0, 120.0, 0.0, 60.0, 0.0]
METER_EXPORT_KW = [0.0, 0.0, 80.0, 0.0, 90.0]


@pytest.mark.parametrize(
    ("extra", "peak_kw"),
    [
        # the peak period: imports 120 (09:00) and 0 (10:00): 120; 500 at 01:00 is valley
        ({"periods": ["peak"]}, 120.0),
        # exports in the peak: 0 and 80
        ({"periods": ["peak"], "on": "export"}, 80.0),
        # |import - export| over 21:00..01:00 (over midnight): 01:00 500, 21:00 60, 22:00 90
        ({"hours": [{"start": "21:00", "end": "02:00"}], "on": "net"}, 500.0),
        # 21:00..23:00: 60 (21:00) and 90 (22:00) net
        ({"hours": [{"start": "21:00", "end": "23:00"}], "on": "net", "per": "day"}, 90.0),
        # a month outside July: no reading counts
        ({"months": [8]}, 0.0),
    ],
)
def test_metered_peak_in_the_window(tmp_path, extra, peak_kw):
    """The billed peak the daily job measures from the grid meter's readings
    (:meth:`DemandChargeOperation.metered_peak_kw`): the largest billed quantity of the
    readings in the charge's window (values in the comments, read off the table)."""
    import pandas as pd

    from vpp.assets import unit

    charge = {"name": "dc", "rate_cny_per_kw": RATE, **extra}
    data = scenario_dict(tmp_path, [100.0] * 24, price=TWO_PERIOD_DAY)
    data["site"]["demand_charges"] = [charge]
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    inputs = build_inputs(scenario)
    (asset,) = [a for a in inputs.assets if a.name == "dc"]
    stamps = pd.DatetimeIndex(
        [pd.Timestamp(f"2026-07-15T{h:02d}:00", tz="Asia/Shanghai") for h in METER_HOURS]
    )
    u = unit(asset.kind)
    got = u.metered_peak_kw(
        asset, scenario.site.grid, stamps, np.array(METER_IMPORT_KW), np.array(METER_EXPORT_KW)
    )
    assert got == pytest.approx(peak_kw, abs=POWER_TOL_KW)
    key, start = u.billing_period(asset, stamps[2])
    if charge.get("per") == "day":
        assert (key, start) == ("2026-07-15", pd.Timestamp("2026-07-15", tz="Asia/Shanghai"))
    else:
        assert (key, start) == ("2026-07", pd.Timestamp("2026-07-01", tz="Asia/Shanghai"))
