"""Energy flows between the site's sources and sinks, step by step, as a planner reads them.

The bus balance says how much each source gives and each sink takes at a step, not who
serves whom. This module splits every step into flows from each source to each sink by
a fixed priority rule, the way REopt reports its ``electric_to_load``,
``electric_to_storage`` and ``electric_to_grid`` series:

Sources, at a step [kW]
    PV output after curtailment (every array, role ``pv_output``), battery discharge
    (every store, role ``storage_discharge``), on-site generation (role
    ``generation``: gensets) and grid import (role ``grid_import``).
Sinks, at a step [kW]
    the load, battery charging (every store, role ``storage_charge``) and grid export
    (role ``grid_export``).
The load
    every consumption that is not storage charging: the fixed load, flexible loads net
    of what is shed, shiftable and deferrable loads, vehicles charging. It is read from
    the bus balance as sources minus charging minus export, so every unit that draws
    from the bus counts without this module naming it. Vehicles discharging into the
    bus (V2G, a fleet is not a store here) are netted against the consumption of the
    same step; a step where they give more than the site consumes has no load, and
    their net supply is counted as on-site generation.

Allocation rule (sources in this order, each fills what the sinks still take, in its
own order of sinks):

1. PV serves the load first, then battery charging, then export.
2. Battery discharge serves the remaining load, then export; any rest charges a
   battery (``battery_to_battery``: one store charging while another, or the same,
   discharges in the same step).
3. On-site generation serves the remaining load, then battery charging, then export.
4. Grid import serves the remaining load, then battery charging; any rest is exported
   again (``grid_to_grid``: import and export in the same step, which a negative import
   price can make worthwhile).

Each source reaches every sink, and the sources add up to the sinks at each step (the
bus balance), so the allocation closes: every source's outflows add up to it and every
sink's inflows add up to it, within :data:`FLOW_CLOSURE_TOL_KW`
(:func:`check_closure`). Simultaneous charge and discharge, and simultaneous import
and export, close through the two circulation flows above; they are zero otherwise.

Columns ``flow_<source>_to_<sink>_kw`` [kW] (:data:`FLOW_COLUMNS`); energy totals
``<source>_to_<sink>_kwh`` [kWh] (:func:`energy_flows_kwh`); the same totals of a
baseline schedule, which has no flow columns and no columns of the units it leaves out
(:func:`schedule_flows_kwh`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.columns import role_columns

__all__ = [
    "FLOW_CLOSURE_TOL_KW",
    "FLOW_COLUMNS",
    "SINKS",
    "SOURCES",
    "FlowClosureError",
    "allocate_flows",
    "check_closure",
    "energy_flows_kwh",
    "flow_column",
    "flow_frame",
    "schedule_flows_kwh",
    "site_sources_and_sinks",
]

#: Closure tolerance: a source's outflows against it, a sink's inflows against it, and
#: how far below zero a power may be before it is an error rather than rounding [kW].
FLOW_CLOSURE_TOL_KW = 1e-6

#: Sources in allocation order, each with its sinks in the order it serves them.
PRIORITY: dict[str, tuple[str, ...]] = {
    "pv": ("load", "battery", "grid"),
    "battery": ("load", "grid", "battery"),
    "generation": ("load", "battery", "grid"),
    "grid": ("load", "battery", "grid"),
}
SOURCES = tuple(PRIORITY)
SINKS = ("load", "battery", "grid")

#: The flows in the order of the schedule's columns: the seven a planner asks for, then
#: on-site generation and the two circulations (zero unless charge and discharge, or
#: import and export, happen in the same step).
FLOWS: tuple[tuple[str, str], ...] = (
    ("grid", "load"),
    ("grid", "battery"),
    ("pv", "load"),
    ("pv", "battery"),
    ("pv", "grid"),
    ("battery", "load"),
    ("battery", "grid"),
    ("generation", "load"),
    ("generation", "battery"),
    ("generation", "grid"),
    ("battery", "battery"),
    ("grid", "grid"),
)


def flow_column(source: str, sink: str) -> str:
    """The schedule column of the flow from ``source`` to ``sink`` [kW]."""
    return f"flow_{source}_to_{sink}_kw"


#: Every flow column, in :data:`FLOWS` order.
FLOW_COLUMNS = tuple(flow_column(a, b) for a, b in FLOWS)


class FlowClosureError(ValueError):
    """Flows that do not add up to their sources or sinks, or a negative power."""


def _non_negative(name: str, values: Any, tol_kw: float) -> np.ndarray:
    """``values`` as a float array with rounding below zero (down to ``-tol_kw``) cut to 0."""
    array = np.asarray(values, dtype=float)
    if array.size and not np.all(np.isfinite(array)):
        raise FlowClosureError(f"{name}: not every value is finite")
    if array.size and array.min() < -tol_kw:
        raise FlowClosureError(f"{name}: {array.min():.9g} kW is below zero")
    return np.maximum(array, 0.0)


def allocate_flows(
    sources: Mapping[str, Any],
    sinks: Mapping[str, Any],
    *,
    tol_kw: float = FLOW_CLOSURE_TOL_KW,
) -> dict[tuple[str, str], np.ndarray]:
    """Split each step's sources among its sinks by the module's priority rule.

    Parameters
    ----------
    sources : mapping of str to array_like
        ``pv``, ``battery``, ``generation``, ``grid`` (any missing is zero): power into
        the bus at each step [kW], non-negative.
    sinks : mapping of str to array_like
        ``load``, ``battery``, ``grid`` (any missing is zero): power out of the bus at
        each step [kW], non-negative. Sources and sinks must balance at each step.
    tol_kw : float
        Rounding tolerance [kW] (:data:`FLOW_CLOSURE_TOL_KW`).

    Returns
    -------
    dict of (str, str) to numpy.ndarray
        Every flow of :data:`FLOWS` [kW], non-negative.

    Raises
    ------
    FlowClosureError
        A power below ``-tol_kw``, unknown names, or flows that do not close
        (:func:`check_closure`: sources and sinks that do not balance).
    """
    unknown = sorted(set(sources) - set(SOURCES)) + sorted(set(sinks) - set(SINKS))
    if unknown:
        raise FlowClosureError(f"unknown sources or sinks: {', '.join(unknown)}")
    lengths = {np.asarray(v).shape for v in (*sources.values(), *sinks.values())}
    if len(lengths) > 1:
        raise FlowClosureError(f"sources and sinks of different shapes: {sorted(lengths)}")
    shape = lengths.pop() if lengths else (0,)
    supply = {
        s: _non_negative(f"source {s}", sources.get(s, np.zeros(shape)), tol_kw) for s in SOURCES
    }
    demand = {k: _non_negative(f"sink {k}", sinks.get(k, np.zeros(shape)), tol_kw) for k in SINKS}
    remaining = {k: v.copy() for k, v in demand.items()}
    flows = {pair: np.zeros(shape) for pair in FLOWS}
    for source, order in PRIORITY.items():
        left = supply[source].copy()
        for sink in order:
            amount = np.minimum(left, remaining[sink])
            flows[(source, sink)] = amount
            left = left - amount
            remaining[sink] = remaining[sink] - amount
    check_closure(flows, supply, demand, tol_kw=tol_kw)
    return flows


def check_closure(
    flows: Mapping[tuple[str, str], Any],
    sources: Mapping[str, Any],
    sinks: Mapping[str, Any],
    *,
    tol_kw: float = FLOW_CLOSURE_TOL_KW,
) -> None:
    """Raise unless every source's outflows and every sink's inflows add up to it.

    Parameters
    ----------
    flows : mapping of (str, str) to array_like
        Flows [kW] by (source, sink).
    sources, sinks : mapping of str to array_like
        Power of each source and sink [kW] (missing ones are zero).
    tol_kw : float
        Largest admitted gap at any step [kW].

    Raises
    ------
    FlowClosureError
        Naming the source or sink, the gap and the first step where it is largest; or a
        flow below ``-tol_kw``.
    """
    for pair, values in flows.items():
        _non_negative(f"flow {pair[0]} -> {pair[1]}", values, tol_kw)
    checks = [("source", s, sources, 0) for s in SOURCES] + [("sink", k, sinks, 1) for k in SINKS]
    for what, name, given, side in checks:
        parts = [np.asarray(v, dtype=float) for pair, v in flows.items() if pair[side] == name]
        if name not in given and not parts:
            continue
        total = np.sum(parts, axis=0) if parts else 0.0
        expected = np.asarray(given.get(name, 0.0), dtype=float)
        gap = np.abs(np.asarray(total - expected, dtype=float)).reshape(-1)
        if gap.size and gap.max() > tol_kw:
            step = int(np.argmax(gap))
            raise FlowClosureError(
                f"the flows of {what} '{name}' miss it by {gap[step]:.9g} kW at step {step} "
                f"(tolerance {tol_kw:g} kW): its sources and sinks do not balance there"
            )


def _role_sum(schedule: pd.DataFrame, site: Any, role: str) -> np.ndarray:
    """The sum of every column playing ``role`` [kW] (zeros if none)."""
    total = np.zeros(len(schedule))
    for _, _, column in role_columns(site, role):
        total = total + schedule[column].to_numpy(dtype=float)
    return total


def site_sources_and_sinks(
    schedule: pd.DataFrame, site: Any, *, tol_kw: float = FLOW_CLOSURE_TOL_KW
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """A schedule's sources and sinks of the bus, by role [kW].

    The load is the bus balance's rest: PV + discharge + generation + import - charging
    - export. Where that rest is below zero (vehicles discharging more than the site
    consumes), it is added to the generation and the load is zero.

    Parameters
    ----------
    schedule : pandas.DataFrame
        The run's schedule with every role column of ``site``.
    site : vpp.scenario.schema.Site
        The site run.
    tol_kw : float
        Rounding tolerance [kW]: a rest within ``tol_kw`` of zero is zero.

    Returns
    -------
    (dict, dict)
        Sources ``pv``, ``battery``, ``generation``, ``grid`` and sinks ``load``,
        ``battery``, ``grid``, as arrays [kW].
    """

    def role(name: str) -> np.ndarray:
        return _non_negative(name, _role_sum(schedule, site, name), tol_kw)

    sources = {
        "pv": role("pv_output"),
        "battery": role("storage_discharge"),
        "generation": role("generation"),
        "grid": role("grid_import"),
    }
    charge = role("storage_charge")
    export = role("grid_export")
    rest = sum(sources.values()) - charge - export
    rest = np.where(np.abs(rest) <= tol_kw, 0.0, rest)
    sources["generation"] = sources["generation"] + np.maximum(-rest, 0.0)
    sinks = {"load": np.maximum(rest, 0.0), "battery": charge, "grid": export}
    return sources, sinks


def flow_frame(
    schedule: pd.DataFrame, site: Any, *, tol_kw: float = FLOW_CLOSURE_TOL_KW
) -> pd.DataFrame:
    """The flow columns of a schedule, :data:`FLOW_COLUMNS` on its index [kW].

    Raises
    ------
    FlowClosureError
        When the flows do not close (a schedule whose bus does not balance).
    """
    sources, sinks = site_sources_and_sinks(schedule, site, tol_kw=tol_kw)
    flows = allocate_flows(sources, sinks, tol_kw=tol_kw)
    return pd.DataFrame({flow_column(a, b): flows[(a, b)] for a, b in FLOWS}, index=schedule.index)


def energy_flows_kwh(schedule: pd.DataFrame, step_h: float) -> dict[str, float]:
    """Each flow's energy over the run, ``<source>_to_<sink>_kwh`` [kWh].

    Parameters
    ----------
    schedule : pandas.DataFrame
        A schedule with the :data:`FLOW_COLUMNS` [kW].
    step_h : float
        Step length [h].
    """
    return {
        f"{a}_to_{b}_kwh": float(schedule[flow_column(a, b)].to_numpy().sum() * step_h)
        for a, b in FLOWS
    }


def schedule_flows_kwh(schedule: pd.DataFrame, site: Any, step_h: float) -> dict[str, float]:
    """Each flow's energy over a schedule without flow columns, such as a baseline's,
    ``<source>_to_<sink>_kwh`` [kWh] (:func:`flow_frame`, then :func:`energy_flows_kwh`).

    A role column the schedule lacks is zero: a baseline without batteries has no
    ``<battery>_charge_kw``.

    Raises
    ------
    FlowClosureError
        When the flows do not close (a schedule whose bus does not balance).
    """
    roles = ("pv_output", "storage_discharge", "generation", "grid_import")
    roles += ("storage_charge", "grid_export")
    missing = {c: 0.0 for r in roles for _, _, c in role_columns(site, r) if c not in schedule}
    full = schedule.assign(**missing) if missing else schedule
    return energy_flows_kwh(flow_frame(full, site), step_h)
