r"""Finance by party: owner-financed or energy-management contract, tax, subsidies, debt.

Built on the project's pre-tax cash flows of :func:`vpp.planning.finance.cash_flows`
(columns ``capex_cny`` :math:`K_y`, ``replacement_cny`` :math:`X_y`, ``om_cny``
:math:`M_y`, ``savings_cny`` :math:`S_y`, ``salvage_cny`` :math:`V_N`, years ``0..N``).
Every amount in a scenario is VAT included, as quoted in China.

**Parties.** ``owner``: one party, the host, pays and keeps everything. ``emc``
(合同能源管理, shared savings) with share :math:`\sigma` and contract length :math:`N_c`:

.. math::

    F_y &= \sigma \max(0, S_y)\,[1 \le y \le N_c]
        &&\text{investor's share; the host keeps } S_y - F_y

    \text{investor pays} &\ K_y + X_y \ (y < N_c),\ M_y \ (1 \le y \le N_c)
        &&\text{the host pays them in the other years}

and the assets pass to the host for nothing at the end of year :math:`N_c`: the host
receives the residual value :math:`V_N` and the subsidies of years after :math:`N_c`
(the investor those up to :math:`N_c`). Pre-tax, the parties' flows sum to the
project's net plus the subsidies.

**Subsidies** (to the owner of the assets; taxable, outside VAT): per kWh discharged
:math:`u E_B` (year-1 battery discharge :math:`E_B`), per kW :math:`w P`, or one-off, in
years ``1..years``.

**VAT** (rates :math:`v_g`, :math:`v_s`, :mod:`vpp.planning.tax`). The simple rule: a
host is a general VAT taxpayer (a factory) with enough output VAT on its own sales, so
it credits every input VAT in the year paid: its VAT effect is
:math:`S_y v_g/(1+v_g)` (the bill's VAT it no longer credits) :math:`- F_y v_s/(1+v_s)`
(the fee's VAT it credits) :math:`- (K_y + X_y) v_g/(1+v_g)` on its own purchases. The
EMC investor's only sales are this contract's fees: its output VAT
:math:`F_y v_s/(1+v_s)` is reduced by the input VAT on its equipment, carried forward
and never refunded (:func:`~vpp.planning.tax.vat_paid_with_credit_cny`); a credit
still unused at year :math:`N` is lost, and not deducted from income. O&M is taken as
paid, with no VAT credit. Subsidies per kWh use the year-1 discharge in every year,
times the batteries' capacity left :math:`h(y)` when they age (``battery_capacity_fraction``
of the cash flows, :func:`vpp.planning.finance.cash_flows`): a battery with less capacity
discharges less.

**Income tax** at :math:`t` of the taxable income, net of VAT:

.. math::

    \Pi^{host}_y &= S_y/(1+v_g) - F_y/(1+v_s) + \mathrm{sub}_y - M_y - D_y - I_y

    \Pi^{inv}_y &= F_y/(1+v_s) + \mathrm{sub}_y - M_y - D_y - I_y

each party with its own subsidies, O&M, interest :math:`I_y` and straight-line
depreciation :math:`D_y` of its purchases net of VAT
(:func:`~vpp.planning.tax.depreciation_cny`); the investor writes off the remaining
book value at the transfer and the host takes the assets at a tax basis of 0
(Caishui [2010] No. 110). Losses as ``finance.tax.losses``. The residual value is a
valuation, not a sale: untaxed.

**Debt** of the owner or investor: :math:`D_0 = \delta K_0`, paid back in
:math:`T` equal annuities :math:`A = D_0\,\mathrm{CRF}(i, T)`, interest
:math:`I_y = i B_{y-1}`, principal :math:`A - I_y`, balance :math:`B_y = B_{y-1} - (A - I_y)`.

A party's ``net`` is after tax and before financing (tax as if without the loan); its
``equity_net`` adds the loan at year 0, takes off the annuities and counts the tax
shield of the interest. NPVs at the project's discount rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from vpp.planning.finance import crf, irr, npv_cny
from vpp.planning.investment import LCOS_KEY, LEVELIZED_AS, Investment
from vpp.planning.tax import (
    TaxRates,
    depreciation_cny,
    income_tax_cny,
    tax_rates,
    vat_paid_with_credit_cny,
)

if TYPE_CHECKING:
    from vpp.scenario.planning import Debt, Finance, Subsidy

__all__ = ["debt_schedule_cny", "party_cash_flows", "subsidy_cny"]

#: What happens to the assets at the end of an energy-management contract.
EMC_ASSETS = (
    "transferred to the host for nothing at the end of the contract; the host then pays "
    "the O&M, replacements and re-purchases and receives the residual value"
)


def subsidy_cny(
    subsidies: Sequence[Subsidy],
    n: int,
    *,
    discharged_kwh: float,
    battery_power_kw: float,
    pv_kw: float,
    capacity_fraction: np.ndarray | None = None,
) -> np.ndarray:
    r"""Subsidies per year ``0..N`` [CNY]: :math:`u E_B h(y)`, :math:`w P` or the one-off
    amount, in each of years ``1..years``.

    Parameters
    ----------
    subsidies : sequence of Subsidy
        ``finance.subsidies``.
    n : int
        Analysis period :math:`N` [year].
    discharged_kwh : float
        Batteries' year-1 discharged energy :math:`E_B` [kWh/year].
    battery_power_kw, pv_kw : float
        Sized battery power [kW] and PV capacity [kWp].
    capacity_fraction : numpy.ndarray, optional
        The batteries' capacity left :math:`h(y)` in years ``0..N`` [-]; None: 1.
    """
    out = np.zeros(n + 1)
    held = np.ones(n + 1) if capacity_fraction is None else np.asarray(capacity_fraction)
    for sub in subsidies:
        if sub.kind == "per_kwh_discharged":
            amount = sub.cny_per_kwh * discharged_kwh * held[1 : sub.years + 1]
        elif sub.kind == "per_kw":
            sized_kw = {"battery": battery_power_kw, "pv": pv_kw}  # by ``applies_to``
            amount = sub.cny_per_kw * sized_kw[sub.applies_to or "battery"]
        else:
            amount = sub.cny
        out[1 : sub.years + 1] += amount
    return out


def debt_schedule_cny(debt: Debt | None, capex_0_cny: float, n: int) -> tuple[np.ndarray, ...]:
    r"""Loan, interest and principal per year ``0..N`` [CNY] (module docstring).

    Returns ``(loan, interest, principal)``: the loan :math:`D_0` at year 0, and
    :math:`I_y`, :math:`A - I_y` in years ``1..T``; zeros without debt.
    """
    loan, interest, principal = np.zeros(n + 1), np.zeros(n + 1), np.zeros(n + 1)
    if debt is None:
        return loan, interest, principal
    loan[0] = debt.share * capex_0_cny
    annuity = loan[0] * crf(debt.rate, debt.tenor_years)
    balance = loan[0]
    for y in range(1, debt.tenor_years + 1):
        interest[y] = debt.rate * balance
        principal[y] = annuity - interest[y]
        balance -= principal[y]
    return loan, interest, principal


def _metrics(net: np.ndarray, rate: float) -> dict[str, float | None]:
    return {"npv_cny": npv_cny(net, rate), "irr_fraction": irr(net)}


def party_cash_flows(
    frame: pd.DataFrame,
    investments: Sequence[Investment],
    finance: Finance,
    *,
    battery_power_kw: float = 0.0,
    pv_kw: float = 0.0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Each party's yearly cash flows and figures of merit (module docstring).

    Parameters
    ----------
    frame : pandas.DataFrame
        The project's cash flows (:func:`vpp.planning.finance.cash_flows`).
    investments : sequence of Investment
        The new components; the batteries' ``annual_energy_kwh`` is the discharge
        :math:`E_B` [kWh/year].
    finance : vpp.scenario.planning.Finance
        With ``ownership``, ``tax``, ``subsidies`` and ``debt``.
    battery_power_kw, pv_kw : float
        Sized battery power [kW] and PV capacity [kWp], for per-kW subsidies.

    Returns
    -------
    (pandas.DataFrame, dict)
        Columns ``<party>_savings_cny``, ``_subsidy_cny``, ``_costs_cny`` (capital,
        replacement, O&M), ``_salvage_cny``, ``_vat_cny``, ``_depreciation_cny``,
        ``_income_tax_cny`` (before financing, the tax ``_net_cny`` pays), ``_net_cny``
        for ``owner`` or for ``investor`` and ``host`` (each row: savings + subsidy -
        costs + salvage - VAT - income tax), ``debt_interest_cny``,
        ``debt_principal_cny``, with a loan ``<owner|investor>_income_tax_with_loan_cny``
        (as paid, the interest deducted), ``<owner|investor>_equity_net_cny`` (net with
        the tax as paid, plus the loan, less interest and principal) and
        ``project_after_tax_net_cny``
        [CNY per year]; and the summary: per party ``npv_cny``, ``irr_fraction``
        (and ``equity_npv_cny``, ``equity_irr_fraction``), the project's, the rates
        with their sources.
    """
    n = int(frame["year"].iloc[-1])
    cap = frame["capex_cny"].to_numpy() + frame["replacement_cny"].to_numpy()
    om, savings = frame["om_cny"].to_numpy(), frame["savings_cny"].to_numpy()
    salvage = frame["salvage_cny"].to_numpy()
    years = np.arange(n + 1)
    own = finance.ownership
    emc = own.model == "emc"
    nc = own.years if emc else n
    share = own.investor_share_of_savings if emc else 1.0
    discharged = sum(i.annual_energy_kwh for i in investments if LEVELIZED_AS[i.kind] == LCOS_KEY)
    subsidy = subsidy_cny(
        finance.subsidies,
        n,
        discharged_kwh=discharged,
        battery_power_kw=battery_power_kw,
        pv_kw=pv_kw,
        capacity_fraction=(
            frame["battery_capacity_fraction"].to_numpy()
            if "battery_capacity_fraction" in frame
            else None
        ),
    )
    zero = np.zeros(n + 1)
    contract = (years >= 1) & (years <= nc)
    buys = years < nc
    lead = "investor" if emc else "owner"
    fee = share * np.maximum(savings, 0.0) * contract  # a loss is not shared
    parts = {
        lead: {
            "bill": zero if emc else savings,  # savings on its own electricity bill
            "fee_in": fee if emc else zero,
            "fee_out": zero,
            "subsidy": subsidy * contract,
            "capital": cap * buys,
            "om": om * contract,
            "salvage": zero if emc else salvage,
        }
    }
    if emc:
        parts["host"] = {
            "bill": savings,
            "fee_in": zero,
            "fee_out": fee,
            "subsidy": subsidy * ~contract,
            "capital": cap * ~buys,
            "om": om * ~contract,
            "salvage": salvage,
        }
    loan, interest, principal = debt_schedule_cny(finance.debt, float(cap[0]), n)
    rates = tax_rates(finance.tax) if finance.tax is not None else None
    columns: dict[str, np.ndarray] = {}
    summary: dict[str, Any] = {}
    for role, p in parts.items():
        kept = p["bill"] + p["fee_in"] - p["fee_out"]
        pre = kept + p["subsidy"] + p["salvage"] - p["capital"] - p["om"]
        debt_i = interest if role == lead else zero
        if rates is None:
            vat = depreciation = tax = tax_unlevered = zero
        else:
            until = nc if emc and role == lead else None
            vat, depreciation, tax, tax_unlevered = _taxes(p, rates, until, debt_i)
        net = pre - vat - tax_unlevered
        columns.update(
            {
                f"{role}_savings_cny": kept,
                f"{role}_subsidy_cny": p["subsidy"],
                f"{role}_costs_cny": p["capital"] + p["om"],
                f"{role}_salvage_cny": p["salvage"],
                f"{role}_vat_cny": vat,
                f"{role}_depreciation_cny": depreciation,
                f"{role}_income_tax_cny": tax_unlevered,
                f"{role}_net_cny": net,
            }
        )
        summary[role] = _metrics(net, finance.discount_rate)
        if role == lead:
            equity = pre - vat - tax + loan - interest - principal
            if finance.debt is not None:  # the tax as paid, the interest deducted
                columns[f"{role}_income_tax_with_loan_cny"] = tax
            columns[f"{role}_equity_net_cny"] = equity
            summary[role].update(
                {f"equity_{k}": v for k, v in _metrics(equity, finance.discount_rate).items()}
            )
    project = sum(columns[f"{role}_net_cny"] for role in parts)
    columns.update(
        {
            "debt_interest_cny": interest,
            "debt_principal_cny": principal,
            "project_after_tax_net_cny": project,
        }
    )
    summary["project"] = _metrics(project, finance.discount_rate)
    info = {
        "model": own.model,
        "parties": summary,
        "investor_share_of_savings": share if emc else None,
        "contract_years": nc if emc else None,
        "assets_after_contract": EMC_ASSETS if emc else None,
        "subsidies_cny": float(subsidy.sum()),
        "battery_discharged_kwh_per_year": float(discharged),
        "debt_cny": float(loan[0]),
        "tax": None if rates is None else {**vars(rates), "sources": dict(rates.sources)},
    }
    return pd.DataFrame(columns), info


def _taxes(
    p: dict[str, np.ndarray], rates: TaxRates, until: int | None, interest: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """VAT, depreciation, income tax (with the loan) and income tax (without) of a party.

    ``until``: the EMC investor's transfer year; it sells only the fee, so its input VAT
    waits for its output VAT. Otherwise a host or owner, crediting every VAT at once.
    """
    vg, vs = rates.vat_goods, rates.vat_services
    input_vat = p["capital"] * vg / (1.0 + vg)
    out_fee, in_fee = p["fee_in"] * vs / (1.0 + vs), p["fee_out"] * vs / (1.0 + vs)
    if until is not None:
        vat = vat_paid_with_credit_cny(out_fee - in_fee, input_vat)
    else:
        vat = p["bill"] * vg / (1.0 + vg) + out_fee - in_fee - input_vat
    revenue = (p["bill"] / (1.0 + vg)) + (p["fee_in"] - p["fee_out"]) / (1.0 + vs)
    depreciation = depreciation_cny(
        p["capital"] / (1.0 + vg), rates.depreciation_years, rates.salvage_fraction, until
    )
    base = revenue + p["subsidy"] - p["om"] - depreciation
    carry = rates.loss_carry_forward_years
    tax = income_tax_cny(base - interest, rates.income_tax, rates.losses, carry)
    unlevered = income_tax_cny(base, rates.income_tax, rates.losses, carry)
    return vat, depreciation, tax, unlevered


def sized_power_kw(sizes: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Sized battery power [kW] and PV capacity [kWp] of chosen or given sizes (the form
    of :func:`vpp.planning.sizing_model.chosen_sizes`), for per-kW subsidies: the
    keyword arguments ``battery_power_kw`` and ``pv_kw`` of :func:`party_cash_flows`."""
    return {
        "battery_power_kw": float(sum(z.get("power_kw", 0.0) for z in sizes.values())),
        "pv_kw": float(sum(z.get("capacity_kw", 0.0) for z in sizes.values())),
    }
