"""The demand-charge unit: each charge on its billed peaks, billed month by month.

For a charge at rate :math:`r` [CNY/kW per billing period], each billing period
:math:`b` (a local calendar month or day) is billed

.. math::

    C_b = r \\max\\Big(\\underline{\\hat P}_b,\\ \\max_{t \\in b \\cap W} q_t\\Big)

with :math:`q_t` the schedule's ``grid_import_kw``, ``grid_export_kw`` or
:math:`|`\\ ``grid_import_kw - grid_export_kw``\\ :math:`|`, :math:`W` the window
(:func:`vpp.assets.demand_charge.periods.window_mask`, on the schedule's ``tou_period``)
and :math:`\\underline{\\hat P}_b` the floor (``peak_floor_kw`` in the first billing
period). A day's charge falls in its month. The block puts the same sum in the objective
(:mod:`vpp.assets.demand_charge.block`), so the objective check holds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.demand_charge.periods import (
    billed_peaks_kw,
    billing_index,
    billing_months,
    window_mask,
)
from vpp.assets.demand_charge.rules import first_floor_kw
from vpp.emissions import CarbonFlow


def charged_kw(charge: Any, schedule: pd.DataFrame) -> np.ndarray:
    """The power a charge meters at each step of a schedule [kW] (missing columns: 0)."""
    zeros = pd.Series(0.0, index=schedule.index)
    imp = schedule.get("grid_import_kw", zeros).to_numpy(float)
    exp = schedule.get("grid_export_kw", zeros).to_numpy(float)
    if charge.on == "import":
        return imp
    if charge.on == "export":
        return exp
    return np.abs(imp - exp)


def charge_by_month(
    charge: Any, schedule: pd.DataFrame
) -> tuple[dict[str, float], dict[str, float]]:
    """A charge's largest billed peak [kW] and its money [CNY] per month ``YYYY-MM``."""
    index = schedule.index
    n = len(schedule)
    tou = schedule["tou_period"].to_numpy(object) if "tou_period" in schedule else None
    if tou is None:
        tou = np.full(n, "series", dtype=object)
    billing = billing_index(index, charge.per)
    peaks = billed_peaks_kw(
        charged_kw(charge, schedule),
        window_mask(index, tou, charge),
        billing,
        first_floor_kw(charge, int(billing.max()) + 1),
    )
    months = billing_months(index, billing)
    peak: dict[str, float] = {}
    money: dict[str, float] = {}
    for month, value in zip(months, peaks.tolist(), strict=True):
        peak[month] = max(peak.get(month, 0.0), value)
        money[month] = money.get(month, 0.0) + float(charge.rate_cny_per_kw) * value
    return peak, money


class DemandChargeMoney:
    """Each charge's billed peak and money, per month."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``<name>_peak_kw`` (metered: the month's largest billed peak) and
        ``<name>_charge_cny`` (charge) for every charge; none without charges."""
        out: dict[str, str] = {}
        for charge in self.entries(site):
            out[f"{charge.name}_peak_kw"] = "metered"
            out[f"{charge.name}_charge_cny"] = "charge"
        return out

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """None: a demand charge is settled per billing period (:meth:`monthly_costs`)."""
        return {}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """Each charge's largest billed peak of the month [kW] and the month's charge
        (the sum over its billing periods) [CNY]."""
        out: dict[str, dict[str, float]] = {}
        if not len(schedule):
            return out
        for charge in self.entries(site):
            peak, money = charge_by_month(charge, schedule)
            out[f"{charge.name}_peak_kw"] = peak
            out[f"{charge.name}_charge_cny"] = money
        return out

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the block's cost is the bill's charge."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: a charge is no activity."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """None: a charge moves no energy."""
        return {}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: a charge is no store."""
        return {}
