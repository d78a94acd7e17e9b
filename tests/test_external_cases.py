"""Published cases from other open-source tools' own test suites, restated as vpp scenarios.

Each case copies the *facts* of a test (its inputs and its expected numbers), never its
code, and names its source: repository, file, the commit it was read at, the test and
the licence. Every case says how the tool's quantities map onto vpp keys and which
conventions had to be reconciled. Cases that need a scenario key of issue 15 that this
version of vpp may not have yet are skipped until the key exists in the schema (the
``skipif`` detects the key itself, not a version number).

Sources
-------
FlexMeasures (Apache-2.0), https://github.com/FlexMeasures/flexmeasures, read at commit
``18f43b5c1bf6270269c6c821fe0808347de8cc0e`` (file last changed in
``1a14229c95e4425d7b1884ac3596e0cce04e53bb``; the test came in with
``a93f34270346105ff542db8f928d32327be7ec4f``),
``flexmeasures/data/models/planning/tests/test_solver.py``: ``test_multiple_commitments_per_group``
and ``test_multiple_devices_simultaneous_scheduler``.

oemof-solph (MIT), https://github.com/oemof/oemof-solph, read at commit
``5131b060809eed6c59e81c0bbfa615215784bea7`` (file last changed in
``e90d56f334c726f42a62d22eb292c44b3c11519a``; the test came in with
``f849db9d1e495e473dda10587a3ded85f0c83581``, "Fix loss calculation for non-hourly
time steps"), ``tests/test_components/test_storage.py::test_relative_losses``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import (
    battery,
    check_balance,
    check_batteries,
    scenario_dict,
    solve_case,
    write_scenario,
)

import vpp
from vpp.scenario.schema import Battery, Site

#: A published cost vs the vpp total [CNY]: the issue asks for 1e-6 or better.
EXTERNAL_COST_ATOL_CNY = 1e-6
#: A published state or a closed-form state vs the vpp state of charge [kWh].
EXTERNAL_SOC_ATOL_KWH = 1e-6
#: A published power vs the vpp schedule [kW].
EXTERNAL_POWER_ATOL_KW = 1e-6
#: A perturbed input must move the checked number by more than this [CNY] or [kWh].
PERTURBED_MIN_CHANGE = 1e-3

#: FlexMeasures states energy in MWh and prices in EUR/MWh; vpp in kWh and CNY/kWh (the
#: scenario's currency label aside). 1 MW = 1000 kW and 1 EUR/MWh = 1e-3 per kWh, so every
#: cost keeps its value and every power is multiplied by this [kW/MW].
KW_PER_MW = 1000.0


# ------------------------------------------------------------ new keys of issue 15


def run_new_key_case(folder: Path, data: dict[str, Any], *, batteries: bool = True) -> Any:
    """Solve a case that uses a key of issue 15, with the invariants that know of it.

    Not :func:`helpers.solve_case`: its bill recomputed by hand knows only today's
    terms (a demand charge of site.demand_charges is missing from it), and its state of
    charge check only ``self_discharge_fraction_per_h``. The objective-equals-bill check
    of every solve still runs inside :func:`vpp.run`.
    """
    result = vpp.run(vpp.load_scenario(write_scenario(folder, data)))
    assert result.summary["status"] == "Optimal"
    check_balance(result.scenario, result.schedule, with_batteries=True)
    if batteries:
        check_batteries(result.scenario, result.schedule)
    return result


def _has_demand_charges() -> bool:
    return "demand_charges" in Site.model_fields


def _has_storage_efficiency_per_step() -> bool:
    return "storage_efficiency_per_step" in Battery.model_fields


def _has_final_soc_mapping() -> bool:
    entry = battery(energy_kwh=10.0, power_kw=1.0, final_soc={"rule": "equal", "fraction": 1.0})
    try:
        Battery.model_validate(entry)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return False
    return True


# ============================================================ FlexMeasures
#
# test_multiple_commitments_per_group: one battery drained over a day against three
# growing sets of "commitments" (FlexMeasures' price terms). Inputs as stated there:
#   24 hourly steps from 2020-01-01T00:00; stock 0.4 MWh at the start, between 0 and 1
#   MWh (the test writes these relative to the start: max 1 - 0.4, min 0 - 0.4); power
#   between -1 and +1 MW; no efficiency columns (FlexMeasures then assumes lossless,
#   linear_optimization.device_efficiency); no site (EMS) limits; no SOC target.
#   slope_t = t / 23, t = 0..23.
#   1) day-ahead commitment, quantity 0, one group per step: a downwards deviation
#      (net export) earns 90 + slope_t EUR/MWh, an upwards one (net import) costs
#      100 + slope_t. Expected: the whole 0.4 MWh discharged in the last step, costs
#      == -36.4.
#   2) plus a production-capacity breach commitment: quantity -0.1 MW, downwards price
#      -1000 EUR/MW, one group over the whole day (so one deviation variable: the
#      largest export above 0.1 MW). Expected: -0.1 MW in each of the last 4 steps,
#      costs == sum of the day-ahead downwards price of those steps x -0.1.
#   3) plus a peak commitment: quantity 0, prices -80 (down) / +80 (up) EUR/MW, one
#      group over the whole day (the largest export and the largest import, each priced
#      at 80 EUR/MW). Expected: -0.4 / 24 MW in every step, costs == day-ahead energy +
#      80 x 0.4 / 24.
#
# Mapping onto vpp: the day-ahead prices are the import price series (100 + slope) and
# the export price series (90 + slope) in CNY/kWh after the unit change (KW_PER_MW);
# the battery is 1000 kWh, 1000 kW each way, efficiencies 1, soc 0..1, initial 0.4,
# final_soc free (FlexMeasures sets no target), no wear cost; the site has no load and
# export_limit_kw 1000 (FlexMeasures sets no site limit; the battery's power bounds it).
# vpp's total_cost_cny is energy bought minus export revenue, FlexMeasures' costs are
# the same signed sum, so the two compare directly.
#   Case 2 in today's vpp: the breach is never worth paying (x MW above 0.1 moves at
#   most 4x MWh into hours at most 1 EUR/MWh dearer, a gain of at most 4x EUR against a
#   breach cost of 1000x EUR), so it acts as the hard export_limit_kw of 100 kW.
#   With demand_charges (issue 15): the breach is an export demand charge of
#   1000 EUR/MW = 1.0 CNY/kW on the export peak with peak_floor_kw 100. vpp bills
#   rate x max(floor, peak) while FlexMeasures bills rate x max(0, peak - floor): the
#   vpp total is the FlexMeasures cost plus the constant rate x floor.
#   Case 3: the peak commitment has separate up and down deviation variables, so it is
#   two demand charges of 80 EUR/MW = 0.08 CNY/kW, on import and on export; with no
#   import in the answer, one charge on |net| gives the same bill (checked as well).
#   One billing period: the day lies in one month (per: month).

FM_STEPS = 24
FM_START = "2020-01-01T00:00:00"
FM_SOC_START_MWH = 0.4
FM_POWER_MW = 1.0
FM_CAPACITY_MWH = 1.0
FM_BREACH_QUANTITY_MW = 0.1
FM_BREACH_PRICE_EUR_PER_MW = 1000.0
FM_PEAK_PRICE_EUR_PER_MW = 80.0
#: Expected costs of step 1, copied as written in the test [EUR].
FM_EXPECTED_COSTS_1 = -36.4


def fm_slope() -> np.ndarray:
    return np.arange(FM_STEPS) / (FM_STEPS - 1)


def fm_down_price_eur_per_mwh() -> np.ndarray:
    """The day-ahead downwards deviation price (earned per MWh exported) [EUR/MWh]."""
    return 90.0 + fm_slope()


def fm_up_price_eur_per_mwh() -> np.ndarray:
    """The day-ahead upwards deviation price (paid per MWh imported) [EUR/MWh]."""
    return 100.0 + fm_slope()


def fm_scenario(folder: Path, grid: dict[str, Any], soc_start_mwh: float = FM_SOC_START_MWH):
    """The FlexMeasures battery and day-ahead prices as a vpp scenario dict."""
    return scenario_dict(
        folder,
        [0.0] * FM_STEPS,
        price=list(fm_up_price_eur_per_mwh() / KW_PER_MW),
        export_price=list(fm_down_price_eur_per_mwh() / KW_PER_MW),
        batteries=[
            battery(
                energy_kwh=FM_CAPACITY_MWH * KW_PER_MW,
                power_kw=FM_POWER_MW * KW_PER_MW,
                soc_initial_fraction=soc_start_mwh / FM_CAPACITY_MWH,
            )
        ],
        grid={"export_limit_kw": FM_POWER_MW * KW_PER_MW, **grid},
        start=FM_START,
        name="flexmeasures_commitments",
    )


def test_flexmeasures_day_ahead_drain_in_last_step(tmp_path):
    result = solve_case(tmp_path, fm_scenario(tmp_path, {}))
    assert result.summary["total_cost_cny"] == pytest.approx(
        FM_EXPECTED_COSTS_1, abs=EXTERNAL_COST_ATOL_CNY
    )
    # "Discharge the whole battery" in the last step: -0.4 MW there, 0 elsewhere.
    expected_export_kw = np.zeros(FM_STEPS)
    expected_export_kw[-1] = FM_SOC_START_MWH * KW_PER_MW
    export = result.schedule["grid_export_kw"].to_numpy()
    assert export == pytest.approx(expected_export_kw, abs=EXTERNAL_POWER_ATOL_KW)
    assert result.schedule["grid_import_kw"].to_numpy() == pytest.approx(
        np.zeros(FM_STEPS), abs=EXTERNAL_POWER_ATOL_KW
    )

    # Able to fail: half the starting stock halves the revenue (-18.2, not -36.4).
    half = solve_case(tmp_path / "half", fm_scenario(tmp_path / "half", {}, 0.2))
    change = abs(half.summary["total_cost_cny"] - FM_EXPECTED_COSTS_1)
    assert change > PERTURBED_MIN_CHANGE


def fm_expected_costs_2() -> float:
    """Step 2 as the test writes it: the last 4 downwards prices x -0.1 MW x 1 h [EUR]."""
    return float((fm_down_price_eur_per_mwh()[-4:] * -FM_BREACH_QUANTITY_MW).sum())


def fm_expected_export_2_kw() -> np.ndarray:
    export = np.zeros(FM_STEPS)
    export[-4:] = FM_BREACH_QUANTITY_MW * KW_PER_MW
    return export


def test_flexmeasures_export_breach_as_hard_export_limit(tmp_path):
    grid = {"export_limit_kw": FM_BREACH_QUANTITY_MW * KW_PER_MW}
    result = solve_case(tmp_path, fm_scenario(tmp_path, grid))
    assert result.summary["total_cost_cny"] == pytest.approx(
        fm_expected_costs_2(), abs=EXTERNAL_COST_ATOL_CNY
    )
    assert result.schedule["grid_export_kw"].to_numpy() == pytest.approx(
        fm_expected_export_2_kw(), abs=EXTERNAL_POWER_ATOL_KW
    )
    # The expected value discriminates: a vpp that ignored the cap gives step 1's -36.4.
    assert abs(fm_expected_costs_2() - FM_EXPECTED_COSTS_1) > PERTURBED_MIN_CHANGE


def fm_breach_charge() -> dict[str, Any]:
    return {
        "name": "export_breach",
        "rate_cny_per_kw": FM_BREACH_PRICE_EUR_PER_MW / KW_PER_MW,
        "on": "export",
        "per": "month",
        "peak_floor_kw": FM_BREACH_QUANTITY_MW * KW_PER_MW,
    }


def fm_floor_constant_cny() -> float:
    """rate x floor: what vpp bills for the floor itself and FlexMeasures does not [CNY]."""
    return FM_BREACH_PRICE_EUR_PER_MW / KW_PER_MW * FM_BREACH_QUANTITY_MW * KW_PER_MW


def fm_charges_cny(summary: dict[str, Any]) -> float:
    """The total less energy bought, export revenue and wear: the demand charges [CNY]."""
    energy = summary["energy_cost_cny"] - summary["export_revenue_cny"]
    return summary["total_cost_cny"] - energy - summary["battery_cost_cny"]


def fm_peak_charges(mapping: str) -> list[dict[str, Any]]:
    rate = FM_PEAK_PRICE_EUR_PER_MW / KW_PER_MW
    sides = ("import", "export") if mapping == "import_and_export" else ("net",)
    return [
        {"name": f"peak_{on}", "rate_cny_per_kw": rate, "on": on, "per": "month"} for on in sides
    ]


@pytest.mark.skipif(not _has_demand_charges(), reason="needs site.demand_charges (issue 15)")
def test_flexmeasures_export_breach_as_export_demand_charge(tmp_path):
    data = fm_scenario(tmp_path, {})
    data["site"]["demand_charges"] = [fm_breach_charge()]
    result = run_new_key_case(tmp_path, data)
    expected = fm_expected_costs_2() + fm_floor_constant_cny()
    assert result.summary["total_cost_cny"] == pytest.approx(expected, abs=EXTERNAL_COST_ATOL_CNY)
    # No breach: the charge is the floor alone.
    assert fm_charges_cny(result.summary) == pytest.approx(
        fm_floor_constant_cny(), abs=EXTERNAL_COST_ATOL_CNY
    )
    assert result.schedule["grid_export_kw"].to_numpy() == pytest.approx(
        fm_expected_export_2_kw(), abs=EXTERNAL_POWER_ATOL_KW
    )


@pytest.mark.skipif(not _has_demand_charges(), reason="needs site.demand_charges (issue 15)")
@pytest.mark.parametrize("mapping", ["import_and_export", "net"])
def test_flexmeasures_peak_commitment_as_demand_charges(tmp_path, mapping):
    data = fm_scenario(tmp_path, {})
    data["site"]["demand_charges"] = [fm_breach_charge(), *fm_peak_charges(mapping)]
    result = run_new_key_case(tmp_path, data)
    flat_mw = FM_SOC_START_MWH / FM_STEPS
    # As the test writes it: energy at the downwards prices + 80 x 0.4 / 24 [EUR].
    cost_of_energy = float((fm_down_price_eur_per_mwh() * -flat_mw).sum())
    cost_of_energy_peak = -FM_PEAK_PRICE_EUR_PER_MW * -flat_mw
    expected = cost_of_energy + cost_of_energy_peak + fm_floor_constant_cny()
    assert result.summary["total_cost_cny"] == pytest.approx(expected, abs=EXTERNAL_COST_ATOL_CNY)
    assert fm_charges_cny(result.summary) == pytest.approx(
        cost_of_energy_peak + fm_floor_constant_cny(), abs=EXTERNAL_COST_ATOL_CNY
    )
    assert result.schedule["grid_export_kw"].to_numpy() == pytest.approx(
        np.full(FM_STEPS, flat_mw * KW_PER_MW), abs=EXTERNAL_POWER_ATOL_KW
    )
    # The expected value discriminates: a vpp that dropped the peak charges gives
    # step 2's answer (the floor alone), not the flat drain.
    assert abs(expected - fm_expected_costs_2() - fm_floor_constant_cny()) > PERTURBED_MIN_CHANGE


# ------------------------------------------------------------ FlexMeasures, two EVs
#
# test_multiple_devices_simultaneous_scheduler, test case 1 ("All devices will reach
# target SOC"), same file and commit. Inputs as stated there: 24 hourly steps from
# 2020-01-01T00:00 at the 24 market prices below [EUR/MWh] (one energy commitment for
# the site, the same price up and down); two EVs (storage devices), each empty at the
# start, 0..1 MWh, charging 0..1 MW, blocked up to 00:00 (so charging from 01:00), a
# stock target of 1 MWh at 06:00 (EV 0) and at 03:00 (EV 1), missed energy priced at
# 10000 EUR/MWh; the site's power between 0 and 1 MW. Expected: EV 0 charges 1 MW in
# the 04:00 step, EV 1 in the 01:00 step; their costs 18.66 and 1.46 (the test allows 1 %).
#
# Mapping onto vpp: each EV is a shiftable load of energy_kwh 1000 and max_power_kw
# 1000; the site's 1 MW is import_limit_kw 1000 with no load; prices in CNY/kWh
# (KW_PER_MW). A FlexMeasures stock target at "06:00" constrains the stock after the
# step labelled 06:00 (its stock commitment sums the changes up to and including that
# step), so the windows are 01:00-07:00 and 01:00-04:00 (the test's case 2 confirms it:
# its site schedule charges in the steps 01:00 to 06:00). The missed-energy price is
# above every price of the day (at most 3000.18 EUR/MWh), so it is never worth paying:
# like vpp's shiftable energy, owed in full. The costs are checked exactly (price x
# 1 MWh), not to 1 %.
# Not stated: test case 2, where the site limit of 0.25 MW leaves energy unmet at the
# penalty price; a vpp shiftable load has no priced shortfall.

FM_EV_PRICES_EUR_PER_MWH = [
    0.8598,
    1.4613,
    2430.3887,
    3000.1779,
    18.6619,
    369.3274,
    169.8719,
    174.2279,
    174.2279,
    174.2279,
    175.4258,
    1.5697,
    174.2763,
    174.2279,
    175.2564,
    202.6992,
    218.4413,
    229.9242,
    295.1069,
    240.7174,
    249.2479,
    238.2732,
    229.8395,
    216.5779,
]
FM_EV_WINDOWS = (("ev0", "01:00", "07:00"), ("ev1", "01:00", "04:00"))
#: The expected charging step of each EV (04:00 and 01:00) [-].
FM_EV_EXPECTED_STEP = {"ev0": 4, "ev1": 1}
FM_EV_ENERGY_MWH = 1.0
FM_EV_SITE_LIMIT_MW = 1.0


def fm_ev_scenario(folder: Path, site_limit_mw: float | None) -> dict[str, Any]:
    evs = [
        {
            "kind": "shiftable",
            "name": name,
            "energy_kwh": FM_EV_ENERGY_MWH * KW_PER_MW,
            "max_power_kw": FM_EV_ENERGY_MWH * KW_PER_MW,
            "window_start": start,
            "window_end": end,
        }
        for name, start, end in FM_EV_WINDOWS
    ]
    grid = {} if site_limit_mw is None else {"import_limit_kw": site_limit_mw * KW_PER_MW}
    return scenario_dict(
        folder,
        [0.0] * FM_STEPS,
        price=[p / KW_PER_MW for p in FM_EV_PRICES_EUR_PER_MWH],
        flexible_loads=evs,
        grid=grid,
        start=FM_START,
        name="flexmeasures_two_evs",
    )


def test_flexmeasures_two_evs_share_the_site_limit(tmp_path):
    result = solve_case(tmp_path, fm_ev_scenario(tmp_path, FM_EV_SITE_LIMIT_MW))
    total = 0.0
    for name, step in FM_EV_EXPECTED_STEP.items():
        expected_kw = np.zeros(FM_STEPS)
        expected_kw[step] = FM_EV_ENERGY_MWH * KW_PER_MW
        power = result.schedule[f"{name}_power_kw"].to_numpy()
        assert power == pytest.approx(expected_kw, abs=EXTERNAL_POWER_ATOL_KW)
        # The test's individual cost: sum of schedule x price [EUR].
        cost = float(np.dot(power / KW_PER_MW, FM_EV_PRICES_EUR_PER_MWH))
        assert cost == pytest.approx(
            FM_EV_ENERGY_MWH * FM_EV_PRICES_EUR_PER_MWH[step], abs=EXTERNAL_COST_ATOL_CNY
        )
        total += FM_EV_ENERGY_MWH * FM_EV_PRICES_EUR_PER_MWH[step]
    assert result.summary["total_cost_cny"] == pytest.approx(total, abs=EXTERNAL_COST_ATOL_CNY)
    assert total == pytest.approx(18.66 + 1.46, rel=0.01)  # the test's own figures

    # Able to fail: without the site limit both EVs take the 01:00 step.
    free = solve_case(tmp_path / "free", fm_ev_scenario(tmp_path / "free", None))
    assert abs(free.summary["total_cost_cny"] - total) > PERTURBED_MIN_CHANGE


# ============================================================ oemof-solph
#
# test_relative_losses: a GenericStorage of nominal_capacity 10, initial_storage_level 1
# (full), loss_rate 0.004125876075 per hour ("half life of one week"), inflow and
# outflow each at variable_costs 1 on an unbalanced (slack) bus, balanced=True (the
# default: the last content equals the first), run as 500 x 2 h, 1000 x 1 h and
# 2000 x 0.5 h steps. Expected: the content at every common instant of the first 500
# points of the 2 h run (hours 0, 2, ..., 998) is the same in the three runs.
#
# Mapping onto vpp: energy_kwh 10, soc 0..1, initial 1.0, self_discharge_fraction_per_h
# 0.004125876075, final_soc equal_initial (oemof's balanced), efficiencies 1 (oemof's
# conversion factors default to 1), inflow cost 1 = a flat import price of 1 CNY/kWh,
# outflow cost 1 = throughput_cost_cny_per_kwh 1 (on discharge); no load and no export,
# so the battery can only sit and lose energy, then buy it back. oemof's loss_rate is
# per hour and enters as (1 - beta) ** step_h (its storage balance; the test's commit
# fixed exactly that for non-hourly steps), which is vpp's k = (1 - sigma) ** dt_h; oemof
# content at point t is vpp's soc_kwh at the start of step t. Unbounded oemof flows:
# charge_power_kw 100 is far above the 9.8 kWh to buy back in one 30 min step.
# Not stated: the 2 h run (vpp steps divide an hour); the 1 h and 30 min runs are.
#
# Also checked (derived here, not in the oemof test): the content is the closed form
# 10 (1 - beta) ** hours. The comment's "half life of one week" is the continuous-time
# rate: beta = ln 2 / 168 h to 1e-12, so after one week the discrete per-hour loss leaves
# 10 (1 - beta) ** 168 = 4.99284 kWh, not exactly 5 (checked, to show which convention
# holds). balanced=True is met by buying 10 (1 - (1 - beta) ** 1000) kWh in the last
# step, the cheapest time (least held, least lost), which is the whole bill at 1 CNY/kWh.

OEMOF_LOSS_RATE_PER_H = 0.004125876075
OEMOF_CAPACITY_KWH = 10.0
OEMOF_HOURS = 1000
#: The common instants the test compares: hours 0, 2, ..., 998.
OEMOF_COMPARED_HOURS = np.arange(0, 1000, 2)
#: Half life the test's comment states [h].
OEMOF_HALF_LIFE_H = 168
OEMOF_FLOW_COST = 1.0
#: 10 (1 - beta) ** 168, worked out by hand (Python: 10 * (1 - 0.004125876075) ** 168) [kWh].
OEMOF_WEEK_KWH = 4.9928358122179315
OEMOF_CHARGE_POWER_KW = 100.0


def oemof_scenario(folder: Path, step_min: int, **storage: Any) -> dict[str, Any]:
    n = OEMOF_HOURS * 60 // step_min
    loss = {"self_discharge_fraction_per_h": OEMOF_LOSS_RATE_PER_H}
    entry = battery(
        energy_kwh=OEMOF_CAPACITY_KWH,
        power_kw=OEMOF_CHARGE_POWER_KW,
        soc_initial_fraction=1.0,
        final_soc="equal_initial",
        throughput_cost_cny_per_kwh=OEMOF_FLOW_COST,
        **(storage or loss),
    )
    return scenario_dict(
        folder,
        [0.0] * n,
        price=OEMOF_FLOW_COST,
        batteries=[entry],
        series_step_min=step_min,
        start="2023-01-01T00:00:00",
        name=f"oemof_relative_losses_{step_min}min",
    )


def oemof_soc_at_hours(result: Any, step_min: int, hours: np.ndarray) -> np.ndarray:
    return result.schedule["bess_soc_kwh"].to_numpy()[hours * 60 // step_min]


def oemof_closed_form_kwh(hours: np.ndarray, loss_rate: float = OEMOF_LOSS_RATE_PER_H):
    return OEMOF_CAPACITY_KWH * (1.0 - loss_rate) ** hours


def oemof_buy_back_cny() -> float:
    return OEMOF_FLOW_COST * float(OEMOF_CAPACITY_KWH - oemof_closed_form_kwh(OEMOF_HOURS))


def test_oemof_relative_losses_per_hour_not_per_step(tmp_path):
    assert OEMOF_LOSS_RATE_PER_H == pytest.approx(np.log(2.0) / OEMOF_HALF_LIFE_H, abs=1e-12)
    hourly = solve_case(tmp_path / "h", oemof_scenario(tmp_path / "h", 60))
    half_hourly = solve_case(tmp_path / "hh", oemof_scenario(tmp_path / "hh", 30))
    soc_1h = oemof_soc_at_hours(hourly, 60, OEMOF_COMPARED_HOURS)
    soc_30min = oemof_soc_at_hours(half_hourly, 30, OEMOF_COMPARED_HOURS)
    # The published check: the same content at the same instants, whatever the step.
    assert soc_30min == pytest.approx(soc_1h, abs=EXTERNAL_SOC_ATOL_KWH)
    # Derived: the closed form, and the content after one week (about half).
    assert soc_1h == pytest.approx(
        oemof_closed_form_kwh(OEMOF_COMPARED_HOURS), abs=EXTERNAL_SOC_ATOL_KWH
    )
    week = oemof_soc_at_hours(half_hourly, 30, np.array([OEMOF_HALF_LIFE_H]))[0]
    assert week == pytest.approx(OEMOF_WEEK_KWH, abs=EXTERNAL_SOC_ATOL_KWH)
    for result in (hourly, half_hourly):
        assert result.summary["total_cost_cny"] == pytest.approx(
            oemof_buy_back_cny(), abs=EXTERNAL_COST_ATOL_CNY
        )
    # Able to fail: a loss per 30 min step (not per hour) would leave about 10 x 0.25
    # after a week, far from the 4.99 kWh checked above.
    per_step = oemof_closed_form_kwh(np.array([2 * OEMOF_HALF_LIFE_H]))[0]
    assert abs(per_step - week) > PERTURBED_MIN_CHANGE


@pytest.mark.skipif(
    not _has_storage_efficiency_per_step(),
    reason="needs batteries[].storage_efficiency_per_step (issue 15)",
)
@pytest.mark.parametrize("final", ["equal_initial", "mapping"])
def test_oemof_relative_losses_as_storage_efficiency_per_step(tmp_path, final):
    # The same 30 min run with the loss stated per step: the share kept over one step is
    # (1 - beta) ** 0.5; oemof's balanced=True also as the mapping {equal, fraction 1.0}.
    if final == "mapping" and not _has_final_soc_mapping():
        pytest.skip("needs the final_soc mapping {rule, fraction} (issue 15)")
    kept = (1.0 - OEMOF_LOSS_RATE_PER_H) ** 0.5
    data = oemof_scenario(tmp_path, 30, storage_efficiency_per_step=kept)
    if final == "mapping":
        data["site"]["batteries"][0]["final_soc"] = {"rule": "equal", "fraction": 1.0}
    result = run_new_key_case(tmp_path, data, batteries=False)
    soc = oemof_soc_at_hours(result, 30, OEMOF_COMPARED_HOURS)
    assert soc == pytest.approx(
        oemof_closed_form_kwh(OEMOF_COMPARED_HOURS), abs=EXTERNAL_SOC_ATOL_KWH
    )
    assert result.summary["total_cost_cny"] == pytest.approx(
        oemof_buy_back_cny(), abs=EXTERNAL_COST_ATOL_CNY
    )
