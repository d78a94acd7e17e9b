"""Battery block: charge, discharge and state of charge with losses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.model.blocks.contract import LinearPort, linear, linear_sum
from vpp.model.blocks.registry import register
from vpp.model.blocks.sizing import BATTERY_SIZE_KEY, build_sized_battery
from vpp.model.blocks.updates import ColBounds, RowBounds, register_update

#: Tie-break cost on charged energy [CNY/kWh]. Where energy has no value at the margin
#: (PV surplus that would be curtailed anyway), charging and discharging at once would
#: cost nothing and the LP could return it; this cost makes that strictly worse, while
#: changing any real objective by less than 1e-6 CNY per kWh charged.
TIE_BREAK_CNY_PER_KWH = 1.0e-6


@register("battery")
def build_battery(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> None:
    r"""Build a battery.

    Equations, for every step :math:`t = 0..N-1` (state points :math:`k = 0..N`):

    .. math::

        0 \le P^{ch}_t \le \bar P^{ch}, \qquad 0 \le P^{dis}_t \le \bar P^{dis}

        \underline{s} E \le S_k \le \bar s E, \qquad S_0 = s_0 E

        S_{t+1} = (1-\sigma)^{\Delta t} S_t
                  + \left(\eta^{ch} P^{ch}_t - P^{dis}_t / \eta^{dis}\right) \Delta t

        S_N \ge S^{end} \;(\texttt{at\_least\_initial}), \quad S_N = S^{end}
        \;(\texttt{equal\_initial}), \quad \text{none} \;(\texttt{free}),
        \qquad S^{end} = S_0 \text{ unless given}

        net_t = P^{dis}_t - P^{ch}_t

        cost = \sum_t \left(\kappa P^{dis}_t + \epsilon P^{ch}_t\right) \Delta t

    ======================  ====================  ==========================================
    symbol                  attribute             meaning
    ======================  ====================  ==========================================
    :math:`P^{ch}_t`        ``charge_kw[t]``      charging power, bus side [kW]
    :math:`P^{dis}_t`       ``discharge_kw[t]``   discharging power, bus side [kW]
    :math:`S_k`             ``soc_kwh[k]``        stored energy at the start of step k [kWh]
    :math:`E`               asset                 ``energy_kwh``
    :math:`\eta^{ch/dis}`   asset                 charge / discharge efficiency [-]
    :math:`\sigma`          asset                 ``self_discharge_fraction_per_h``
    :math:`\kappa`          asset                 ``throughput_cost_cny_per_kwh``, on
                                                  energy discharged [CNY/kWh]
    :math:`\epsilon`        ``TIE_BREAK``         tie-break cost on charged energy
    ======================  ====================  ==========================================

    Simultaneous charging and discharging only loses energy (:math:`\eta < 1`), so it
    never pays while energy has a non-negative value; where energy is worth exactly
    nothing, :math:`\epsilon` breaks the tie. With negative prices it can pay and is
    then allowed, as a real battery could waste energy that way.
    ``series`` may carry ``soc_initial_kwh`` (a one-element array: the state now, for
    a rolling horizon) and ``soc_terminal_kwh`` (the level :math:`S_N` is held to by
    ``final_soc``; default the initial state). :math:`S_0` is a column bounded to
    :math:`[s_0 E, s_0 E]` rather than a fixed variable, so that a rolling horizon can
    move it between solves of the same compiled model (:mod:`vpp.model.update`).
    With the sizing keys in ``series`` the energy and power are decisions
    (:func:`vpp.model.blocks.sizing.build_sized_battery`).
    """
    if BATTERY_SIZE_KEY in series:
        build_sized_battery(block, asset, horizon, series, TIE_BREAK_CNY_PER_KWH)
        return
    m = block.model()
    dt_h = horizon.step_h
    e_kwh = float(asset.energy_kwh)
    s_min = asset.soc_min_fraction * e_kwh
    s_max = asset.soc_max_fraction * e_kwh
    s_init = float(series.get("soc_initial_kwh", [asset.soc_initial_fraction * e_kwh])[0])
    s_end = float(series.get("soc_terminal_kwh", [s_init])[0])
    keep = (1.0 - asset.self_discharge_fraction_per_h) ** dt_h
    eta_ch = asset.charge_efficiency * dt_h
    inv_eta_dis = dt_h / asset.discharge_efficiency

    block.charge_kw = pyo.Var(m.T, bounds=(0.0, float(asset.charge_power_kw)))
    block.discharge_kw = pyo.Var(m.T, bounds=(0.0, float(asset.discharge_power_kw)))
    block.soc_kwh = pyo.Var(m.T0, bounds=(s_min, s_max))
    block.soc_kwh[0].setlb(s_init)
    block.soc_kwh[0].setub(s_init)
    block.soc_kwh[0].set_value(s_init)
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
    n = len(m.T)
    if asset.final_soc == "at_least_initial":
        block.soc_final = pyo.Constraint(expr=block.soc_kwh[n] >= s_end)
    elif asset.final_soc == "equal_initial":
        block.soc_final = pyo.Constraint(expr=block.soc_kwh[n] == s_end)
    block.net_kw = LinearPort([(1.0, block.discharge_kw), (-1.0, block.charge_kw)])
    kappa = asset.throughput_cost_cny_per_kwh * dt_h
    eps = TIE_BREAK_CNY_PER_KWH * dt_h
    block.cost_cny = pyo.Expression(
        expr=linear_sum(kappa, block.discharge_kw) + linear_sum(eps, block.charge_kw)
    )


@register_update("battery")
def update_battery(
    block: Any, asset: Any, horizon: Any, series: dict[str, np.ndarray], *, elastic: bool = False
) -> list[Any]:
    """The numbers of :func:`build_battery` on a new window: :math:`S_0` and :math:`S^{end}`."""
    e_kwh = float(asset.energy_kwh)
    s_init = float(series.get("soc_initial_kwh", [asset.soc_initial_fraction * e_kwh])[0])
    s_end = float(series.get("soc_terminal_kwh", [s_init])[0])
    changes: list[Any] = [ColBounds([block.soc_kwh[0]], [s_init], [s_init])]
    if asset.final_soc == "at_least_initial":
        changes.append(RowBounds([block.soc_final], [s_end], None))
    elif asset.final_soc == "equal_initial":
        changes.append(RowBounds([block.soc_final], [s_end], [s_end]))
    return changes
