r"""The green account on typical days (:mod:`vpp.planning.typical`).

Its per-step rows (the contract meter, the green balance, green use and certificates
within the import, an hourly target) stand as they are. An annual target sums the
green energy used, the certificates and the consumption over the horizon; on typical
days each step :math:`\tau` of typical day :math:`k` counts once per day it stands for,
:math:`w_k` (:func:`vpp.assets.typical_days.weigh_whole_horizon_row`):

.. math::

    \sum_k w_k \sum_j (Y_{kS+j} + K_{kS+j})\,\Delta t
    \ge \rho \sum_k w_k \sum_j D_{kS+j}\,\Delta t

The certificates' price and the green-use tie-break are step costs, weighted by
:math:`w_k` as every step cost of the sizing. With every day its own typical day,
:math:`w_k = 1`: the full model's row.

Batteries listed in ``green_storage`` are refused (exit 2): their green state would need
its own state linking between days, which is not built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets.typical_days import Aggregation, PeriodSums, weigh_whole_horizon_row
from vpp.errors import Problem, ScenarioError


def relink_target(block: Any, asset: Any, horizon: Any, agg: Aggregation) -> None:
    """The annual target over every day the typical days stand for.

    Raises
    ------
    ScenarioError
        ``renewable_target.green_storage`` names batteries (exit 2).
    """
    account = asset.spec
    if account.storage:
        raise ScenarioError(
            Problem(
                "typical days cannot yet size a site whose renewable target tracks green "
                "energy through storage (the green state of charge is not linked between "
                "days)",
                key="site.renewable_target.green_storage",
                value=", ".join(name for name, _ in account.storage),
                allowed="an empty list with planning.representative_periods",
                fix="drop green_storage, or drop planning.representative_periods",
            )
        )
    target = account.target
    if target is None or target.basis != "annual":
        return  # rows per step only
    assets = block.parent_block().asset
    n = len(block.model().T)
    consumption = np.zeros(n)
    for name in account.consumers:
        constant = assets[name].net_kw.constant_kw
        if constant is not None:
            consumption -= np.asarray(constant, float)
    lower = float(target.fraction) * horizon.step_h * PeriodSums.whole(agg).total(0, consumption)
    weigh_whole_horizon_row(block.target, agg, block.model().T, lower, None)
