r"""The battery unit: its (empty) input series, idle behaviour, the rule-based
baseline's rule (:mod:`vpp.runs.rule_based`) and its end state in the daily job's
fallback.

The rule, one pass over the steps from the battery's initial state (``soc_initial_kwh``
of its series when the state was measured, else ``soc_initial_fraction`` x
``energy_kwh``), acting on the net demand :math:`r_t` the assets before it left [kW]:

1. **PV surplus** (:math:`r_t < 0`): charge from the surplus.
2. **TOU peak**: discharge to cover the whole net demand, but only down to a reserve of
   :data:`PEAK_RESERVE_FRACTION` of the usable capacity above the minimum state;
3. **Always**, outside PV surplus: discharge (down to the minimum state) what exceeds the
   month's set point; in valley steps without discharge, charge from the grid as far as
   the import stays at or below the grid cap. As a **peak guard** (the fallback,
   ``RuleStep.ratchet_months``) the set point is the guard level: it starts at the
   month-to-date peak and rises to every import the battery leaves above it.

Every step keeps the power limits (each of charge and discharge also within
``combined_power_kw`` when given: the rule never charges and discharges in the same
step, so that keeps their sum within it), the state bounds and the storage dynamics
(:class:`vpp.assets.storage.StorageDynamics`), and (unless ``RuleStep.end_rule`` is off)
the final-state rule through a corridor (:func:`corridor`): the least state from which
the end target (``soc_terminal_kwh`` of its series, else the ``final_soc`` target, else
the initial state: :func:`vpp.assets.battery.block.terminal_kwh`) is
reachable by charging at :data:`CORRIDOR_POWER_FRACTION` of the charge power in valley
steps only (all steps when there are none) and, for the ``equal`` rules, the largest
state from which it is reachable at full discharge power; when the rule would leave the
corridor the battery charges or discharges just enough.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.battery.block import terminal_kwh
from vpp.assets.idle import Idle, RuleResult, RuleStep
from vpp.assets.inputs import InputContext
from vpp.assets.storage import StorageDynamics
from vpp.model import AssetInput

#: Share of the usable capacity that TOU-peak discharge leaves for the set point [-].
PEAK_RESERVE_FRACTION = 0.5
#: Share of the charge power the end-of-horizon recharge plans with, in valley steps [-].
CORRIDOR_POWER_FRACTION = 0.5


def start_kwh(asset: AssetInput) -> float:
    """The state it starts in [kWh]: ``soc_initial_kwh`` of its series (the measured
    state the daily job puts in), else ``soc_initial_fraction`` x ``energy_kwh``."""
    spec = asset.spec
    default = spec.soc_initial_fraction * spec.energy_kwh
    return float(asset.series.get("soc_initial_kwh", [default])[0])


def power_limits_kw(b: Any) -> tuple[float, float]:
    """Charge and discharge power the rules may use [kW]: each within
    ``combined_power_kw`` when given."""
    combined = math.inf if b.combined_power_kw is None else float(b.combined_power_kw)
    return min(b.charge_power_kw, combined), min(b.discharge_power_kw, combined)


def corridor(
    b: Any, valley: np.ndarray, dt_h: float, end_kwh: float | None = None
) -> tuple[list[float], list[float]]:
    """Least and largest state [kWh] at each of the ``n + 1`` points that keeps the end rule.

    Parameters
    ----------
    b : Battery
        The scenario entry.
    valley : numpy.ndarray
        Per step, whether it is a valley step (the recharge plans with those).
    dt_h : float
        Step [h].
    end_kwh : float, optional
        The end target [kWh] (the state it started in, as the block holds it); default
        ``soc_initial_fraction`` x ``energy_kwh``.
    """
    n = len(valley)
    can_charge = valley.tolist() if valley.any() else [True] * n
    lo, hi = b.soc_min_fraction * b.energy_kwh, b.soc_max_fraction * b.energy_kwh
    init = b.soc_initial_fraction * b.energy_kwh if end_kwh is None else end_kwh
    keep = StorageDynamics.of(b, dt_h).keep
    p_c, p_d = power_limits_kw(b)
    up = CORRIDOR_POWER_FRACTION * b.charge_efficiency * p_c * dt_h
    down = p_d * dt_h / b.discharge_efficiency
    floor = [lo] * (n + 1)
    ceil = [hi] * (n + 1)
    rule = b.final_rule()
    if rule != "free":
        floor[n] = init
        for k in range(n - 1, -1, -1):
            floor[k] = min(hi, max(lo, (floor[k + 1] - (up if can_charge[k] else 0.0)) / keep))
    if rule == "equal":
        ceil[n] = init
        for k in range(n - 1, -1, -1):
            ceil[k] = max(lo, min(hi, (ceil[k + 1] + down) / keep))
    return floor, ceil


class BatteryRules:
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """No time series: the battery's block reads its scenario entry only.
        ``entry_index`` [-] (one element) is its place in ``site.batteries``, for the
        key a diagnosis names (``site.batteries[i].final_soc``)."""
        names = [b.name for b in ctx.scenario.site.batteries]
        index = names.index(entry.name) if entry.name in names else None
        series = {} if index is None else {"entry_index": np.array([index])}
        return [AssetInput(entry.name, "battery", entry, series)]

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """None: every battery is an entry."""
        return []

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Nothing: the pv-only baseline has no batteries (no columns, no power)."""
        return Idle()

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: a battery offers no supply to be shared."""
        return {}

    def rule_power_kw(self, asset: AssetInput) -> float:
        """Its discharge power [kW]."""
        return float(asset.spec.discharge_power_kw)

    def rule(self, asset: AssetInput, step: RuleStep) -> RuleResult:
        """The rule of the module docstring, from its initial state (:func:`start_kwh`).

        Returns ``<b>_charge_kw``, ``<b>_discharge_kw`` [kW], ``<b>_soc_kwh`` (state at
        the start of each step) [kWh] and the final state [kWh].
        """
        b, dt = asset.spec, step.dt_h
        dyn = StorageDynamics.of(b, dt)
        soc = start_kwh(asset)
        n = len(step.net_kw)
        if step.end_rule:  # the block's end target (terminal_kwh)
            end = terminal_kwh(b, asset.series, soc)
            floor, ceil = corridor(b, step.valley_mask, dt, end)
        else:
            floor = [b.soc_min_fraction * b.energy_kwh] * (n + 1)
            ceil = [b.soc_max_fraction * b.energy_kwh] * (n + 1)
        usable = b.soc_max_fraction - b.soc_min_fraction
        keep, gain, loss = dyn.keep, dyn.gain_kwh_per_kw, dyn.loss_kwh_per_kw
        p_c, p_d = power_limits_kw(b)
        reserve = (b.soc_min_fraction + PEAK_RESERVE_FRACTION * usable) * b.energy_kwh
        net, cap, grid_cap = step.net_kw, step.set_point_kw, step.grid_cap_kw
        peak, valley, months = step.peak, step.valley, step.ratchet_months
        charge, discharge, state = [0.0] * n, [0.0] * n, [0.0] * n
        level = 0.0  # the guard level of the month so far [kW] (ratchet_months only)
        for t in range(n):
            if months is None:
                shave_to, charge_to = cap[t], grid_cap[t]
            else:
                if t == 0 or months[t] != months[t - 1]:
                    level = cap[t]
                shave_to = charge_to = min(level, grid_cap[t])
            state[t] = soc
            s0 = keep * soc
            need, room = floor[t + 1], ceil[t + 1]
            max_c = min(p_c, max(0.0, (room - s0) / gain))
            max_d = min(p_d, max(0.0, (s0 - need) / loss))
            r = net[t]
            c = d = 0.0
            if r < 0.0:
                c = min(max_c, -r)
            else:
                d = min(max_d, max(0.0, r - shave_to))
                if peak[t]:
                    d = max(d, min(r, p_d, max(0.0, (s0 - max(need, reserve)) / loss)))
                elif valley[t] and d == 0.0:
                    c = min(max_c, max(0.0, charge_to - r))
            s1 = s0 + gain * c - loss * d
            if s1 < need:  # keep the end rule reachable: discharge less, then charge
                short = need - s1
                less = min(d, short / loss)
                d -= less
                c += max(0.0, short - less * loss) / gain
            elif s1 > room:
                excess = s1 - room
                less = min(c, excess / gain)
                c -= less
                d += max(0.0, excess - less * gain) / loss
            c, d = min(c, p_c), min(d, p_d)  # power (and combined) limits stay physical
            soc = dyn.next_kwh(soc, c, d)
            charge[t], discharge[t] = c, d
            net[t] = r + c - d
            if months is not None:  # a peak it leaves is paid for: the guard rises to it
                level = max(level, net[t])
        columns = {
            f"{asset.name}_charge_kw": charge,
            f"{asset.name}_discharge_kw": discharge,
            f"{asset.name}_soc_kwh": state,
        }
        return RuleResult(columns, final_soc_kwh=float(soc))

    def fallback_final_kwh(
        self, asset: AssetInput, schedule: pd.DataFrame, dt_h: float
    ) -> float | None:
        """The state after the schedule's last step [kWh]: its last ``<b>_soc_kwh``
        moved by its last charge and discharge (:class:`~vpp.assets.storage.StorageDynamics`).
        """
        name = asset.name
        last = schedule.iloc[-1]
        return float(
            StorageDynamics.of(asset.spec, dt_h).next_kwh(
                float(last[f"{name}_soc_kwh"]),
                float(last[f"{name}_charge_kw"]),
                float(last[f"{name}_discharge_kw"]),
            )
        )
