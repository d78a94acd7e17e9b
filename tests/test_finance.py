"""Finance of an investment (vpp.planning.finance) against hand calculations.

Every expected figure is worked out in the test itself, from the textbook formulas,
independently of the module's vectorized code. The last section checks that the
scenario schema refuses nonsensical finance and sizing input with a clear message.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
from vpp.errors import ScenarioError
from vpp.planning.finance import (
    annualized_cny,
    cash_flows,
    crf,
    finance_summary,
    irr,
    npv_cny,
    payback_years,
)
from vpp.planning.investment import Investment
from vpp.planning.levelized import lcoe_cny_per_kwh, lcos_cny_per_kwh
from vpp.scenario.planning import Finance

#: A factor given to 9 significant digits in the test [-].
FACTOR_TOL = 5e-9
#: Amounts recomputed here by the same formulas, only summed in another order [CNY].
CNY_TOL = 1e-6
#: Amounts built from a 7-digit tabulated annuity factor (300 x 5e-7) [CNY].
TABLE_TOL_CNY = 2e-4
#: IRR vs a value written to 5 decimals [-/year].
IRR_TABLE_TOL = 1e-5
#: The NPV at the IRR found is zero to this [CNY].
NPV_AT_IRR_TOL_CNY = 1e-6
#: Payback times [year].
YEARS_TOL = 1e-9
#: Levelized costs recomputed here [CNY/kWh].
LEVELIZED_TOL = 1e-12
#: CO2 amounts [t].
CO2_TOL_T = 1e-9
#: A figure written to 4 decimals in the test, in its own unit.
FOUR_DECIMALS_TOL = 1e-4
#: A figure written to 3 decimals in the test, in its own unit.
THREE_DECIMALS_TOL = 1e-3
#: An IRR against its closed form [-/year] (brentq's xtol is 1e-12).
IRR_TOL = 1e-9


def one_component(capex_cny: float, lifetime_years: int, **extra) -> list[Investment]:
    """A single battery without energy (only its money matters)."""
    return [Investment("bess", "battery", capex_cny, lifetime_years=lifetime_years, **extra)]


# ------------------------------------------------------------------ annuities


def test_crf_known_value():
    # 1.08^10 = 2.158924997; 0.08 * 2.158924997 / 1.158924997 = 0.149029489
    assert crf(0.08, 10) == pytest.approx(0.149029489, abs=FACTOR_TOL)
    assert annualized_cny(1000.0, 0.08, 10) == pytest.approx(149.029489, abs=1e3 * FACTOR_TOL)


def test_crf_at_zero_rate_is_one_over_n():
    assert crf(0.0, 10) == pytest.approx(0.1, abs=FACTOR_TOL)
    assert crf(0.0, 1) == pytest.approx(1.0, abs=FACTOR_TOL)
    # and it is the limit of the general formula
    assert crf(1e-9, 10) == pytest.approx(0.1, abs=10 * FACTOR_TOL)


@pytest.mark.parametrize(("rate", "years"), [(0.06, 0), (0.06, -3), (-1.0, 10), (0.06, 2.5)])
def test_crf_refuses_nonsense(rate, years):
    with pytest.raises(ValueError, match="year|rate"):
        crf(rate, years)


def test_annualized_refuses_negative_capex():
    with pytest.raises(ValueError, match="capex_cny must be 0 or more, got -5"):
        annualized_cny(-5.0, 0.06, 10)


# ------------------------------------------------------------------ the textbook case


@pytest.fixture
def textbook() -> dict:
    """Capex 1000 CNY, savings 300 CNY/year for 5 years at 10 %, no O&M, no salvage."""
    finance = Finance(discount_rate=0.10, analysis_years=5)
    return finance_summary(
        one_component(1000.0, 5),
        annual_savings_cny=300.0,
        pv_savings_cny=0.0,
        finance=finance,
    )


def test_textbook_npv(textbook):
    annuity_5y_10pct = 3.790787  # sum of 1.1^-y, y = 1..5, from the annuity table
    assert textbook["npv_cny"] == pytest.approx(
        -1000.0 + 300.0 * annuity_5y_10pct, abs=TABLE_TOL_CNY
    )
    assert textbook["npv_cny"] == pytest.approx(137.236, abs=THREE_DECIMALS_TOL)
    flows = [-1000.0] + [300.0] * 5
    assert npv_cny(flows, 0.10) == pytest.approx(textbook["npv_cny"], abs=CNY_TOL)


def test_textbook_irr(textbook):
    rate = textbook["irr_fraction"]
    assert rate == pytest.approx(0.15238, abs=IRR_TABLE_TOL)
    assert npv_cny([-1000.0] + [300.0] * 5, rate) == pytest.approx(0.0, abs=NPV_AT_IRR_TOL_CNY)


def test_textbook_paybacks(textbook):
    # cumulative: -1000, -700, -400, -100, +200: recovered 100/300 into year 4
    assert textbook["simple_payback_years"] == pytest.approx(3.0 + 100.0 / 300.0, abs=YEARS_TOL)
    # discounted: 300/1.1^y = 272.727, 247.934, 225.394, 204.904, 186.276
    discounted = [300.0 / 1.1**y for y in range(1, 6)]
    after_4 = -1000.0 + sum(discounted[:4])  # -49.0404
    assert after_4 == pytest.approx(-49.0404, abs=FOUR_DECIMALS_TOL)
    expected = 4.0 + -after_4 / discounted[4]  # 4.2633
    assert textbook["discounted_payback_years"] == pytest.approx(expected, abs=YEARS_TOL)
    assert textbook["discounted_payback_years"] == pytest.approx(4.2633, abs=FOUR_DECIMALS_TOL)


def test_textbook_table_and_json(textbook):
    rows = textbook["cash_flows"]
    assert [r["year"] for r in rows] == [0, 1, 2, 3, 4, 5]
    assert rows[0]["capex_cny"] == pytest.approx(1000.0, abs=CNY_TOL)
    assert rows[0]["net_cny"] == pytest.approx(-1000.0, abs=CNY_TOL)
    assert rows[5]["salvage_cny"] == pytest.approx(0.0, abs=CNY_TOL)  # life ends at year 5
    assert rows[5]["cumulative_net_cny"] == pytest.approx(500.0, abs=CNY_TOL)
    assert rows[5]["cumulative_discounted_net_cny"] == pytest.approx(
        textbook["npv_cny"], abs=CNY_TOL
    )
    assert textbook["capex_cny"] == pytest.approx(1000.0, abs=CNY_TOL)
    assert textbook["annualized_capex_cny"] == pytest.approx(1000.0 * crf(0.10, 5), abs=CNY_TOL)
    json.dumps(textbook, allow_nan=False)  # JSON-able, no NaN


# ------------------------------------------------------------------ escalation and O&M


def test_tariff_and_om_escalation():
    finance = Finance(
        discount_rate=0.10,
        analysis_years=3,
        tariff_escalation_fraction_per_year=0.03,
        om_escalation_fraction_per_year=0.05,
    )
    items = one_component(1000.0, 3, om_cny_per_year=20.0)
    frame = cash_flows(items, annual_savings_cny=300.0, pv_savings_cny=0.0, finance=finance)
    # savings 300, 309, 318.27; O&M 20, 21, 22.05
    savings = [0.0, 300.0, 309.0, 318.27]
    om = [0.0, 20.0, 21.0, 22.05]
    assert frame["savings_cny"].tolist() == pytest.approx(savings, abs=CNY_TOL)
    assert frame["om_cny"].tolist() == pytest.approx(om, abs=CNY_TOL)
    net = [-1000.0, 280.0, 288.0, 296.22]
    assert frame["net_cny"].tolist() == pytest.approx(net, abs=CNY_TOL)
    by_hand = -1000.0 + 280.0 / 1.1 + 288.0 / 1.21 + 296.22 / 1.331
    assert npv_cny(frame["net_cny"], 0.10) == pytest.approx(by_hand, abs=CNY_TOL)
    assert frame["discounted_net_cny"].sum() == pytest.approx(by_hand, abs=CNY_TOL)


# ------------------------------------------------------------------ replacement, re-purchase


def test_battery_replacement_appears_once_and_discounted():
    finance = Finance(discount_rate=0.06, analysis_years=20)
    items = one_component(100_000.0, 15, replacement_year=8, replacement_cny=40_000.0)
    frame = cash_flows(items, annual_savings_cny=15_000.0, pv_savings_cny=0.0, finance=finance)
    replaced = frame.loc[frame["replacement_cny"] > 0.0, "year"].tolist()
    assert replaced == [8]  # the second-life replacement would fall in year 23 > 20
    row = frame.set_index("year").loc[8]
    assert row["replacement_cny"] == pytest.approx(40_000.0, abs=CNY_TOL)
    assert row["discounted_net_cny"] == pytest.approx((15_000.0 - 40_000.0) / 1.06**8, abs=CNY_TOL)
    # bought at 0 and again at 15; at year 20 the second one has 10 of 15 years left
    bought = frame.loc[frame["capex_cny"] > 0.0, "year"].tolist()
    assert bought == [0, 15]
    salvage = 100_000.0 * 10.0 / 15.0
    assert frame["salvage_cny"].iloc[-1] == pytest.approx(salvage, abs=CNY_TOL)
    assert frame["salvage_cny"].iloc[:-1].abs().max() == pytest.approx(0.0, abs=CNY_TOL)
    npv = -100_000.0 - 40_000.0 / 1.06**8 - 100_000.0 / 1.06**15 + salvage / 1.06**20
    npv += sum(15_000.0 / 1.06**y for y in range(1, 21))
    assert npv_cny(frame["net_cny"], 0.06) == pytest.approx(npv, abs=CNY_TOL)


def test_short_life_repurchases_and_linear_salvage():
    finance = Finance(discount_rate=0.05, analysis_years=20)
    items = [
        Investment("roof", "pv", 8_000.0, lifetime_years=8, annual_energy_kwh=1000.0),
    ]
    frame = cash_flows(items, annual_savings_cny=900.0, pv_savings_cny=900.0, finance=finance)
    capex = frame.set_index("year")["capex_cny"]
    assert capex[capex > 0.0].index.tolist() == [0, 8, 16]
    assert capex[capex > 0.0].tolist() == pytest.approx([8_000.0] * 3, abs=CNY_TOL)
    # the purchase of year 16 serves 17..24: at 20 it has 4 of 8 years left
    assert frame["salvage_cny"].iloc[-1] == pytest.approx(8_000.0 * 4.0 / 8.0, abs=CNY_TOL)


def test_replacement_inside_a_short_analysis_and_salvage():
    finance = Finance(discount_rate=0.06, analysis_years=10)
    items = one_component(90_000.0, 15, replacement_year=8, replacement_cny=30_000.0)
    frame = cash_flows(items, annual_savings_cny=1.0, pv_savings_cny=0.0, finance=finance)
    assert frame["replacement_cny"].sum() == pytest.approx(30_000.0, abs=CNY_TOL)
    assert frame["capex_cny"].sum() == pytest.approx(90_000.0, abs=CNY_TOL)
    assert frame["salvage_cny"].iloc[-1] == pytest.approx(90_000.0 * 5.0 / 15.0, abs=CNY_TOL)


# ------------------------------------------------------------------ PV degradation


def test_degradation_reduces_only_the_pv_part():
    finance = Finance(
        discount_rate=0.06, analysis_years=3, tariff_escalation_fraction_per_year=0.05
    )
    items = [
        Investment(
            "roof", "pv", 5_000.0, annual_energy_kwh=1_000.0, degradation_fraction_per_year=0.01
        ),
        Investment("bess", "battery", 3_000.0, lifetime_years=15),
    ]
    frame = cash_flows(
        items,
        annual_savings_cny=1_000.0,
        pv_savings_cny=600.0,
        finance=finance,
        annual_co2_avoided_t=10.0,
        pv_co2_avoided_t=6.0,
    )
    # battery part 400 stays, PV part 600 fades by 1 %/year; all escalates by 5 %/year
    savings = [
        0.0,
        1_000.0,
        (400.0 + 600.0 * 0.99) * 1.05,
        (400.0 + 600.0 * 0.99**2) * 1.05**2,
    ]
    assert frame["savings_cny"].tolist() == pytest.approx(savings, abs=CNY_TOL)
    co2 = [0.0, 10.0, 4.0 + 6.0 * 0.99, 4.0 + 6.0 * 0.99**2]
    assert frame["co2_avoided_t"].tolist() == pytest.approx(co2, abs=CO2_TOL_T)


def test_degradation_per_array_weighted_by_energy():
    finance = Finance(discount_rate=0.06, analysis_years=2)
    items = [
        Investment("old", "pv", 1.0, annual_energy_kwh=1_000.0, degradation_fraction_per_year=0.01),
        Investment("new", "pv", 1.0, annual_energy_kwh=3_000.0, degradation_fraction_per_year=0.0),
    ]
    frame = cash_flows(items, annual_savings_cny=800.0, pv_savings_cny=800.0, finance=finance)
    # year 2: 1/4 of the PV savings fade by 1 %, 3/4 do not
    year2 = 800.0 * (0.25 * 0.99 + 0.75 * 1.0)
    assert frame["savings_cny"].iloc[2] == pytest.approx(year2, abs=CNY_TOL)


def test_pv_savings_without_pv_is_refused():
    finance = Finance(discount_rate=0.06, analysis_years=10)
    with pytest.raises(ValueError, match="no PV investment"):
        cash_flows(
            one_component(1.0, 10), annual_savings_cny=5.0, pv_savings_cny=5.0, finance=finance
        )


# ------------------------------------------------------------------ levelized costs


def test_lcoe_by_hand():
    capex, om, energy, d, r, n = 3500.0, 50.0, 1100.0, 0.005, 0.06, 25  # per kWp
    costs, kwh = capex, 0.0
    for year in range(1, n + 1):
        costs += om / (1.0 + r) ** year
        kwh += energy * (1.0 - d) ** (year - 1) / (1.0 + r) ** year
    assert lcoe_cny_per_kwh(capex, om, energy, d, r, n) == pytest.approx(
        costs / kwh, abs=LEVELIZED_TOL
    )
    # cross-check with annuities: (3500 CRF + 50) over about 1100 x 0.95 kWh
    assert costs / kwh == pytest.approx(0.3079, abs=FOUR_DECIMALS_TOL)
    # the same per kWp as for a whole 1000 kWp array
    assert lcoe_cny_per_kwh(1e3 * capex, 1e3 * om, 1e3 * energy, d, r, n) == pytest.approx(
        costs / kwh, abs=LEVELIZED_TOL
    )


def test_lcos_by_hand():
    capex, om, discharged, r, n = 1.2e6, 1e4, 3e5, 0.06, 15
    replacement_year, replacement = 8, 4e5
    costs = capex + replacement / (1.0 + r) ** replacement_year
    kwh = 0.0
    for year in range(1, n + 1):
        costs += om / (1.0 + r) ** year
        kwh += discharged / (1.0 + r) ** year
    got = lcos_cny_per_kwh(
        capex, om, discharged, r, n, replacement_year=replacement_year, replacement_cny=replacement
    )
    assert got == pytest.approx(costs / kwh, abs=LEVELIZED_TOL)


def test_summary_levelized_costs_present_only_with_their_kind():
    finance = Finance(discount_rate=0.06, analysis_years=20)
    pv = Investment(
        "roof", "pv", 3_500.0, om_cny_per_year=50.0, annual_energy_kwh=1_100.0,
        degradation_fraction_per_year=0.005,
    )  # fmt: skip
    only_pv = finance_summary([pv], annual_savings_cny=700.0, pv_savings_cny=700.0, finance=finance)
    assert only_pv["lcoe_pv_cny_per_kwh"] == pytest.approx(
        lcoe_cny_per_kwh(3_500.0, 50.0, 1_100.0, 0.005, 0.06, 25), abs=LEVELIZED_TOL
    )
    assert only_pv["lcos_cny_per_kwh"] is None
    bess = Investment("bess", "battery", 1.2e6, lifetime_years=15, annual_energy_kwh=3e5)
    only_bess = finance_summary([bess], annual_savings_cny=1e5, pv_savings_cny=0.0, finance=finance)
    assert only_bess["lcoe_pv_cny_per_kwh"] is None
    assert only_bess["lcos_cny_per_kwh"] == pytest.approx(
        lcos_cny_per_kwh(1.2e6, 0.0, 3e5, 0.06, 15), abs=LEVELIZED_TOL
    )


# ------------------------------------------------------------------ no answer


def test_irr_none_without_a_sign_change():
    assert irr([-1000.0, -10.0, -10.0]) is None
    assert irr([0.0, 10.0, 10.0]) is None


def test_payback_none_when_never_recovered():
    flows = [-1000.0, 100.0, 100.0]
    assert payback_years(flows) is None
    assert payback_years(flows, discounted=True, rate=0.05) is None
    # its IRR is negative: 100 x^2 + 100 x = 1000 with x = 1/(1+r)
    x = (-1.0 + math.sqrt(41.0)) / 2.0
    assert irr(flows) == pytest.approx(1.0 / x - 1.0, abs=IRR_TOL)


def test_discounted_payback_needs_a_rate():
    with pytest.raises(ValueError, match="discount rate"):
        payback_years([-1.0, 2.0], discounted=True)


def test_irr_with_two_roots_returns_the_one_nearest_zero():
    # -100 + 230 x - 132 x^2 = 0, x = 1/(1+r): x = 240/264 or 220/264, r = 0.1 or 0.2
    assert npv_cny([-100.0, 230.0, -132.0], 0.2) == pytest.approx(0.0, abs=NPV_AT_IRR_TOL_CNY)
    assert irr([-100.0, 230.0, -132.0]) == pytest.approx(0.1, abs=IRR_TOL)


def test_irr_of_flows_with_a_replacement_is_a_root():
    finance = Finance(discount_rate=0.06, analysis_years=20)
    items = one_component(100_000.0, 15, replacement_year=8, replacement_cny=40_000.0)
    frame = cash_flows(items, annual_savings_cny=15_000.0, pv_savings_cny=0.0, finance=finance)
    rate = irr(frame["net_cny"])
    assert rate is not None
    assert npv_cny(frame["net_cny"], rate) == pytest.approx(0.0, abs=NPV_AT_IRR_TOL_CNY)


# ------------------------------------------------------------------ cost per tonne


def test_cost_per_tonne_sign():
    finance = Finance(discount_rate=0.10, analysis_years=5)
    kwargs = {"pv_savings_cny": 0.0, "finance": finance, "annual_co2_avoided_t": 2.0}
    saves = finance_summary(one_component(1000.0, 5), annual_savings_cny=300.0, **kwargs)
    assert saves["co2_avoided_life_t"] == pytest.approx(10.0, abs=CO2_TOL_T)
    # NPV +137.24 CNY over 10 t: abatement pays 13.72 CNY per tonne
    assert saves["cny_per_t_avoided"] == pytest.approx(-saves["npv_cny"] / 10.0, abs=CNY_TOL)
    assert saves["cny_per_t_avoided"] < 0.0
    costs = finance_summary(one_component(1000.0, 5), annual_savings_cny=100.0, **kwargs)
    assert costs["npv_cny"] < 0.0 and costs["cny_per_t_avoided"] > 0.0
    no_co2 = finance_summary(
        one_component(1000.0, 5), annual_savings_cny=300.0, pv_savings_cny=0.0, finance=finance
    )
    assert no_co2["cny_per_t_avoided"] is None


# ------------------------------------------------------------------ bad input to the module


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"capex_cny": -1.0}, "capex_cny must be 0 or more, got -1"),
        ({"lifetime_years": 0}, "lifetime_years must be at least 1"),
        ({"replacement_year": 15}, "replacement year 15 is not inside the lifetime of 15"),
        ({"om_cny_per_year": float("nan")}, "finite"),
        ({"degradation_fraction_per_year": 0.01}, "battery"),
        ({"kind": "wind"}, "kind must be 'pv' or 'battery'"),
        ({"replacement_cny": 5.0}, "without a replacement_year"),
    ],
)
def test_investment_refuses_nonsense(extra, message):
    fields = {"name": "bess", "kind": "battery", "capex_cny": 1.0, "lifetime_years": 15}
    fields.update(extra)
    with pytest.raises(ValueError, match=message):
        Investment(**fields)


def test_whole_float_years_are_taken_as_years():
    item = Investment("bess", "battery", 1.0, lifetime_years=15.0, replacement_year=8.0)
    assert isinstance(item.lifetime_years, int) and isinstance(item.replacement_year, int)
    with pytest.raises(ValueError, match="whole number of years"):
        Investment("bess", "battery", 1.0, lifetime_years=14.5)


def test_npv_refuses_rate_at_minus_one():
    with pytest.raises(ValueError, match="above -1"):
        npv_cny([-1.0, 2.0], -1.0)


# ------------------------------------------------------------------ bad input via the scenario


@pytest.fixture
def planning_case(tmp_path: Path) -> tuple[Path, dict]:
    """A valid scenario with a battery and a PV array to size, and a finance entry."""
    sizing = {
        "max_energy_kwh": 500.0,
        "capex_cny_per_kwh": 900.0,
        "lifetime_years": 15,
        "replacement_year": 8,
        "replacement_cny_per_kwh": 400.0,
    }
    data = scenario_dict(
        tmp_path, [100.0] * 24, batteries=[battery(energy_kwh=100.0, power_kw=50.0, sizing=sizing)]
    )
    data["site"]["pv"] = [
        {
            "kind": "clearsky",
            "name": "roof",
            "dc_capacity_kw": 100.0,
            "sizing": {"max_kw": 500.0, "capex_cny_per_kw": 3500.0},
        }
    ]
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 20}
    return tmp_path, data


def scenario_error(folder: Path, data: dict) -> tuple[ScenarioError, Path]:
    path = write_scenario(folder, data)
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    return info.value, path


def test_valid_planning_scenario_loads(planning_case):
    folder, data = planning_case
    scenario = vpp.load_scenario(write_scenario(folder, data))
    assert scenario.finance.discount_rate == pytest.approx(0.06, abs=FACTOR_TOL)
    assert scenario.site.batteries[0].sizing.replacement_year == 8


def test_negative_capex_names_key_and_value(planning_case):
    folder, data = planning_case
    data["site"]["batteries"][0]["sizing"]["capex_cny_per_kwh"] = -900
    err, path = scenario_error(folder, data)
    found = [p for p in err.problems if p.key == "site.batteries[0].sizing.capex_cny_per_kwh"]
    assert len(found) == 1, str(err)
    assert found[0].value == "-900"
    assert found[0].file == str(path)
    assert "greater than or equal to 0" in found[0].message


def test_replacement_after_lifetime(planning_case):
    folder, data = planning_case
    data["site"]["batteries"][0]["sizing"]["replacement_year"] = 15
    err, path = scenario_error(folder, data)
    found = [p for p in err.problems if p.key == "site.batteries[0].sizing"]
    assert len(found) == 1, str(err)
    assert "replacement year 15" in found[0].message
    assert "lifetime of 15 years" in found[0].message
    assert str(path) in str(err)


def test_discount_rate_in_percent(planning_case):
    folder, data = planning_case
    data["finance"]["discount_rate"] = 6
    err, _ = scenario_error(folder, data)
    found = [p for p in err.problems if p.key is not None and p.key.startswith("finance")]
    assert len(found) == 1, str(err)
    assert "sane range" in found[0].message
    assert "discount_rate 6" in found[0].message


def test_pv_sizing_without_a_limit(planning_case):
    folder, data = planning_case
    del data["site"]["pv"][0]["sizing"]["max_kw"]
    err, _ = scenario_error(folder, data)
    found = [p for p in err.problems if p.key == "site.pv[0].sizing"]
    assert len(found) == 1, str(err)
    assert "max_kw" in found[0].message and "area_m2" in found[0].message
