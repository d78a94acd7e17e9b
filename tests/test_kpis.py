"""KPIs (vpp.runs.kpis) on tiny schedules whose values are checked by hand."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import battery, index, scenario_dict, solve_case, write_scenario

import vpp
from vpp.report.html import build_report
from vpp.report.text import summary_text
from vpp.runs.kpis import (
    NON_DISPATCH_TERMS,
    comparison_kpis,
    energy_kpis,
    peak_shaving,
    savings_split,
)

#: Hand-computed KPI vs function [-] or [kWh].
KPI_TOL = 1e-12


def four_steps(tmp_path, step_h: float = 1.0):
    """A 4-step case: load 10 kW; PV 0/20/15/0 of 0/20/20/0 available; a 10 kWh battery.

    Step 1 charges 10 kW from PV, step 2 exports 5 kW (5 kW curtailed), step 3
    discharges 8 kW and imports 2 kW.
    """
    data = scenario_dict(
        tmp_path,
        [10.0] * 4,
        pv_kw=[0.0, 20.0, 20.0, 0.0],
        batteries=[battery(energy_kwh=10.0, power_kw=10.0)],
    )
    scenario = vpp.load_scenario(write_scenario(tmp_path, data))
    schedule = pd.DataFrame(
        {
            "load_kw": [10.0] * 4,
            "roof_available_kw": [0.0, 20.0, 20.0, 0.0],
            "roof_pv_kw": [0.0, 20.0, 15.0, 0.0],
            "bess_charge_kw": [0.0, 10.0, 0.0, 0.0],
            "bess_discharge_kw": [0.0, 0.0, 0.0, 8.0],
            "grid_import_kw": [10.0, 0.0, 0.0, 2.0],
            "grid_export_kw": [0.0, 0.0, 5.0, 0.0],
        },
        index=index(4),
    )
    return scenario, schedule


def test_energy_kpis_by_hand(tmp_path):
    scenario, schedule = four_steps(tmp_path)
    k = energy_kpis(schedule, scenario, 1.0)
    assert k["consumption_kwh"] == pytest.approx(40.0, abs=KPI_TOL)
    assert k["pv_available_kwh"] == pytest.approx(40.0, abs=KPI_TOL)
    assert k["pv_generated_kwh"] == pytest.approx(35.0, abs=KPI_TOL)
    assert k["pv_used_directly_kwh"] == pytest.approx(20.0, abs=KPI_TOL)
    assert k["pv_to_battery_kwh"] == pytest.approx(10.0, abs=KPI_TOL)
    assert k["battery_to_consumption_kwh"] == pytest.approx(8.0, abs=KPI_TOL)
    assert k["pv_curtailed_kwh"] == pytest.approx(5.0, abs=KPI_TOL)
    assert k["pv_curtailed_fraction"] == pytest.approx(5.0 / 40.0, abs=KPI_TOL)
    # PV used on site (20 direct + 10 stored) per PV generated (35).
    assert k["self_consumption_fraction"] == pytest.approx(30.0 / 35.0, abs=KPI_TOL)
    # Consumption met by PV (20) and by the battery's PV energy (all its charge was PV: 8).
    assert k["self_sufficiency_fraction"] == pytest.approx(28.0 / 40.0, abs=KPI_TOL)
    assert k["renewable_share_fraction"] == pytest.approx(28.0 / 40.0, abs=KPI_TOL)
    # 8 kWh out of 10 kWh usable.
    assert k["equivalent_full_cycles"] == {"bess": pytest.approx(0.8, abs=KPI_TOL)}


def test_energy_kpis_grid_charged_battery_counts_by_its_pv_share(tmp_path):
    scenario, schedule = four_steps(tmp_path)
    # Also charge 10 kW from the grid at step 0: half of the battery's charge is PV.
    schedule.loc[schedule.index[0], ["bess_charge_kw", "grid_import_kw"]] = [10.0, 20.0]
    k = energy_kpis(schedule, scenario, 1.0)
    assert k["pv_to_battery_kwh"] == pytest.approx(10.0, abs=KPI_TOL)
    assert k["self_sufficiency_fraction"] == pytest.approx((20.0 + 0.5 * 8.0) / 40.0, abs=KPI_TOL)
    assert k["self_consumption_fraction"] == pytest.approx(30.0 / 35.0, abs=KPI_TOL)


def test_energy_kpis_scale_with_step(tmp_path):
    scenario, schedule = four_steps(tmp_path)
    one = energy_kpis(schedule, scenario, 1.0)
    quarter = energy_kpis(schedule, scenario, 0.25)
    assert quarter["consumption_kwh"] == pytest.approx(one["consumption_kwh"] / 4, abs=KPI_TOL)
    assert quarter["equivalent_full_cycles"]["bess"] == pytest.approx(0.2, abs=KPI_TOL)
    assert quarter["self_sufficiency_fraction"] == pytest.approx(
        one["self_sufficiency_fraction"], abs=KPI_TOL
    )


def test_energy_kpis_without_pv_or_battery_columns(tmp_path):
    scenario, schedule = four_steps(tmp_path)
    bare = schedule[["load_kw", "grid_import_kw", "grid_export_kw"]].assign(grid_import_kw=10.0)
    k = energy_kpis(bare, scenario, 1.0)
    assert k["pv_generated_kwh"] == 0.0
    assert k["self_consumption_fraction"] is None  # no PV: undefined, not zero
    assert k["self_sufficiency_fraction"] == 0.0
    assert k["equivalent_full_cycles"] == {"bess": 0.0}


def test_peak_shaving_and_comparison_by_hand():
    shaving = peak_shaving({"2026-01": 80.0, "2026-02": 50.0}, {"2026-01": 100.0, "2026-02": 0.0})
    assert shaving["kw"] == {"2026-01": 20.0, "2026-02": -50.0}
    assert shaving["fraction"]["2026-01"] == pytest.approx(0.2, abs=KPI_TOL)
    assert shaving["fraction"]["2026-02"] is None
    base = {
        "total_cost_cny": 150.0,
        "peak_import_kw": {"2026-01": 100.0},
        "emissions_t": {"location_based_t": 10.0, "market_based_t": 12.0},
    }
    c = comparison_kpis(
        100.0, {"2026-01": 80.0}, {"location_based_t": 7.0, "market_based_t": 9.5}, base
    )
    assert c["savings_cny"] == pytest.approx(50.0, abs=KPI_TOL)
    assert c["savings_fraction"] == pytest.approx(1.0 / 3.0, abs=KPI_TOL)
    assert c["peak_shaving_kw"] == {"2026-01": pytest.approx(20.0, abs=KPI_TOL)}
    assert c["peak_shaving_fraction"] == {"2026-01": pytest.approx(0.2, abs=KPI_TOL)}
    assert c["peak_shaving_max_kw"] == pytest.approx(20.0, abs=KPI_TOL)
    assert c["emission_reduction_t"] == {
        "location_based_t": pytest.approx(3.0, abs=KPI_TOL),
        "market_based_t": pytest.approx(2.5, abs=KPI_TOL),
    }
    assert comparison_kpis(100.0, {"2026-01": 80.0}, None, base)["emission_reduction_t"] is None


# ---- the savings split: dispatch vs green contracts, certificates and carbon price -----

#: The bill parts the dispatch changes, with their sign in the total (vpp.runs.bill).
DISPATCH_PARTS = {
    "energy_cost_cny": 1.0,
    "export_revenue_cny": -1.0,
    "demand_charge_cny": 1.0,
    "battery_cost_cny": 1.0,
    "curtailment_cost_cny": 1.0,
    "ev_cost_cny": 1.0,
}
#: Split against recomputed savings [CNY].
SPLIT_ATOL_CNY = 1e-6


def test_savings_split_by_hand():
    run = {"total_cost_cny": 100.0, "green_contracts_cny": -5.0, "certificates_cny": 2.0}
    run["carbon_cny"] = 10.0
    base = {"total_cost_cny": 150.0, "carbon_cny": 25.0}  # no contracts, no certificates
    split = savings_split(run, base)
    assert split == {
        "dispatch_cny": pytest.approx((150.0 - 25.0) - (100.0 + 5.0 - 2.0 - 10.0), abs=KPI_TOL),
        "green_contracts_cny": pytest.approx(5.0, abs=KPI_TOL),
        "certificates_cny": pytest.approx(-2.0, abs=KPI_TOL),
        "carbon_cny": pytest.approx(15.0, abs=KPI_TOL),
    }
    assert sum(split.values()) == pytest.approx(50.0, abs=KPI_TOL)


def green_site(tmp_path):
    """24 h of 100 kW at 0.3/0.9/0.6 CNY/kWh, a 100 kWh battery, a wind contract of 1 MWh
    a day at 0.52 CNY/kWh, a 50 % renewable target with certificates, 75 CNY/t on carbon."""
    data = scenario_dict(
        tmp_path,
        [100.0] * 24,
        price=[0.3] * 8 + [0.9] * 8 + [0.6] * 8,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, eta_c=0.95, eta_d=0.95)],
    )
    site = data["site"]
    site["green_contracts"] = [
        {
            "name": "wind",
            "monthly_mwh": {"2026-01": 31.0},
            "volume_shape": "free",
            "energy_price_cny_per_mwh": 300.0,
            "green_premium_cny_per_mwh": 20.0,
            "grid_fees_cny_per_kwh": 0.2,
        }
    ]
    site["renewable_target"] = {
        "basis": "annual",
        "fraction": 0.5,
        "certificate_price_cny_per_mwh": 7.0,
    }
    site["emissions"] = {"activity": {"natural_gas_nm3": 1000.0}}
    site["carbon_price"] = {"cny_per_t": 75.0}
    return data


def test_savings_split_of_a_run(tmp_path):
    """The parts sum to the savings; the dispatch part is the baseline's bill minus the
    run's over the parts the dispatch changes (recomputed here from the bill parts)."""
    result = solve_case(tmp_path, green_site(tmp_path))
    s, b = result.summary, result.summary["baseline"]
    parts = {k: s[f"savings_{k}"] for k in ("dispatch_cny", *NON_DISPATCH_TERMS)}
    assert sum(parts.values()) == pytest.approx(s["savings_cny"], abs=SPLIT_ATOL_CNY)
    dispatch = sum(sign * (b.get(k, 0.0) - s.get(k, 0.0)) for k, sign in DISPATCH_PARTS.items())
    assert parts["dispatch_cny"] == pytest.approx(dispatch, abs=SPLIT_ATOL_CNY)
    assert parts["green_contracts_cny"] == pytest.approx(-s["green_contracts_cny"], abs=KPI_TOL)
    assert parts["certificates_cny"] == pytest.approx(-s["certificates_cny"], abs=KPI_TOL)
    assert parts["carbon_cny"] == pytest.approx(b["carbon_cny"] - s["carbon_cny"], abs=KPI_TOL)
    # every part is at work here, so none can hide in another
    assert parts["dispatch_cny"] > 1.0 and parts["certificates_cny"] < -1e-3
    assert parts["green_contracts_cny"] != 0.0 and parts["carbon_cny"] > 1.0
    # the same split against every baseline in the KPIs
    for name, v in s["kpis"]["vs_baseline"].items():
        split = v["savings_split_cny"]
        base = s["baselines"][name]
        assert sum(split.values()) == pytest.approx(v["savings_cny"], abs=SPLIT_ATOL_CNY), name
        expected = sum(
            sign * (base.get(k, 0.0) - s.get(k, 0.0)) for k, sign in DISPATCH_PARTS.items()
        )
        assert split["dispatch_cny"] == pytest.approx(expected, abs=SPLIT_ATOL_CNY), name
    assert s["kpis"]["vs_baseline"]["pv-only"]["savings_split_cny"]["dispatch_cny"] == (
        pytest.approx(parts["dispatch_cny"], abs=KPI_TOL)
    )
    # the CLI summary and the report show the parts, not only the total
    text = summary_text(result)
    assert re.search(rf"^    dispatch +{parts['dispatch_cny']:,.0f} ", text, re.M)
    assert re.search(rf"^    carbon price +{parts['carbon_cny']:,.0f} ", text, re.M)
    assert re.search(rf"^    total savings +{s['savings_cny']:,.0f} ", text, re.M)
    html = build_report(result, {})
    assert "dispatch savings vs baseline" in html and "savings vs baseline</th>" in html
