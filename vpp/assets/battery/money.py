"""The battery unit: throughput cost, the charging tie-break, its energy flows and cycles.

Per battery :math:`b` and step :math:`t` of length :math:`\\Delta t` [h], with
discharge :math:`D_{b,t}` and charge :math:`C_{b,t}` [kW] on the bus side:

.. math::

    \\text{battery cost}_t = \\sum_b \\left(w^{dis}_b D_{b,t} + w^{ch}_b C_{b,t}\\right)
    \\Delta t, \\qquad
    \\text{tie-break} = \\epsilon \\sum_{b,t} C_{b,t} \\Delta t

with :math:`w_b` its ``throughput_cost_cny_per_kwh`` on the sides its
``throughput_cost_on`` names (discharge by default: :math:`w^{ch}_b = 0`), as in its
block (:func:`vpp.assets.battery.block.throughput_costs`), plus, with ``cycle_ageing``,
:math:`\\sum_j c_{b,j} D_{b,j,t} \\Delta t` over its depth segments
(:mod:`vpp.assets.battery.ageing`), and :math:`\\epsilon`
``TIE_BREAK_CNY_PER_KWH`` (in the LP objective, not in the bill).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.battery.ageing import ageing_cost_cny
from vpp.assets.battery.block import TIE_BREAK_CNY_PER_KWH, throughput_costs
from vpp.assets.schedule_values import column_or_zero, sum_columns
from vpp.emissions import CarbonFlow


class BatteryMoney:
    """Batteries: wear on throughput, the charging tie-break, flows and cycles."""

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``battery_cost_cny``, the throughput cost (shown also without batteries)."""
        return {"battery_cost_cny": "own"}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """Throughput cost of the discharged and/or charged energy, plus the cycle-ageing
        cost of the depth segments discharged (:func:`vpp.assets.battery.ageing.ageing_cost_cny`)
        [CNY per step]."""
        cost = np.zeros(len(schedule))
        for b in self.entries(site):
            kappa_ch, kappa_dis = throughput_costs(b)
            for side, kappa in (("discharge", kappa_dis), ("charge", kappa_ch)):
                col = f"{b.name}_{side}_kw"
                if col in schedule and kappa:
                    cost += kappa * schedule[col].to_numpy() * step_h
            cost += ageing_cost_cny(b, schedule, step_h)
        return {"battery_cost_cny": cost}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """None: a battery's cost accrues step by step."""
        return {}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """The tie-break on charged energy [CNY]: ``TIE_BREAK_CNY_PER_KWH`` per kWh."""
        charged_kw = [column_or_zero(schedule, f"{b.name}_charge_kw") for b in self.entries(site)]
        return sum((TIE_BREAK_CNY_PER_KWH * float(c.sum()) * step_h for c in charged_kw), 0.0)

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """None: what a battery stores is counted where it is bought."""
        return {}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """Charging and discharging power of all batteries, bus side [kW]."""
        batteries = self.entries(site)
        return {
            "storage_charge_kw": sum_columns(schedule, [f"{b.name}_charge_kw" for b in batteries]),
            "storage_discharge_kw": sum_columns(
                schedule, [f"{b.name}_discharge_kw" for b in batteries]
            ),
        }

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """Discharged energy per usable capacity ``(soc_max - soc_min) * energy_kwh`` [-]."""
        cycles = {}
        for b in self.entries(site):
            column = f"{b.name}_discharge_kw"
            out_kwh = float(schedule[column].sum()) * step_h if column in schedule else 0.0
            cycles[b.name] = out_kwh / (b.energy_kwh * (b.soc_max_fraction - b.soc_min_fraction))
        return cycles
