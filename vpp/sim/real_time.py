"""The real-time rule: how batteries follow a schedule when the actuals differ.

A rolling run (:mod:`vpp.sim.rolling`) applies each plan until the next re-optimization;
the load and PV that actually happen differ from the forecasts the plan used. This
module settles the batteries step by step, in time order, knowing only the present
step (as a site controller would):

``follow_schedule``
    Each battery runs at its planned charge and discharge power, within its state of
    charge bounds: a set point that would take the state below
    :math:`\\underline{s} E` or above :math:`\\bar s E` is cut to what reaches the bound.
``peak_guard`` (default)
    As ``follow_schedule``, and when the site's import would exceed the guard level
    :math:`G_t = \\max(\\hat P^{mtd}_m, \\hat P^{plan}_m)` (the month's largest settled import
    so far, or the peak the plan itself intended for that month, whichever is higher;
    capped at the import limit), the batteries first charge less and then discharge
    more, within their power and energy, to hold the import at :math:`G_t`. This is the
    demand limiting that commercial battery controllers run under a monthly demand
    charge; it uses energy the plan meant for later, which the next re-optimization
    sees in the state of charge.

Self-discharge never takes a battery below its floor: one resting there charges just
enough to hold it. Dynamics as in the optimizer:
:math:`S_{t+1} = k S_t + \\eta^c c_t \\Delta t - d_t \\Delta t / \\eta^d`,
:math:`k = (1-\\sigma)^{\\Delta t}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vpp.scenario.schema import Battery

RULES = ("follow_schedule", "peak_guard")

#: The real-time rules in words (:mod:`vpp.sim.real_time`), for the summary.
REAL_TIME_RULE = {
    "follow_schedule": "batteries and flexible loads follow the applied schedule, batteries "
    "within their state-of-charge bounds (a shed is capped at the actual sheddable power); PV "
    "produces all it can and is curtailed only to keep export within the export limit; the "
    "grid takes the rest: import above the import limit, or export above the export limit "
    "that curtailment cannot remove, counts as a violation",
    "peak_guard": "as follow_schedule, and when the import would exceed the month's peak so "
    "far or the peak the plan intended (whichever is higher, at most the import limit), the "
    "batteries charge less and then discharge more, within power and energy, to hold it "
    "there; the grid takes the rest: import above the import limit, or export above the "
    "export limit that curtailment cannot remove, counts as a violation",
}


@dataclass
class BatteryRun:
    """Settled battery powers [kW] over the applied steps and the state after them [kWh]."""

    charge_kw: dict[str, np.ndarray]
    discharge_kw: dict[str, np.ndarray]
    soc_kwh: dict[str, float]


def run_batteries(
    batteries: Sequence[Battery],
    soc_kwh: dict[str, float],
    charge_kw: dict[str, np.ndarray],
    discharge_kw: dict[str, np.ndarray],
    net_without_batteries_kw: np.ndarray,
    dt_h: float,
    guard_kw: dict[int, float] | None = None,
    month_of: np.ndarray | None = None,
    import_limit_kw: float | None = None,
) -> BatteryRun:
    """Settle the batteries over the applied steps (module docstring).

    Parameters
    ----------
    batteries : sequence of Battery
        The site's batteries, in scenario order (the order they act in).
    soc_kwh : dict
        State of charge at the first applied step [kWh].
    charge_kw, discharge_kw : dict of str to numpy.ndarray
        Planned set points per battery over the applied steps [kW].
    net_without_batteries_kw : numpy.ndarray
        Actual consumption minus actual PV over the applied steps [kW] (positive: the
        site would import).
    dt_h : float
        Step [h].
    guard_kw : dict of int to float, optional
        Guard level per month [kW] (``peak_guard``): the larger of the month's settled
        peak before the first applied step and the plan's peak of that month. An import
        the batteries could not hold down raises its month's level for the later steps
        (an already billed peak is not guarded below). None follows the schedule.
    month_of : numpy.ndarray, optional
        The month of each applied step (the keys of ``guard_kw``).
    import_limit_kw : float, optional
        Caps the guard level: the limit is held whatever the month's peak.
    """
    n = len(net_without_batteries_kw)
    out_c = {b.name: np.zeros(n) for b in batteries}
    out_d = {b.name: np.zeros(n) for b in batteries}
    soc = dict(soc_kwh)
    guard = None if guard_kw is None else dict(guard_kw)
    floor_kw: dict[str, float] = {}
    for t in range(n):
        net = float(net_without_batteries_kw[t])
        for b in batteries:
            keep = (1.0 - b.self_discharge_fraction_per_h) ** dt_h
            lo, hi = b.soc_min_fraction * b.energy_kwh, b.soc_max_fraction * b.energy_kwh
            kept = keep * soc[b.name]
            c = min(max(float(charge_kw[b.name][t]), 0.0), b.charge_power_kw)
            d = min(max(float(discharge_kw[b.name][t]), 0.0), b.discharge_power_kw)
            d = min(
                d,
                max(0.0, kept + b.charge_efficiency * c * dt_h - lo)
                * b.discharge_efficiency
                / dt_h,
            )
            c = min(
                c,
                max(0.0, hi - kept + d * dt_h / b.discharge_efficiency)
                / (b.charge_efficiency * dt_h),
            )
            # self-discharge at the floor: charge just enough to hold it
            floor_kw[b.name] = min(
                b.charge_power_kw,
                max(0.0, lo - kept + d * dt_h / b.discharge_efficiency)
                / (b.charge_efficiency * dt_h),
            )
            c = max(c, floor_kw[b.name])
            out_c[b.name][t], out_d[b.name][t] = c, d
            net += c - d
        level = None
        if guard is not None:
            level = float(guard[int(month_of[t])])
            if import_limit_kw is not None:
                level = min(level, float(import_limit_kw))
        if level is not None and net > level:
            excess = net - level
            for b in batteries:  # charge less first: it costs nothing stored
                cut = max(0.0, min(out_c[b.name][t] - floor_kw[b.name], excess))
                out_c[b.name][t] -= cut
                excess -= cut
            for b in batteries:  # then discharge more, within power and energy
                if excess <= 0.0:
                    break
                keep = (1.0 - b.self_discharge_fraction_per_h) ** dt_h
                lo = b.soc_min_fraction * b.energy_kwh
                c, d = out_c[b.name][t], out_d[b.name][t]
                room = keep * soc[b.name] + b.charge_efficiency * c * dt_h - lo
                more = min(
                    excess,
                    b.discharge_power_kw - d,
                    max(0.0, room) * b.discharge_efficiency / dt_h - d,
                )
                if more > 0.0:
                    out_d[b.name][t] = d + more
                    excess -= more
            if excess > 0.0:  # not avoidable: the month's later steps guard above it
                m = int(month_of[t])
                guard[m] = max(guard[m], level + excess)
        for b in batteries:
            keep = (1.0 - b.self_discharge_fraction_per_h) ** dt_h
            soc[b.name] = (
                keep * soc[b.name]
                + b.charge_efficiency * out_c[b.name][t] * dt_h
                - out_d[b.name][t] * dt_h / b.discharge_efficiency
            )
    return BatteryRun(out_c, out_d, soc)
