"""Shiftable load block: an energy to serve inside each window, at limited power."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.shiftable.typical import relink_windows
from vpp.assets.sizing import NotSized
from vpp.errors import Problem
from vpp.model.blocks.contract import (
    DIAGNOSIS_TOL,
    ELASTIC_PENALTY_CNY_PER_KWH,
    LinearPort,
    linear_sum,
)
from vpp.model.blocks.updates import ColBounds, RowBounds


class ShiftableBlock(NotSized):
    """Its Pyomo block, updater and signature; it is never sized (:class:`NotSized`)."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        r"""Build a shiftable load (batch process, pre-cooling).

        Equations, for every window occurrence :math:`k` with steps :math:`W_k`:

        .. math::

            0 \le P_t \le \bar P \;\; (t \in W_k), \qquad P_t = 0 \;\; (t \notin \cup_k W_k)

            \sum_{t \in W_k} P_t \,\Delta t = E_k \;(- U_k \text{ when elastic})

            net_t = -P_t, \qquad cost = 0 \;(+\, \pi \sum_k U_k \text{ when elastic})

        =================  ===================  ================================================
        symbol             attribute            meaning
        =================  ===================  ================================================
        :math:`P_t`        ``power_kw[t]``      power drawn [kW]
        :math:`\bar P`     asset                ``max_power_kw``
        :math:`E_k`        series               ``window_energy_kwh[k]``: energy due in window
                                                k [kWh] (``energy_kwh`` times the share of the
                                                window inside the horizon)
        :math:`W_k`        series               ``window_id[t] == k`` (-1 outside windows)
        :math:`U_k`        ``shortfall_kwh[k]``  energy not served (elastic diagnosis only)
        =================  ===================  ================================================
        """
        m = block.model()
        dt_h = horizon.step_h
        window_id = series["window_id"].astype(int)
        energy = series["window_energy_kwh"]
        p_max = float(asset.max_power_kw)
        upper = np.where(window_id >= 0, p_max, 0.0).tolist()
        block.power_kw = pyo.Var(m.T, bounds=lambda b, t: (0.0, upper[t]))
        members: list[list[int]] = [[] for _ in range(len(energy))]
        for t in np.flatnonzero(window_id >= 0).tolist():
            members[window_id[t]].append(t)
        block.K = pyo.RangeSet(0, len(energy) - 1)
        if elastic:
            block.shortfall_kwh = pyo.Var(block.K, bounds=(0.0, None))

        def _energy(b: Any, k: int) -> Any:
            served = linear_sum(dt_h, [b.power_kw[t] for t in members[k]])
            if elastic:
                served = served + b.shortfall_kwh[k]
            return served == float(energy[k])

        block.energy_due = pyo.Constraint(block.K, rule=_energy)
        block.net_kw = LinearPort([(-1.0, block.power_kw)])
        penalty = linear_sum(ELASTIC_PENALTY_CNY_PER_KWH, block.shortfall_kwh) if elastic else 0.0
        block.cost_cny = pyo.Expression(expr=penalty)

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any]:
        """The numbers of :meth:`build` on a new window: :math:`E_k` and the power bounds."""
        window_id = np.asarray(series["window_id"], dtype=int)
        energy = np.asarray(series["window_energy_kwh"], float)
        upper = np.where(window_id >= 0, float(asset.max_power_kw), 0.0)
        return [ColBounds(block.power_kw, upper=upper), RowBounds(block.energy_due, energy, energy)]

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> bytes:
        """Which steps belong to which window: models with equal patterns share rows."""
        return np.asarray(series["window_id"], dtype=np.int64).tobytes()

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> str | None:
        """One energy row per typical day in place of the occurrences' rows
        (:func:`vpp.assets.shiftable.typical.relink_windows`); returns the note of the
        approximation (None when exact)."""
        return relink_windows(block, asset, horizon, days)

    def explain_shortfall(
        self, block: Any, asset: Any, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Problem]:
        """The first window occurrence whose energy does not fit, from the elastic
        ``shortfall_kwh`` [kWh] (empty when every occurrence fits)."""
        if not hasattr(block, "shortfall_kwh"):
            return []
        flex = asset.spec
        index = horizon.index
        short = values(block.shortfall_kwh)
        window_id = asset.series["window_id"]
        due = asset.series["window_energy_kwh"]
        bad_windows = np.flatnonzero(short > DIAGNOSIS_TOL)
        if bad_windows.size == 0:
            return []
        k = int(bad_windows[0])
        steps = np.flatnonzero(window_id == k)
        fits = flex.max_power_kw * steps.size * horizon.step_h
        opens = ", ".join(
            index[np.flatnonzero(window_id == j)[0]].isoformat() for j in bad_windows[:3]
        )
        return [
            Problem(
                f"shiftable load '{flex.name}' cannot take its energy inside its window "
                f"{flex.window_start}-{flex.window_end} in {bad_windows.size} window(s) "
                f"(first steps: {opens}): the first needs {due[k]:.1f} kWh but at most "
                f"{fits:.1f} kWh fits in its {steps.size} step(s) at {flex.max_power_kw:g} kW",
                key=f"site.flexible_loads '{flex.name}'",
                timestamp=index[steps[0]].isoformat(),
                value=f"energy_kwh {flex.energy_kwh:g}",
                fix="lower energy_kwh, raise max_power_kw or widen the window",
            )
        ]
