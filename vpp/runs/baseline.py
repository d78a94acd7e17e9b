"""The baseline: the same site without batteries and without flexibility.

No optimization is needed: PV serves the load first, the surplus is exported up to
the export bound of each step (the export limit, a number or a series, and the
no-export rule of batteries: :func:`vpp.assets.grid.limits.export_bounds_kw`) when the
export price is positive and curtailed otherwise, and the grid supplies the rest.
Shiftable loads run at full power from the start of each window
(``<name>_default_kw``); EV fleets charge at full power from each arrival until the
energy is delivered (``<fleet>_default_kw``, no V2G); curtailable loads are never shed.
An import above the import limit of a step is not hidden: it is counted in
``import_limit_violations``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.grid.limits import limit_on_index
from vpp.inputs.site import SiteInputs
from vpp.scenario.schema import Scenario

#: Tolerance on an import-limit violation [kW].
LIMIT_TOL_KW = 1e-6


def baseline_schedule(inputs: SiteInputs, scenario: Scenario) -> pd.DataFrame:
    """Dispatch of the site without batteries and flexibility, on the horizon.

    Every asset says what it does idle (``idle`` of its unit, :mod:`vpp.assets.base`):
    what it consumes, the columns of what it can supply, what it takes of the surplus
    (the grid's export) and the columns its idle behaviour fixes. The supply serves the
    demand first; the surplus is exported up to what the grid takes and curtailed
    otherwise; each supplier's columns follow from the share delivered (``delivered``).

    Returns
    -------
    pandas.DataFrame
        The input series plus ``grid_import_kw``, ``grid_export_kw``,
        ``<pv>_pv_kw``, ``<pv>_curtailed_kw``, ``<shiftable>_power_kw``,
        ``<curtailable>_shed_kw`` (zero), ``<fleet>_charge_kw`` and
        ``<fleet>_discharge_kw`` (zero).
    """
    s = inputs.series
    out = s.copy()
    demand = np.zeros(len(s))
    supply_columns: list[str] = []
    export_max = np.zeros(len(s))
    for asset in inputs.assets:
        idle = unit(asset.kind).idle(asset, s)
        for column, values in idle.columns.items():
            out[column] = values
        if idle.demand_kw is not None:
            demand += idle.demand_kw
        if idle.export_max_kw is not None:
            export_max += idle.export_max_kw
        supply_columns += idle.supply_columns
    available = (
        np.sum([s[c].to_numpy() for c in supply_columns], axis=0)
        if supply_columns
        else np.zeros(len(s))
    )
    used_locally = np.minimum(available, demand)
    surplus = available - used_locally
    export = np.minimum(surplus, export_max)
    delivered = used_locally + export
    share = np.divide(delivered, available, out=np.zeros_like(available), where=available > 0)
    for asset in inputs.assets:
        for column, values in unit(asset.kind).delivered(asset, out, share).items():
            out[column] = values
    out["grid_import_kw"] = demand - used_locally
    out["grid_export_kw"] = export
    return out


def import_limit_violations(schedule: pd.DataFrame, scenario: Scenario) -> dict[str, object]:
    """Steps where the import exceeds the import limit of the step (a number or a series,
    :func:`vpp.assets.grid.limits.limit_on_index`): count, largest excess [kW], first time."""
    grid = scenario.site.grid
    if grid.import_limit_kw is None:
        return {"steps": 0, "max_excess_kw": 0.0, "first": None}
    limit = limit_on_index(grid, "import_limit_kw", schedule.index)
    excess = schedule["grid_import_kw"].to_numpy() - limit
    bad = np.flatnonzero(excess > LIMIT_TOL_KW)
    return {
        "steps": int(bad.size),
        "max_excess_kw": float(excess[bad].max()) if bad.size else 0.0,
        "first": str(schedule.index[bad[0]]) if bad.size else None,
    }
