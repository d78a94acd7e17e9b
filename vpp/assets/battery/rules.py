r"""The battery unit: its (empty) input series, idle behaviour and the rule-based
baseline's rule (:mod:`vpp.runs.rule_based`).

The rule, one pass over the steps, acting on the net demand :math:`r_t` the assets
before it left [kW]:

1. **PV surplus** (:math:`r_t < 0`): charge from the surplus.
2. **TOU peak**: discharge to cover the whole net demand, but only down to a reserve of
   :data:`PEAK_RESERVE_FRACTION` of the usable capacity above the minimum state;
3. **Always**, outside PV surplus: discharge (down to the minimum state) what exceeds the
   month's set point; in valley steps without discharge, charge from the grid as far as
   the import stays at or below the grid cap.

Every step keeps the power limits, the state bounds and the storage dynamics
(:class:`vpp.assets.storage.StorageDynamics`), and the final-state rule through a
corridor (:func:`corridor`): the least state from which the end target is reachable by
charging at :data:`CORRIDOR_POWER_FRACTION` of the charge power in valley steps only
(all steps when there are none) and, for ``equal_initial``, the largest state from which
it is reachable at full discharge power; when the rule would leave the corridor the
battery charges or discharges just enough.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.idle import Idle, RuleResult, RuleStep
from vpp.assets.inputs import InputContext
from vpp.assets.storage import StorageDynamics
from vpp.model import AssetInput

#: Share of the usable capacity that TOU-peak discharge leaves for the set point [-].
PEAK_RESERVE_FRACTION = 0.5
#: Share of the charge power the end-of-horizon recharge plans with, in valley steps [-].
CORRIDOR_POWER_FRACTION = 0.5


def corridor(b: Any, valley: np.ndarray, dt_h: float) -> tuple[list[float], list[float]]:
    """Least and largest state [kWh] at each of the ``n + 1`` points that keeps the end rule.

    Parameters
    ----------
    b : Battery
        The scenario entry.
    valley : numpy.ndarray
        Per step, whether it is a valley step (the recharge plans with those).
    dt_h : float
        Step [h].
    """
    n = len(valley)
    can_charge = valley.tolist() if valley.any() else [True] * n
    lo, hi = b.soc_min_fraction * b.energy_kwh, b.soc_max_fraction * b.energy_kwh
    init = b.soc_initial_fraction * b.energy_kwh
    keep = StorageDynamics.of(b, dt_h).keep
    up = CORRIDOR_POWER_FRACTION * b.charge_efficiency * b.charge_power_kw * dt_h
    down = b.discharge_power_kw * dt_h / b.discharge_efficiency
    floor = [lo] * (n + 1)
    ceil = [hi] * (n + 1)
    if b.final_soc != "free":
        floor[n] = init
        for k in range(n - 1, -1, -1):
            floor[k] = min(hi, max(lo, (floor[k + 1] - (up if can_charge[k] else 0.0)) / keep))
    if b.final_soc == "equal_initial":
        ceil[n] = init
        for k in range(n - 1, -1, -1):
            ceil[k] = max(lo, min(hi, (ceil[k + 1] + down) / keep))
    return floor, ceil


class BatteryRules:
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """No series: the battery's block reads its scenario entry only."""
        return [AssetInput(entry.name, "battery", entry, {})]

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
        """The rule of the module docstring, from ``soc_initial_fraction``.

        Returns ``<b>_charge_kw``, ``<b>_discharge_kw`` [kW], ``<b>_soc_kwh`` (state at
        the start of each step) [kWh] and the final state [kWh].
        """
        b, dt = asset.spec, step.dt_h
        dyn = StorageDynamics.of(b, dt)
        floor, ceil = corridor(b, step.valley_mask, dt)
        usable = b.soc_max_fraction - b.soc_min_fraction
        soc = b.soc_initial_fraction * b.energy_kwh
        keep, gain, loss = dyn.keep, dyn.gain_kwh_per_kw, dyn.loss_kwh_per_kw
        p_c, p_d = b.charge_power_kw, b.discharge_power_kw
        reserve = (b.soc_min_fraction + PEAK_RESERVE_FRACTION * usable) * b.energy_kwh
        net, cap, grid_cap = step.net_kw, step.set_point_kw, step.grid_cap_kw
        peak, valley = step.peak, step.valley
        n = len(net)
        charge, discharge, state = [0.0] * n, [0.0] * n, [0.0] * n
        for t in range(n):
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
                d = min(max_d, max(0.0, r - cap[t]))
                if peak[t]:
                    d = max(d, min(r, p_d, max(0.0, (s0 - max(need, reserve)) / loss)))
                elif valley[t] and d == 0.0:
                    c = min(max_c, max(0.0, grid_cap[t] - r))
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
            soc = dyn.next_kwh(soc, c, d)
            charge[t], discharge[t] = c, d
            net[t] = r + c - d
        columns = {
            f"{asset.name}_charge_kw": charge,
            f"{asset.name}_discharge_kw": discharge,
            f"{asset.name}_soc_kwh": state,
        }
        return RuleResult(columns, final_soc_kwh=float(soc))

    def fallback(self, asset: AssetInput) -> dict[str, float]:
        """Idle at the state it starts in: ``soc_initial_kwh`` from telemetry when given,
        else ``soc_initial_fraction`` x ``energy_kwh`` [kWh]; no charge, no discharge."""
        spec = asset.spec
        start = asset.series.get("soc_initial_kwh", [spec.soc_initial_fraction * spec.energy_kwh])
        return {
            f"{asset.name}_charge_kw": 0.0,
            f"{asset.name}_discharge_kw": 0.0,
            f"{asset.name}_soc_kwh": float(start[0]),
        }

    def fallback_final_kwh(self, asset: AssetInput) -> float | None:
        """Where it started (``soc_initial_kwh`` from telemetry) [kWh]; None without it."""
        if "soc_initial_kwh" not in asset.series:
            return None
        return float(asset.series["soc_initial_kwh"][0])
