r"""The genset unit: its cost and carbon terms, recomputed from a schedule.

For a genset with output :math:`P_t` and running :math:`u_t` (schedule columns
``<name>_power_kw``, ``<name>_running_fraction``) and its burn :math:`V_t` [L]
(:func:`vpp.assets.genset.diesel.fuel_l`), per step:

.. math::

    fuel_t = c^f V_t, \qquad om_t = c^{om} P_t \Delta t, \qquad
    carbon_t = \lambda f \rho V_t / 10^6 \ \ (\text{when the carbon price covers diesel})

in CNY; the objective of every solve holds exactly these three (the block's
``cost_cny``). Carbon terms: :math:`V_t \rho / 1000` tonnes of diesel for the carbon
account's ``diesel`` carrier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.genset.diesel import carbon_cny_per_l, diesel_t, fuel_l

__all__ = ["GensetMoney", "genset_cost_cny", "genset_diesel_t"]


def genset_cost_cny(
    genset: Any, site: Any, schedule: pd.DataFrame, step_h: float
) -> dict[str, np.ndarray]:
    """The genset's money in each step [CNY] (module docstring).

    Returns
    -------
    dict of str to numpy.ndarray
        ``<name>_fuel_cny``, ``<name>_om_cny`` and ``<name>_carbon_cny`` (the carbon
        price on its diesel, zero unless the carbon price is in the objective and covers
        diesel), each per step [CNY].
    """
    litres = fuel_l(genset, schedule, step_h)
    power = f"{genset.name}_power_kw"
    p = schedule[power].to_numpy(dtype=float) if power in schedule else np.zeros(len(schedule))
    return {
        f"{genset.name}_fuel_cny": genset.fuel_price_cny_per_l * litres,
        f"{genset.name}_om_cny": genset.om_cost_cny_per_kwh * p * step_h,
        f"{genset.name}_carbon_cny": carbon_cny_per_l(genset, site) * litres,
    }


def genset_diesel_t(genset: Any, schedule: pd.DataFrame, step_h: float) -> float:
    """Tonnes of diesel the genset burned over the schedule [t]."""
    return float(diesel_t(genset, fuel_l(genset, schedule, step_h).sum()))


class GensetMoney:
    """Gensets: fuel and O&M as the site's own cost, their diesel in the carbon account.

    The carbon price on their diesel is the carbon unit's ``carbon_cny`` (it prices every
    unit's carbon flows on the priced lines), and in the LP each genset block's cost.
    """

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``genset_cost_cny`` (fuel and O&M, the site's own cost), only for a site with
        gensets: a site without one keeps the bill it had."""
        return {"genset_cost_cny": "own"} if self.entries(site) else {}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """Fuel and O&M of every genset [CNY per step] (:func:`genset_cost_cny`); empty
        for a site without gensets."""
        gensets = self.entries(site)
        if not gensets:
            return {}
        total = np.zeros(len(schedule))
        for g in gensets:
            parts = genset_cost_cny(g, site, schedule, step_h)
            total += parts[f"{g.name}_fuel_cny"] + parts[f"{g.name}_om_cny"]
        return {"genset_cost_cny": total}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: fuel and O&M accrue step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """Zero: every term of its block's cost is in the bill (fuel, O&M) or in
        ``carbon_cny`` (the carbon price on its diesel)."""
        return 0.0

    def carbon_flows(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, Any]:
        """``genset_diesel_t``: the diesel all gensets burn in each step [t], on the
        account's ``diesel`` line; empty for a site without gensets."""
        from vpp.emissions import CarbonFlow

        gensets = self.entries(site)
        if not gensets:
            return {}
        tonnes = sum(diesel_t(g, fuel_l(g, schedule, step_h)) for g in gensets)
        return {"genset_diesel_t": CarbonFlow(np.asarray(tonnes, dtype=float), {"diesel": 1.0})}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """None: a genset's output is no consumption, PV, storage or green energy (it
        lowers the grid import, which the KPIs read from the grid's columns)."""
        return {}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: a genset is no store."""
        return {}
