"""Settle a rolling run over the whole horizon: green contracts, certificates, carbon.

The rolling loop (:mod:`vpp.sim.rolling`) decides and settles the physical dispatch
day by day. What is settled over longer periods (a green contract's monthly volume,
the renewable target, the certificates bought to meet it, the carbon account) is then
computed on the operated dispatch by :func:`settle`: the full site model of a
perfect-foresight run, with every physical quantity held at its settled value, so that
the bill, the objective check and the summary are computed exactly as for a
perfect-foresight run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.errors import InfeasibleError, Problem, SolverError
from vpp.model import build_model, solve
from vpp.model.strategies import INFEASIBLE_STATUSES
from vpp.sim.inputs import SiteInputs
from vpp.sim.rolling_inputs import Operated


def settle(
    inputs: SiteInputs, ops: Operated, *, time_limit_s: float | None = None
) -> tuple[Any, Any]:
    """The full site model with the settled dispatch held, solved (module docstring).

    Batteries, PV, flexible loads and export are held at their settled values by
    equal bounds; import is free of its limit (a violation stays visible) and is set
    by the bus balance; green contracts, the green account and the carbon account
    are optimized as in a perfect-foresight run.
    """
    model = build_model(inputs.assets, inputs.horizon)
    cols = ops.columns
    for a in inputs.assets:
        block = model.asset[a.name]
        if a.kind == "grid":
            for v in block.import_kw.values():
                v.setub(None)
            if hasattr(block, "peak_import_kw"):
                for v in block.peak_import_kw.values():
                    v.setub(None)
            _hold(block.export_kw, cols["grid_export_kw"])
        elif a.kind == "pv":
            _hold(block.pv_kw, cols[f"{a.name}_pv_kw"])
        elif a.kind == "battery":
            _hold(block.charge_kw, cols[f"{a.name}_charge_kw"])
            _hold(block.discharge_kw, cols[f"{a.name}_discharge_kw"])
            if hasattr(block, "soc_final"):  # the operated state is what it is: reported
                block.soc_final.deactivate()
        elif a.kind == "shiftable":
            _hold(block.power_kw, cols[f"{a.name}_power_kw"])
        elif a.kind == "curtailable":
            _hold(block.shed_kw, cols[f"{a.name}_shed_kw"])
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


#: Operated values smaller than this [kW] are rounding residues of the real-time rule
#: (1e-13 kW and the like) and are held at zero: as bounds they would be far below
#: HiGHS's tolerances, which it reports as "excessively small bounds".
RESIDUE_KW = 1e-9


def _hold(var: Any, values: np.ndarray) -> None:
    """Hold an indexed variable at ``values`` by equal bounds (it stays a column);
    residues below :data:`RESIDUE_KW` in magnitude are held at zero."""
    held = np.where(np.abs(values) < RESIDUE_KW, 0.0, values)
    for v, x in zip(var.values(), held.tolist()):
        v.setlb(x)
        v.setub(x)
