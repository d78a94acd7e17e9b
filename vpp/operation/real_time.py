"""The real-time rule: how a plan is applied when the actuals differ from its forecasts.

A rolling run (:mod:`vpp.operation.rolling`) applies each plan until the next re-optimization;
the load and PV that actually happen differ from the forecasts the plan used. Every
asset planned in windows settles through its unit's real-time controller
(:meth:`vpp.assets.base.AssetUnit.controller`, :class:`vpp.assets.control.Controller`),
driven by one site-level loop (:func:`apply_span`) in the order of the power flow:

1. what the loads consume and what PV could produce, whatever happens (loads and
   flexible loads as scheduled, a shed capped at the actual sheddable power);
2. step by step, in time order, knowing only the present step (as a site controller
   would; :func:`vpp.assets.control.run_steps`): storage and other dispatchable units
   follow their set points within their limits. Under ``peak_guard`` (default), when
   the site's import would exceed the guard level
   :math:`G_t = \\min(\\max(\\hat P^{mtd}_m, \\hat P^{plan}_m), \\bar P^{imp})` (the
   month's largest settled import so far or the peak the plan itself intended for that
   month, whichever is higher, capped at the import limit), they first consume less and
   then supply more, within power and energy, to hold the import at :math:`G_t`. This
   is the demand limiting that commercial battery controllers run under a monthly
   demand charge; it uses energy the plan meant for later, which the next
   re-optimization sees in the carried state. Each ``demand_charges`` entry billed on
   the import (``on: import`` or ``net``) guards too, in the steps of its window:
   :math:`G^c_t = \\max(\\hat P^{so\\,far}_{c,b}, \\hat P^{plan}_{c,b})` for the step's
   billing period :math:`b` (a month, or a day for ``per: day``): the period's billed
   peak so far or the largest billed quantity the plan intended in it, whichever is
   higher (:class:`vpp.assets.demand_charge.operation.DemandChargeGuard`). The import is
   held at the lowest level of every guard, :math:`\\min(G_t, \\min_c G^c_t)`
   (:class:`vpp.assets.control.Guards`). A step where the batteries cannot hold it (their
   power or energy is short) is a miss: the summary lists it with its excess
   :math:`I_t - \\min(\\cdot)` [kW] (``rolling.peak_guard``), and each guard's level rises
   to that import (a peak already set is not guarded below). The rule-based baseline
   and the daily job's fallback do not run this loop (:mod:`vpp.runs.rule_based`): they
   guard the month's import peak by their own rule and ignore ``demand_charges``;
3. PV curtailed, in proportion to what each array produces, only as far as the export
   limit needs;
4. the grid takes the rest. Import above the import limit, and export above the export
   limit that curtailment cannot remove, are violations: counted, never hidden.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets import unit
from vpp.assets.control import Applied, Controller, Guards, run_steps

RULES = ("follow_schedule", "peak_guard")

#: The real-time rules in words (:mod:`vpp.operation.real_time`), for the summary.
REAL_TIME_RULE = {
    "follow_schedule": "batteries and flexible loads follow the applied schedule, batteries "
    "within their state-of-charge bounds (a shed is capped at the actual sheddable power); PV "
    "produces all it can and is curtailed only to keep export within the export limit; the "
    "grid takes the rest: import above the import limit, or export above the export limit "
    "that curtailment cannot remove, counts as a violation",
    "peak_guard": "as follow_schedule, and when the import would exceed the month's peak so "
    "far or the peak the plan intended (whichever is higher, at most the import limit), or "
    "in a demand charge's window its billing period's peak so far or the plan's, the "
    "batteries charge less and then discharge more, within power and energy, to hold it "
    "there (steps where they cannot are listed in peak_guard.misses); the grid takes the "
    "rest: import above the import limit, or export above the export limit that "
    "curtailment cannot remove, counts as a violation",
}

#: Curtailable production below which the shares are taken over this floor [kW].
SHARE_FLOOR_KW = 1e-12


def apply_span(
    assets: list[Any],
    states: dict[str, Any],
    applied: Applied,
    misses: list[tuple[int, float]] | None = None,
) -> dict[str, Controller]:
    """Settle one applied span of a plan on actuals (module docstring).

    Parameters
    ----------
    assets : list of AssetInput
        The assets planned in windows, on the run's horizon, in model order.
    states : dict of str to object
        Each asset's carried state at ``applied.start``, by name.
    applied : vpp.assets.control.Applied
        The span, the plan, the forecasts, the actuals and the rule.
    misses : list, optional
        Gains ``(step of the horizon, import above the guard level [kW])`` for each step
        the guards could not hold (:attr:`vpp.assets.control.Guards.misses`).

    Returns
    -------
    dict of str to Controller
        Each asset's controller after the span, by name: its settled
        :meth:`~vpp.assets.control.Controller.columns` and
        :meth:`~vpp.assets.control.Controller.end_state`.
    """
    k = applied.k
    ctrls = {a.name: unit(a.kind).controller(a, states[a.name], applied) for a in assets}
    demand, supply = np.zeros(k), np.zeros(k)
    for c in ctrls.values():
        d, s = c.demand_kw(), c.supply_kw()
        if d is not None:
            demand += d
        if s is not None:
            supply += s
    stepping = [c for c in ctrls.values() if c.steps]
    guards = [g for c in ctrls.values() if (g := c.guard()) is not None]
    guard = Guards(guards) if guards else None
    cap = next((x for c in ctrls.values() if (x := c.export_cap_kw()) is not None), None)
    run_steps(stepping, demand - supply, guard, cap)
    if guard is not None and misses is not None:
        misses.extend((applied.start + t, kw) for t, kw in guard.misses)
    for c in stepping:
        demand += c.consumed_kw()
    net = demand - supply
    excess = np.zeros(k)
    for c in ctrls.values():
        e = c.export_excess_kw(net)
        if e is not None:
            excess = e
    cut = np.zeros(k)
    curtailers = [c for c in ctrls.values() if c.curtailable_kw() is not None]
    if curtailers and excess.any():
        available = sum(c.curtailable_kw() for c in curtailers)
        total = np.maximum(available, SHARE_FLOOR_KW)
        cut = np.minimum(excess, available)
        for c in curtailers:
            c.curtail(cut * c.curtailable_kw() / total)
    for c in ctrls.values():
        c.take_rest(net, cut)
    return ctrls
