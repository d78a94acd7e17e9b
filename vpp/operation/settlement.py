"""Settle a rolling run over the whole horizon: green contracts, certificates, carbon.

The rolling loop (:mod:`vpp.operation.rolling`) decides and settles the physical dispatch
day by day. What is settled over longer periods (a green contract's monthly volume,
the renewable target, the certificates bought to meet it, the carbon account) is then
computed on the operated dispatch by :func:`settle`: the full site model of a
perfect-foresight run, with every physical quantity held at its settled value, so that
the bill, the objective check and the summary are computed exactly as for a
perfect-foresight run.
"""

from __future__ import annotations

from typing import Any

from vpp.assets import unit
from vpp.errors import InfeasibleError, Problem, SolverError
from vpp.inputs.site import SiteInputs
from vpp.model import build_model, solve
from vpp.model.strategies import INFEASIBLE_STATUSES
from vpp.operation.windows import Operated


def settle(
    inputs: SiteInputs, ops: Operated, *, time_limit_s: float | None = None
) -> tuple[Any, Any]:
    """The full site model with the settled dispatch held, solved (module docstring).

    Each unit holds itself at its operated values
    (:meth:`vpp.assets.base.AssetUnit.hold`): batteries, PV, flexible loads and export by
    equal bounds; import free of its limit (a violation stays visible), set by the bus
    balance; green contracts, the green account and the carbon account are optimized as
    in a perfect-foresight run.
    """
    model = build_model(inputs.assets, inputs.horizon)
    for a in inputs.assets:
        unit(a.kind).hold(model.asset[a.name], a, ops.columns)
    result = solve(model, time_limit_s=time_limit_s)
    if result.status != "Optimal":
        if result.status in INFEASIBLE_STATUSES:
            raise InfeasibleError(
                Problem(
                    "the operated year cannot be settled: with the dispatch as operated, "
                    "the green contracts or the renewable target cannot be met",
                    key="site.renewable_target",
                    fix="allow certificates (renewable_target.certificates_allowed) or "
                    "lower the target",
                )
            )
        raise SolverError(f"HiGHS ended the settlement with status '{result.status}'")
    return model, result
