"""The daily job's safe fallback schedule, built per site.

When the day cannot be optimized (bad input, infeasible, solver failure or time limit),
every site whose own inputs can be read gets the **safe schedule**: the rule-based
controller run as a peak guard (:func:`vpp.runs.rule_based.guard_schedule`) from the
measured state, on the same load and PV forecasts the optimization would have used.
Each battery starts from its measured state of charge (``soc_initial_kwh`` of its
input, put in by the job; else the scenario's initial state) and:

- charges from PV surplus (self-consumption);
- covers the net demand in TOU peak periods, down to a reserve of half its usable
  energy (:data:`vpp.assets.battery.rules.PEAK_RESERVE_FRACTION`);
- at all times discharges what the import would exceed the **guard level** by: the
  month-to-date peak import (``mtd_peak_kw``, which the job measures; a peak already
  paid for is not shaved below, everything above it is), raised to any peak the battery
  cannot shave (that one is then paid for), and at most the grid's import limit;
- charges from the grid in valley periods as far as the import stays at the guard level;
- keeps no end-of-day state target: the next run starts from the state it ends in
  (:func:`fallback_states`, written to ``final_soc.json``).

Flexible loads stay at their defaults, EV fleets charge as they arrive, gensets are off.
It depends on nothing else: not on the demand-response notices, not on the other sites,
not on the shared limit. A site that cannot be read is listed with its reason, and the
park plan sums the sites that have a schedule.

The fallback does not optimize, so it may break a limit the optimization would have
kept: the park's shared limit (``shared_limit_kw``: the absolute value of the park's net
import) or a site's grid import limit of the step (``grid.import_limit_kw``, a number or a
series; the guard holds it step by step) when the batteries run
out. It cannot help that (on a day when the shared limit is infeasible, no schedule
keeps it), but it says so: :func:`limits_exceeded` lists every limit broken, where, in
which hours and by how much.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.grid.limits import limit_on_index
from vpp.inputs.site import SiteInputs
from vpp.portfolio.park import Park
from vpp.scenario.schema import Scenario

#: What the safe schedule is, as ``summary.json`` says it.
SAFE_SCHEDULE = (
    "rule-based peak guard from the measured battery state: batteries charge from PV "
    "surplus, cover net demand in TOU peak periods down to half their usable energy, "
    "shave import above the month-to-date peak (raised to any peak they cannot shave, at "
    "most the import limit) and charge from the grid in valley periods up to it; no "
    "end-of-day state target; flexible loads at their defaults, EV fleets charging as "
    "they arrive, gensets off"
)
#: Excess over a limit below which it is not reported [kW].
EXCESS_TOL_KW = 1e-6


def site_fallback(
    inputs: SiteInputs, scenario: Scenario, mtd_peak_kw: float | None = None
) -> pd.DataFrame:
    """One site's safe schedule on its forecasts (module docstring).

    Parameters
    ----------
    inputs : SiteInputs
        The site's inputs with the forecasts and the measured states put in
        (``vpp.jobs.inputs.with_forecasts``).
    scenario : Scenario
        The site's scenario (of the day).
    mtd_peak_kw : float, optional
        The month-to-date peak import of the month of the schedule's first step [kW];
        None when not known (the guard then starts at the rule's default set point:
        the forecast pv-only month peak minus half the batteries' discharge power).

    Returns
    -------
    pandas.DataFrame
        The pv-only baseline's columns (``load_kw``, ``price_cny_per_kwh``,
        ``grid_import_kw``, ``grid_export_kw``, ``<pv>_pv_kw``, ...) with the guard's
        import, export and PV, and per battery ``<b>_charge_kw``, ``<b>_discharge_kw``
        [kW] and ``<b>_soc_kwh`` (state at the start of each step) [kWh].

    Raises
    ------
    DataError
        ``mtd_peak_kw`` is not a finite number >= 0 (the caller lists the site without a
        schedule and goes on with the others).
    """
    from vpp.runs.rule_based import guard_schedule

    frame, _info = guard_schedule(inputs, scenario, mtd_peak_kw)
    return frame.drop(columns="grid_net_import_kw")


def fallback_states(
    schedules: dict[str, pd.DataFrame], inputs: dict[str, SiteInputs]
) -> dict[str, dict[str, float]]:
    """Each store's state at the end of its site's fallback schedule, per site [kWh].

    Parameters
    ----------
    schedules : dict of str to pandas.DataFrame
        The sites' fallback schedules (:func:`site_fallback`), by site.
    inputs : dict of str to SiteInputs
        The inputs they were built on, by site (at least those of ``schedules``).

    Returns
    -------
    dict
        ``{site: {battery: kWh}}`` (``fallback_final_kwh`` of each unit), for the sites
        with a schedule and a store.
    """
    out: dict[str, dict[str, float]] = {}
    for name, frame in schedules.items():
        site = inputs[name]
        for a in site.assets:
            final_kwh = unit(a.kind).fallback_final_kwh(a, frame, site.horizon.step_h)
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
    limit: str,
    where: str,
    limit_kw: float | np.ndarray,
    excess: np.ndarray,
    index: pd.DatetimeIndex,
) -> dict[str, Any] | None:
    """The entry of one limit broken (``limit_kw`` per step: the one at the first step
    broken is reported), or None."""
    bad = np.flatnonzero(excess > EXCESS_TOL_KW)
    if not bad.size:
        return None
    return {
        "limit": limit,
        "where": where,
        "limit_kw": float(np.broadcast_to(limit_kw, excess.shape)[bad[0]]),
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
        or ``site '<name>'``), ``limit_kw`` (at the first step broken: a site's limit
        may be a series, :func:`vpp.assets.grid.limits.limit_on_index`) [kW],
        ``max_excess_kw`` [kW], ``steps``, ``first`` (the first step) and ``hours``
        (local ``HH:MM-HH:MM`` ranges).
    """
    out = []
    limit = park.spec.shared_limit_kw
    if plan is not None and limit is not None and len(plan):
        net = plan["park_net_import_kw"].to_numpy(dtype=float)
        entry = _excess("shared_limit_kw", "park", limit, np.abs(net) - limit, plan.index)
        if entry:
            out.append(entry)
    for name, frame in schedules.items():
        grid = park.sites[name].site.grid
        if grid.import_limit_kw is None or not len(frame):
            continue
        site_limit = limit_on_index(grid, "import_limit_kw", frame.index)
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
        f"step(s) ({hours}): the rule-based fallback, without optimization and "
        "flexibility, cannot keep it"
    )
