"""Why a site is infeasible, in the user's words: which limit, which hours."""

from __future__ import annotations

import numpy as np
from pyomo.common.gc_manager import PauseGC

from vpp.assets import unit
from vpp.assets.grid.limits import site_limits_kw
from vpp.errors import Problem
from vpp.inputs.site import SiteInputs
from vpp.model import build_model, solve
from vpp.model.blocks.contract import DIAGNOSIS_TOL
from vpp.runs.carbon import diagnose_green

__all__ = ["DIAGNOSIS_TOL", "diagnose"]


def diagnose(inputs: SiteInputs) -> list[Problem]:
    """Explain an infeasible site in the user's words: which limit, which hours.

    A limit given as a series is named by its value at the first step it explains
    (:func:`vpp.assets.grid.limits.site_limits_kw`).

    Solves the elastic model (hard requirements softened by penalised slacks) and
    reports every slack that had to be used.
    """
    horizon = inputs.horizon
    index = horizon.index
    with PauseGC():
        model = build_model(inputs.assets, horizon, elastic=True)
    result = solve(model)
    if result.status != "Optimal":
        return [Problem(f"the scenario is infeasible (HiGHS: {result.status})")]
    problems: list[Problem] = []
    unserved = result.values(model.unserved_kw)
    bad = np.flatnonzero(unserved > DIAGNOSIS_TOL)
    if bad.size:
        limit = site_limits_kw(inputs.assets, horizon.n)[0][bad[0]]
        first = ", ".join(index[i].isoformat() for i in bad[:5])
        load = inputs.series["load_kw"].to_numpy()
        problems.append(
            Problem(
                f"the load cannot be served: the grid import limit of {limit:g} kW plus the "
                f"site's own supply (PV, storage, generators, load shedding) falls short by up to "
                f"{unserved[bad].max():.1f} kW in {bad.size} step(s); first: {first} "
                f"(load there {load[bad[0]]:.1f} kW)",
                key="site.grid.import_limit_kw",
                timestamp=index[bad[0]].isoformat(),
                value=f"{limit:g} kW (the limit at the first step short)",
                fix="raise the import limit, add local supply or storage, or check the load",
            )
        )
    surplus = result.values(model.surplus_kw)
    bad = np.flatnonzero(surplus > DIAGNOSIS_TOL)
    if bad.size:
        export = site_limits_kw(inputs.assets, horizon.n)[1][bad[0]]
        problems.append(
            Problem(
                f"more power than the site can use, store or export in {bad.size} step(s), "
                f"up to {surplus[bad].max():.1f} kW",
                key="site.grid.export_limit_kw",
                timestamp=index[bad[0]].isoformat(),
                value=f"{export:g} kW (the export bound at the first step)",
                fix="raise the export limit or let the supply be curtailed",
            )
        )
    for asset in inputs.assets:  # each unit explains its own elastic slacks
        problems += unit(asset.kind).explain_shortfall(
            model.asset[asset.name], asset, result.values, horizon
        )
    problems += diagnose_green(model, result, inputs)
    if not problems:
        problems.append(Problem("the scenario is infeasible, but no single limit explains it"))
    return problems
