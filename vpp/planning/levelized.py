"""Levelized costs of a sizing study's investments: LCOE of PV, LCOS of storage.

.. math::

    LCOE = \\frac{C + \\sum_{y=1}^{n} O_y (1+r)^{-y}}{\\sum_{y=1}^{n} E_1 (1-d)^{y-1} (1+r)^{-y}}

and the levelized cost of storage likewise over the energy discharged, with replacements
at their present value; each asset over its own lifetime. The cost of charging energy is
left out of LCOS (it is in the bill savings already). Inputs are checked by
:mod:`vpp.planning.discounting`, as in :mod:`vpp.planning.finance`, whose
:func:`~vpp.planning.finance.finance_summary` reports both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vpp.planning.discounting import checked_finite, checked_rate, discount_factors
from vpp.planning.investment import Investment

__all__ = ["lcoe_cny_per_kwh", "lcos_cny_per_kwh", "levelized_cny_per_kwh"]


def levelized_cny_per_kwh(
    items: Sequence[Investment], rate: float, om_escalation: float
) -> float | None:
    """Present costs over present energy of ``items``, each over its own lifetime.

    Costs are the capital, the escalated O&M and a replacement inside the lifetime;
    energy is the year-1 energy, degraded; both discounted (see
    :func:`lcoe_cny_per_kwh`). A battery with ageing
    (:meth:`~vpp.planning.investment.Investment.life` over its lifetime) adds its cell
    replacements and discharges in proportion to its capacity left. None without items
    or energy [CNY/kWh].
    """
    rate = checked_rate(rate)
    e = checked_finite("om_escalation_fraction_per_year", om_escalation)
    costs = energy = 0.0
    for i in items:
        factor = discount_factors(rate, i.lifetime_years)
        age = np.arange(i.lifetime_years, dtype=float)
        costs += i.capex_cny + float(np.sum(i.om_cny_per_year * (1.0 + e) ** age * factor))
        if i.replacement_year is not None:
            costs += i.replacement_cny * (1.0 + rate) ** -i.replacement_year
        life = i.life(i.lifetime_years)
        for year in life.replacement_years:
            costs += i.replacement_cny * (1.0 + rate) ** -year
        fade = (1.0 - i.degradation_fraction_per_year) ** age * life.capacity_fraction
        energy += float(np.sum(i.annual_energy_kwh * fade * factor))
    return costs / energy if energy > 0.0 else None


def lcoe_cny_per_kwh(
    capex_cny: float,
    om_cny_per_year: float,
    energy_kwh_year1: float,
    degradation_fraction_per_year: float,
    rate: float,
    years: int,
    *,
    om_escalation_fraction_per_year: float = 0.0,
) -> float:
    r"""Levelized cost of PV energy over its life.

    .. math:: \mathrm{LCOE} = \frac{K + \sum_{y=1}^{n} M (1+e)^{y-1} (1+r)^{-y}}
                                   {\sum_{y=1}^{n} E (1-d)^{y-1} (1+r)^{-y}}

    Parameters
    ----------
    capex_cny : float
        Capital cost :math:`K` at year 0 [CNY].
    om_cny_per_year : float
        Fixed O&M :math:`M` in year 1 [CNY/year].
    energy_kwh_year1 : float
        Energy :math:`E` delivered in year 1, above 0 [kWh/year].
    degradation_fraction_per_year : float
        Yearly loss of output :math:`d`, compounded [-/year].
    rate : float
        Discount rate :math:`r` [-/year].
    years : int
        Lifetime :math:`n` [year].
    om_escalation_fraction_per_year : float
        O&M escalation :math:`e` [-/year].

    Returns
    -------
    float
        The LCOE [CNY/kWh].
    """
    item = Investment(
        "lcoe",
        "pv",
        capex_cny,
        om_cny_per_year,
        years,
        None,
        0.0,
        energy_kwh_year1,
        degradation_fraction_per_year,
    )
    value = levelized_cny_per_kwh([item], rate, om_escalation_fraction_per_year)
    if value is None:
        raise ValueError(f"energy_kwh_year1 must be above 0, got {energy_kwh_year1:g} kWh/year")
    return value


def lcos_cny_per_kwh(
    capex_cny: float,
    om_cny_per_year: float,
    discharged_kwh_per_year: float,
    rate: float,
    years: int,
    *,
    replacement_year: int | None = None,
    replacement_cny: float = 0.0,
    om_escalation_fraction_per_year: float = 0.0,
) -> float:
    r"""Levelized cost of storage (capital, O&M and replacement; charging excluded).

    .. math:: \mathrm{LCOS} = \frac{K + \sum_{y=1}^{n} M (1+e)^{y-1} (1+r)^{-y}
                                    + X (1+r)^{-R}}
                                   {\sum_{y=1}^{n} E_{dis} (1+r)^{-y}}

    The energy bought to charge the battery is left out: its cost is already in the
    bill, and thus in the savings the investment is valued with.

    Parameters
    ----------
    capex_cny, om_cny_per_year, rate, years, om_escalation_fraction_per_year
        As in :func:`lcoe_cny_per_kwh`.
    discharged_kwh_per_year : float
        Energy :math:`E_{dis}` discharged each year, above 0 [kWh/year].
    replacement_year : int, optional
        Year :math:`R` of a mid-life replacement, before ``years`` [year].
    replacement_cny : float
        Its cost :math:`X` [CNY].

    Returns
    -------
    float
        The LCOS [CNY/kWh].
    """
    item = Investment(
        "lcos",
        "battery",
        capex_cny,
        om_cny_per_year,
        years,
        replacement_year,
        replacement_cny,
        discharged_kwh_per_year,
    )
    value = levelized_cny_per_kwh([item], rate, om_escalation_fraction_per_year)
    if value is None:
        raise ValueError(
            f"discharged_kwh_per_year must be above 0, got {discharged_kwh_per_year:g}"
        )
    return value
