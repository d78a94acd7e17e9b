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
    """Its cost, bill and carbon terms from a schedule."""

    def cost_terms(
        self, entry: Any, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, np.ndarray]:
        """Its money per step [CNY] (:func:`genset_cost_cny`)."""
        return genset_cost_cny(entry, site, schedule, step_h)

    def carbon_activity(
        self, entry: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """Its activity for the carbon account over the schedule: ``{"diesel": t}``."""
        return {"diesel": genset_diesel_t(entry, schedule, step_h)}
