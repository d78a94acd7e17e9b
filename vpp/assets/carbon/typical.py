r"""The carbon block on typical days (:mod:`vpp.planning.typical`).

The account sums the market-based emissions of every step of the horizon. On typical
days each step :math:`\tau` of typical day :math:`k` counts once per day it stands for,
:math:`w_k` (:func:`vpp.assets.typical_days.weigh_whole_horizon_row`), with the typical
day's own factors :math:`f_\tau`:

.. math::

    E^{el} = \sum_k w_k \sum_{j} f_{kS+j}
             \left(P^{imp}_{kS+j} - \sum_c G^c_{kS+j} - K_{kS+j}\right) \Delta t

:math:`E^{el}` is one number for the horizon: the price :math:`\lambda E^{el} / 1000` in
the objective is not weighted again, and the fuel part (a constant for the horizon)
stays as it is. Every typical step's emission is thus priced :math:`w_k` times, as the
sizing weighs every other step cost. The emission cap of the cost-carbon frontier is
weighted the same way (:func:`vpp.planning.sizing_model.step_values`).
"""

from __future__ import annotations

from typing import Any

from vpp.assets.typical_days import Aggregation, weigh_whole_horizon_row


def relink_account(block: Any, agg: Aggregation) -> None:
    """:math:`E^{el}` over every day the typical days stand for."""
    weigh_whole_horizon_row(block.electricity_def, agg, block.model().T, 0.0, 0.0)
