"""Deferrable load block: runs of whole steps inside each window (a mixed-integer block)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.opt_outs import NotOnTypicalDays, RebuiltEachWindow
from vpp.assets.sizing import NotSized
from vpp.errors import Problem
from vpp.model.blocks.contract import (
    DIAGNOSIS_TOL,
    ELASTIC_PENALTY_CNY_PER_KWH,
    LinearPort,
    linear,
    linear_sum,
)

#: In the elastic diagnosis, a step of a run not run costs as much as this share of the
#: load's power unserved at the bus [-]: a run that could go only with power unserved
#: (an import limit too low for it) is reported as the load that cannot run, not as the
#: bus; the penalty stays far above any energy price, so a run that fits is run.
SHORTFALL_POWER_SHARE = 0.1


def run_steps(flex: Any, step_h: float) -> tuple[int, int, int]:
    """Steps on per occurrence, shortest and longest run [steps] (whole numbers: the
    inputs checked them, :func:`vpp.assets.deferrable.rules.step_problems`)."""
    return (
        int(round(flex.run_h / step_h)),
        int(round(flex.shortest_run_h / step_h)),
        int(round(flex.longest_run_h / step_h)),
    )


class DeferrableBlock(RebuiltEachWindow, NotSized, NotOnTypicalDays):
    """Its Pyomo block; never updated in place (:class:`RebuiltEachWindow`: rolling
    operation refuses it before that) and never sized itself (:class:`NotSized`; a sizing
    run sizes the other candidates with it in the model, as a mixed-integer problem)."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build a deferrable load (a process run in whole blocks of steps).

        Equations, for every window occurrence :math:`k` with consecutive steps
        :math:`W_k = \{a_k, \dots, b_k\}`, and :math:`u_t = s_t = P_t = 0` outside
        every window:

        .. math::

            P_t = \bar P u_t \quad\text{or, with } \underline P:\quad
            \underline P u_t \le P_t \le \bar P u_t

            s_t \ge u_t - u_{t-1}, \quad s_t \le u_t, \quad s_t \le 1 - u_{t-1}
            \qquad (u_{a_k - 1} := 0)

            \sum_{\tau = \max(a_k,\, t - L + 1)}^{t} s_\tau \le u_t
            \qquad s_t = 0 \text{ for } t > b_k - L + 1

            \sum_{\tau = t}^{t + H} u_\tau \le H \qquad (t + H \le b_k)

            \sum_{t \in W_k} u_t = N \;(- U_k \text{ when elastic}), \qquad
            \sum_{t \in W_k} s_t \le S

            net_t = -P_t, \qquad cost = c^{start} \sum_t s_t
            \;(+\, 0.1\, \pi \bar P \Delta t \sum_k U_k \text{ when elastic})

        =====================  ====================  ==========================================
        symbol                 attribute             meaning
        =====================  ====================  ==========================================
        :math:`u_t`            ``on[t]``             1 while on (binary)
        :math:`s_t`            ``start[t]``          1 at the first step of a run (binary)
        :math:`P_t`            ``power_kw[t]``       power drawn [kW]
        :math:`\bar P`         asset                 ``power_kw`` [kW]
        :math:`\underline P`   asset                 ``min_power_kw`` [kW] (optional)
        :math:`N, L, H`        asset                 ``run_h``, ``min_run_h``, ``max_run_h`` in
                                                     steps of :math:`\Delta t`
        :math:`S`              asset                 ``starts``
        :math:`c^{start}`      asset                 ``start_cost_cny`` [CNY]
        :math:`W_k`            series                ``window_id[t] == k`` (-1 outside)
        :math:`U_k`            ``shortfall_steps``   steps not run (elastic diagnosis only)
        =====================  ====================  ==========================================

        The minimum-run rows are the tight "up-time" form (a run started within the
        last :math:`L` steps keeps the load on); no run starts so late that it would
        leave the window, so every run lies inside it.
        """
        m = block.model()
        flex = asset
        dt_h = horizon.step_h
        window_id = np.asarray(series["window_id"], dtype=int)
        n_run, shortest, longest = run_steps(flex, dt_h)
        n = window_id.size
        inside = window_id >= 0
        # last step of the occurrence of each step (for "a run must fit")
        last = np.full(n, -1, dtype=int)
        first = np.full(n, -1, dtype=int)
        count = int(window_id.max()) + 1 if n else 0
        members = [np.flatnonzero(window_id == k) for k in range(count)]
        for steps in members:
            last[steps] = steps[-1]
            first[steps] = steps[0]
        can_start = inside & (np.arange(n) + shortest - 1 <= last)
        on_ub = inside.astype(float).tolist()
        start_ub = can_start.astype(float).tolist()
        p_max = float(flex.power_kw)
        p_ub = (inside * p_max).tolist()
        block.on = pyo.Var(m.T, domain=pyo.Binary, bounds=lambda b, t: (0.0, on_ub[t]))
        block.start = pyo.Var(m.T, domain=pyo.Binary, bounds=lambda b, t: (0.0, start_ub[t]))
        block.power_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, p_ub[t]))
        on, start, power = block.on, block.start, block.power_kw
        steps_in = np.flatnonzero(inside).tolist()
        block.S = pyo.Set(initialize=steps_in, ordered=True)
        block.power_max = pyo.Constraint(
            block.S, rule=lambda b, t: linear([1.0, -p_max], [power[t], on[t]]) <= 0.0
        )
        p_min = p_max if flex.min_power_kw is None else float(flex.min_power_kw)
        block.power_min = pyo.Constraint(
            block.S, rule=lambda b, t: linear([1.0, -p_min], [power[t], on[t]]) >= 0.0
        )
        has_prev = [t for t in steps_in if first[t] < t]
        block.P = pyo.Set(initialize=has_prev, ordered=True)
        block.start_first = pyo.Constraint(
            pyo.Set(initialize=[t for t in steps_in if first[t] == t]),
            rule=lambda b, t: linear([1.0, -1.0], [start[t], on[t]]) == 0.0,
        )
        block.start_up = pyo.Constraint(
            block.P,
            rule=lambda b, t: linear([1.0, -1.0, 1.0], [start[t], on[t], on[t - 1]]) >= 0.0,
        )
        block.start_on = pyo.Constraint(
            block.P, rule=lambda b, t: linear([1.0, -1.0], [start[t], on[t]]) <= 0.0
        )
        block.start_off = pyo.Constraint(
            block.P, rule=lambda b, t: linear([1.0, 1.0], [start[t], on[t - 1]]) <= 1.0
        )
        if shortest > 1:
            block.min_run = pyo.Constraint(
                block.P,
                rule=lambda b, t: (
                    linear(
                        [1.0] * (t - max(first[t], t - shortest + 1) + 1) + [-1.0],
                        [start[j] for j in range(max(first[t], t - shortest + 1), t + 1)] + [on[t]],
                    )
                    <= 0.0
                ),
            )
        long_rows = [t for t in steps_in if t + longest <= last[t]]
        if long_rows:
            block.max_run = pyo.Constraint(
                pyo.Set(initialize=long_rows),
                rule=lambda b, t: (
                    linear_sum(1.0, [on[j] for j in range(t, t + longest + 1)]) <= float(longest)
                ),
            )
        block.K = pyo.RangeSet(0, count - 1) if count else pyo.Set(initialize=[])
        if elastic:
            block.shortfall_steps = pyo.Var(block.K, bounds=(0.0, float(n_run)))

        def _total(b: Any, k: int) -> Any:
            body = linear_sum(1.0, [on[t] for t in members[k].tolist()])
            if elastic:
                body = body + b.shortfall_steps[k]
            return body == float(n_run)

        block.run_total = pyo.Constraint(block.K, rule=_total)
        block.start_count = pyo.Constraint(
            block.K,
            rule=lambda b, k: (
                linear_sum(1.0, [start[t] for t in members[k].tolist()]) <= float(flex.starts)
            ),
        )
        block.net_kw = LinearPort([(-1.0, power)])
        cost: Any = linear_sum(float(flex.start_cost_cny), start) if flex.start_cost_cny else 0.0
        if elastic:
            penalty = SHORTFALL_POWER_SHARE * ELASTIC_PENALTY_CNY_PER_KWH * p_max * dt_h
            cost = cost + linear_sum(penalty, block.shortfall_steps)
        block.cost_cny = pyo.Expression(expr=cost)

    def explain_shortfall(
        self, block: Any, asset: Any, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Problem]:
        """The window occurrences that cannot hold their runs, from the elastic
        ``shortfall_steps`` (empty when every occurrence runs in full)."""
        if not hasattr(block, "shortfall_steps"):
            return []
        flex = asset.spec
        short = values(block.shortfall_steps)
        bad = np.flatnonzero(short > DIAGNOSIS_TOL)
        if bad.size == 0:
            return []
        index = horizon.index
        window_id = asset.series["window_id"]
        dt_h = horizon.step_h
        k = int(bad[0])
        steps = np.flatnonzero(window_id == k)
        opens = index[steps[0]]
        closes = index[steps[-1]] + (index[1] - index[0] if len(index) > 1 else 0)
        horizon_end = index[-1] + (index[1] - index[0] if len(index) > 1 else 0)
        n_run, shortest, _ = run_steps(flex, dt_h)
        cut = steps[-1] == len(index) - 1 and steps.size * dt_h < flex.window_h - 1e-9
        if cut:
            why = (
                f"the horizon ends at {horizon_end.isoformat()}, leaving {steps.size * dt_h:g} h "
                "of this window"
            )
        elif steps.size < max(n_run, shortest):
            why = f"its window holds only {steps.size * dt_h:g} h"
        else:
            low = flex.power_kw if flex.min_power_kw is None else flex.min_power_kw
            why = (
                f"the site's import limit or other limits leave no room for it at {low:g} kW "
                f"in runs of at least {flex.shortest_run_h:g} h there"
            )
        return [
            Problem(
                f"deferrable load '{flex.name}' cannot run its {flex.run_h:g} h (runs of "
                f"{flex.shortest_run_h:g} to {flex.longest_run_h:g} h, at most {flex.starts} "
                f"start(s)) in its window {flex.window_start}-{flex.window_end} from "
                f"{opens.isoformat()} to {closes.isoformat()} ({bad.size} occurrence(s) "
                f"cannot): {why}; {short[k] * dt_h:g} h of its run did not fit",
                key=f"site.flexible_loads '{flex.name}'",
                timestamp=opens.isoformat(),
                value=f"run_h {flex.run_h:g}",
                fix="shorten run_h or min_run_h, widen the window, raise the import limit, "
                "or end the horizon after the window closes",
            )
        ]
