"""Finance by party (vpp.planning.parties, vpp.planning.tax) against hand calculations.

numpy-financial is the oracle of the NPV and the IRR; every other expectation is worked
out here from the textbook formulas on round numbers: an energy-management contract's
shares, the depreciation tax shield, a loan's annuity, subsidies per kWh discharged,
loss carry-forward and the VAT credit. The last part checks bad input exits 2 naming
the key, and a small sizing writes the party columns and the report section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest
from helpers import battery, scenario_dict, write_scenario

import vpp
import vpp.cli
from vpp.errors import EXIT_BAD_INPUT, ScenarioError
from vpp.planning.finance import cash_flows, irr, npv_cny, residual_fraction
from vpp.planning.investment import Investment
from vpp.planning.parties import debt_schedule_cny, party_cash_flows
from vpp.planning.tax import depreciation_cny, income_tax_cny, tax_data, vat_paid_with_credit_cny
from vpp.scenario.planning import Finance

#: NPV and IRR against numpy-financial (the brief's tolerance) [CNY] and [-/year].
ORACLE_TOL = 1e-9
#: Amounts worked out by hand on round numbers, summed in another order [CNY].
CNY_TOL = 1e-6


def project(finance: Finance, *investments: Investment, savings: float) -> pd.DataFrame:
    """The project's pre-tax cash flows, without PV (savings do not fade)."""
    return cash_flows(investments, annual_savings_cny=savings, pv_savings_cny=0.0, finance=finance)


def bess(capex: float, om: float = 0.0, energy_kwh: float = 0.0, life: int = 10) -> Investment:
    return Investment(
        "bess",
        "battery",
        capex,
        om_cny_per_year=om,
        lifetime_years=life,
        annual_energy_kwh=energy_kwh,
    )


# ------------------------------------------------------------------ oracle: numpy-financial


@pytest.mark.parametrize("seed", range(6))
def test_npv_and_irr_match_numpy_financial(seed: int) -> None:
    rng = np.random.default_rng(seed)
    flows = np.concatenate([[-rng.uniform(5e3, 2e4)], rng.uniform(500.0, 4e3, size=15)])
    rate = rng.uniform(0.0, 0.12)
    assert npv_cny(flows, rate) == pytest.approx(npf.npv(rate, flows), abs=ORACLE_TOL)
    assert irr(flows) == pytest.approx(npf.irr(flows), abs=ORACLE_TOL)


def test_party_npv_and_irr_match_numpy_financial() -> None:
    finance = Finance(
        discount_rate=0.07,
        analysis_years=12,
        ownership={"model": "emc", "investor_share_of_savings": 0.75, "years": 8},
        tax={},
        debt={"share": 0.5, "rate": 0.045, "tenor_years": 6},
    )
    frame = project(finance, bess(500_000.0, om=6_000.0), savings=110_000.0)
    parties, info = party_cash_flows(frame, [bess(500_000.0, om=6_000.0)], finance)
    for role, column in (
        ("investor", "investor_net_cny"),
        ("host", "host_net_cny"),
        ("project", "project_after_tax_net_cny"),
    ):
        flows = parties[column].to_numpy()
        got = info["parties"][role]
        assert got["npv_cny"] == pytest.approx(npf.npv(0.07, flows), abs=ORACLE_TOL)
        if got["irr_fraction"] is not None:
            assert got["irr_fraction"] == pytest.approx(npf.irr(flows), abs=ORACLE_TOL)
    equity = parties["investor_equity_net_cny"].to_numpy()
    got = info["parties"]["investor"]
    assert got["equity_npv_cny"] == pytest.approx(npf.npv(0.07, equity), abs=ORACLE_TOL)
    assert got["equity_irr_fraction"] == pytest.approx(npf.irr(equity), abs=ORACLE_TOL)


# ------------------------------------------------------------------ energy-management contract


def test_textbook_emc_shares_and_npv_by_hand() -> None:
    """100,000 CNY of storage saving 30,000 CNY/yr, O&M 2,000 CNY/yr, 10 years at 8 %;
    the investor takes 70 % of the savings for 5 years, then the host owns it all."""
    finance = Finance(
        discount_rate=0.08,
        analysis_years=10,
        ownership={"model": "emc", "investor_share_of_savings": 0.7, "years": 5},
    )
    item = bess(100_000.0, om=2_000.0)
    frame = project(finance, item, savings=30_000.0)
    parties, info = party_cash_flows(frame, [item], finance)

    shares = parties["investor_savings_cny"] + parties["host_savings_cny"]
    np.testing.assert_allclose(shares, frame["savings_cny"], rtol=0, atol=CNY_TOL)
    investor = [-100_000.0] + [0.7 * 30_000 - 2_000] * 5 + [0.0] * 5  # 19,000 a year
    host = [0.0] + [0.3 * 30_000] * 5 + [30_000 - 2_000] * 5  # 9,000 then 28,000
    np.testing.assert_allclose(parties["investor_net_cny"], investor, rtol=0, atol=CNY_TOL)
    np.testing.assert_allclose(parties["host_net_cny"], host, rtol=0, atol=CNY_TOL)
    np.testing.assert_allclose(
        parties["investor_net_cny"] + parties["host_net_cny"], frame["net_cny"], atol=CNY_TOL
    )
    # annuity factors of 8 %: a(5) = 3.9927100, a(10) - a(5) = 6.7100814 - 3.9927100
    a5 = sum(1.08**-y for y in range(1, 6))
    a10 = sum(1.08**-y for y in range(1, 11))
    assert info["parties"]["investor"]["npv_cny"] == pytest.approx(
        -100_000 + 19_000 * a5, abs=CNY_TOL
    )
    assert info["parties"]["host"]["npv_cny"] == pytest.approx(
        9_000 * a5 + 28_000 * (a10 - a5), abs=CNY_TOL
    )
    assert info["parties"]["host"]["irr_fraction"] is None  # the host never pays
    assert "transferred to the host" in info["assets_after_contract"]


def test_emc_investor_writes_off_at_transfer_and_host_takes_zero_basis() -> None:
    """113,000 CNY gross (100,000 net of 13 % VAT), 5-year depreciation to 5 %, contract
    of 3 years: 19,000 in years 1..3, the rest 43,000 written off in year 3."""
    finance = Finance(
        discount_rate=0.06,
        analysis_years=8,
        ownership={"model": "emc", "investor_share_of_savings": 0.8, "years": 3},
        tax={"depreciation_years": 5, "salvage_fraction": 0.05},
    )
    item = bess(113_000.0)
    parties, _ = party_cash_flows(project(finance, item, savings=50_000.0), [item], finance)
    expected = [0.0, 19_000.0, 19_000.0, 19_000.0 + 43_000.0, 0, 0, 0, 0, 0]
    np.testing.assert_allclose(parties["investor_depreciation_cny"], expected, atol=CNY_TOL)
    np.testing.assert_allclose(parties["host_depreciation_cny"], 0.0, atol=CNY_TOL)


def test_emc_host_pays_re_purchases_and_om_after_the_transfer() -> None:
    """A 4-year battery over 8 years: bought at 0 (contract of 3 years: the investor) and
    again at 4 (after the transfer: the host); O&M 1,000 CNY/yr to year 3, then the host."""
    finance = Finance(
        discount_rate=0.05,
        analysis_years=8,
        ownership={"model": "emc", "investor_share_of_savings": 0.6, "years": 3},
    )
    item = bess(10_000.0, om=1_000.0, life=4)
    parties, _ = party_cash_flows(project(finance, item, savings=5_000.0), [item], finance)
    investor = [10_000.0, 1_000, 1_000, 1_000, 0, 0, 0, 0, 0]
    host = [0.0, 0, 0, 0, 1_000 + 10_000, 1_000, 1_000, 1_000, 1_000]
    np.testing.assert_allclose(parties["investor_costs_cny"], investor, atol=CNY_TOL)
    np.testing.assert_allclose(parties["host_costs_cny"], host, atol=CNY_TOL)


def test_emc_does_not_share_a_loss() -> None:
    finance = Finance(
        discount_rate=0.05,
        analysis_years=3,
        ownership={"model": "emc", "investor_share_of_savings": 0.6, "years": 3},
    )
    item = bess(1_000.0)
    parties, _ = party_cash_flows(project(finance, item, savings=-500.0), [item], finance)
    np.testing.assert_allclose(parties["investor_savings_cny"], 0.0)
    np.testing.assert_allclose(parties["host_savings_cny"], [0, -500, -500, -500])


# ------------------------------------------------------------------ tax, debt, subsidies


def test_owner_depreciation_tax_shield_by_hand() -> None:
    """Owner: 113,000 CNY gross bought, saving 22,600 CNY/yr gross (20,000 net of 13 %
    VAT), depreciated over 5 years to 5 %: 19,000 a year, a shield of 0.25 x 19,000."""
    finance = Finance(
        discount_rate=0.06,
        analysis_years=6,
        tax={
            "vat_goods_fraction": 0.13,
            "income_tax_fraction": 0.25,
            "depreciation_years": 5,
            "salvage_fraction": 0.05,
            "losses": "offset",
        },
    )
    item = bess(113_000.0)
    parties, info = party_cash_flows(project(finance, item, savings=22_600.0), [item], finance)
    np.testing.assert_allclose(parties["owner_depreciation_cny"], [0] + [19_000] * 5 + [0])
    tax = [0.0] + [0.25 * (20_000 - 19_000)] * 5 + [0.25 * 20_000]  # 250 then 5,000
    np.testing.assert_allclose(parties["owner_income_tax_cny"], tax, atol=CNY_TOL)
    vat = [-13_000.0] + [2_600.0] * 6  # input VAT credited; the bill's VAT no longer is
    np.testing.assert_allclose(parties["owner_vat_cny"], vat, atol=CNY_TOL)
    salvage = 113_000.0 * 4 / 10  # 4 of 10 years of life left, by age
    net = [-100_000.0] + [19_750.0] * 5 + [22_600 - 2_600 - 5_000 + salvage]
    np.testing.assert_allclose(parties["owner_net_cny"], net, atol=CNY_TOL)
    assert info["tax"]["sources"]["vat_goods"] == "scenario"
    assert "Enterprise Income Tax Law" in info["tax"]["sources"]["loss_carry_forward_years"]


def test_every_partys_columns_add_up_to_its_net_and_equity() -> None:
    """cash_flows.csv read by hand: savings + subsidy - costs + salvage - VAT - income tax
    is the party's net, and the equity row uses the tax as paid with the loan (the income
    tax column was the levered one while the net used the unlevered one; review)."""
    finance = Finance(
        discount_rate=0.07,
        analysis_years=12,
        ownership={"model": "emc", "investor_share_of_savings": 0.75, "years": 8},
        tax={},
        debt={"share": 0.5, "rate": 0.045, "tenor_years": 6},
    )
    item = bess(500_000.0, om=6_000.0)
    parties, _ = party_cash_flows(project(finance, item, savings=110_000.0), [item], finance)
    for role in ("investor", "host"):
        col = {
            k: parties[f"{role}_{k}_cny"]
            for k in ("savings", "subsidy", "costs", "salvage", "vat", "income_tax", "net")
        }
        by_hand = (
            col["savings"]
            + col["subsidy"]
            - col["costs"]
            + col["salvage"]
            - col["vat"]
            - col["income_tax"]
        )
        np.testing.assert_allclose(col["net"], by_hand, atol=CNY_TOL)
    levered = parties["investor_income_tax_with_loan_cny"]
    assert (levered <= parties["investor_income_tax_cny"] + CNY_TOL).all()  # interest shields
    equity = parties["investor_net_cny"] + parties["investor_income_tax_cny"] - levered
    loan = np.zeros(len(parties))
    loan[0] = 250_000.0  # half of the 500,000 CNY purchase
    equity = equity + loan - parties["debt_interest_cny"] - parties["debt_principal_cny"]
    np.testing.assert_allclose(parties["investor_equity_net_cny"], equity, atol=CNY_TOL)
    assert "host_income_tax_with_loan_cny" not in parties  # the host has no loan


def test_debt_annuity_by_hand() -> None:
    """60,000 CNY at 5 % over 3 years: A = 60,000 x 0.05 x 1.157625 / 0.157625."""
    annuity = 60_000 * 0.05 * 1.157625 / 0.157625  # 22,032.5139...
    interest1 = 3_000.0
    balance1 = 60_000 - (annuity - interest1)
    interest2 = 0.05 * balance1
    balance2 = balance1 - (annuity - interest2)
    interest3 = 0.05 * balance2
    finance = Finance(
        discount_rate=0.06,
        analysis_years=4,
        debt={"share": 0.6, "rate": 0.05, "tenor_years": 3},
        tax={"income_tax_fraction": 0.25, "losses": "offset", "vat_goods_fraction": 0.0},
    )
    loan, interest, principal = debt_schedule_cny(finance.debt, 100_000.0, 4)
    np.testing.assert_allclose(loan, [60_000, 0, 0, 0, 0])
    np.testing.assert_allclose(interest, [0, interest1, interest2, interest3, 0], atol=CNY_TOL)
    np.testing.assert_allclose(principal[1:4], annuity - interest[1:4], atol=CNY_TOL)
    assert principal.sum() == pytest.approx(60_000, abs=CNY_TOL)
    item = bess(100_000.0)
    parties, _ = party_cash_flows(project(finance, item, savings=40_000.0), [item], finance)
    # equity = after-tax net + loan - annuity + the interest's tax shield 0.25 I
    equity = parties["owner_net_cny"] + loan - interest - principal + 0.25 * interest
    np.testing.assert_allclose(parties["owner_equity_net_cny"], equity, atol=CNY_TOL)
    assert parties["owner_equity_net_cny"].iloc[0] == pytest.approx(-40_000, abs=CNY_TOL)


def test_subsidies_by_hand() -> None:
    """200,000 kWh discharged a year at 0.3 CNY/kWh for 3 years, 100 CNY/kW on 500 kW for
    2 years, 10,000 CNY once; the EMC investor receives those of its 2 contract years."""
    finance = Finance(
        discount_rate=0.05,
        analysis_years=5,
        ownership={"model": "emc", "investor_share_of_savings": 0.5, "years": 2},
        subsidies=[
            {"kind": "per_kwh_discharged", "cny_per_kwh": 0.3, "years": 3},
            {"kind": "per_kw", "cny_per_kw": 100.0, "years": 2},
            {"kind": "one_off", "cny": 10_000.0},
        ],
    )
    item = bess(300_000.0, energy_kwh=200_000.0)
    frame = project(finance, item, savings=20_000.0)
    parties, info = party_cash_flows(frame, [item], finance, battery_power_kw=500.0)
    np.testing.assert_allclose(
        parties["investor_subsidy_cny"], [0, 60_000 + 50_000 + 10_000, 60_000 + 50_000, 0, 0, 0]
    )
    np.testing.assert_allclose(parties["host_subsidy_cny"], [0, 0, 0, 60_000, 0, 0])
    assert info["subsidies_cny"] == pytest.approx(290_000.0)


def test_losses_carried_forward_at_most_l_years() -> None:
    taxable = np.array([0.0, -100.0, 50.0, 80.0])
    np.testing.assert_allclose(income_tax_cny(taxable, 0.25, "carry_forward", 5), [0, 0, 0, 7.5])
    np.testing.assert_allclose(income_tax_cny(taxable, 0.25, "carry_forward", 1), [0, 0, 0, 20])
    np.testing.assert_allclose(income_tax_cny(taxable, 0.25, "offset", 5), [0, -25, 12.5, 20])


def test_vat_credit_waits_for_output_vat() -> None:
    paid = vat_paid_with_credit_cny(np.array([0.0, 5.0, 5.0, 5.0]), np.array([12.0, 0, 0, 0]))
    np.testing.assert_allclose(paid, [0, 0, 0, 3])


def test_depreciation_straight_line_inside_the_period() -> None:
    got = depreciation_cny(np.array([0.0, 1_000.0, 0.0, 0.0]), 4, 0.2)
    np.testing.assert_allclose(got, [0, 0, 200, 200])  # years 2..5, cut at N = 3


def test_residual_value_by_state_of_health() -> None:
    assert residual_fraction(4, 10, None) == pytest.approx(0.4)
    assert residual_fraction(8, 10, (0.9, 0.8)) == pytest.approx(0.5)  # half the fade left
    assert residual_fraction(4, 10, (0.9, 0.8)) == pytest.approx(0.4)  # but 4 years of 10
    assert residual_fraction(4, 10, (0.75, 0.8)) == 0.0
    frame = cash_flows(
        [bess(100_000.0)],
        annual_savings_cny=1.0,
        pv_savings_cny=0.0,
        finance=Finance(discount_rate=0.05, analysis_years=6),
        state_of_health={"bess": (0.85, 0.8)},
    )
    # 4 of 10 years left by age, a quarter of the fade budget by health: the lesser
    assert frame["salvage_cny"].iloc[-1] == pytest.approx(25_000.0)


def test_shipped_rates_have_sources() -> None:
    data = tax_data()
    assert data["vat_goods_fraction"]["value"] == 0.13
    assert data["vat_services_fraction"]["value"] == 0.06
    assert data["income_tax_fraction"]["value"] == 0.25
    for key in ("vat_goods_fraction", "income_tax_fraction", "depreciation_years"):
        assert data[key]["source"]["reliability"] in {
            "official-quoted",
            "secondary",
            "illustrative",
        }


def test_every_finance_field_says_what_it_is_and_its_unit() -> None:
    from test_asset_fields import models_in, offenders

    models = models_in(Finance)
    assert {"Ownership", "Tax", "Subsidy", "Debt"} <= {m.__name__ for m in models}
    assert not offenders(models)


def test_defaults_ask_for_no_finance_by_party() -> None:
    assert not Finance(discount_rate=0.06).by_party
    assert Finance(discount_rate=0.06, tax={}).by_party


# ------------------------------------------------------------------ bad input: exit 2, key named


def sizing_data(tmp_path: Path, finance: dict) -> dict:
    prices = ([0.2] * 8 + [1.2] * 4 + [0.6] * 12) * 2
    sizing = {"max_energy_kwh": 400.0, "capex_cny_per_kwh": 300.0, "lifetime_years": 10}
    data = scenario_dict(
        tmp_path,
        [100.0] * 48,
        price=prices,
        batteries=[battery(energy_kwh=100.0, power_kw=50.0, sizing=sizing)],
    )
    data["finance"] = {"discount_rate": 0.06, "analysis_years": 10, **finance}
    return data


@pytest.mark.parametrize(
    ("finance", "key", "words"),
    [
        (
            {"ownership": {"model": "emc", "investor_share_of_savings": 1.5, "years": 5}},
            "finance.ownership.investor_share_of_savings",
            "less than or equal to 1",
        ),
        (
            {"debt": {"share": 0.5, "rate": 0.05, "tenor_years": 15}},
            "finance",
            "debt.tenor_years 15",
        ),
        ({"debt": {"share": 0.5, "rate": -0.01, "tenor_years": 5}}, "finance.debt.rate", "0"),
        (
            {"subsidies": [{"kind": "per_kwh_discharged", "cny_per_kwh": -0.1}]},
            "finance.subsidies[0].cny_per_kwh",
            "0",
        ),
        (
            {"ownership": {"model": "emc", "investor_share_of_savings": 0.5, "years": 12}},
            "finance",
            "ownership.years 12",
        ),
        ({"tax": {"income_tax_fraction": -0.25}}, "finance.tax.income_tax_fraction", "0"),
    ],
)
def test_bad_finance_exits_2_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture, finance: dict, key: str, words: str
) -> None:
    path = write_scenario(tmp_path, sizing_data(tmp_path, finance))
    with pytest.raises(ScenarioError) as info:
        vpp.load_scenario(path)
    found = [p for p in info.value.problems if p.key == key]
    assert found and words in found[0].message, str(info.value)
    code = vpp.cli.main(["size", str(path), "--out", str(tmp_path / "o")])
    assert code == EXIT_BAD_INPUT
    assert key in capsys.readouterr().err


# ------------------------------------------------------------------ a sizing with parties


def test_cli_size_writes_party_columns_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    finance = {
        "ownership": {"model": "emc", "investor_share_of_savings": 0.8, "years": 6},
        "tax": {},
        "debt": {"share": 0.5, "rate": 0.04, "tenor_years": 5},
        "subsidies": [{"kind": "per_kwh_discharged", "cny_per_kwh": 0.1, "years": 3}],
    }
    path = write_scenario(tmp_path, sizing_data(tmp_path, finance))
    out = tmp_path / "study"
    code = vpp.cli.main(["size", str(path), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "finance by party" in text and "investor" in text and "equity NPV" in text
    cash = pd.read_csv(out / "cash_flows.csv")
    for column in ("investor_net_cny", "host_net_cny", "investor_equity_net_cny"):
        assert column in cash.columns
    shares = cash["investor_savings_cny"] + cash["host_savings_cny"]
    np.testing.assert_allclose(shares, cash["savings_cny"], rtol=1e-12, atol=CNY_TOL)
    assert "Finance by party" in (out / "report.html").read_text(encoding="utf-8")


def test_applies_to_goes_with_per_kw_only():
    """A planner writing applies_to: pv on a per-kWh subsidy expected PV energy; vpp
    would count battery discharge: refused, not silently ignored."""
    from pydantic import ValidationError

    from vpp.scenario.planning import Subsidy

    with pytest.raises(ValidationError, match="applies_to goes with kind per_kw only"):
        Subsidy(kind="per_kwh_discharged", cny_per_kwh=0.3, years=2, applies_to="pv")
    assert Subsidy(kind="per_kw", cny_per_kw=100.0, applies_to="pv").applies_to == "pv"


def test_the_party_text_writes_shares_and_years_as_given():
    """12.5 % stays 12.5 % (not 12 %), one year is 'year', an IRR of a party whose flows
    never change sign is 'not defined', and no equity columns appear without a loan."""
    from vpp.report.finance_html import finance_by_party_html, finance_by_party_lines

    info = {
        "model": "emc",
        "investor_share_of_savings": 0.875,
        "contract_years": 1,
        "assets_after_contract": "transferred to the host",
        "tax": None,
        "subsidies_cny": 0.0,
        "debt_cny": 0.0,
        "parties": {
            "investor": {"npv_cny": 10.0, "irr_fraction": 0.125},
            "host": {"npv_cny": 5.0, "irr_fraction": None},
        },
    }
    text = "\n".join(finance_by_party_lines({"by_party": info}, "CNY"))
    assert "87.5 % of the savings for 1 year;" in text
    assert "IRR 12.5 %" in text and "IRR not defined" in text
    page = finance_by_party_html({"by_party": info}, "CNY")
    assert "equity NPV" not in page and "not defined" in page
