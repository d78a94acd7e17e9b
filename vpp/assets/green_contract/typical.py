r"""A green contract's block on typical days (:mod:`vpp.planning.typical`).

Its per-step rows (the delivery profile's bound, the contract meter of the green
account) stand as they are. Its settlement-period rows sum the energy taken over a
period :math:`p` of the full horizon (a calendar month, or a clock hour); on typical
days each typical step :math:`\tau` counts once per horizon step of :math:`p` it stands
for, :math:`n_{p,\tau}` (:class:`vpp.assets.typical_days.PeriodSums`; for a month,
:math:`n_{p,kS+j} = w_{k,p}`, the days of month :math:`p` typical day :math:`k` stands
for):

.. math::

    \sum_\tau n_{p,\tau}\, G_\tau \,\Delta t \le V_p
    \quad (\text{only without a profile})

    \sum_\tau n_{p,\tau}\, G_\tau \,\Delta t + U_p \ge \phi V_p,
    \qquad 0 \le U_p \le \phi V_p

with :math:`V_p` the period's volume on the full horizon. The energy cost
:math:`(\pi^e + \pi^g + f - c_\tau) G_\tau \Delta t` is a step cost, weighted by
:math:`w_k` as every step cost of the sizing; the penalty :math:`\pi^u U_p` is per period
and not weighted. With every day its own typical day, :math:`n_{p,\tau} = 1` on the
period's steps: the full model's rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from vpp.assets.typical_days import Aggregation, PeriodSums
from vpp.model.blocks.contract import linear


def relink_periods(block: Any, asset: Any, horizon: Any, agg: Aggregation) -> None:
    """Rebuild the volume cap and the take-or-pay rows over the days stood for."""
    period_id = np.asarray(asset.series["period_id"], np.int64)
    volume = np.asarray(asset.series["period_volume_kwh"], float).ravel()
    sums = PeriodSums.of(agg, period_id, len(volume))
    dt_h = horizon.step_h
    if hasattr(block, "volume_cap"):
        block.del_component(block.volume_cap)
        block.volume_cap_typical = pyo.Constraint(
            block.P,
            rule=lambda b, p: (None, linear(*sums.terms(p, [(dt_h, b.take_kw)])), float(volume[p])),
        )
    if hasattr(block, "take_or_pay"):
        minimum = float(asset.spec.take_or_pay_fraction) * volume
        block.del_component(block.take_or_pay)

        def row(b: Any, p: int) -> Any:
            coefs, variables = sums.terms(p, [(dt_h, b.take_kw)])
            return (float(minimum[p]), linear([*coefs, 1.0], [*variables, b.untaken_kwh[p]]), None)

        block.take_or_pay_typical = pyo.Constraint(block.P, rule=row)
