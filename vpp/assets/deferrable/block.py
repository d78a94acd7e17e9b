"""Deferrable load block: runs of whole steps inside each window (a mixed-integer block)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vpp.assets.deferrable.runs import add_runs, run_steps, window_runs
from vpp.assets.deferrable.typical import relink_runs
from vpp.assets.opt_outs import RebuiltEachWindow
from vpp.assets.sizing import NotSized
from vpp.errors import Problem
from vpp.model.blocks.contract import DIAGNOSIS_TOL, LinearPort

__all__ = ["DeferrableBlock", "run_steps"]


class DeferrableBlock(RebuiltEachWindow, NotSized):
    """Its Pyomo block; never updated in place (:class:`RebuiltEachWindow`: each rolling
    window builds it afresh, its rows follow what each occurrence carries) and never
    sized itself (:class:`NotSized`; a sizing
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

        In a rolling window (:mod:`vpp.assets.deferrable.operation`) an occurrence
        carries what ran before the window: :math:`N` becomes the steps still owed,
        :math:`S` the starts left, and a run under way for :math:`r` steps goes on
        (:math:`s_{a_k} = 0`, :math:`u_t = 1` for its first :math:`L - r` steps,
        :math:`\sum_{t=a_k}^{a_k + H - r} u_t \le H - r`); the steps of an occurrence
        after the window's last one keep their on and start flags (every row above),
        without power, bus or price: what the window plans leaves the rest of the run
        possible, and a later window plans it.
        """
        runs, carried, extra = window_runs(series, horizon.n)
        add_runs(
            block,
            asset,
            runs,
            [1.0] * len(runs),
            horizon.step_h,
            elastic=elastic,
            carried=carried,
            extra_steps=extra,
        )
        block.net_kw = LinearPort([(-1.0, block.power_kw)])

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> str | None:
        """The rows of one window per typical day, closed on the day, at the share of
        the days it stands for that run (:mod:`vpp.assets.deferrable.typical`); returns
        the note of the approximation (None when exact)."""
        return relink_runs(block, asset, horizon, days)

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
