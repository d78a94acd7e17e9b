"""Battery terms of issue 15: final-state targets, the side the throughput cost is paid
on, a shared converter (``combined_power_kw``) and the per-step self-discharge
convention. Known answers worked out by hand in each test.

Every solved case goes through :func:`helpers.check_invariants` (``solve_case``): the
state-of-charge dynamics and the final target, the combined limit and the bill
recomputed by hand; and every solve runs the objective-equals-bill check
(:func:`vpp.runs.solved_schedule.check_objective`), so each new cost term is also checked
against the LP objective.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import (
    COST_ATOL_CNY,
    COST_RTOL,
    POWER_TOL_KW,
    SOC_TOL_KWH,
    START,
    battery,
    check_invariants,
    scenario_dict,
    soc_end_kwh,
    solve_case,
    write_scenario,
)

import vpp
import vpp.cli
from vpp.assets.battery.operation import BatteryController
from vpp.errors import EXIT_BAD_INPUT, EXIT_INFEASIBLE
from vpp.planning.finance import crf
from vpp.planning.size import size
from vpp.portfolio.park import load_park
from vpp.portfolio.run import run_park
from vpp.scenario.schema import Battery

#: 15-min runs of the two self-discharge conventions agree to this [kW] / [-].
CONVENTION_TOL_KW = 1e-6
CONVENTION_RTOL = 1e-9


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def approx_kw(values: object) -> object:
    return pytest.approx(values, abs=POWER_TOL_KW)


# ------------------------------------------------------------ 1. final-state targets

#: A day whose round trip never pays (0.3 / (0.9 x 0.5) > 0.5): the battery only moves
#: energy to meet its final target.
TARGET_PRICES = [0.5, 0.3, 0.4, 0.5, 0.5, 0.5]
TARGET_LOAD_KW = 200.0


def target_case(tmp_path: Path, final_soc: object) -> dict:
    b = battery(
        energy_kwh=100.0,
        power_kw=40.0,
        eta_c=0.9,
        eta_d=0.5,
        soc_initial_fraction=0.2,
        final_soc=final_soc,
    )
    return scenario_dict(
        tmp_path, [TARGET_LOAD_KW] * len(TARGET_PRICES), price=TARGET_PRICES, batteries=[b]
    )


@pytest.mark.parametrize(
    "final_soc",
    [{"rule": "at_least", "fraction": 0.8}, {"rule": "equal", "kwh": 80.0}],
)
def test_final_target_above_the_initial_state_buys_at_the_cheapest_hours(tmp_path, final_soc):
    # From 20 kWh to 80 kWh: 60 kWh stored = 60 / 0.9 = 66.67 kWh bought. At 40 kW the
    # cheapest hour (0.3) takes 40 kWh, the next (0.4) the remaining 26.67 kWh:
    # extra cost 40 x 0.3 + 26.67 x 0.4 over the idle battery (at_least_initial).
    idle = solve_case(tmp_path / "idle", target_case(tmp_path / "idle", "at_least_initial"))
    result = solve_case(tmp_path / "t", target_case(tmp_path / "t", final_soc))
    bought = 60.0 / 0.9
    extra = 40.0 * 0.3 + (bought - 40.0) * 0.4
    assert idle.summary["total_cost_cny"] == approx_cny(TARGET_LOAD_KW * sum(TARGET_PRICES))
    assert result.summary["total_cost_cny"] - idle.summary["total_cost_cny"] == approx_cny(extra)
    charge = result.schedule["bess_charge_kw"].to_numpy()
    assert charge == approx_kw([0.0, 40.0, bought - 40.0, 0.0, 0.0, 0.0])
    assert soc_end_kwh(result.scenario, result.schedule, "bess") == pytest.approx(
        80.0, abs=SOC_TOL_KWH
    )


def test_final_target_below_the_initial_state_sells_the_rest(tmp_path):
    # From 20 kWh down to at least 10 kWh (fraction 0.1): the 10 kWh above the target
    # serve the load at the dearest price (0.5), x eta_d = 0.5: saves 10 x 0.5 x 0.5.
    idle = solve_case(tmp_path / "idle", target_case(tmp_path / "idle", "at_least_initial"))
    result = solve_case(
        tmp_path / "t", target_case(tmp_path / "t", {"rule": "at_least", "fraction": 0.1})
    )
    assert idle.summary["total_cost_cny"] - result.summary["total_cost_cny"] == approx_cny(2.5)


def test_sized_battery_holds_a_fraction_target(tmp_path):
    # 7 days of 12 h at 0.3 then 12 h at 0.8, a battery sized up to 500 kWh, starting
    # empty and ending at 0.8 E: every day cycles E except the last, which sells only
    # 0.2 E; so it earns 7 x 0.5 x E - 0.8 x E x 0.8 less the annualized energy cost.
    days, low, high, rate, life = 7, 0.3, 0.8, 0.06, 15
    capex = 0.5 * 365.0 * (high - low) / crf(rate, life)  # half the break-even cost
    data = scenario_dict(
        tmp_path,
        [1000.0] * (24 * days),
        price=([low] * 12 + [high] * 12) * days,
        batteries=[
            battery(
                energy_kwh=100.0, power_kw=100.0, final_soc={"rule": "at_least", "fraction": 0.8}
            )
        ],
    )
    data["site"]["batteries"][0]["sizing"] = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": capex,
        "lifetime_years": life,
    }
    data["finance"] = {"discount_rate": rate, "analysis_years": 10}
    result = size(vpp.load_scenario(write_scenario(tmp_path, data)))
    e = 500.0
    assert result.sizes["bess"]["energy_kwh"] == pytest.approx(e, abs=1e-4)
    s = result.summary
    invested = s["annualized_investment_cny"] * s["horizon_years"]
    gain = s["as_is_total_cost_cny"] - s["sized_total_cost_cny"] - invested
    value = days * (high - low) * e - 0.8 * e * high
    cost = days / 365.0 * crf(rate, life) * capex * e
    assert gain == pytest.approx(value - cost, rel=1e-6)


def test_rolling_run_holds_the_target_at_the_horizon_end(tmp_path):
    # Two daily windows on perfect forecasts: the first ends at the initial state
    # (50 kWh, rule equal), the one ending at the horizon's end at the target 90 kWh.
    prices = ([0.5] * 8 + [1.0] * 16) * 2
    b = battery(
        energy_kwh=100.0,
        power_kw=50.0,
        eta_c=0.95,
        eta_d=0.95,
        soc_initial_fraction=0.5,
        final_soc={"rule": "equal", "fraction": 0.9},
    )
    data = scenario_dict(tmp_path, [100.0] * 48, price=prices, batteries=[b])
    data["operation"] = {
        "mode": "rolling",
        "rolling": {"load_forecast": "perfect", "lookahead_h": 24},
    }
    result = vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    check_invariants(result)
    rolling = result.summary["rolling"]
    assert rolling["solves"] == 2
    soc = result.schedule["bess_soc_kwh"].to_numpy()
    assert soc[24] == pytest.approx(50.0, abs=SOC_TOL_KWH)
    assert soc_end_kwh(result.scenario, result.schedule, "bess") == pytest.approx(
        90.0, abs=SOC_TOL_KWH
    )
    short = rolling["final_soc_shortfall"]["bess"]
    assert short["target_kwh"] == pytest.approx(90.0)
    assert short["shortfall_kwh"] == pytest.approx(0.0, abs=SOC_TOL_KWH)


# ------------------------------------------------------------ 2. throughput cost side


@pytest.mark.parametrize(
    ("side", "charged", "discharged"),
    [
        ("discharge", 0.0, 1.0),
        ("charge", 1.0, 0.0),
        ("both", 1.0, 1.0),
    ],
)
def test_throughput_cost_on_each_side(tmp_path, side, charged, discharged):
    # eta_c = 0.8: 250 kWh charged at 0.3 fill 200 kWh, discharged at 1.1 into the
    # load. Wear 0.25 CNY/kWh on the named sides: 0.25 x 250 charged and/or 0.25 x 200
    # discharged; the spread still pays on every side.
    wear = 0.25
    b = battery(
        energy_kwh=200.0,
        power_kw=400.0,
        eta_c=0.8,
        throughput_cost_cny_per_kwh=wear,
        throughput_cost_on=side,
    )
    data = scenario_dict(tmp_path, [500.0, 500.0], price=[0.3, 1.1], batteries=[b])
    s = solve_case(tmp_path, data).summary
    cost = wear * (charged * 250.0 + discharged * 200.0)
    assert s["battery_cost_cny"] == approx_cny(cost)
    assert s["savings_cny"] == approx_cny(200.0 * 1.1 - 250.0 * 0.3 - cost)


# ------------------------------------------------------------ 3. shared converter


@pytest.mark.parametrize(
    ("combined", "charged", "discharged"), [(None, 100.0, 20.0), (100.0, 84.0, 16.0)]
)
def test_combined_power_limits_simultaneous_charge_and_discharge(
    tmp_path, combined, charged, discharged
):
    # A negative price (-1 CNY/kWh) and no load: every kWh imported earns 1 CNY, so the
    # battery wastes energy by charging c and discharging d at once (eta 0.5 each way).
    # 100 kWh at 90 % has 10 kWh of room: 0.5 c - 2 d <= 10, maximize the import c - d.
    # Alone (c, d <= 100): c = 100, d = 20, import 80. With c + d <= 100 the optimum is
    # on that line: 0.5 c - 2 (100 - c) = 10 gives c = 84, d = 16, import 68.
    extra = {} if combined is None else {"combined_power_kw": combined}
    b = battery(
        energy_kwh=100.0, power_kw=100.0, eta_c=0.5, eta_d=0.5, soc_initial_fraction=0.9, **extra
    )
    data = scenario_dict(tmp_path, [0.0], price=[-1.0], batteries=[b])
    result = solve_case(tmp_path, data)
    sched = result.schedule
    assert sched["bess_charge_kw"].to_numpy() == approx_kw([charged])
    assert sched["bess_discharge_kw"].to_numpy() == approx_kw([discharged])
    assert result.summary["total_cost_cny"] == approx_cny(-(charged - discharged))


def test_real_time_rule_keeps_within_the_combined_power():
    # A plan of 60 kW charge and 80 kW discharge in one step exceeds 100 kW together:
    # netted to 20 kW discharge. Under the guard it may discharge 80 kW more (to the
    # combined 100 kW), though its power (150 kW) and energy (150 kWh) allow 130 kW.
    spec = Battery(
        name="bess",
        energy_kwh=200.0,
        charge_power_kw=100.0,
        discharge_power_kw=150.0,
        combined_power_kw=100.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
    )
    ctrl = BatteryController(spec, 150.0, np.array([60.0]), np.array([80.0]), 1.0)
    assert ctrl.follow(0) == pytest.approx(-20.0)
    assert (ctrl.charge_kw[0], ctrl.discharge_kw[0]) == (0.0, pytest.approx(20.0))
    assert ctrl.supply_more(0, 500.0) == pytest.approx(80.0)
    assert ctrl.charge_kw[0] + ctrl.discharge_kw[0] == pytest.approx(100.0)


def test_rule_based_baseline_charges_within_the_combined_power(tmp_path):
    # PV surplus of 80 kW for two hours: the rule charges from it, at most 30 kW (the
    # combined limit, below the 100 kW charge power): 30 kWh a step, lossless.
    b = battery(energy_kwh=500.0, power_kw=100.0, combined_power_kw=30.0)
    data = scenario_dict(
        tmp_path, [20.0, 20.0, 20.0], pv_kw=[100.0, 100.0, 0.0], price=0.5, batteries=[b]
    )
    result = solve_case(tmp_path, data)
    rule = result.baselines["rule-based"]
    assert rule["bess_charge_kw"].to_numpy()[:2] == approx_kw([30.0, 30.0])


# ------------------------------------------------------------ 4. self-discharge conventions


def holding_case(tmp_path: Path, **loss: float) -> dict:
    # 8 h at 15 min: cheap for 2 h, dear for the last 2 h, the energy held 4 h between.
    prices = [0.2] * 8 + [0.6] * 16 + [1.2] * 8
    b = battery(energy_kwh=100.0, power_kw=100.0, eta_c=0.95, eta_d=0.95, **loss)
    return scenario_dict(tmp_path, [80.0] * 32, price=prices, series_step_min=15, batteries=[b])


def test_per_step_and_per_hour_self_discharge_give_the_same_schedule(tmp_path):
    # eta_s = (1 - sigma)^0.25 at 15-min steps is the same equation as sigma per hour.
    sigma = 0.02
    hourly = solve_case(
        tmp_path / "h", holding_case(tmp_path / "h", self_discharge_fraction_per_h=sigma)
    )
    per_step = solve_case(
        tmp_path / "s",
        holding_case(tmp_path / "s", storage_efficiency_per_step=(1.0 - sigma) ** 0.25),
    )
    lossless = solve_case(tmp_path / "n", holding_case(tmp_path / "n"))
    cols = ["bess_charge_kw", "bess_discharge_kw", "bess_soc_kwh"]
    diff = (hourly.schedule[cols] - per_step.schedule[cols]).abs().to_numpy().max()
    assert diff <= CONVENTION_TOL_KW
    assert per_step.summary["total_cost_cny"] == pytest.approx(
        hourly.summary["total_cost_cny"], rel=CONVENTION_RTOL
    )
    # and the loss acts: the held energy decays (not the lossless schedule)
    assert (lossless.schedule["bess_soc_kwh"] - per_step.schedule["bess_soc_kwh"]).abs().max() > 0.1
    # the per-step value is not the per-hour one: 0.98 kept per 15 min loses more
    faster = solve_case(
        tmp_path / "f", holding_case(tmp_path / "f", storage_efficiency_per_step=1.0 - sigma)
    )
    assert faster.summary["total_cost_cny"] > hourly.summary["total_cost_cny"] + 1e-3


# ------------------------------------------------------------ 5. bad input


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        (
            {
                "soc_min_fraction": 0.1,
                "soc_max_fraction": 0.9,
                "final_soc": {"rule": "equal", "fraction": 0.95},
            },
            "site.batteries[0].final_soc",
            ["fraction 0.95", "[0.1, 0.9]"],
        ),
        (
            {"soc_max_fraction": 0.9, "final_soc": {"rule": "at_least", "kwh": 95.0}},
            "site.batteries[0].final_soc",
            ["kwh 95", "[0, 90] kWh"],
        ),
        (
            {"final_soc": {"rule": "at_least", "fraction": 0.5, "kwh": 50.0}},
            "site.batteries[0].final_soc",
            ["exactly one of fraction and kwh"],
        ),
        (
            {
                "final_soc": {"rule": "at_least", "kwh": 50.0},
                "sizing": {
                    "max_energy_kwh": 200.0,
                    "capex_cny_per_kwh": 1000.0,
                    "lifetime_years": 10,
                },
            },
            "site.batteries[0]",
            ["final_soc.kwh", "final_soc.fraction"],
        ),
        (
            {"self_discharge_fraction_per_h": 0.01, "storage_efficiency_per_step": 0.99},
            "site.batteries[0].storage_efficiency_per_step",
            ["at most one", "self_discharge_fraction_per_h"],
        ),
        (
            {"throughput_cost_on": "discharged"},
            "site.batteries[0].throughput_cost_on",
            ["discharge", "charge", "both"],
        ),
        (
            {"combined_power_kw": 0.0},
            "site.batteries[0].combined_power_kw",
            ["greater than 0"],
        ),
    ],
)
def test_bad_battery_terms_exit_2_naming_the_key(tmp_path, capsys, extra, key, words):
    data = scenario_dict(
        tmp_path,
        [100.0] * 4,
        price=0.5,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, **extra)],
    )
    path = write_scenario(tmp_path, data)
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert key in err, err
    for word in words:
        assert word in err, (word, err)
    assert not out.exists()


# ------------------------------------------------------------ 6. a target out of reach


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            # From 20 kWh, 4 h at 10 kW charged x 0.9 stored: at most 20 + 36 = 56 kWh,
            # 80 - 56 = 24 kWh short of the target.
            {
                "charge_power_kw": 10.0,
                "eta_c": 0.9,
                "soc_initial_fraction": 0.2,
                "final_soc": {"rule": "at_least", "kwh": 80.0},
            },
            ["target of 80.0 kWh", "24.0 kWh short", "at most 56.0 kWh", "charge_power_kw"],
        ),
        (
            # From 90 kWh, 4 h at 10 kW discharged (lossless): at least 90 - 40 = 50 kWh,
            # 50 - 10 = 40 kWh above the equal target.
            {
                "discharge_power_kw": 10.0,
                "soc_initial_fraction": 0.9,
                "final_soc": {"rule": "equal", "fraction": 0.1},
            },
            ["target of 10.0 kWh", "40.0 kWh above", "at least 50.0 kWh", "discharge_power_kw"],
        ),
        (
            # Its own 50 kW could reach 50 kWh from empty, but the import limit equals the
            # load: 50 kWh stored needs 50 / 0.9 = 55.6 kWh of unserved load, so the
            # diagnosis leaves the target 50 kWh short and names the site's limits.
            {
                "eta_c": 0.9,
                "grid": {"import_limit_kw": 100.0},
                "final_soc": {"rule": "at_least", "kwh": 50.0},
            },
            ["target of 50.0 kWh", "50.0 kWh short", "site's limits", "import limit"],
        ),
    ],
)
def test_unreachable_final_target_exits_3_naming_the_battery_and_its_reach(
    tmp_path, capsys, extra, words
):
    extra = dict(extra)  # the parameters stay as given
    eta_c = extra.pop("eta_c", 1.0)
    data = scenario_dict(
        tmp_path,
        [100.0] * 4,
        price=0.5,
        grid=extra.pop("grid", None),
        batteries=[
            battery("free", energy_kwh=50.0, power_kw=50.0),
            battery(energy_kwh=100.0, power_kw=50.0, eta_c=eta_c, **extra),
        ],
    )
    path = write_scenario(tmp_path, data)
    out = tmp_path / "out"
    assert vpp.cli.main(["run", str(path), "--out", str(out)]) == EXIT_INFEASIBLE
    err = capsys.readouterr().err
    assert "site.batteries[1].final_soc" in err, err
    assert "'bess'" in err, err
    for word in [*words, "lengthen the horizon"]:
        assert word in err, (word, err)


# ------------------------------------------------------------ 7. a site run on a park's step

#: Kept per hour over the site file's 1 h step [-].
HOURLY_KEEP = 0.9


def test_park_converts_a_per_step_loss_to_its_step_and_says_so(tmp_path):
    # The site file runs at 1 h and keeps 0.9 of its energy per step; the park runs it
    # at 15 min. The battery cannot move energy (no load, no export, charging costs), so
    # it only decays: at 15 min it must keep 0.9 ** 0.25 per step, i.e. 100 x 0.9 ** h
    # kWh after h hours, as in the site file (not 0.9 per 15 min: 100 x 0.9 ** (4 h)).
    b = battery(
        energy_kwh=100.0,
        power_kw=10.0,
        soc_initial_fraction=1.0,
        storage_efficiency_per_step=HOURLY_KEEP,
    )
    site_dir = tmp_path / "sites"
    data = scenario_dict(
        site_dir,
        [0.0] * 8,
        price=0.5,
        series_step_min=15,
        step="1h",
        resample="mean",
        batteries=[b],
    )
    site_file = write_scenario(site_dir, data, "plant.yaml")
    park_data = {
        "name": "p",
        "timezone": data["timezone"],
        "horizon": {"start": START, "end": data["horizon"]["end"], "step": "15min"},
        "sites": [{"file": "sites/plant.yaml"}],
    }
    park = load_park(write_scenario(tmp_path, park_data, "park.yaml"))
    (entry,) = park.sites["case"].site.batteries
    assert entry.storage_efficiency_per_step == pytest.approx(HOURLY_KEEP**0.25, rel=1e-12)
    result = run_park(park)
    soc = result.sites["case"].schedule["bess_soc_kwh"].to_numpy()
    hours = np.arange(len(soc)) * 0.25
    assert soc == pytest.approx(100.0 * HOURLY_KEEP**hours, abs=SOC_TOL_KWH)
    (note,) = result.summary["notes"]
    for word in [
        "site 'case'",
        str(site_file),
        "site.batteries[0].storage_efficiency_per_step",
        "60 min",
        "15 min",
        "0.9 ",
    ]:
        assert word in note, (word, note)
