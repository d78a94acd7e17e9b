r"""Tax arithmetic of the finance by party: rates, depreciation, income tax and VAT credit.

Rates come from ``vpp/planning/data/tax-china.yaml`` (each with its source and validity)
unless the scenario's ``finance.tax`` gives its own. Amounts are per year ``0..N`` [CNY];
nothing here discounts.

==================  ===========================================================  ========
symbol              meaning                                                       unit
==================  ===========================================================  ========
:math:`v_g`         VAT on goods: equipment and electricity (``vat_goods``)      [-]
:math:`v_s`         VAT on the energy-service fee (``vat_services``)             [-]
:math:`t`           enterprise income tax rate (``income_tax``)                  [-]
:math:`T_d`         straight-line depreciation period (``depreciation_years``)   [year]
:math:`s`           tax salvage fraction (``salvage_fraction``)                  [-]
:math:`L_c`         loss carry-forward limit (``loss_carry_forward_years``)      [year]
==================  ===========================================================  ========
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

if TYPE_CHECKING:
    from vpp.scenario.planning import Tax

__all__ = [
    "TaxRates",
    "depreciation_cny",
    "income_tax_cny",
    "tax_data",
    "tax_rates",
    "vat_paid_with_credit_cny",
]


@functools.cache
def tax_data() -> dict[str, Any]:
    """The shipped tax rates with their sources (``tax-china.yaml``)."""
    path = resources.files("vpp.planning") / "data" / "tax-china.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class TaxRates:
    """Resolved rates (module table); ``sources`` maps each name to where it came from."""

    vat_goods: float
    vat_services: float
    income_tax: float
    depreciation_years: int
    salvage_fraction: float
    losses: str
    loss_carry_forward_years: int
    sources: dict[str, str]


def tax_rates(tax: Tax) -> TaxRates:
    """The scenario's ``finance.tax`` with every rate left out taken from the data file."""
    data = tax_data()
    names = {
        "vat_goods": "vat_goods_fraction",
        "vat_services": "vat_services_fraction",
        "income_tax": "income_tax_fraction",
        "depreciation_years": "depreciation_years",
        "salvage_fraction": "salvage_fraction",
        "loss_carry_forward_years": "loss_carry_forward_years",
    }
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for attr, key in names.items():
        given = getattr(tax, key)
        if given is not None:
            values[attr], sources[attr] = given, "scenario"
        else:
            entry = data[key]
            values[attr] = entry["value"]
            src = entry["source"]
            sources[attr] = f"{' '.join(src['document'].split())} [{src['reliability']}]"
    return TaxRates(**values, losses=tax.losses, sources=sources)


def depreciation_cny(
    purchases: np.ndarray, years: int, salvage_fraction: float, until: int | None = None
) -> np.ndarray:
    r"""Straight-line tax depreciation of purchases, and the write-off at a transfer.

    A purchase :math:`B_p` (VAT excluded) at year :math:`p` is depreciated by
    :math:`B_p (1 - s) / T_d` in each of years :math:`p+1 .. p+T_d` (inside ``0..N``).
    With ``until`` = :math:`N_c` (the assets leave the party at the end of year
    :math:`N_c`), depreciation stops after :math:`N_c` and the remaining tax book value
    :math:`B_p - \sum_{y \le N_c} D_{p,y}` (salvage included) is deducted in year
    :math:`N_c`.

    Parameters
    ----------
    purchases : numpy.ndarray
        Depreciable cost paid in each year ``0..N`` [CNY].
    years : int
        Depreciation period :math:`T_d` [year].
    salvage_fraction : float
        :math:`s` [-].
    until : int, optional
        Transfer year :math:`N_c` [year].

    Returns
    -------
    numpy.ndarray
        Deduction per year ``0..N`` [CNY].
    """
    n = purchases.size - 1
    out = np.zeros(n + 1)
    for p in np.flatnonzero(purchases):
        base = float(purchases[p])
        yearly = np.zeros(n + 1)
        yearly[p + 1 : min(n, p + years) + 1] = base * (1.0 - salvage_fraction) / years
        if until is not None:
            yearly[until + 1 :] = 0.0
            yearly[until] += base - yearly[: until + 1].sum()
        out += yearly
    return out


def income_tax_cny(taxable: np.ndarray, rate: float, losses: str, carry_years: int) -> np.ndarray:
    r"""Enterprise income tax of a party's taxable income, year by year.

    ``offset``: :math:`\mathrm{tax}_y = t\,\Pi_y`, negative in a loss year (the party's
    other profits absorb the loss at once). ``carry_forward``: a loss of year :math:`k`
    reduces the taxable income of years :math:`k+1 .. k+L_c`, oldest loss first, and
    :math:`\mathrm{tax}_y = t \max(0, \Pi_y - \text{losses used}_y)`; a loss not used by
    then is lost.

    Parameters
    ----------
    taxable : numpy.ndarray
        Taxable income :math:`\Pi_y` of years ``0..N`` [CNY].
    rate : float
        :math:`t` [-].
    losses : {"carry_forward", "offset"}
        Treatment of a loss.
    carry_years : int
        :math:`L_c` [year].

    Returns
    -------
    numpy.ndarray
        Tax per year [CNY].
    """
    if losses == "offset":
        return rate * taxable
    tax = np.zeros(taxable.size)
    pool: list[list[float]] = []  # [year of the loss, amount left]
    for y, profit in enumerate(taxable):
        pool = [entry for entry in pool if y - entry[0] <= carry_years]
        if profit < 0.0:
            pool.append([y, -float(profit)])
            continue
        left = float(profit)
        for entry in pool:
            used = min(entry[1], left)
            entry[1] -= used
            left -= used
        pool = [entry for entry in pool if entry[1] > 0.0]
        tax[y] = rate * left
    return tax


def vat_paid_with_credit_cny(output_vat: np.ndarray, input_vat: np.ndarray) -> np.ndarray:
    r"""VAT paid by a party whose only sales are this project's: the input VAT waits.

    With the credit :math:`c_y = c_{y-1} + I_y` carried forward (never refunded):
    :math:`\mathrm{paid}_y = \max(0, O_y - c_y)`, then
    :math:`c_y \mathrel{-}= O_y - \mathrm{paid}_y`.

    Parameters
    ----------
    output_vat, input_vat : numpy.ndarray
        Output VAT :math:`O_y` on sales and input VAT :math:`I_y` on purchases, years
        ``0..N`` [CNY].

    Returns
    -------
    numpy.ndarray
        VAT paid per year [CNY].
    """
    paid = np.zeros(output_vat.size)
    credit = 0.0
    for y in range(output_vat.size):
        credit += float(input_vat[y])
        paid[y] = max(0.0, float(output_vat[y]) - credit)
        credit -= float(output_vat[y]) - paid[y]
    return paid
