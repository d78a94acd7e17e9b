r"""A battery's cycle-ageing cost over depth segments, an LP (Xu et al. 2018).

Xu, Oudalov, Ulbig, Andersson and Kirschen, "Factoring the Cycle Aging Cost of
Batteries Participating in Electricity Markets", IEEE Trans. Power Systems 33(2),
2018, doi:10.1109/TPWRS.2017.2733339 (the segment model of its section on market
dispatch). The energy range :math:`[0, E]` is split into :math:`J` segments of
:math:`E/J`; each has its own charge, discharge and energy, and the battery's are their
sums. For every segment :math:`j = 1..J`, step :math:`t` and state point :math:`k`:

.. math::

    P^{ch}_t = \sum_j P^{ch}_{j,t}, \qquad P^{dis}_t = \sum_j P^{dis}_{j,t}, \qquad
    S_0 = \sum_j e_{j,0}

    0 \le e_{j,k} \le E/J, \qquad P^{ch}_{j,t},\, P^{dis}_{j,t} \ge 0

    e_{j,t+1} = k\, e_{j,t} + \left(\eta^{ch} P^{ch}_{j,t} - P^{dis}_{j,t}/\eta^{dis}
    \right) \Delta t

    \text{ageing cost} = \sum_{j,t} c_j\, P^{dis}_{j,t}\, \Delta t

Summed over :math:`j`, the segment balances are the battery's own balance
(:meth:`vpp.assets.battery.block.BatteryBlock.build`), so :math:`S_k = \sum_j e_{j,k}`
holds at every :math:`k` from :math:`k = 0` on; the state bounds stay on :math:`S_k`.
How the initial state :math:`S_0` is spread over the segments is left to the LP (it
puts it where discharging is cheapest); so does a plan from a measured state (the
daily job), which thus assumes the measured energy sits in the shallowest segments.
With :math:`c_1 \le c_2 \le \dots \le c_J`
(the scenario rejects decreasing costs) the LP uses the shallow segments first, so a
cycle of depth :math:`d \le 1/J` costs :math:`c_1` per kWh and a deeper one :math:`c_1`
on its first :math:`E/J` (from storage) and :math:`c_2` on the next, as the paper's
piecewise-linear cost of cycle depth; no binaries are needed. With one segment the cost
is a throughput cost :math:`c_1` on discharged energy.

======================  ================================  ==================================
symbol                  attribute                         meaning
======================  ================================  ==================================
:math:`P^{ch}_{j,t}`    ``segment{j}_charge_kw[t]``       charge into segment j, bus side [kW]
:math:`P^{dis}_{j,t}`   ``segment{j}_discharge_kw[t]``    discharge of segment j, bus side [kW]
:math:`e_{j,k}`         ``segment{j}_kwh[k]``             energy in segment j [kWh]
:math:`c_j`             ``cycle_ageing``                  marginal cost of segment j, per kWh
                                                          discharged at the bus [CNY/kWh]
======================  ================================  ==================================

A sized battery (:math:`E` a variable) holds :math:`e_{j,k} \le E/J` as rows. The
segment columns appear in the schedule (``<name>_segment1_discharge_kw``, ...); the bill
reads them (:func:`ageing_cost_cny`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from vpp.assets.storage import StorageDynamics, add_storage_balance
from vpp.errors import Problem
from vpp.model.blocks.contract import linear, linear_sum


def segment_costs_cny_per_kwh(spec: Any) -> list[float]:
    """The marginal cost :math:`c_j` of each segment, shallowest first, per kWh
    discharged at the bus [CNY/kWh]; empty without ``cycle_ageing``."""
    ageing = getattr(spec, "cycle_ageing", None)
    if ageing is None:
        return []
    return ageing.bus_costs_cny_per_kwh(float(spec.discharge_efficiency))


def add_cycle_ageing(
    block: Any, spec: Any, model: Any, dynamics: StorageDynamics, energy: Any, dt_h: float
) -> Any:
    """Add the segments of the module docstring to a battery's ``block`` (its
    ``charge_kw``, ``discharge_kw`` and ``soc_kwh`` already built) and return their
    ageing cost [CNY over the horizon], or 0.0 without ``cycle_ageing``.

    Parameters
    ----------
    block : pyomo block
        The battery's block.
    spec : Battery
        The scenario entry.
    model : pyomo model
        Its steps ``T`` and state points ``T0``.
    dynamics : StorageDynamics
        The battery's storage coefficients.
    energy : float or pyomo Var
        The energy capacity :math:`E` [kWh], a variable when sized.
    dt_h : float
        Step [h].
    """
    costs = segment_costs_cny_per_kwh(spec)
    if not costs:
        return 0.0
    n_seg = len(costs)
    sized = not isinstance(energy, float)
    cap = None if sized else energy / n_seg
    charges, discharges, states = [], [], []
    for j in range(1, n_seg + 1):
        ch = pyo.Var(model.T, bounds=(0.0, None))
        dis = pyo.Var(model.T, bounds=(0.0, None))
        e = pyo.Var(model.T0, bounds=(0.0, cap))
        block.add_component(f"segment{j}_charge_kw", ch)
        block.add_component(f"segment{j}_discharge_kw", dis)
        block.add_component(f"segment{j}_kwh", e)
        add_storage_balance(block, f"segment{j}_balance", model.T, dynamics, e, ch, dis)
        if sized:  # e_{j,k} <= E / J
            block.add_component(
                f"segment{j}_within_energy",
                pyo.Constraint(
                    model.T0,
                    rule=lambda b, k, e=e: (None, linear([1.0, -1.0 / n_seg], [e[k], energy]), 0.0),
                ),
            )
        charges.append(ch)
        discharges.append(dis)
        states.append(e)
    ones = [1.0] + [-1.0] * n_seg
    block.segment_charge_sum = pyo.Constraint(
        model.T,
        rule=lambda b, t: (0.0, linear(ones, [b.charge_kw[t], *(c[t] for c in charges)]), 0.0),
    )
    block.segment_discharge_sum = pyo.Constraint(
        model.T,
        rule=lambda b, t: (
            0.0,
            linear(ones, [b.discharge_kw[t], *(d[t] for d in discharges)]),
            0.0,
        ),
    )
    block.segment_state_start = pyo.Constraint(
        expr=(0.0, linear(ones, [block.soc_kwh[0], *(e[0] for e in states)]), 0.0)
    )
    coefs = [c * dt_h for c, d in zip(costs, discharges, strict=True) for _ in d]
    return linear_sum(coefs, [x for d in discharges for x in d.values()])


def ageing_cost_cny(spec: Any, schedule: pd.DataFrame, step_h: float) -> np.ndarray:
    """The ageing cost of each step [CNY]: :math:`\\sum_j c_j P^{dis}_{j,t} \\Delta t`
    from the schedule's ``<name>_segment{j}_discharge_kw`` columns (an optimized
    schedule); without them (a rule-based baseline), from its charge and discharge by
    :func:`shallow_first_cost_cny`; zeros without ``cycle_ageing``."""
    costs = segment_costs_cny_per_kwh(spec)
    cost = np.zeros(len(schedule))
    columns = [f"{spec.name}_segment{j}_discharge_kw" for j in range(1, len(costs) + 1)]
    if costs and all(c in schedule for c in columns):
        for c, col in zip(costs, columns, strict=True):
            cost += c * schedule[col].to_numpy() * step_h
        return cost
    flows = [f"{spec.name}_charge_kw", f"{spec.name}_discharge_kw"]
    if costs and all(c in schedule for c in flows):
        soc = schedule.get(f"{spec.name}_soc_kwh")
        start = float(soc.iloc[0]) if soc is not None and len(soc) else None
        return shallow_first_cost_cny(
            spec, schedule[flows[0]].to_numpy(), schedule[flows[1]].to_numpy(), step_h, start
        )
    return cost


def shallow_first_cost_cny(
    spec: Any,
    charge_kw: np.ndarray,
    discharge_kw: np.ndarray,
    step_h: float,
    start_kwh: float | None = None,
) -> np.ndarray:
    """The ageing cost of each step of a given charge and discharge [CNY], its segments
    filled and drained shallowest first: the initial state ``start_kwh`` (default the
    scenario's) in the shallowest segments, every step the segments kept by :math:`k`,
    then :math:`\\eta^{ch} P^{ch}_t \\Delta t` into the shallowest segments with room, then
    :math:`P^{dis}_t \\Delta t / \\eta^{dis}` out of the shallowest that hold energy,
    each kWh from segment :math:`j` costing :math:`c_j \\eta^{dis}` (its :math:`c_j` per
    kWh at the bus). With non-decreasing :math:`c_j` this is the least cost the segment
    model allows for these flows."""
    costs = np.array(segment_costs_cny_per_kwh(spec))
    cap = float(spec.energy_kwh) / len(costs)
    dyn = StorageDynamics.of(spec, step_h)
    eta_c, eta_d = float(spec.charge_efficiency), float(spec.discharge_efficiency)
    start = spec.soc_initial_fraction * spec.energy_kwh if start_kwh is None else start_kwh
    seg = np.clip(start - cap * np.arange(len(costs)), 0.0, cap)
    out = np.zeros(len(charge_kw))
    for t, (ch, dis) in enumerate(zip(charge_kw, discharge_kw, strict=True)):
        seg *= dyn.keep
        into = eta_c * max(float(ch), 0.0) * step_h
        for j in range(len(seg)):
            add = min(cap - seg[j], into)
            seg[j] += add
            into -= add
        take = max(float(dis), 0.0) * step_h / eta_d
        for j in range(len(seg)):
            used = min(seg[j], take)
            seg[j] -= used
            take -= used
            out[t] += costs[j] * eta_d * used
    return out


def rolling_refusal(spec: Any) -> Problem | None:
    """Why a battery with ``cycle_ageing`` is not run in rolling windows, or None: its
    segment energies are a state of the plan, which the real-time rule (it settles the
    total state of charge only) does not carry from one window to the next."""
    if getattr(spec, "cycle_ageing", None) is None:
        return None
    return Problem(
        f"battery '{spec.name}' has cycle_ageing, which rolling runs do not support yet "
        "(the depth segments' energies are not carried from one window to the next)",
        key="site.batteries.cycle_ageing",
        value="cycle_ageing given",
        allowed="cycle_ageing in a single-solve dispatch (vpp run without rolling windows)",
        fix="remove cycle_ageing for rolling runs, or use throughput_cost_cny_per_kwh",
    )
