"""The bill of a dispatch, computed from the schedule alone.

This is the settlement a utility would send, recomputed from metered-like columns
and prices; it does not read the optimization model. That makes it an independent
check of the objective: :func:`vpp.sim.run.run` compares the two on every solve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.scenario.schema import Battery, CurtailableLoad, Scenario


def monthly_peaks_kw(import_kw: pd.Series) -> dict[str, float]:
    """The largest import of each calendar month [kW], keyed ``YYYY-MM``."""
    local = import_kw.index.tz_localize(None) if import_kw.index.tz is not None else import_kw.index
    keys = local.strftime("%Y-%m")
    peaks = pd.Series(import_kw.to_numpy(), index=keys).groupby(level=0, sort=False).max()
    return {str(k): float(v) for k, v in peaks.items()}


def bill(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> dict[str, Any]:
    """Cost parts of a schedule [CNY].

    Parameters
    ----------
    schedule : pandas.DataFrame
        With ``grid_import_kw``, ``grid_export_kw``, ``price_cny_per_kwh``,
        ``export_price_cny_per_kwh`` and, per asset, ``<battery>_discharge_kw`` and
        ``<curtailable>_shed_kw`` where present.
    scenario : Scenario
        For the demand-charge rate, throughput and shedding costs.
    step_h : float
        Step length [h].

    Returns
    -------
    dict
        ``energy_cost_cny``, ``export_revenue_cny``, ``demand_charge_cny``,
        ``battery_cost_cny``, ``curtailment_cost_cny``, ``total_cost_cny`` and
        ``peak_import_kw`` (per month).
    """
    site = scenario.site
    imp = schedule["grid_import_kw"]
    exp = schedule["grid_export_kw"]
    energy = float(np.dot(imp.to_numpy(), schedule["price_cny_per_kwh"].to_numpy()) * step_h)
    export = float(np.dot(exp.to_numpy(), schedule["export_price_cny_per_kwh"].to_numpy()) * step_h)
    peaks = monthly_peaks_kw(imp)
    demand = site.grid.demand_charge_cny_per_kw_month * sum(peaks.values())
    battery = 0.0
    for b in site.batteries:
        col = f"{b.name}_discharge_kw"
        if col in schedule:
            battery += _throughput_cost(b, schedule[col].to_numpy(), step_h)
    shed = 0.0
    for f in site.flexible_loads:
        col = f"{f.name}_shed_kw"
        if isinstance(f, CurtailableLoad) and col in schedule:
            shed += f.shed_cost_cny_per_kwh * float(schedule[col].sum()) * step_h
    return {
        "total_cost_cny": energy - export + demand + battery + shed,
        "energy_cost_cny": energy,
        "export_revenue_cny": export,
        "demand_charge_cny": demand,
        "battery_cost_cny": battery,
        "curtailment_cost_cny": shed,
        "peak_import_kw": peaks,
    }


def _throughput_cost(battery: Battery, discharge_kw: np.ndarray, step_h: float) -> float:
    return battery.throughput_cost_cny_per_kwh * float(discharge_kw.sum()) * step_h
