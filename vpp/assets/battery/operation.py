r"""The battery unit: its rolling-window inputs, plan, real-time rule and settlement hold.

A window starts from the settled state of charge and ends at the scenario's initial
state (its ``final_soc`` rule applied to each window). With a ``final_soc`` target
(``{rule, fraction | kwh}``) the window that ends at the horizon's end holds the target
instead; earlier windows keep ending at the initial state under the target's rule
(:func:`window_terminal_kwh`). Every window whose end is the horizon's end holds it: with a
look-ahead longer than the interval, the last few; in the park backtest, the windows that
reach the end of its horizon extended by the look-ahead; in the daily job, whose window
is its whole horizon, every run (its plan ends at the target).

The real-time rule (:class:`BatteryController`), step by step, knowing only the present:

- **follow the schedule**: run at the planned charge and discharge power, within the
  state-of-charge bounds: a set point that would take the state below
  :math:`\underline{s} E` or above :math:`\bar s E` is cut to what reaches the bound.
  Self-discharge never takes it below its floor: resting there, it charges just enough
  to hold it;
- with ``combined_power_kw``, charge plus discharge never exceeds it: set points that
  together exceed it are netted (the smaller one cancelled against the larger), then
  cut to it; charging to hold the floor and discharging more under the guard stay
  within what is left of it;
- under ``peak_guard``, when the site's import would exceed the guard level, **charge
  less** (down to what holds the floor), then **discharge more**, within power and
  energy. This uses energy the plan meant for later, which the next window sees in the
  state of charge.

Dynamics as in the optimizer (:class:`vpp.assets.storage.StorageDynamics`):
:math:`S_{t+1} = k S_t + \eta^c c_t \Delta t - d_t \Delta t / \eta^d`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vpp.assets.battery.ageing import rolling_refusal
from vpp.assets.control import Applied, Controller, MonthGuard, Window, run_steps
from vpp.assets.hold import hold_at
from vpp.assets.storage import StorageDynamics
from vpp.errors import ScenarioError
from vpp.timeseries import Horizon


def window_terminal_kwh(spec: Any, window: Window) -> float:
    """The end target of a rolling window [kWh]: the ``final_soc`` target (``fraction``
    x ``energy_kwh`` or ``kwh``) in the window that ends at the horizon's end, else (and
    for the string rules) the scenario's initial state."""
    target = spec.final_target_kwh()
    if target is not None and window.stop >= len(window.horizon.index):
        return target
    return spec.soc_initial_fraction * spec.energy_kwh


def scenario_terminal_kwh(spec: Any) -> float:
    """The horizon's end target [kWh]: the ``final_soc`` target, else the initial state."""
    target = spec.final_target_kwh()
    return spec.soc_initial_fraction * spec.energy_kwh if target is None else target


class BatteryController(Controller):
    """One battery over one applied span (module docstring).

    Parameters
    ----------
    spec : Battery
        The scenario entry.
    soc_kwh : float
        State of charge at the span's first step [kWh].
    charge_kw, discharge_kw : numpy.ndarray
        Planned set points over the applied steps [kW].
    dt_h : float
        Step [h].
    """

    steps = True

    def __init__(
        self,
        spec: Any,
        soc_kwh: float,
        charge_kw: np.ndarray,
        discharge_kw: np.ndarray,
        dt_h: float,
    ) -> None:
        self.spec = spec
        self.name = spec.name
        self.soc_kwh = float(soc_kwh)
        self.plan_charge_kw = charge_kw
        self.plan_discharge_kw = discharge_kw
        self.dyn = StorageDynamics.of(spec, dt_h)
        self.low_kwh = spec.soc_min_fraction * spec.energy_kwh
        self.high_kwh = spec.soc_max_fraction * spec.energy_kwh
        combined = spec.combined_power_kw
        self.combined_kw = math.inf if combined is None else float(combined)
        k = len(charge_kw)
        self.charge_kw = np.zeros(k)
        self.discharge_kw = np.zeros(k)
        self.floor_kw = 0.0

    def follow(self, t: int) -> float:
        """The set points within power and the state bounds; at least what holds the
        floor against self-discharge. Returns charge minus discharge [kW]."""
        b, dyn = self.spec, self.dyn
        kept = dyn.keep * self.soc_kwh
        c = min(max(float(self.plan_charge_kw[t]), 0.0), b.charge_power_kw)
        d = min(max(float(self.plan_discharge_kw[t]), 0.0), b.discharge_power_kw)
        if c + d > self.combined_kw:  # netted, then within the shared converter
            c, d = max(c - d, 0.0), max(d - c, 0.0)
            c, d = min(c, self.combined_kw), min(d, self.combined_kw)
        d = min(d, max(0.0, kept + dyn.gain_kwh_per_kw * c - self.low_kwh) / dyn.loss_kwh_per_kw)
        c = min(
            c,
            max(0.0, self.high_kwh - kept + dyn.loss_kwh_per_kw * d) / dyn.gain_kwh_per_kw,
        )
        self.floor_kw = min(
            b.charge_power_kw,
            self.combined_kw - d,
            max(0.0, self.low_kwh - kept + dyn.loss_kwh_per_kw * d) / dyn.gain_kwh_per_kw,
        )
        c = max(c, self.floor_kw)
        self.charge_kw[t], self.discharge_kw[t] = c, d
        return c - d

    def charge_less(self, t: int, kw: float) -> float:
        """Charge up to ``kw`` less, never below what holds the floor [kW]."""
        cut = max(0.0, min(self.charge_kw[t] - self.floor_kw, kw))
        self.charge_kw[t] -= cut
        return cut

    def supply_more(self, t: int, kw: float) -> float:
        """Discharge up to ``kw`` more, within power and the energy above the floor [kW]."""
        dyn = self.dyn
        c, d = self.charge_kw[t], self.discharge_kw[t]
        room = dyn.keep * self.soc_kwh + dyn.gain_kwh_per_kw * c - self.low_kwh
        more = min(
            kw,
            self.spec.discharge_power_kw - d,
            self.combined_kw - c - d,
            max(0.0, room) / dyn.loss_kwh_per_kw - d,
        )
        if more <= 0.0:
            return 0.0
        self.discharge_kw[t] = d + more
        return more

    def supply_less(self, t: int, kw: float) -> float:
        """Discharge up to ``kw`` less, within the upper state bound [kW]."""
        dyn = self.dyn
        c, d = self.charge_kw[t], self.discharge_kw[t]
        room = self.high_kwh - dyn.keep * self.soc_kwh - dyn.gain_kwh_per_kw * c
        cut = max(0.0, min(kw, d, d + room / dyn.loss_kwh_per_kw))
        self.discharge_kw[t] = d - cut
        return cut

    def advance(self, t: int) -> None:
        """The storage equation over step ``t``."""
        self.soc_kwh = self.dyn.next_kwh(self.soc_kwh, self.charge_kw[t], self.discharge_kw[t])

    def consumed_kw(self) -> np.ndarray:
        """Settled charge minus discharge [kW]."""
        return self.charge_kw - self.discharge_kw

    def columns(self) -> dict[str, np.ndarray]:
        """Settled charge and discharge [kW]."""
        return {
            f"{self.name}_charge_kw": self.charge_kw,
            f"{self.name}_discharge_kw": self.discharge_kw,
        }

    def end_state(self) -> float:
        """The state of charge after the span [kWh]."""
        return self.soc_kwh


@dataclass
class BatteryRun:
    """Settled battery powers [kW] over the applied steps and the state after them [kWh]."""

    charge_kw: dict[str, np.ndarray]
    discharge_kw: dict[str, np.ndarray]
    soc_kwh: dict[str, float]


def run_batteries(
    batteries: Sequence[Any],
    soc_kwh: dict[str, float],
    charge_kw: dict[str, np.ndarray],
    discharge_kw: dict[str, np.ndarray],
    net_without_batteries_kw: np.ndarray,
    dt_h: float,
    guard_kw: dict[int, float] | None = None,
    month_of: np.ndarray | None = None,
    import_limit_kw: float | None = None,
) -> BatteryRun:
    """Settle batteries alone over applied steps by the real-time rule (module docstring).

    Parameters
    ----------
    batteries : sequence of Battery
        The batteries, in scenario order (the order they act in).
    soc_kwh : dict
        State of charge at the first applied step [kWh].
    charge_kw, discharge_kw : dict of str to numpy.ndarray
        Planned set points per battery over the applied steps [kW].
    net_without_batteries_kw : numpy.ndarray
        Actual consumption minus actual production over the applied steps [kW]
        (positive: the site would import).
    dt_h : float
        Step [h].
    guard_kw : dict of int to float, optional
        Guard level per month [kW] (``peak_guard``, :class:`MonthGuard`). None follows
        the schedule.
    month_of : numpy.ndarray, optional
        The month of each applied step (the keys of ``guard_kw``).
    import_limit_kw : float, optional
        Caps the guard level.
    """
    ctrls = [
        BatteryController(b, soc_kwh[b.name], charge_kw[b.name], discharge_kw[b.name], dt_h)
        for b in batteries
    ]
    guard = None
    if guard_kw is not None:
        guard = MonthGuard(guard_kw, month_of, import_limit_kw)
    run_steps(ctrls, net_without_batteries_kw, guard)
    return BatteryRun(
        {c.name: c.charge_kw for c in ctrls},
        {c.name: c.discharge_kw for c in ctrls},
        {c.name: c.soc_kwh for c in ctrls},
    )


class BatteryOperation:
    """Its rolling-window inputs, plan, real-time rule and settlement hold."""

    def in_windows(self, asset: Any) -> bool:
        """A battery is planned in every window."""
        return True

    def initial_state(self, asset: Any, horizon: Horizon) -> float:
        """The scenario's initial state of charge [kWh]."""
        b = asset.spec
        return b.soc_initial_fraction * b.energy_kwh

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> float:
        """A battery adds nothing to the import price."""
        return 0.0

    def window(self, asset: Any, state: float, window: Window) -> Any:
        """The settled state of charge now, and the end target [kWh]: the scenario's
        initial state, or its ``final_soc`` target in the window that ends at the
        horizon's end (:func:`window_terminal_kwh`). A battery with ``cycle_ageing`` is
        refused (:func:`vpp.assets.battery.ageing.rolling_refusal`)."""
        refusal = rolling_refusal(asset.spec)
        if refusal is not None:
            raise ScenarioError(refusal)
        series = {
            "soc_initial_kwh": np.array([state]),
            "soc_terminal_kwh": np.array([window_terminal_kwh(asset.spec, window)]),
        }
        return dataclasses.replace(asset, series=series)

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, np.ndarray]:
        """Planned charge and discharge [kW] and state of charge [kWh]."""
        name = asset.name
        return {
            f"{name}_charge_kw": values(block.charge_kw),
            f"{name}_discharge_kw": values(block.discharge_kw),
            f"{name}_soc_kwh": values(block.soc_kwh),
        }

    def operated_columns(self, asset: Any, n: int) -> dict[str, np.ndarray]:
        """Settled charge and discharge [kW]."""
        return {f"{asset.name}_charge_kw": np.zeros(n), f"{asset.name}_discharge_kw": np.zeros(n)}

    def controller(self, asset: Any, state: float, applied: Applied) -> BatteryController:
        """Follows its set points; charges less and discharges more under the guard."""
        k, name = applied.k, asset.name
        return BatteryController(
            asset.spec,
            state,
            applied.plan[f"{name}_charge_kw"][:k],
            applied.plan[f"{name}_discharge_kw"][:k],
            applied.dt_h,
        )

    def carry(self, asset: Any, state: float, controller: BatteryController) -> float:
        """The settled state of charge after the span [kWh]."""
        return controller.end_state()

    def hold(self, block: Any, asset: Any, columns: dict[str, np.ndarray]) -> None:
        """Charge and discharge held as settled; the final-state rule off (the operated
        state is what it is, and the rolling summary reports any shortfall)."""
        hold_at(block.charge_kw, columns[f"{asset.name}_charge_kw"])
        hold_at(block.discharge_kw, columns[f"{asset.name}_discharge_kw"])
        if hasattr(block, "soc_final"):
            block.soc_final.deactivate()

    def final_shortfall(
        self, asset: Any, final_kwh: Any, price_cny_per_kwh: float
    ) -> dict[str, float] | None:
        """How far it ends below its end target (the ``final_soc`` target, else its initial
        state), priced as refilling in the next valley: shortfall x price / charge
        efficiency [CNY]; None with ``final_soc: free``."""
        b = asset.spec
        if b.final_rule() == "free":
            return None
        target = scenario_terminal_kwh(b)
        end = float(final_kwh.get(b.name, target))
        short = max(0.0, target - end)
        return {
            "final_kwh": end,
            "target_kwh": target,
            "shortfall_kwh": short,
            "value_cny": short * max(price_cny_per_kwh, 0.0) / b.charge_efficiency,
        }

    def measured_state(self, entry: Any) -> tuple[float, float, float]:
        """Its state of charge: the scenario's initial state and the bounds [kWh]."""
        return (
            entry.soc_initial_fraction * entry.energy_kwh,
            entry.soc_min_fraction * entry.energy_kwh,
            entry.soc_max_fraction * entry.energy_kwh,
        )

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """The measured state of charge as the initial state [kWh]."""
        if state is None:
            return asset
        return dataclasses.replace(
            asset, series={**asset.series, "soc_initial_kwh": np.array([state])}
        )
