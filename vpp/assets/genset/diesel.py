r"""The genset's diesel: litres burned, tonnes in the carbon account, the carbon price on it.

From a schedule's ``<name>_power_kw`` (:math:`P_t`) and ``<name>_running_fraction``
(:math:`u_t`), over steps of :math:`\Delta t` [h]:

.. math::

    V = \sum_t (a\,u_t + b\,P_t)\,\Delta t \quad [\text{L}], \qquad
    M = V \rho / 1000 \quad [\text{t}], \qquad
    E = M f \quad [\text{kgCO}_2]

with :math:`\rho` the density (``fuel_density_kg_per_l`` [kg/L]) and :math:`f` the site's
diesel emission factor [kgCO2/t] (``site.emissions.factors.diesel``: a built-in name of
``vpp/emissions/data/diesel.yaml``, default ``diesel-gbt32151`` = 3145 kgCO2/t, GB/T 32151;
or a number). A carbon price :math:`\lambda` [CNY/tCO2] that covers diesel costs
:math:`\lambda f \rho / 10^6` per litre [CNY/L].
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.emissions import Factor, factor

__all__ = [
    "carbon_cny_per_l",
    "diesel_factor",
    "diesel_priced",
    "diesel_t",
    "emissions_kg",
    "fuel_l",
]

_KG_PER_T = 1000.0


def diesel_factor(site: Any) -> Factor:
    """The site's diesel emission factor [kgCO2/t] (raises ScenarioError for an unknown name)."""
    return factor("diesel", site.emissions.factors.diesel, key="site.emissions.factors.diesel")


def diesel_priced(site: Any) -> bool:
    """Whether the site's carbon price is in the objective and covers diesel."""
    price = site.carbon_price
    return price is not None and price.in_objective and "diesel" in price.carriers


def carbon_cny_per_l(genset: Any, site: Any) -> float:
    """The carbon price on one litre of the genset's diesel in the objective [CNY/L]
    (0 unless :func:`diesel_priced`)."""
    if not diesel_priced(site):
        return 0.0
    kg_co2_per_l = genset.fuel_density_kg_per_l / _KG_PER_T * diesel_factor(site).value
    return float(site.carbon_price.cny_per_t) * kg_co2_per_l / _KG_PER_T


def fuel_l(genset: Any, schedule: pd.DataFrame, step_h: float) -> np.ndarray:
    """Diesel burned in each step [L]: :math:`(a u_t + b P_t) \\Delta t`.

    A schedule without the genset's columns (a baseline without it) burns nothing.
    """
    power = f"{genset.name}_power_kw"
    if power not in schedule:
        return np.zeros(len(schedule))
    p = schedule[power].to_numpy(dtype=float)
    running = f"{genset.name}_running_fraction"
    u = schedule[running].to_numpy(dtype=float) if running in schedule else p / genset.rated_kw
    return (genset.fuel_intercept_l_per_h * u + genset.fuel_slope_l_per_kwh * p) * step_h


def diesel_t(genset: Any, litres: np.ndarray | float) -> np.ndarray | float:
    """Litres of the genset's diesel as tonnes [t]: :math:`V \\rho / 1000`."""
    return litres * genset.fuel_density_kg_per_l / _KG_PER_T


def emissions_kg(genset: Any, site: Any, litres: np.ndarray | float) -> np.ndarray | float:
    """Emissions of ``litres`` of the genset's diesel [kgCO2]: :math:`M f`."""
    return diesel_t(genset, litres) * diesel_factor(site).value
