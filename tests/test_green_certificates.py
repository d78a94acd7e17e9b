"""Renewable targets and green certificates: annual vs hourly matching, green storage.

The site: a 100 kW load for 24 h at a flat 0.5 CNY/kWh, 200 kW of PV in hours 8-15
(no export: the surplus is curtailed or stored). PV alone covers 800 of 2400 kWh
(a third), all of it in daytime. Every solved case passes
:func:`helpers.check_invariants`, which also checks the target row by row.
"""

from __future__ import annotations

import pytest
from helpers import (
    COST_ATOL_CNY,
    COST_RTOL,
    POWER_TOL_KW,
    SOC_TOL_KWH,
    battery,
    index,
    scenario_dict,
    solve_case,
    write_csv,
    write_scenario,
)

import vpp
from vpp.errors import InfeasibleError, ScenarioError
from vpp.scenario.green import RenewableTarget

LOAD = [100.0] * 24
PV = [0.0] * 8 + [200.0] * 8 + [0.0] * 8
NIGHT = [t for t in range(24) if not 8 <= t < 16]
#: The grid-only bill: 16 night hours x 100 kW x 0.5 CNY/kWh.
GRID_ONLY_CNY = 16 * 100 * 0.5


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def site(tmp_path, *, batteries=(), contract: bool = False, step: str | None = None, **target):
    """The test site with a renewable target; optionally a 50 kW wind contract at 0.60."""
    hold = step is not None and step != "1h"
    data = scenario_dict(
        tmp_path,
        LOAD,
        price=0.5,
        pv_kw=PV,
        batteries=batteries,
        step=step,
        resample="hold" if hold else "none",
    )
    target.setdefault("certificate_price_cny_per_mwh", 7.0)
    data["site"]["renewable_target"] = target
    if contract:
        write_csv(tmp_path / "wind.csv", index(24), wind_kw=[50.0] * 24)
        profile = {"file": "wind.csv", "column": "wind_kw"}
        if hold:
            profile["resample"] = "hold"
        data["site"]["green_contracts"] = [
            {
                "name": "wind",
                "profile": profile,
                "settlement": "hourly",
                "energy_price_cny_per_mwh": 350.0,
                "green_premium_cny_per_mwh": 50.0,
                "grid_fees_cny_per_kwh": 0.2,  # 0.60 CNY/kWh: 0.10 above TOU
            }
        ]
    return data


def test_annual_target_met_by_pv(tmp_path):
    s = solve_case(tmp_path, site(tmp_path, basis="annual", fraction=0.3)).summary
    assert s["total_cost_cny"] == approx_cny(GRID_ONLY_CNY)
    target = s["green"]["target"]
    assert target["certificates_mwh"] == pytest.approx(0.0, abs=1e-9)
    assert target["achieved_fraction"] == pytest.approx(800 / 2400)  # the largest share
    assert target["consumption_mwh"] == pytest.approx(2.4)


def test_annual_target_buys_certificates(tmp_path):
    # 50 % of 2400 kWh = 1200 kWh; PV gives 800: 0.4 MWh of certificates at 7 CNY/MWh.
    s = solve_case(tmp_path, site(tmp_path, basis="annual", fraction=0.5)).summary
    assert s["certificates_cny"] == approx_cny(0.4 * 7.0)
    assert s["total_cost_cny"] == approx_cny(GRID_ONLY_CNY + 2.8)
    assert s["green"]["target"]["certificates_mwh"] == pytest.approx(0.4)
    assert s["green"]["target"]["achieved_fraction"] == pytest.approx(0.5)
    # certificates lower market-based, not location-based, emissions
    carbon = s["carbon"]
    factor = carbon["factors"]["electricity"]["value"]
    assert carbon["by_carrier_t"]["electricity_location_based"] == pytest.approx(1.6 * factor)
    assert carbon["by_carrier_t"]["electricity_market_based"] == pytest.approx(1.2 * factor)
    assert carbon["activity"]["certificates_counted_kwh"] == pytest.approx(400.0)


def test_certificates_need_not_lower_market_based_emissions(tmp_path):
    data = site(tmp_path, basis="annual", fraction=0.5)
    data["site"]["emissions"] = {"market_based_certificates": False}
    s = solve_case(tmp_path, data).summary
    assert s["certificates_cny"] == approx_cny(2.8)  # still bought for the target
    by = s["carbon"]["by_carrier_t"]
    assert by["electricity_market_based"] == pytest.approx(by["electricity_location_based"])


@pytest.mark.parametrize(("basis", "taken_kw"), [("annual", 0.0), ("hourly", 30.0)])
def test_hourly_target_binds_where_annual_does_not(tmp_path, basis, taken_kw):
    # A 30 % target. Annual: PV's third of the day meets it; the wind contract (0.10 above
    # TOU) is not taken. Hourly: each night hour needs 30 kW of green power, which only
    # the contract can give: 16 h x 30 kW x 0.10 = 48 CNY more.
    result = solve_case(tmp_path, site(tmp_path, contract=True, basis=basis, fraction=0.3))
    take = result.schedule["wind_take_kw"].to_numpy()
    assert take[NIGHT] == pytest.approx([taken_kw] * 16, abs=POWER_TOL_KW)
    assert result.summary["total_cost_cny"] == approx_cny(GRID_ONLY_CNY + 0.1 * 16 * taken_kw)
    if basis == "hourly":
        assert result.summary["green"]["target"]["lowest_step_fraction"] == pytest.approx(0.3)


def test_hourly_target_same_at_15_min(tmp_path):
    one = solve_case(
        tmp_path / "h", site(tmp_path / "h", contract=True, basis="hourly", fraction=0.3)
    )
    quarter = solve_case(
        tmp_path / "q",
        site(tmp_path / "q", contract=True, step="15min", basis="hourly", fraction=0.3),
    )
    assert quarter.summary["total_cost_cny"] == approx_cny(one.summary["total_cost_cny"])


def test_certificates_count_hourly_only_when_allowed(tmp_path):
    # certificates_count: true -> each night hour's 30 kW is covered by certificates
    # (0.007 CNY/kWh) instead of the contract (0.10): 480 kWh -> 3.36 CNY.
    data = site(tmp_path, contract=True, basis="hourly", fraction=0.3, certificates_count=True)
    result = solve_case(tmp_path, data)
    assert result.summary["certificates_cny"] == approx_cny(0.48 * 7.0)
    assert result.summary["total_cost_cny"] == approx_cny(GRID_ONLY_CNY + 3.36)
    assert result.schedule["wind_take_kw"].to_numpy() == pytest.approx([0.0] * 24, abs=1e-6)


@pytest.mark.parametrize(("storage", "expected"), [([], 520.0 + 48.0), (["bess"], 400.0 + 24.0)])
def test_battery_discharge_counts_only_when_green_storage_is_declared(tmp_path, storage, expected):
    # A lossless 1000 kWh / 100 kW battery, empty at midnight, stores the 800 kWh PV
    # surplus for the evening. Hourly 30 %: hours 0-7 need the contract (30 kW each)
    # either way. Without green_storage the evening needs it too, and since contract
    # energy is grid import, the battery may give only 70 kW in hours 16-23: grid
    # 800 + 8 x 30 = 1040 kWh (520 CNY) plus 16 x 30 kWh at +0.10 (48 CNY). With it, the
    # stored PV is green: grid 800 kWh (400 CNY) plus 8 x 30 kWh at +0.10 (24 CNY).
    bess = battery(energy_kwh=1000.0, power_kw=100.0)
    data = site(
        tmp_path,
        batteries=[bess],
        contract=True,
        basis="hourly",
        fraction=0.3,
        green_storage=storage,
    )
    result = solve_case(tmp_path, data)
    assert result.summary["total_cost_cny"] == approx_cny(expected)
    assert result.summary["green"]["target"]["green_storage"] == storage
    evening = result.schedule["wind_take_kw"].to_numpy()[16:]
    assert evening == pytest.approx([0.0 if storage else 30.0] * 8, abs=POWER_TOL_KW)


def test_green_state_of_charge_keeps_the_losses(tmp_path):
    # 90 % efficient each way: 8 h x 100 kW of PV surplus store 720 kWh, all green; the
    # evening gets 648 kWh back. Grid 800 + (800 - 648) = 952 kWh -> 476 CNY, plus the
    # contract's 30 kW in hours 0-7 at +0.10 -> 24 CNY.
    bess = battery(energy_kwh=1000.0, power_kw=100.0, eta_c=0.9, eta_d=0.9)
    data = site(
        tmp_path,
        batteries=[bess],
        contract=True,
        basis="hourly",
        fraction=0.3,
        green_storage=["bess"],
    )
    result = solve_case(tmp_path, data)
    s = result.schedule
    assert s["green_bess_soc_kwh"].iloc[16] == pytest.approx(720.0, abs=SOC_TOL_KWH)
    assert s["bess_soc_kwh"].iloc[16] == pytest.approx(720.0, abs=SOC_TOL_KWH)
    assert result.summary["total_cost_cny"] == approx_cny(952 * 0.5 + 24.0)


def test_hourly_target_infeasible_is_explained(tmp_path):
    data = site(tmp_path, basis="hourly", fraction=0.3)
    with pytest.raises(InfeasibleError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (problem,) = [p for p in info.value.problems if p.key == "site.renewable_target.fraction"]
    assert problem.timestamp.startswith("2026-01-05T00:00:00")
    assert "16 step(s)" in problem.message and "30.0 kW" in problem.message


def test_annual_target_without_certificates_infeasible_is_explained(tmp_path):
    # PV can cover at most 800 of 2400 kWh; 50 % without certificates falls 400 kWh short
    data = site(tmp_path, basis="annual", fraction=0.5, certificates_count=False)
    with pytest.raises(InfeasibleError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (problem,) = [p for p in info.value.problems if p.key == "site.renewable_target.fraction"]
    assert "annual" in problem.message and "0.400 MWh" in problem.message


@pytest.mark.parametrize("fraction", [1.5, -0.1, 30.0])
def test_target_fraction_outside_0_1(tmp_path, fraction):
    data = site(tmp_path, basis="annual", fraction=fraction)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(write_scenario(tmp_path, data))
    (problem,) = info.value.problems
    assert problem.key == "site.renewable_target.fraction"
    assert "outside 0..1" in problem.message and "not a percent" in problem.message


def test_green_storage_must_name_a_battery(tmp_path):
    data = site(tmp_path, basis="hourly", fraction=0.3, green_storage=["bes"])
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    (problem,) = info.value.problems
    assert problem.key == "site.renewable_target.green_storage"
    assert "'bes'" in problem.message


def test_certificates_count_defaults():
    annual = RenewableTarget(basis="annual", fraction=0.2, certificate_price_cny_per_mwh=7)
    hourly = RenewableTarget(basis="hourly", fraction=0.2, certificate_price_cny_per_mwh=7)
    assert annual.certificates_allowed and not hourly.certificates_allowed
