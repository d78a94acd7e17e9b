"""Capacities as decisions: the sized variants of the PV and battery blocks (planning).

:func:`vpp.model.blocks.pv.build_pv` and :func:`vpp.model.blocks.battery.build_battery`
hand over to these when their ``series`` carry the sizing keys below (set by
:mod:`vpp.planning.size`); a dispatch run never does. Every size key is a one-element
array. Costs are over the horizon: the annualized capital cost plus fixed O&M per
unit of capacity, times the horizon's share of a year.

PV keys: ``capacity_min_kw``, ``capacity_max_kw`` [kWp], ``capacity_cost_cny_per_kw``
[CNY/kWp], and the series ``available_per_kw`` [kW/kWp] (the array's availability at
its reference size divided by that size: pvlib's model chain is linear in kWp at a
fixed DC/AC ratio).

Battery keys: ``energy_min_kwh``, ``energy_max_kwh``, ``power_max_kw`` (inf: none),
``duration_h`` (NaN: free), ``unit_energy_kwh`` (NaN: continuous), ``energy_cost_cny_per_kwh``,
``power_cost_cny_per_kw``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks.contract import LinearPort, linear, linear_sum

#: Keys whose presence makes a PV or battery block sized.
PV_SIZE_KEY = "capacity_max_kw"
BATTERY_SIZE_KEY = "energy_max_kwh"


def _one(series: dict[str, np.ndarray], key: str) -> float:
    return float(np.asarray(series[key], float).reshape(-1)[0])


def build_sized_pv(block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> None:
    r"""A PV array of size :math:`C` [kWp] to be chosen.

    .. math::

        \underline C \le C \le \bar C, \qquad 0 \le P_t \le a_t C, \qquad net_t = P_t,
        \qquad cost = \kappa C

    with :math:`a_t` ``available_per_kw`` [kW/kWp] and :math:`\kappa`
    ``capacity_cost_cny_per_kw`` [CNY/kWp over the horizon]. ``capacity_kw`` is the
    chosen size.
    """
    m = block.model()
    lo, hi = _one(series, "capacity_min_kw"), _one(series, "capacity_max_kw")
    per_kw = np.asarray(series["available_per_kw"], float)
    upper = (per_kw * hi).tolist()
    block.capacity_kw = pyo.Var(bounds=(lo, hi))
    block.pv_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
    coef = (-per_kw).tolist()
    block.pv_within_size = pyo.Constraint(
        m.T,
        rule=lambda b, t: (None, linear([1.0, coef[t]], [b.pv_kw[t], b.capacity_kw]), 0.0),
    )
    block.net_kw = LinearPort([(1.0, block.pv_kw)])
    block.cost_cny = pyo.Expression(
        expr=linear([_one(series, "capacity_cost_cny_per_kw")], [block.capacity_kw])
    )


def build_sized_battery(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], tie_break: float
) -> None:
    r"""A battery of energy :math:`E` [kWh] and power :math:`P` [kW] to be chosen.

    As :func:`vpp.model.blocks.battery.build_battery` with the sizes as variables:

    .. math::

        \underline E \le E \le \bar E, \quad 0 \le P \le \bar P, \quad
        E = d P \;(\text{if } d), \quad E = n u,\; n \in \mathbb{N} \;(\text{if } u)

        0 \le P^{ch}_t \le P, \quad 0 \le P^{dis}_t \le P, \quad
        \underline s E \le S_k \le \bar s E, \quad S_0 = s_0 E

        S_{t+1} = (1-\sigma)^{\Delta t} S_t + (\eta^{ch} P^{ch}_t - P^{dis}_t/\eta^{dis})\Delta t,
        \qquad S_N \ge s_0 E \;(\text{or} = ,\text{ or free})

        cost = \kappa_E E + \kappa_P P + \sum_t (\kappa P^{dis}_t + \epsilon P^{ch}_t)\Delta t

    One power rating :math:`P` bounds charging and discharging. ``energy_kwh`` and
    ``power_kw`` are the chosen sizes (``units`` the unit count when :math:`u` is given).
    """
    m = block.model()
    dt_h = horizon.step_h
    n = len(m.T)
    e_lo, e_hi = _one(series, "energy_min_kwh"), _one(series, "energy_max_kwh")
    p_hi = _one(series, "power_max_kw")
    duration = _one(series, "duration_h")
    unit = _one(series, "unit_energy_kwh")
    block.energy_kwh = pyo.Var(bounds=(e_lo, e_hi))
    block.power_kw = pyo.Var(bounds=(0.0, None if math.isinf(p_hi) else p_hi))
    if not math.isnan(unit):
        block.units = pyo.Var(
            domain=pyo.NonNegativeIntegers,
            bounds=(math.ceil(e_lo / unit - 1e-9), math.floor(e_hi / unit + 1e-9)),
        )
        block.energy_in_units = pyo.Constraint(
            expr=(0.0, linear([1.0, -unit], [block.energy_kwh, block.units]), 0.0)
        )
    if not math.isnan(duration):
        block.fixed_duration = pyo.Constraint(
            expr=(0.0, linear([1.0, -duration], [block.energy_kwh, block.power_kw]), 0.0)
        )
    keep = (1.0 - asset.self_discharge_fraction_per_h) ** dt_h
    eta_ch = asset.charge_efficiency * dt_h
    inv_eta_dis = dt_h / asset.discharge_efficiency
    s_lo, s_hi, s0 = asset.soc_min_fraction, asset.soc_max_fraction, asset.soc_initial_fraction
    block.charge_kw = pyo.Var(m.T, bounds=(0.0, None))
    block.discharge_kw = pyo.Var(m.T, bounds=(0.0, None))
    block.soc_kwh = pyo.Var(m.T0, bounds=(0.0, None))
    e, p = block.energy_kwh, block.power_kw
    block.charge_within_power = pyo.Constraint(
        m.T, rule=lambda b, t: (None, linear([1.0, -1.0], [b.charge_kw[t], p]), 0.0)
    )
    block.discharge_within_power = pyo.Constraint(
        m.T, rule=lambda b, t: (None, linear([1.0, -1.0], [b.discharge_kw[t], p]), 0.0)
    )
    block.soc_below_max = pyo.Constraint(
        m.T0, rule=lambda b, k: (None, linear([1.0, -s_hi], [b.soc_kwh[k], e]), 0.0)
    )
    block.soc_above_min = pyo.Constraint(
        m.T0, rule=lambda b, k: (0.0, linear([1.0, -s_lo], [b.soc_kwh[k], e]), None)
    )
    block.soc_start = pyo.Constraint(expr=(0.0, linear([1.0, -s0], [block.soc_kwh[0], e]), 0.0))
    block.soc_balance = pyo.Constraint(
        m.T,
        rule=lambda b, t: (
            0.0,
            linear(
                [1.0, -keep, -eta_ch, inv_eta_dis],
                [b.soc_kwh[t + 1], b.soc_kwh[t], b.charge_kw[t], b.discharge_kw[t]],
            ),
            0.0,
        ),
    )
    final = linear([1.0, -s0], [block.soc_kwh[n], e])
    if asset.final_soc == "at_least_initial":
        block.soc_final = pyo.Constraint(expr=(0.0, final, None))
    elif asset.final_soc == "equal_initial":
        block.soc_final = pyo.Constraint(expr=(0.0, final, 0.0))
    block.net_kw = LinearPort([(1.0, block.discharge_kw), (-1.0, block.charge_kw)])
    kappa = asset.throughput_cost_cny_per_kwh * dt_h
    eps = tie_break * dt_h
    capacity = linear(
        [_one(series, "energy_cost_cny_per_kwh"), _one(series, "power_cost_cny_per_kw")], [e, p]
    )
    block.cost_cny = pyo.Expression(
        expr=linear_sum(kappa, block.discharge_kw) + linear_sum(eps, block.charge_kw) + capacity
    )
