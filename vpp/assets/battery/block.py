"""The battery unit's block: charge, discharge and state of charge with losses, its
capacities given or sized."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from vpp.assets.battery.ageing import add_cycle_ageing
from vpp.assets.sizing import MIN_SIZE, SizingCosts, key_value, one, snap
from vpp.assets.storage import StorageDynamics, add_storage_balance
from vpp.errors import Problem, ScenarioError
from vpp.model.blocks.contract import (
    DIAGNOSIS_TOL,
    ELASTIC_PENALTY_CNY_PER_KWH,
    LinearPort,
    linear,
    linear_sum,
)
from vpp.model.blocks.updates import ColBounds, RowBounds

#: Tie-break cost on charged energy [CNY/kWh]. Where energy has no value at the margin
#: (PV surplus that would be curtailed anyway), charging and discharging at once would
#: cost nothing and the LP could return it; this cost makes that strictly worse, while
#: changing any real objective by less than 1e-6 CNY per kWh charged.
TIE_BREAK_CNY_PER_KWH = 1.0e-6

#: The key whose presence in ``series`` makes the battery sized.
BATTERY_SIZE_KEY = "energy_max_kwh"

#: A size this close to one of its bounds is that bound [kWh, kW].
SNAP_TOL = 1e-3

Capacity = float | Any
"""A capacity: a number, or a Pyomo variable when it is sized."""


def terminal_kwh(spec: Any, series: dict[str, np.ndarray], start_kwh: float) -> float:
    """The level the last state is held to [kWh]: ``soc_terminal_kwh`` of ``series``
    (a rolling window's), else the scenario's ``final_soc`` target, else the state the
    run starts in (``start_kwh``)."""
    if "soc_terminal_kwh" in series:
        return float(series["soc_terminal_kwh"][0])
    target = spec.final_target_kwh()
    return start_kwh if target is None else target


def throughput_costs(spec: Any) -> tuple[float, float]:
    """The throughput cost on charged and on discharged energy [CNY/kWh]
    (``throughput_cost_cny_per_kwh`` on the sides ``throughput_cost_on`` names)."""
    kappa = float(spec.throughput_cost_cny_per_kwh)
    side = spec.throughput_cost_on
    return (kappa if side in ("charge", "both") else 0.0, kappa if side != "charge" else 0.0)


def _upper(capacity: Capacity, fraction: float = 1.0) -> float | None:
    """The variable bound a capacity gives: ``fraction * capacity``, or none when sized."""
    return fraction * capacity if isinstance(capacity, float) else None


def _at_most(
    block: Any, name: str, index: Any, var: Any, capacity: Capacity, fraction: float = 1.0
) -> None:
    """``var[i] <= fraction * capacity`` as rows when the capacity is sized (else the
    variable's bound, :func:`_upper`, holds it)."""
    if isinstance(capacity, float):
        return
    coefs = [1.0, -fraction]
    rule = lambda b, i: (None, linear(coefs, [var[i], capacity]), 0.0)  # noqa: E731
    block.add_component(name, pyo.Constraint(index, rule=rule))


def _at_least(
    block: Any, name: str, index: Any, var: Any, capacity: Capacity, fraction: float
) -> None:
    """``var[i] >= fraction * capacity`` as rows when the capacity is sized."""
    if isinstance(capacity, float):
        return
    coefs = [1.0, -fraction]
    rule = lambda b, i: (0.0, linear(coefs, [var[i], capacity]), None)  # noqa: E731
    block.add_component(name, pyo.Constraint(index, rule=rule))


def _soften_final(block: Any, coefs: list[float], terms: list[Any], rule: str) -> tuple[Any, Any]:
    r"""The elastic end state :math:`\sum_j c_j x_j + U\,(- V)`: ``coefs`` and ``terms``
    the hard one (:math:`S_N`, or :math:`S_N - f E` when sized), plus the slack
    ``shortfall_kwh`` :math:`U` (short of the target) and, for the ``equal`` rule, minus
    ``shortfall_excess_kwh`` :math:`V` (above it), both [kWh]; and their penalty [CNY]."""
    block.shortfall_kwh = pyo.Var(bounds=(0.0, None))
    slacks = [block.shortfall_kwh]
    coefs, terms = [*coefs, 1.0], [*terms, block.shortfall_kwh]
    if rule == "equal":
        block.shortfall_excess_kwh = pyo.Var(bounds=(0.0, None))
        slacks.append(block.shortfall_excess_kwh)
        coefs, terms = [*coefs, -1.0], [*terms, block.shortfall_excess_kwh]
    return linear(coefs, terms), linear_sum(ELASTIC_PENALTY_CNY_PER_KWH, slacks)


def reachable_end_kwh(spec: Any, start_kwh: float, n: int, dt_h: float) -> tuple[float, float]:
    """The lowest and the largest state a battery can end ``n`` steps of ``dt_h`` [h] in
    from ``start_kwh`` [kWh], on its own: discharging or charging at full power (within
    ``combined_power_kw``) every step, within its state bounds and losses [kWh]."""
    dyn = StorageDynamics.of(spec, dt_h)
    combined = math.inf if spec.combined_power_kw is None else float(spec.combined_power_kw)
    up = dyn.gain_kwh_per_kw * min(float(spec.charge_power_kw), combined)
    down = dyn.loss_kwh_per_kw * min(float(spec.discharge_power_kw), combined)
    e = float(spec.energy_kwh)
    lo, hi = spec.soc_min_fraction * e, spec.soc_max_fraction * e
    low = high = float(start_kwh)
    for _ in range(n):
        low = max(lo, dyn.keep * low - down)
        high = min(hi, dyn.keep * high + up)
    return low, high


class BatteryBlock:
    """Its Pyomo block (given or sized), updater and signature, sizing keys, and the
    diagnosis of a final-state target it cannot reach."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build a battery, its energy and power given or to be chosen.

        Equations, for every step :math:`t = 0..N-1` (state points :math:`k = 0..N`):

        .. math::

            0 \le P^{ch}_t \le \bar P^{ch}, \qquad 0 \le P^{dis}_t \le \bar P^{dis},
            \qquad P^{ch}_t + P^{dis}_t \le \bar P^{c} \;(\text{if given})

            \underline{s} E \le S_k \le \bar s E, \qquad S_0 = s_0 E

            S_{t+1} = k\, S_t
                      + \left(\eta^{ch} P^{ch}_t - P^{dis}_t / \eta^{dis}\right) \Delta t,
            \qquad k = (1-\sigma)^{\Delta t} \text{ or } k = \eta^s

            S_N \ge S^{end} \;(\texttt{at\_least}), \quad S_N = S^{end}
            \;(\texttt{equal}), \quad \text{none} \;(\texttt{free})

            net_t = P^{dis}_t - P^{ch}_t

            cost = \sum_t \left(\kappa^{dis} P^{dis}_t + (\kappa^{ch} + \epsilon)
                   P^{ch}_t\right) \Delta t \;(+\, \kappa_E E + \kappa_P P \text{ when sized})

        ======================  ====================  ==========================================
        symbol                  attribute             meaning
        ======================  ====================  ==========================================
        :math:`P^{ch}_t`        ``charge_kw[t]``      charging power, bus side [kW]
        :math:`P^{dis}_t`       ``discharge_kw[t]``   discharging power, bus side [kW]
        :math:`S_k`             ``soc_kwh[k]``        stored energy at the start of step k [kWh]
        :math:`E`               asset                 ``energy_kwh``
        :math:`\bar P^{c}`      asset                 ``combined_power_kw`` (shared converter),
                                                      row ``within_combined_power`` [kW]
        :math:`\eta^{ch/dis}`   asset                 charge / discharge efficiency [-]
        :math:`\sigma`          asset                 ``self_discharge_fraction_per_h`` [1/h]
        :math:`\eta^s`          asset                 ``storage_efficiency_per_step`` [-]
        :math:`S^{end}`         asset, series         the target: ``soc_terminal_kwh`` of the
                                                      series, else the ``final_soc`` target
                                                      (``fraction`` x E or ``kwh``), else
                                                      :math:`S_0` [kWh]
        :math:`\kappa^{ch/dis}` asset                 ``throughput_cost_cny_per_kwh`` on the
                                                      sides ``throughput_cost_on`` names
                                                      (default discharge) [CNY/kWh]
        :math:`\epsilon`        ``TIE_BREAK``         tie-break cost on charged energy
        ======================  ====================  ==========================================

        The rule on :math:`S_N` is ``final_soc``: ``at_least_initial`` and
        ``equal_initial`` (:math:`S^{end} = S_0`), ``free``, or ``{rule: at_least | equal,
        fraction | kwh}`` (:math:`S^{end}` the target). With ``elastic`` (the infeasibility
        diagnosis) the rule holds :math:`S_N + U - V` instead of :math:`S_N`, with the
        slacks ``shortfall_kwh`` :math:`U \ge 0` and, for ``equal``, ``shortfall_excess_kwh``
        :math:`V \ge 0` [kWh], and the cost gains :math:`\pi (U + V)`, :math:`\pi` =
        ``ELASTIC_PENALTY_CNY_PER_KWH`` (:meth:`explain_shortfall`). The two self-discharge
        conventions agree when :math:`\eta^s = (1-\sigma)^{\Delta t}`; a battery gives at most one.

        Simultaneous charging and discharging only loses energy (:math:`\eta < 1`), so it
        never pays while energy has a non-negative value; where energy is worth exactly
        nothing, :math:`\epsilon` breaks the tie. With negative prices it can pay and is
        then allowed, as a real battery could waste energy that way.
        With ``cycle_ageing``, the cost gains a cycle-depth ageing cost over :math:`J`
        depth segments, and the block their columns and rows
        (:mod:`vpp.assets.battery.ageing`, Xu et al. 2018).
        ``series`` may carry ``soc_initial_kwh`` (a one-element array: the state now, for
        a rolling horizon) and ``soc_terminal_kwh`` (the level :math:`S_N` is held to by
        ``final_soc``; default the initial state). :math:`S_0` is a column bounded to
        :math:`[s_0 E, s_0 E]` rather than a fixed variable, so that a rolling horizon can
        move it between solves of the same compiled model (:mod:`vpp.model.update`).

        **Sized** (the sizing keys of :meth:`sizing_series` in ``series``): the energy
        :math:`E` [kWh] and one power rating :math:`P` [kW] are variables, and the
        bounds above that they scale become rows:

        .. math::

            \underline E \le E \le \bar E, \quad 0 \le P \le \bar P, \quad
            E = d P \;(\text{if } d), \quad E = n u,\; n \in \mathbb{N} \;(\text{if } u)

            P^{ch}_t \le P, \quad P^{dis}_t \le P, \quad
            \underline s E \le S_k \le \bar s E, \quad S_0 = s_0 E, \quad
            S_N \ge f E \;(\text{or} = ,\text{ or free})

        with :math:`f` the ``final_soc`` fraction (:math:`s_0` for the string rules; a
        ``kwh`` target is refused with sizing by the scenario check).

        with :math:`\kappa_E`, :math:`\kappa_P` the energy and power costs over the
        horizon [CNY/kWh, CNY/kW]. ``energy_kwh`` and ``power_kw`` are the chosen sizes
        (``units`` the unit count when :math:`u` is given).
        """
        m = block.model()
        dt_h = horizon.step_h
        n = len(m.T)
        sized = BATTERY_SIZE_KEY in series
        if sized:
            e = self._sized_capacity(block, series)
            p_ch = p_dis = block.power_kw
        else:
            e = float(asset.energy_kwh)
            p_ch, p_dis = float(asset.charge_power_kw), float(asset.discharge_power_kw)
        s_lo, s_hi, s0 = asset.soc_min_fraction, asset.soc_max_fraction, asset.soc_initial_fraction

        block.charge_kw = pyo.Var(m.T, bounds=(0.0, _upper(p_ch)))
        block.discharge_kw = pyo.Var(m.T, bounds=(0.0, _upper(p_dis)))
        soc_bounds = (0.0, None) if sized else (s_lo * e, s_hi * e)
        block.soc_kwh = pyo.Var(m.T0, bounds=soc_bounds)
        soc = block.soc_kwh
        _at_most(block, "charge_within_power", m.T, block.charge_kw, p_ch)
        _at_most(block, "discharge_within_power", m.T, block.discharge_kw, p_dis)
        _at_most(block, "soc_below_max", m.T0, soc, e, s_hi)
        _at_least(block, "soc_above_min", m.T0, soc, e, s_lo)
        if sized:  # S_0 = s_0 E and S^end = f E, in rows over E
            block.soc_start = pyo.Constraint(expr=(0.0, linear([1.0, -s0], [soc[0], e]), 0.0))
            f_end = s0 if asset.final_target_kwh() is None else asset.final_soc.fraction
            end_row = ([1.0, -f_end], [soc[n], e])
            final, s_end = linear(*end_row), 0.0
        else:  # S_0 a column bounded to the state now, S^end a number
            s_init = float(series.get("soc_initial_kwh", [s0 * e])[0])
            s_end = terminal_kwh(asset, series, s_init)
            soc[0].setlb(s_init)
            soc[0].setub(s_init)
            soc[0].set_value(s_init)
            final, end_row = soc[n], ([1.0], [soc[n]])
        add_storage_balance(
            block,
            "soc_balance",
            m.T,
            StorageDynamics.of(asset, dt_h),
            soc,
            block.charge_kw,
            block.discharge_kw,
        )
        rule = asset.final_rule()
        penalty: Any = None
        if elastic and rule != "free":  # S_N + U (- V) against the target
            final, penalty = _soften_final(block, *end_row, rule)
        if rule == "at_least":
            block.soc_final = pyo.Constraint(expr=(s_end, final, None))
        elif rule == "equal":
            block.soc_final = pyo.Constraint(expr=(s_end, final, s_end))
        if asset.combined_power_kw is not None:  # a shared converter
            both = (block.charge_kw, block.discharge_kw)
            block.within_combined_power = pyo.Constraint(
                m.T,
                rule=lambda b, t: (
                    None,
                    linear([1.0, 1.0], [both[0][t], both[1][t]]),
                    float(asset.combined_power_kw),
                ),
            )
        block.net_kw = LinearPort([(1.0, block.discharge_kw), (-1.0, block.charge_kw)])
        kappa_ch, kappa_dis = throughput_costs(asset)
        eps = TIE_BREAK_CNY_PER_KWH * dt_h
        cost = linear_sum(kappa_dis * dt_h, block.discharge_kw) + linear_sum(
            kappa_ch * dt_h + eps, block.charge_kw
        )
        if sized:
            cost = cost + linear(
                [
                    key_value(series, "energy_cost_cny_per_kwh"),
                    key_value(series, "power_cost_cny_per_kw"),
                ],
                [e, block.power_kw],
            )
        if asset.cycle_ageing is not None:  # depth segments (Xu et al. 2018)
            dyn = StorageDynamics.of(asset, dt_h)
            cost = cost + add_cycle_ageing(block, asset, m, dyn, e, dt_h)
        if penalty is not None:  # the elastic diagnosis only
            cost = cost + penalty
        block.cost_cny = pyo.Expression(expr=cost)

    def _sized_capacity(self, block: Any, series: dict[str, np.ndarray]) -> Any:
        """Declare the sized energy ``energy_kwh`` [kWh] and power ``power_kw`` [kW], with
        the unit count and the fixed duration when the sizing asks; return the energy."""
        e_lo, e_hi = key_value(series, "energy_min_kwh"), key_value(series, "energy_max_kwh")
        p_hi = key_value(series, "power_max_kw")
        duration = key_value(series, "duration_h")
        unit = key_value(series, "unit_energy_kwh")
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
        return block.energy_kwh

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The numbers of :meth:`build` on a new window: :math:`S_0` and :math:`S^{end}`."""
        e_kwh = float(asset.energy_kwh)
        s_init = float(series.get("soc_initial_kwh", [asset.soc_initial_fraction * e_kwh])[0])
        s_end = terminal_kwh(asset, series, s_init)
        changes: list[Any] = [ColBounds([block.soc_kwh[0]], [s_init], [s_init])]
        rule = asset.final_rule()
        if rule == "at_least":
            changes.append(RowBounds([block.soc_final], [s_end], None))
        elif rule == "equal":
            changes.append(RowBounds([block.soc_final], [s_end], [s_end]))
        return changes

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> str | None:
        """Kotzur's inter-period state in place of the state bounds, start and end rows
        (:func:`vpp.assets.battery.typical.relink_state`); a note when the bounds are
        conservative (self-discharge). A ``cycle_ageing`` battery is refused (exit 2): its
        depth segments' states are not linked between days."""
        from vpp.assets.battery.typical import relink_state

        spec = asset.spec
        if spec.cycle_ageing is not None:
            raise ScenarioError(
                Problem(
                    f"typical days cannot yet size battery '{spec.name}' with cycle_ageing: "
                    "its depth segments' states are not linked between typical days",
                    key="site.batteries[].cycle_ageing",
                    allowed="a battery without cycle_ageing on typical days",
                    fix="drop planning.representative_periods, or the battery's cycle_ageing",
                )
            )
        start_kwh = spec.soc_initial_fraction * float(spec.energy_kwh)
        relink_state(block, asset, horizon, days, terminal_kwh(spec, asset.series, start_kwh))
        if StorageDynamics.of(spec, horizon.step_h).keep < 1.0:
            return (
                f"battery '{spec.name}' on typical days: with self-discharge its state bounds "
                "hold through each typical day's extremes (Kotzur et al. 2018), conservatively"
            )
        return None

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> tuple:
        """Empty: its block has the same structure in every window of the same length."""
        return ()

    def explain_shortfall(
        self, block: Any, asset: Any, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Problem]:
        """A ``final_soc`` target the battery cannot end at, from the elastic slacks
        ``shortfall_kwh`` / ``shortfall_excess_kwh`` [kWh] of :meth:`build`: the target,
        the end state reached, and (unless sized) the largest / lowest end state its own
        power reaches in the horizon (:func:`reachable_end_kwh`); empty when it is met."""
        if not hasattr(block, "shortfall_kwh"):
            return []
        below = float(values(block.shortfall_kwh)[0])
        excess = getattr(block, "shortfall_excess_kwh", None)
        above = 0.0 if excess is None else float(values(excess)[0])
        if max(below, above) <= DIAGNOSIS_TOL:
            return []
        spec = asset.spec
        soc = np.round(values(block.soc_kwh), 9) + 0.0  # no "-0.0 kWh" from solver noise
        target = float(soc[-1]) + below - above  # the row: S_N + U - V = target
        hours = horizon.n * horizon.step_h
        low, high = reachable_end_kwh(spec, float(soc[0]), horizon.n, horizon.step_h)
        own = not hasattr(block, "energy_kwh")  # sized: its reach depends on the size chosen
        if below > DIAGNOSIS_TOL:
            what = f"{below:.1f} kWh short"
            reach = f"charging at full power from {soc[0]:.1f} kWh it reaches at most {high:.1f}"
            limited = own and high < target - DIAGNOSIS_TOL
            fix = (
                f"lower the target to at most {high:.1f} kWh, raise charge_power_kw or "
                "lengthen the horizon"
                if limited
                else "lower the target, raise the grid import limit or charge_power_kw, or "
                "lengthen the horizon"
            )
            allowed = f"at most {high:.1f} kWh" if limited else None
        else:
            what = f"{above:.1f} kWh above it"
            reach = f"discharging at full power from {soc[0]:.1f} kWh it ends at least {low:.1f}"
            limited = own and low > target + DIAGNOSIS_TOL
            fix = (
                f"raise the target to at least {low:.1f} kWh, use rule: at_least, raise "
                "discharge_power_kw or lengthen the horizon"
                if limited
                else "raise the target, use rule: at_least, raise discharge_power_kw or the "
                "export limit, or lengthen the horizon"
            )
            allowed = f"at least {low:.1f} kWh" if limited else None
        how = f"{reach} kWh in {hours:g} h"
        if not limited:
            how = "its own power could reach it, the site's limits leave it there"
        if not own:  # sized: the size chosen (within its sizing limits) bounds it
            size = values(block.energy_kwh)[0], values(block.power_kw)[0]
            how = f"at the size chosen ({size[0]:.1f} kWh, {size[1]:.1f} kW)"
            fix = "lower final_soc.fraction, widen the sizing limits or lengthen the horizon"
        index = asset.series.get("entry_index")
        key = f"site.batteries[{int(index[0])}]" if index is not None else "site.batteries"
        return [
            Problem(
                f"battery '{spec.name}' cannot meet its final_soc target of {target:.1f} kWh "
                f"at the end of the horizon: it ends {what} ({soc[-1]:.1f} kWh); {how}",
                key=f"{key}.final_soc",
                timestamp=(horizon.index[-1] + pd.Timedelta(hours=horizon.step_h)).isoformat(),
                value=f"{spec.final_rule()} {target:.1f} kWh",
                allowed=allowed,
                fix=fix,
            )
        ]

    # ------------------------------------------------------------------ sizing
    def sizing_series(
        self, entry: Any, costs: SizingCosts, horizon: Any, series: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray] | None:
        """The sizing keys of a battery with a ``sizing`` entry; None without one.

        ``energy_min_kwh``, ``energy_max_kwh`` [kWh], ``power_max_kw`` (inf: none) [kW],
        ``duration_h`` (NaN: free) [h], ``unit_energy_kwh`` (NaN: continuous) [kWh],
        ``energy_cost_cny_per_kwh`` (the capital cost, a replacement at its present
        value added, annualized) [CNY/kWh] and ``power_cost_cny_per_kw`` (annualized
        capital cost plus fixed O&M) [CNY/kW], both over the horizon.
        """
        s = getattr(entry, "sizing", None)
        if s is None:
            return None
        r = costs.discount_rate
        years = costs.horizon_years
        replacement = 0.0
        if s.replacement_year is not None:
            replacement = s.replacement_cny_per_kwh / (1.0 + r) ** s.replacement_year
        factor = costs.crf(s.lifetime_years)
        return {
            "energy_min_kwh": one(s.min_energy_kwh),
            "energy_max_kwh": one(s.max_energy_kwh),
            "power_max_kw": one(math.inf if s.max_power_kw is None else s.max_power_kw),
            "duration_h": one(math.nan if s.duration_h is None else s.duration_h),
            "unit_energy_kwh": one(math.nan if s.unit_energy_kwh is None else s.unit_energy_kwh),
            "energy_cost_cny_per_kwh": one(years * factor * (s.capex_cny_per_kwh + replacement)),
            "power_cost_cny_per_kw": one(
                years * (factor * s.capex_cny_per_kw + s.om_cny_per_kw_year)
            ),
        }

    def sizing_problems(self, entry: Any, site: Any) -> list[Problem]:
        """A battery being sized cannot also be tracked as green storage."""
        target = site.renewable_target
        if getattr(entry, "sizing", None) is None or target is None:
            return []
        if entry.name not in target.green_storage:
            return []
        return [
            Problem(
                "a battery being sized cannot also be tracked as green storage",
                key="site.renewable_target.green_storage",
                value=str([entry.name]),
                fix="size it first, then track it with its fixed size",
            )
        ]

    def sized_values(
        self, block: Any, series: dict[str, np.ndarray], value: Callable[[Any], float]
    ) -> tuple[dict[str, Any], float]:
        """``energy_kwh``, ``power_kw`` and ``units`` chosen, and the investment part of
        the objective [CNY over the horizon]; ``value`` reads a solved variable."""
        e, p = value(block.energy_kwh), value(block.power_kw)
        units = round(value(block.units)) if hasattr(block, "units") else None
        investment = float(series["energy_cost_cny_per_kwh"][0]) * e
        investment += float(series["power_cost_cny_per_kw"][0]) * p
        chosen = {
            "kind": "battery",
            "energy_kwh": snap(block.energy_kwh, e, SNAP_TOL),
            "power_kw": snap(block.power_kw, p, SNAP_TOL),
            "units": units,
        }
        return chosen, investment

    def size_limit_keys(self, entry: Any) -> dict[str, tuple[str | None, str | None]]:
        """``energy_kwh`` and the unit count ``units`` between ``min_energy_kwh`` and
        ``max_energy_kwh``; ``power_kw`` between zero and ``max_power_kw``."""
        return {
            "energy_kwh": ("min_energy_kwh", "max_energy_kwh"),
            "power_kw": (None, "max_power_kw"),
            "units": ("min_energy_kwh", "max_energy_kwh"),
        }

    def given_sizes(self, entry: Any) -> dict[str, Any]:
        """The battery as written: ``energy_kwh`` [kWh], ``power_kw`` the larger of its
        charge and discharge powers (the converter's rating) [kW], ``units`` None."""
        return {
            "kind": "battery",
            "energy_kwh": float(entry.energy_kwh),
            "power_kw": float(max(entry.charge_power_kw, entry.discharge_power_kw)),
            "units": None,
        }

    def sized_entry(self, entry: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any] | None:
        """The entry with the chosen energy and power; None when sized to nothing."""
        if chosen["energy_kwh"] <= MIN_SIZE or chosen["power_kw"] <= MIN_SIZE:
            return None
        return {
            **entry,
            "energy_kwh": chosen["energy_kwh"],
            "charge_power_kw": chosen["power_kw"],
            "discharge_power_kw": chosen["power_kw"],
        }

    def investment(
        self, entry: Any, chosen: dict[str, Any], schedule: pd.DataFrame, dt_h: float, years: float
    ) -> dict[str, Any] | None:
        """The new battery as the finance sees it (:class:`vpp.planning.investment.Investment`
        fields); None when sized to nothing. Its energy is the energy discharged."""
        e, p = chosen["energy_kwh"], chosen["power_kw"]
        if e <= MIN_SIZE:
            return None
        z = entry.sizing
        col = f"{entry.name}_discharge_kw"
        return {
            "name": entry.name,
            "kind": "battery",
            "capex_cny": z.capex_cny_per_kwh * e + z.capex_cny_per_kw * p,
            "om_cny_per_year": z.om_cny_per_kw_year * p,
            "lifetime_years": z.lifetime_years,
            "replacement_year": z.replacement_year,
            "replacement_cny": z.replacement_cny_per_kwh * e,
            "annual_energy_kwh": (
                float(schedule[col].sum() * dt_h) / years if col in schedule else 0.0
            ),
            "degradation_fraction_per_year": 0.0,
        }

    def sized_output_kw(self, entry: Any, schedule: pd.DataFrame) -> None:
        """None: a battery shifts energy, it adds no output of its own."""
        return None
