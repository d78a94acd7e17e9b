"""Green-power contracts (绿电): known answers worked out by hand, and bad input.

A contract's energy is part of the metered grid import, paid at energy price + green
premium + grid fees instead of the TOU price. Every solved case also passes
:func:`helpers.check_invariants` (through ``solve_case``), which recomputes the
contract costs from the schedule and checks the take against profile and net import.
"""

from __future__ import annotations

import pytest
from helpers import (
    COST_ATOL_CNY,
    COST_RTOL,
    POWER_TOL_KW,
    index,
    scenario_dict,
    solve_case,
    write_csv,
    write_scenario,
)

import vpp
from vpp.errors import ScenarioError

#: One day of a 31-day month: a monthly volume of 31 MWh gives 1000 kWh inside it.
JAN_MWH = 31.0
DAY_KWH = 1000.0


def approx_cny(value: float) -> object:
    return pytest.approx(value, rel=COST_RTOL, abs=COST_ATOL_CNY)


def contract(**extra: object) -> dict:
    """0.40 + 0.10 CNY/kWh energy and premium, 0.20 CNY/kWh grid fees: 0.70 CNY/kWh."""
    entry = {
        "name": "wind",
        "monthly_mwh": {"2026-01": JAN_MWH},
        "settlement": "monthly",
        "energy_price_cny_per_mwh": 400.0,
        "green_premium_cny_per_mwh": 100.0,
        "grid_fees_cny_per_kwh": 0.2,
    }
    entry.update(extra)
    return entry


def with_contracts(data: dict, *contracts: dict) -> dict:
    data["site"]["green_contracts"] = list(contracts)
    return data


def taken_kwh(result, name: str = "wind") -> float:
    return float(result.schedule[f"{name}_take_kw"].sum())  # 1 h steps


# ----------------------------------------------------------- within the terms


def test_free_monthly_volume_goes_to_the_expensive_hours(tmp_path):
    # TOU 0.4 (hours 0-11) and 0.8 (12-23), load 100 kW. A green kWh costs 0.70: it saves
    # 0.10 in the expensive hours only. The volume (1000 kWh) caps the take below the
    # 1200 kWh of expensive consumption. Bill = 1200 x 0.4 + 1200 x 0.8 - 1000 x 0.1.
    price = [0.4] * 12 + [0.8] * 12
    data = with_contracts(
        scenario_dict(tmp_path, [100.0] * 24, price=price), contract(volume_shape="free")
    )
    result = solve_case(tmp_path, data)
    s = result.summary
    assert taken_kwh(result) == pytest.approx(DAY_KWH, abs=POWER_TOL_KW)
    assert result.schedule["wind_take_kw"].iloc[:12].to_numpy() == pytest.approx(
        [0.0] * 12, abs=POWER_TOL_KW
    )
    assert s["green_contracts_cny"] == approx_cny(-100.0)
    assert s["total_cost_cny"] == approx_cny(1200 * 0.4 + 1200 * 0.8 - 100.0)
    c = s["green"]["contracts"]["wind"]
    assert c["contracted_mwh"] == pytest.approx(1.0)
    assert c["energy_and_premium_cny"] == approx_cny(500.0)
    assert c["grid_fees_cny"] == approx_cny(200.0)
    assert c["displaced_tou_energy_cny"] == approx_cny(800.0)
    assert s["baseline"]["green_contracts_cny"] == 0.0  # the baseline has no contract


def test_flat_monthly_volume_is_a_baseload_block(tmp_path):
    # volume_shape flat: at most 31 MWh / 744 h = 41.67 kW in each step, taken in the 12
    # expensive hours only: 500 kWh, saving 0.10 each.
    price = [0.4] * 12 + [0.8] * 12
    data = with_contracts(scenario_dict(tmp_path, [100.0] * 24, price=price), contract())
    result = solve_case(tmp_path, data)
    flat_kw = DAY_KWH / 24
    assert result.schedule["wind_available_kw"].to_numpy() == pytest.approx([flat_kw] * 24)
    assert result.schedule["wind_take_kw"].iloc[12:].to_numpy() == pytest.approx(
        [flat_kw] * 12, abs=POWER_TOL_KW
    )
    assert result.summary["green_contracts_cny"] == approx_cny(-0.1 * 12 * flat_kw)


@pytest.mark.parametrize(
    ("penalty", "taken", "extra_cny"),
    [
        # penalty 0.15 CNY/kWh < the 0.20 a green kWh costs over TOU: take nothing, pay
        # 0.15 on the whole minimum 0.6 x 1000 kWh = 600 kWh -> 90 CNY.
        (150.0, 0.0, 0.15 * 600.0),
        # penalty 0.30 > 0.20: take exactly the minimum, 600 kWh at +0.20 -> 120 CNY.
        (300.0, 600.0, 0.20 * 600.0),
    ],
)
def test_take_or_pay_shortfall_monthly(tmp_path, penalty, taken, extra_cny):
    data = with_contracts(
        scenario_dict(tmp_path, [100.0] * 24, price=0.5),
        contract(
            volume_shape="free",
            take_or_pay_fraction=0.6,
            shortfall_penalty_cny_per_mwh=penalty,
        ),
    )
    result = solve_case(tmp_path, data)
    s = result.summary
    assert taken_kwh(result) == pytest.approx(taken, abs=1e-4)
    assert s["green_contracts_cny"] == approx_cny(extra_cny)
    assert s["total_cost_cny"] == approx_cny(2400 * 0.5 + extra_cny)
    c = s["green"]["contracts"]["wind"]
    assert c["minimum_mwh"] == pytest.approx(0.6)
    assert c["shortfall_mwh"] == pytest.approx((600.0 - taken) / 1e3, abs=1e-7)
    assert c["penalty_cny"] == approx_cny(penalty * (600.0 - taken) / 1e3)


@pytest.mark.parametrize("step", ["1h", "15min"])
def test_take_or_pay_hourly_settlement(tmp_path, step):
    # A 50 kW profile in hours 0-11, nothing after; hourly take-or-pay 0.6 -> 30 kWh in
    # each of the 12 hours. Penalty 0.15 < 0.20: no take, 12 x 30 kWh short -> 54 CNY.
    # The same at 15 min (the profile held over each hour).
    profile = [50.0] * 12 + [0.0] * 12
    data = scenario_dict(
        tmp_path, [100.0] * 24, price=0.5, step=step, resample="hold" if step != "1h" else "none"
    )
    write_csv(tmp_path / "wind.csv", index(24), wind_kw=profile)
    spec = {"file": "wind.csv", "column": "wind_kw"}
    if step != "1h":
        spec["resample"] = "hold"
    entry = contract(
        profile=spec,
        settlement="hourly",
        take_or_pay_fraction=0.6,
        shortfall_penalty_cny_per_mwh=150.0,
    )
    del entry["monthly_mwh"]
    result = solve_case(tmp_path, with_contracts(data, entry))
    assert result.summary["green_contracts_cny"] == approx_cny(0.15 * 12 * 30.0)
    assert result.summary["green"]["contracts"]["wind"]["shortfall_mwh"] == pytest.approx(0.36)


def test_contract_energy_is_not_exported(tmp_path):
    # PV 200 kW in hours 8-15 on a 100 kW load, the surplus exported at 0.45. A green
    # kWh (0.40 + 0.20 fees = 0.60) costs 0.10 more than TOU 0.5, less than the 0.14
    # penalty: the take-or-pay minimum 0.5 x 2400 kWh = 1200 kWh is taken, in the 16
    # hours the site imports; never while it exports (it is part of the import).
    pv = [0.0] * 8 + [200.0] * 8 + [0.0] * 8
    data = scenario_dict(
        tmp_path,
        [100.0] * 24,
        price=0.5,
        pv_kw=pv,
        export_price=0.45,
        grid={"export_limit_kw": 1000.0},
    )
    write_csv(tmp_path / "wind.csv", index(24), wind_kw=[100.0] * 24)
    entry = contract(
        profile={"file": "wind.csv", "column": "wind_kw"},
        energy_price_cny_per_mwh=400.0,
        green_premium_cny_per_mwh=0.0,
        take_or_pay_fraction=0.5,
        shortfall_penalty_cny_per_mwh=140.0,  # 0.45 + 0.14 < 0.60: no reason to loop
    )
    del entry["monthly_mwh"]
    result = solve_case(tmp_path, with_contracts(data, entry))
    take = result.schedule["wind_take_kw"].to_numpy()
    assert take[8:16] == pytest.approx([0.0] * 8, abs=POWER_TOL_KW)
    assert taken_kwh(result) == pytest.approx(1200.0, abs=1e-4)
    # bill: 1600 kWh imported at 0.5, of which 1200 kWh green at +0.10; 800 kWh exported
    assert result.summary["total_cost_cny"] == approx_cny(1600 * 0.5 + 1200 * 0.1 - 800 * 0.45)
    assert result.summary["green"]["contracts"]["wind"]["taken_while_exporting_mwh"] == 0.0
    assert result.summary["green"]["notes"] == []


# ----------------------------------------------------------- bad input


def month_case(tmp_path, volume_mwh: float):
    """January 2026 (744 h): a 100 kW flat profile holds 74.4 MWh."""
    n = 744
    data = scenario_dict(tmp_path, [100.0] * n, price=0.5, start="2026-01-01T00:00:00")
    write_csv(tmp_path / "wind.csv", index(n, start="2026-01-01T00:00:00"), wind_kw=[100.0] * n)
    entry = contract(
        profile={"file": "wind.csv", "column": "wind_kw"}, monthly_mwh={"2026-01": volume_mwh}
    )
    return with_contracts(data, entry)


def run_error(tmp_path, data) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        vpp.run(vpp.load_scenario(write_scenario(tmp_path, data)))
    return info.value


def test_volumes_inconsistent_with_profile(tmp_path):
    err = run_error(tmp_path, month_case(tmp_path, 80.0))
    (problem,) = err.problems
    assert problem.key == "site.green_contracts[0].monthly_mwh.2026-01"
    assert "80 MWh" in problem.value
    assert "74.400 MWh" in problem.message


def test_volumes_consistent_with_profile_pass(tmp_path):
    inputs = vpp.inputs.site.build_inputs(
        vpp.load_scenario(write_scenario(tmp_path, month_case(tmp_path, 74.4)))
    )
    assert [a.name for a in inputs.assets if a.kind == "green_contract"] == ["wind"]


def test_month_without_volume(tmp_path):
    data = scenario_dict(tmp_path, [100.0] * 48, price=0.5, start="2026-01-31T00:00:00")
    err = run_error(tmp_path, with_contracts(data, contract()))
    (problem,) = err.problems
    assert problem.key == "site.green_contracts[0].monthly_mwh"
    assert "2026-02" in problem.message


@pytest.mark.parametrize(
    ("change", "key", "text"),
    [
        ({"settlement": "hourly"}, "site.green_contracts[0]", "hourly settlement needs"),
        ({"monthly_mwh": {"January": 3.0}}, "site.green_contracts[0].monthly_mwh", "YYYY-MM"),
        ({"monthly_mwh": None}, "site.green_contracts[0]", "give a delivery 'profile'"),
        ({"take_or_pay_fraction": 1.2}, "site.green_contracts[0].take_or_pay_fraction", "1"),
        ({"name": "green"}, "site", "not 'grid', 'load', 'green' or 'carbon'"),
    ],
)
def test_bad_contract_entries(tmp_path, change, key, text):
    data = scenario_dict(tmp_path, [100.0] * 24, price=0.5)
    entry = contract(**change)
    if entry.get("monthly_mwh") is None:
        entry.pop("monthly_mwh", None)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(write_scenario(tmp_path, with_contracts(data, entry)))
    problems = [p for p in info.value.problems if p.key == key]
    assert problems, str(info.value)
    assert text in problems[0].message
