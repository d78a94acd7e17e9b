"""The baseline: the same site without batteries and without flexibility.

No optimization is needed: PV serves the load first, the surplus is exported up to
the export limit when the export price is positive and curtailed otherwise, and the
grid supplies the rest. Shiftable loads run at full power from the start of each
window (``<name>_default_kw``); EV fleets charge at full power from each arrival
until the energy is delivered (``<fleet>_default_kw``, no V2G); curtailable loads
are never shed. An import above
the import limit is not hidden: it is counted in ``import_limit_violations``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vpp.scenario.schema import CurtailableLoad, Scenario, ShiftableLoad
from vpp.sim.inputs import SiteInputs

#: Tolerance on an import-limit violation [kW].
LIMIT_TOL_KW = 1e-6


def baseline_schedule(inputs: SiteInputs, scenario: Scenario) -> pd.DataFrame:
    """Dispatch of the site without batteries and flexibility, on the horizon.

    Returns
    -------
    pandas.DataFrame
        The input series plus ``grid_import_kw``, ``grid_export_kw``,
        ``<pv>_pv_kw``, ``<pv>_curtailed_kw``, ``<shiftable>_power_kw``,
        ``<curtailable>_shed_kw`` (zero), ``<fleet>_charge_kw`` and
        ``<fleet>_discharge_kw`` (zero).
    """
    site = scenario.site
    s = inputs.series
    out = s.copy()
    demand = s["load_kw"].to_numpy().copy()
    for flex in site.flexible_loads:
        if isinstance(flex, ShiftableLoad):
            out[f"{flex.name}_power_kw"] = s[f"{flex.name}_default_kw"]
            demand += s[f"{flex.name}_default_kw"].to_numpy()
        elif isinstance(flex, CurtailableLoad):
            out[f"{flex.name}_shed_kw"] = 0.0
            demand += s[f"{flex.name}_power_kw"].to_numpy()
    for fleet in site.ev_fleets:  # uncontrolled charging, no V2G
        out[f"{fleet.name}_charge_kw"] = s[f"{fleet.name}_default_kw"]
        out[f"{fleet.name}_discharge_kw"] = 0.0
        demand += s[f"{fleet.name}_default_kw"].to_numpy()
    pv_names = [a.name for a in site.pv]
    available = (
        np.sum([s[f"{n}_available_kw"].to_numpy() for n in pv_names], axis=0)
        if pv_names
        else np.zeros(len(s))
    )
    used_locally = np.minimum(available, demand)
    surplus = available - used_locally
    can_export = s["export_price_cny_per_kwh"].to_numpy() > 0.0
    export = np.where(can_export, np.minimum(surplus, site.grid.export_limit_kw), 0.0)
    delivered = used_locally + export
    share = np.divide(delivered, available, out=np.zeros_like(available), where=available > 0)
    for n in pv_names:
        avail = s[f"{n}_available_kw"].to_numpy()
        out[f"{n}_pv_kw"] = avail * share
        out[f"{n}_curtailed_kw"] = avail * (1.0 - share)
    out["grid_import_kw"] = demand - used_locally
    out["grid_export_kw"] = export
    return out


def import_limit_violations(schedule: pd.DataFrame, scenario: Scenario) -> dict[str, object]:
    """Steps where the import exceeds the import limit: count, largest excess [kW], first time."""
    limit = scenario.site.grid.import_limit_kw
    if limit is None:
        return {"steps": 0, "max_excess_kw": 0.0, "first": None}
    excess = schedule["grid_import_kw"].to_numpy() - limit
    bad = np.flatnonzero(excess > LIMIT_TOL_KW)
    return {
        "steps": int(bad.size),
        "max_excess_kw": float(excess[bad].max()) if bad.size else 0.0,
        "first": str(schedule.index[bad[0]]) if bad.size else None,
    }
