"""The carbon unit: the carbon price on the site's emissions, when it is in the objective.

Per step :math:`t`, with :math:`\\lambda` the price [CNY/t] and :math:`E_{l,t}` the
emissions [kg] of each priced account line :math:`l` (electricity: the market-based
line; natural gas, diesel, heat: their lines) from every unit's carbon flows:

.. math::

    \\text{carbon}_t = \\frac{\\lambda}{1000} \\Big(\\sum_{l\\ \\text{priced}} E_{l,t}
    + \\frac{E^{decl}}{T}\\Big)

where :math:`E^{decl}` are the priced emissions of the site's declared annual fuels over
the horizon (activity times the horizon's share of a year, :mod:`vpp.emissions.period`)
spread evenly over its :math:`T` steps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.carbon.flows import electricity_factors, site_carbon_flows
from vpp.assets.emission_factors import carbon_factors, fuel_emissions_kg
from vpp.emissions import CarbonFlow, horizon_year_share, line_activity, line_kg_per_step

_KG_PER_T = 1000.0


def priced_lines(price: Any) -> list[str]:
    """The account lines a carbon price falls on: ``electricity`` prices the
    market-based electricity line, the fuels their own lines."""
    return ["electricity_market_based" if c == "electricity" else c for c in price.carriers]


class CarbonMoney:
    """The carbon price: its cost on the priced lines of the site's carbon account."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``carbon_cny`` (shown also without a carbon price, or one only reported)."""
        return {"carbon_cny": "charge"}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """The carbon price on the priced emissions [CNY per step]; zeros unless the
        price is in the objective."""
        n = len(schedule)
        prices = [p for p in self.entries(site) if p.in_objective]
        if not prices:
            return {"carbon_cny": np.zeros(n)}
        price = prices[0]
        rate = price.cny_per_t / _KG_PER_T
        lines = priced_lines(price)
        activity = line_activity(site_carbon_flows(site, schedule, step_h).values(), n)
        factors = electricity_factors(schedule)
        if any(line in activity for line in lines if line not in factors):
            factors.update({c: f.value for c, f in carbon_factors(site).fuels.items()})
        per_step = rate * line_kg_per_step(activity, factors, lines, n)
        fuel = fuel_emissions_kg(site, year_share=horizon_year_share(schedule.index, step_h))
        priced = sum(v for c, v in fuel.items() if c in price.carriers) * rate
        return {"carbon_cny": per_step + priced / n}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: the carbon price accrues step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the carbon block's cost (with its fuel offset) is the bill's
        ``carbon_cny``."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: the price is no activity."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """None: the price moves no energy."""
        return {}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: the price is no store."""
        return {}
