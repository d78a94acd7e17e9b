"""The carbon price: in the objective or only reported; the objective check still holds.

The site: a 100 kW load for 24 h at a flat 0.5 CNY/kWh, 1000 Nm3 of natural gas a year
(the day counts 1/365 of it), the default grid factor 0.5306 kgCO2/kWh, and a green
contract of 1000 kWh for the day (31 MWh in January, shape free) at 0.30 + 0.02 energy
and premium + 0.20 grid fees = 0.52 CNY/kWh: dearer than TOU, cheaper than TOU plus
75 CNY/t on grey energy (0.5 + 0.075 x 0.5306 = 0.5398).
"""

from __future__ import annotations

import pytest
from helpers import COST_ATOL_CNY, COST_RTOL, scenario_dict, solve_case, write_scenario

import vpp
import vpp.assets
from vpp.errors import SolverError
from vpp.inputs.site import build_inputs
from vpp.model import build_model, solve

FACTOR = 0.5306
#: The day's natural gas: 1000 Nm3 a year x 2.162 kg/Nm3, 1 day of 365 (2026) [t CO2].
GAS_T = 1000.0 * 2.162 / 1000.0 / 365.0
PRICE = 75.0


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def case(tmp_path, **carbon_price):
    data = scenario_dict(tmp_path, [100.0] * 24, price=0.5)
    data["site"]["green_contracts"] = [
        {
            "name": "wind",
            "monthly_mwh": {"2026-01": 31.0},
            "volume_shape": "free",
            "energy_price_cny_per_mwh": 300.0,
            "green_premium_cny_per_mwh": 20.0,
            "grid_fees_cny_per_kwh": 0.2,
        }
    ]
    data["site"]["emissions"] = {"activity": {"natural_gas_nm3": 1000.0}}
    data["site"]["carbon_price"] = {"cny_per_t": PRICE, **carbon_price}
    return data


def test_carbon_price_in_objective(tmp_path):
    result = solve_case(tmp_path, case(tmp_path))
    s = result.summary
    assert float(result.schedule["wind_take_kw"].sum()) == pytest.approx(1000.0, abs=1e-4)
    electricity = PRICE * 1400 * FACTOR / 1000.0
    assert s["carbon_cny"] == approx_cny(electricity + PRICE * GAS_T)
    assert s["green_contracts_cny"] == approx_cny(1000 * (0.52 - 0.5))
    assert s["total_cost_cny"] == approx_cny(1400 * 0.5 + 1000 * 0.52 + electricity + PRICE * GAS_T)
    carbon = s["carbon"]
    assert carbon["carbon_price"]["cost_cny"] == approx_cny(s["carbon_cny"])
    # the baseline (no contract) pays carbon on all its import
    base = PRICE * (2400 * FACTOR / 1000.0 + GAS_T)
    assert s["baseline"]["carbon_cny"] == approx_cny(base)
    assert carbon["carbon_price"]["baseline_cost_cny"] == approx_cny(base)
    assert carbon["reduction_vs_baseline"]["market_based_t"] == pytest.approx(1000 * FACTOR / 1e3)
    assert carbon["reduction_vs_baseline"]["location_based_t"] == pytest.approx(0.0, abs=1e-9)
    assert s["savings_cny"] == approx_cny(base + 1200 - s["total_cost_cny"])


def test_objective_equals_the_bill_with_carbon(tmp_path):
    scenario = vpp.load_scenario(write_scenario(tmp_path, case(tmp_path)))
    inputs = build_inputs(scenario)
    solved = solve(build_model(inputs.assets, inputs.horizon))
    total = vpp.run(scenario).summary["total_cost_cny"]
    assert solved.objective_cny == approx_cny(total)  # fuel carbon is the objective's offset


def test_objective_check_catches_a_missing_carbon_cost(tmp_path, monkeypatch):
    scenario = vpp.load_scenario(write_scenario(tmp_path, case(tmp_path)))
    carbon_unit = type(vpp.assets.unit("carbon"))  # the bill's carbon cost comes from it
    monkeypatch.setattr(carbon_unit, "costs", lambda *args: {})
    with pytest.raises(SolverError, match="internal check failed"):
        vpp.run(scenario)


def test_carbon_price_only_reported(tmp_path):
    result = solve_case(tmp_path, case(tmp_path, in_objective=False))
    s = result.summary
    assert float(result.schedule["wind_take_kw"].sum()) == pytest.approx(0.0, abs=1e-6)
    assert s["carbon_cny"] == 0.0
    assert s["total_cost_cny"] == approx_cny(1200.0)
    assert s["carbon"]["carbon_price"]["cost_cny"] == approx_cny(
        PRICE * (2400 * FACTOR / 1000.0 + GAS_T)
    )


def test_carbon_price_on_some_carriers(tmp_path):
    # gas only: electricity unpriced, so the contract is not worth taking
    result = solve_case(tmp_path, case(tmp_path, carriers=["natural_gas"]))
    assert result.summary["carbon_cny"] == approx_cny(PRICE * GAS_T)
    assert result.summary["total_cost_cny"] == approx_cny(1200.0 + PRICE * GAS_T)


def test_shortfall_penalty_that_pays_for_a_loop_is_noted(tmp_path):
    # export 0.45 + penalty 0.10 >= the contract's 0.52: importing contract energy to
    # export it could beat the penalty; the summary says so.
    data = case(tmp_path, in_objective=False)
    data["site"]["grid"].update({"export_limit_kw": 50.0, "export_price_cny_per_kwh": 0.45})
    data["site"]["green_contracts"][0].update(
        {"take_or_pay_fraction": 0.5, "shortfall_penalty_cny_per_mwh": 100.0}
    )
    s = solve_case(tmp_path, data).summary
    (note,) = s["green"]["notes"]
    assert "'wind'" in note and "taken_while_exporting_mwh" in note


@pytest.mark.parametrize("counted", [True, False])
def test_certificates_and_carbon_price(tmp_path, counted):
    # A 50 % annual target and no contract: 1.2 MWh of certificates are needed. They
    # lower the priced emissions only with market_based_certificates; then covering all
    # 2400 kWh pays (75 CNY/t x 0.5306 = 0.0398 CNY/kWh > 0.007).
    data = case(tmp_path)
    del data["site"]["green_contracts"]
    data["site"]["renewable_target"] = {
        "basis": "annual",
        "fraction": 0.5,
        "certificate_price_cny_per_mwh": 7.0,
    }
    data["site"]["emissions"]["market_based_certificates"] = counted
    s = solve_case(tmp_path, data).summary
    certificates_mwh = 2.4 if counted else 1.2
    grey_kwh = 0.0 if counted else 2400.0
    assert s["certificates_cny"] == approx_cny(7.0 * certificates_mwh)
    assert s["carbon_cny"] == approx_cny(PRICE * (grey_kwh * FACTOR / 1000.0 + GAS_T))


# ---- annual activity over a shorter horizon ------------------------------------------


#: The gas of one whole year: 1000 Nm3 x 2.162 kgCO2/Nm3 [t CO2].
GAS_YEAR_T = 1000.0 * 2.162 / 1000.0


@pytest.mark.parametrize(
    ("start", "days", "share"),
    [
        ("2026-02-01T00:00:00", 28, 28 / 365),  # 2026 has 365 days
        ("2028-02-01T00:00:00", 28, 28 / 366),  # 2028 is a leap year
        ("2027-12-18T00:00:00", 28, 14 / 365 + 14 / 366),  # 14 days in each year
    ],
)
def test_annual_gas_counts_by_the_horizons_share_of_a_year(tmp_path, start, days, share):
    """28 days of a 1000 Nm3/yr site: gas emissions, carbon price and account pro-rated."""
    data = scenario_dict(tmp_path, [100.0] * (24 * days), price=0.5, start=start)
    data["site"]["emissions"] = {
        "activity": {"natural_gas_nm3": 1000.0},
        "economics": {"value_added_cny": 365.0e4},
    }
    data["site"]["carbon_price"] = {"cny_per_t": PRICE, "carriers": ["natural_gas"]}
    s = solve_case(tmp_path, data).summary  # the objective check: bill == LP objective
    carbon = s["carbon"]
    assert carbon["by_carrier_t"]["natural_gas"] == pytest.approx(GAS_YEAR_T * share, rel=1e-12)
    assert carbon["baseline"]["by_carrier_t"]["natural_gas"] == pytest.approx(
        GAS_YEAR_T * share, rel=1e-12
    )
    assert s["carbon_cny"] == approx_cny(PRICE * GAS_YEAR_T * share)
    assert s["total_cost_cny"] == approx_cny(100.0 * 24 * days * 0.5 + PRICE * GAS_YEAR_T * share)
    assert carbon["activity"]["natural_gas_nm3"] == pytest.approx(1000.0 * share, rel=1e-12)
    # the output states the annual figures, the share applied and the rule
    annual = carbon["annual"]
    assert annual["activity"]["natural_gas_nm3"] == 1000.0
    assert annual["economics_cny"]["value_added"] == 365.0e4
    assert annual["horizon_share_of_year"] == pytest.approx(share, rel=1e-12)
    assert "per year" in annual["note"] and "366" in annual["note"]
    # the intensity divides horizon emissions by the horizon's share of value added
    grid_t = 100.0 * 24 * days * carbon["factors"]["electricity"]["value"] / 1000.0
    assert carbon["intensity_t_per_10k_cny"]["value_added"]["location_based"] == pytest.approx(
        (grid_t + GAS_YEAR_T * share) / (365.0 * share), rel=1e-9
    )
