"""Emission-factor tables and carbon accounting (pure functions and through a run).

Emissions of fuels and heat are activity x factor exactly; electricity is the metered
import times the grid factor (location-based) or the grey import times the market-based
factor. Values of the built-in tables are checked against the reference figures in
``/work/shared/reference/jiangsu-inputs.md`` (§6, §7), typed here by hand.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from helpers import index, scenario_dict, solve_case, write_csv, write_scenario

import vpp
import vpp.cli
from vpp.emissions import (
    CARRIERS,
    CarbonFlow,
    factor,
    factor_names,
    flows_account,
    list_factors,
    park_account,
    pre_assessment,
    reduction,
    site_account,
)
from vpp.errors import EXIT_BAD_INPUT, DataError, ScenarioError

#: The reference figures [kgCO2 per activity unit].
REFERENCE = {
    ("electricity", "grid-national-2022"): 0.5366,
    ("electricity", "grid-national-2023"): 0.5306,
    ("electricity", "grid-national-2022-excl-green"): 0.5856,
    ("electricity", "grid-east-china-2022"): 0.5617,
    ("electricity", "grid-east-china-2023"): 0.5500,
    ("electricity", "grid-jiangsu-2022"): 0.5978,
    ("electricity", "grid-carbon-market-2023"): 0.5703,
    ("natural_gas", "natural-gas-gbt32151"): 2.162,
    ("diesel", "diesel-gbt32151"): 3145.0,
    ("diesel", "diesel-ipcc2006"): 3186.0,
    ("heat", "heat-ndrc-guideline"): 110.0,
}
ACTIVITY = {"natural_gas": 12345.6, "diesel": 3.2, "heat": 500.0}
FUEL_FACTORS = {"natural_gas": 2.162, "diesel": 3145.0, "heat": 110.0}


# ----------------------------------------------------------- factor tables


def test_every_built_in_factor_has_value_source_and_validity():
    rows = list_factors()
    assert {(r["carrier"], r["name"]) for r in rows} == set(REFERENCE)
    for r in rows:
        assert r["value"] == REFERENCE[(r["carrier"], r["name"])]
        assert r["source"]["document"].strip()
        assert r["source"]["reliability"] in {"official-quoted", "secondary", "transcription"}
        assert isinstance(r["valid_from"], dt.date)
        assert r["valid_to"] is None or r["valid_to"] >= r["valid_from"]
    defaults = {r["carrier"]: r["name"] for r in rows if r["default"]}
    assert defaults == {
        "electricity": "grid-national-2023",
        "natural_gas": "natural-gas-gbt32151",
        "diesel": "diesel-gbt32151",
        "heat": "heat-ndrc-guideline",
    }


def test_factor_by_name_default_and_user_number():
    assert factor("electricity").value == 0.5306
    assert factor("electricity", "grid-jiangsu-2022").unit == "kgCO2/kWh"
    user = factor("diesel", 2650.0)
    assert (user.name, user.value, user.source) == ("user", 2650.0, None)


def test_unknown_factor_name_lists_the_known_ones():
    with pytest.raises(ScenarioError) as info:
        factor("electricity", "grid-jiangsu-2030", key="site.emissions.factors.electricity")
    (problem,) = info.value.problems
    assert problem.key == "site.emissions.factors.electricity"
    for name in factor_names("electricity"):
        assert name in problem.allowed
    assert "'grid-jiangsu-2030'" in problem.message


# ----------------------------------------------------------- accounting


def account(import_kwh, green=0.0, certificates=0.0, economics=None, factor_kwh=0.5):
    n = len(import_kwh)
    return site_account(
        import_kwh=import_kwh,
        green_kwh=np.full(n, green),
        certificate_kwh=np.full(n, certificates),
        location_factor_kg_per_kwh=factor_kwh,
        market_factor_kg_per_kwh=factor_kwh,
        activity=ACTIVITY,
        fuel_factors_kg=FUEL_FACTORS,
        economics_cny=economics,
    )


def test_emissions_are_activity_times_factor_exactly():
    a = account([100.0, 200.0], green=50.0, certificates=10.0)
    by = a["by_carrier_t"]
    for carrier in ("natural_gas", "diesel", "heat"):
        assert by[carrier] == ACTIVITY[carrier] * FUEL_FACTORS[carrier] / 1000.0
    assert by["electricity_location_based"] == (100.0 * 0.5 + 200.0 * 0.5) / 1000.0
    assert by["electricity_market_based"] == (40.0 * 0.5 + 140.0 * 0.5) / 1000.0
    fuels = by["natural_gas"] + by["diesel"] + by["heat"]
    assert a["location_based_t"] == by["electricity_location_based"] + fuels
    assert a["market_based_t"] == by["electricity_market_based"] + fuels


def flows_of(flows, n):
    return flows_account(
        flows=flows,
        n_steps=n,
        location_factor_kg_per_kwh=0.5,
        market_factor_kg_per_kwh=0.5,
        activity=ACTIVITY,
        fuel_factors_kg=FUEL_FACTORS,
    )


def test_a_fuel_flow_adds_to_the_declared_fuel_of_its_line():
    # a generator set's 0.1 t and 0.3 t of diesel on top of the declared 3.2 t
    grid = CarbonFlow(np.array([100.0, 200.0]), {"electricity_location_based": 1.0})
    diesel = CarbonFlow(np.array([0.1, 0.3]), {"diesel": 1.0})
    by = flows_of([grid, diesel], 2)["by_carrier_t"]
    assert by["diesel"] == pytest.approx((3.2 + 0.4) * 3145.0 / 1000.0)
    assert by["electricity_location_based"] == pytest.approx(150.0 / 1000.0)
    assert by["electricity_market_based"] == 0.0  # the flow entered one line only
    assert by["natural_gas"] == ACTIVITY["natural_gas"] * FUEL_FACTORS["natural_gas"] / 1000.0


def test_a_flow_on_an_unknown_line_or_of_another_length_is_refused():
    with pytest.raises(ValueError, match="'coal'"):
        flows_of([CarbonFlow(np.ones(2), {"coal": 1.0})], 2)
    with pytest.raises(ValueError, match="expected"):
        flows_of([CarbonFlow(np.ones(3), {"diesel": 1.0})], 2)


def test_intensity_park_reduction_and_pre_assessment():
    site_a = account([1000.0], economics={"output_value": 2.0e6, "value_added": 5.0e5})
    site_b = account([3000.0], economics={"output_value": 1.0e6, "value_added": None})
    total = site_a["location_based_t"]
    assert site_a["intensity_t_per_10k_cny"]["output_value"]["location_based"] == total / 200.0
    assert site_a["intensity_t_per_10k_cny"]["value_added"]["location_based"] == total / 50.0
    park = park_account([site_a, site_b])
    assert park["location_based_t"] == pytest.approx(total + site_b["location_based_t"])
    assert park["by_carrier_t"]["diesel"] == pytest.approx(2 * 3.2 * 3145.0 / 1000.0)
    assert set(park["intensity_t_per_10k_cny"]) == {"output_value"}  # both sites give it
    assert park["intensity_t_per_10k_cny"]["output_value"]["market_based"] == pytest.approx(
        park["market_based_t"] / 300.0
    )
    cut = reduction(site_a, site_b)
    assert cut["location_based_t"] == pytest.approx(site_b["location_based_t"] - total)
    assert cut["location_based_fraction"] == pytest.approx(
        cut["location_based_t"] / site_b["location_based_t"]
    )
    value = total / 200.0
    passed = pre_assessment(
        site_a, threshold_t_per_10k_cny=value, basis="output_value", accounting="location_based"
    )
    failed = pre_assessment(
        site_a,
        threshold_t_per_10k_cny=value * 0.99,
        basis="output_value",
        accounting="location_based",
    )
    assert (passed["result"], failed["result"]) == ("pass", "fail")
    assert passed["intensity_t_per_10k_cny"] == value


# ----------------------------------------------------------- through a run


def emissions_case(tmp_path, **emissions):
    data = scenario_dict(tmp_path, [100.0] * 24, price=0.5)
    data["site"]["emissions"] = emissions
    return data


def test_run_carbon_account_matches_activity_and_import(tmp_path):
    data = emissions_case(
        tmp_path,
        factors={"electricity": "grid-east-china-2023", "diesel": "diesel-ipcc2006"},
        activity={"natural_gas_nm3": 1000.0, "diesel_t": 2.0, "heat_gj": 30.0},
        economics={"output_value_cny": 1.0e5, "value_added_cny": 4.0e4},
        pre_assessment={"threshold_t_per_10k_cny": 1.0, "basis": "value_added"},
    )
    carbon = solve_case(tmp_path, data).summary["carbon"]
    by = carbon["by_carrier_t"]
    assert by["electricity_location_based"] == pytest.approx(2400 * 0.55 / 1000)
    assert by["electricity_market_based"] == pytest.approx(2400 * 0.55 / 1000)
    # activity and economic figures are annual: the one-day horizon counts 1/365 (2026)
    day = 1.0 / 365.0
    assert carbon["annual"]["horizon_share_of_year"] == pytest.approx(day, rel=1e-12)
    assert by["natural_gas"] == pytest.approx(1000.0 * 2.162 / 1000 * day, rel=1e-12)
    assert by["diesel"] == pytest.approx(2.0 * 3186.0 / 1000 * day, rel=1e-12)
    assert by["heat"] == pytest.approx(30.0 * 110.0 / 1000 * day, rel=1e-12)
    total = 1.32 + (2.162 + 6.372 + 3.3) * day
    assert carbon["location_based_t"] == pytest.approx(total)
    assert carbon["intensity_t_per_10k_cny"]["value_added"]["location_based"] == pytest.approx(
        total / (4.0 * day)
    )
    assert carbon["pre_assessment"]["result"] == "fail"  # 123 t per 10^4 CNY > 1.0
    assert carbon["factors"]["electricity"]["name"] == "grid-east-china-2023"
    assert carbon["factors"]["electricity_market_based"]["name"] == "grid-east-china-2023"
    assert carbon["reduction_vs_baseline"]["location_based_t"] == pytest.approx(0.0, abs=1e-9)


def test_hourly_grid_factor_series_and_market_factor(tmp_path):
    factors = [0.4] * 12 + [0.7] * 12
    write_csv(tmp_path / "factor.csv", index(24), kg_per_kwh=factors)
    data = emissions_case(
        tmp_path,
        grid_factor_series={"file": "factor.csv", "column": "kg_per_kwh"},
        factors={"electricity_market_based": "grid-national-2022-excl-green"},
    )
    result = solve_case(tmp_path, data)
    by = result.summary["carbon"]["by_carrier_t"]
    assert by["electricity_location_based"] == pytest.approx(100 * (12 * 0.4 + 12 * 0.7) / 1000)
    assert by["electricity_market_based"] == pytest.approx(2400 * 0.5856 / 1000)
    assert result.schedule["grid_factor_kg_per_kwh"].to_numpy() == pytest.approx(factors)
    assert result.summary["carbon"]["grid_factor_series"] is True


def test_unknown_factor_name_in_scenario(tmp_path, capsys):
    data = emissions_case(tmp_path, factors={"electricity": "grid-suzhou-2023", "heat": "steam"})
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    keys = {p.key: p for p in info.value.problems}
    assert set(keys) == {"site.emissions.factors.electricity", "site.emissions.factors.heat"}
    assert "grid-national-2023" in keys["site.emissions.factors.electricity"].allowed
    assert "heat-ndrc-guideline" in keys["site.emissions.factors.heat"].allowed
    out = tmp_path / "runs" / "out"
    code = vpp.cli.main(["run", str(write_scenario(tmp_path, data)), "--out", str(out)])
    assert code == EXIT_BAD_INPUT
    assert "grid-suzhou-2023" in capsys.readouterr().err
    assert not out.exists()


def test_negative_grid_factor_series(tmp_path):
    write_csv(tmp_path / "factor.csv", index(24), kg_per_kwh=[0.5] * 23 + [-0.1])
    data = emissions_case(
        tmp_path, grid_factor_series={"file": "factor.csv", "column": "kg_per_kwh"}
    )
    with pytest.raises(DataError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (problem,) = info.value.problems
    assert problem.key == "site.emissions.grid_factor_series column 'kg_per_kwh'"
    assert problem.timestamp.startswith("2026-01-05T23:00:00")


def test_pre_assessment_needs_its_economic_figure(tmp_path):
    data = emissions_case(
        tmp_path, pre_assessment={"threshold_t_per_10k_cny": 0.5, "basis": "output_value"}
    )
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(write_scenario(tmp_path, data))
    (problem,) = info.value.problems
    assert problem.key == "site.emissions"
    assert "economics.output_value_cny" in problem.message


def test_carriers_constant():
    assert CARRIERS == ("electricity", "natural_gas", "diesel", "heat")
