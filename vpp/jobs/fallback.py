"""The daily job's safe fallback schedule, built per site.

When the day cannot be optimized (bad input, infeasible, solver failure or time limit),
every site whose own inputs can be read gets the **safe schedule**: its pv-only baseline
(:func:`vpp.runs.baseline.baseline_schedule`: batteries idle at the state they start in,
flexible loads at their defaults, EV fleets charging as they arrive), on the same load and
PV forecasts the optimization would have used. It depends on nothing else: not on the
demand-response notices, not on the other sites, not on the shared limit. A site that
cannot be read is listed with its reason, and the park plan sums the sites that have a
schedule.

The fallback does not optimize, so it may break a limit the optimization would have
kept: the park's shared limit (``shared_limit_kw``: the absolute value of the park's net
import) or a site's grid import limit (``grid.import_limit_kw``). It cannot help that (on
a day when the shared limit is infeasible, no schedule keeps it), but it says so:
:func:`limits_exceeded` lists every limit broken, where, in which hours and by how much.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.inputs.site import SiteInputs
from vpp.portfolio.park import Park
from vpp.scenario.schema import Scenario

#: What the safe schedule is, as ``summary.json`` says it.
SAFE_SCHEDULE = (
    "batteries idle, flexible loads at their defaults, EV fleets charging as they arrive "
    "(each site's pv-only baseline)"
)
#: Excess over a limit below which it is not reported [kW].
EXCESS_TOL_KW = 1e-6


def site_fallback(inputs: SiteInputs, scenario: Scenario) -> pd.DataFrame:
    """One site's safe schedule on its forecasts: the pv-only baseline, with each asset's
    explicit set points (``fallback`` of its unit: batteries idle at their start state)."""
    from vpp.runs.baseline import baseline_schedule

    frame = baseline_schedule(inputs, scenario)
    for a in inputs.assets:  # explicit set points (a battery: idle, at its start state)
        for column, value in unit(a.kind).fallback(a).items():
            frame[column] = value
    return frame


def idle_states(inputs: dict[str, SiteInputs]) -> dict[str, dict[str, float]]:
    """Each store's state at the end of a fallback day, per site: where it started [kWh]
    (``fallback_final_kwh`` of its unit; stores whose start was measured)."""
    out: dict[str, dict[str, float]] = {}
    for name, site in inputs.items():
        for a in site.assets:
            final_kwh = unit(a.kind).fallback_final_kwh(a)
            if final_kwh is not None:
                out.setdefault(name, {})[a.name] = final_kwh
    return out


def fallback_plan(schedules: dict[str, pd.DataFrame], limit_kw: float | None) -> pd.DataFrame:
    """The park plan of the safe schedules: each site's and the park's net import [kW]."""
    plan = pd.DataFrame(
        {
            f"{n}_net_import_kw": s["grid_import_kw"] - s["grid_export_kw"]
            for n, s in schedules.items()
        }
    )
    plan["park_net_import_kw"] = plan.sum(axis=1)
    plan["park_load_kw"] = sum(s["load_kw"] for s in schedules.values())
    plan["shared_limit_kw"] = np.nan if limit_kw is None else float(limit_kw)
    return plan


def _hours(index: pd.DatetimeIndex, steps: np.ndarray) -> list[str]:
    """Runs of consecutive steps as local clock ranges, ``HH:MM-HH:MM`` (end exclusive)."""
    step = pd.Timedelta(index.freq) if index.freq is not None else index[1] - index[0]
    ranges: list[str] = []
    first = prev = int(steps[0])
    for i in [*map(int, steps[1:]), None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        end = index[prev] + step
        until = "24:00" if end.normalize() > index[first].normalize() else f"{end:%H:%M}"
        ranges.append(f"{index[first]:%H:%M}-{until}")
        if i is not None:
            first = prev = i
    return ranges


def _excess(
    limit: str, where: str, limit_kw: float, excess: np.ndarray, index: pd.DatetimeIndex
) -> dict[str, Any] | None:
    bad = np.flatnonzero(excess > EXCESS_TOL_KW)
    if not bad.size:
        return None
    return {
        "limit": limit,
        "where": where,
        "limit_kw": float(limit_kw),
        "max_excess_kw": round(float(np.max(excess[bad])), 3),
        "steps": int(bad.size),
        "first": index[bad[0]].isoformat(),
        "hours": _hours(index, bad),
    }


def limits_exceeded(
    park: Park, schedules: dict[str, pd.DataFrame], plan: pd.DataFrame | None
) -> list[dict[str, Any]]:
    """Every limit the safe schedules break: which, where, which hours, by how much.

    Returns
    -------
    list of dict
        ``limit`` (``shared_limit_kw`` or ``grid.import_limit_kw``), ``where`` (``park``
        or ``site '<name>'``), ``limit_kw`` [kW], ``max_excess_kw`` [kW], ``steps``,
        ``first`` (the first step) and ``hours`` (local ``HH:MM-HH:MM`` ranges).
    """
    out = []
    limit = park.spec.shared_limit_kw
    if plan is not None and limit is not None and len(plan):
        net = plan["park_net_import_kw"].to_numpy(dtype=float)
        entry = _excess("shared_limit_kw", "park", limit, np.abs(net) - limit, plan.index)
        if entry:
            out.append(entry)
    for name, frame in schedules.items():
        site_limit = park.sites[name].site.grid.import_limit_kw
        if site_limit is None:
            continue
        excess = frame["grid_import_kw"].to_numpy(dtype=float) - site_limit
        entry = _excess("grid.import_limit_kw", f"site '{name}'", site_limit, excess, frame.index)
        if entry:
            out.append(entry)
    return out


def describe(entry: dict[str, Any]) -> str:
    """One line for ``flags`` about a limit the fallback breaks."""
    hours = ", ".join(entry["hours"][:4]) + (" ..." if len(entry["hours"]) > 4 else "")
    return (
        f"the fallback schedule exceeds {entry['limit']} {entry['limit_kw']:g} kW at "
        f"{entry['where']} by up to {entry['max_excess_kw']:.1f} kW in {entry['steps']} "
        f"step(s) ({hours}): a schedule without batteries and flexibility cannot keep it"
    )
