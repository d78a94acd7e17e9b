"""A solved model's schedule: derived columns and the check of the objective against the bill.

Every solve is checked: the LP objective must equal the bill recomputed from the schedule
(:func:`check_objective`). Used by the perfect-foresight and rolling runs
(:mod:`vpp.runs.perfect`) and by the park's per-site results (:mod:`vpp.portfolio.run`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from vpp.assets import units
from vpp.assets.columns import role_columns
from vpp.errors import SolverError
from vpp.runs.flows import FlowClosureError, flow_frame
from vpp.scenario.schema import Scenario

__all__ = ["OBJECTIVE_CHECK_RTOL", "check_objective", "objective_extra_cny", "with_derived_columns"]

#: Relative agreement required between the LP objective and the recomputed bill [-].
OBJECTIVE_CHECK_RTOL = 1e-6


def with_derived_columns(schedule: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The schedule with curtailed PV, net import and energy flow columns added.

    Parameters
    ----------
    schedule : pandas.DataFrame
        Inputs and dispatch on the horizon's index, with each PV array's
        ``<name>_available_kw`` and ``<name>_pv_kw`` and ``grid_import_kw``,
        ``grid_export_kw`` [kW].
    scenario : Scenario
        The scenario run (the columns its units declare for the ``pv_curtailed``,
        ``pv_available`` and ``pv_output`` roles).

    Returns
    -------
    pandas.DataFrame
        ``schedule`` with ``<name>_curtailed_kw`` per PV array, ``grid_net_import_kw``
        and the flows ``flow_<source>_to_<sink>_kw`` (:func:`vpp.runs.flows.flow_frame`)
        [kW] appended.

    Raises
    ------
    SolverError
        When the flows do not close (a schedule whose bus does not balance): an
        internal error, to report.
    """
    extra = {}
    for u, entry, curtailed in role_columns(scenario.site, "pv_curtailed"):
        available = u.role_column(entry, "pv_available")
        output = u.role_column(entry, "pv_output")
        extra[curtailed] = (schedule[available] - schedule[output]).clip(lower=0.0)
    extra["grid_net_import_kw"] = schedule["grid_import_kw"] - schedule["grid_export_kw"]
    try:
        flows = flow_frame(schedule, scenario.site)
    except FlowClosureError as exc:
        raise SolverError(
            f"internal check failed: energy flows: {exc}; please report this"
        ) from exc
    return pd.concat([schedule, pd.DataFrame(extra, index=schedule.index), flows], axis=1)


def objective_extra_cny(schedule: pd.DataFrame, scenario: Scenario, dt_h: float) -> float:
    """The LP objective's terms that are not in the bill, from the schedule [CNY].

    The sum over the units of :meth:`~vpp.assets.base.AssetUnit.objective_extra` (the
    batteries' charging tie-break, the green account's tie-break, ...).

    Parameters
    ----------
    schedule : pandas.DataFrame
        The solved schedule.
    scenario : Scenario
        The scenario run.
    dt_h : float
        Step length [h].
    """
    site = scenario.site
    return sum((u.objective_extra(site, schedule, dt_h) for u in units()), 0.0)


def check_objective(
    objective: float, parts: dict[str, Any], schedule: pd.DataFrame, scenario: Scenario, dt_h: float
) -> None:
    """Raise unless the LP objective equals the bill recomputed from the schedule.

    The expected objective is the bill's ``total_cost_cny`` plus the units' terms that
    are not in the bill (:func:`objective_extra_cny`: the tie-breaks), within
    :data:`OBJECTIVE_CHECK_RTOL` (relative, at least 1 CNY absolute).

    Parameters
    ----------
    objective : float
        The solver's objective (or a site's part of a park's objective) [CNY].
    parts : dict
        The bill of ``schedule`` (:func:`vpp.runs.bill.bill`), with ``total_cost_cny`` [CNY].
    schedule : pandas.DataFrame
        The solved schedule.
    scenario : Scenario
        The scenario run.
    dt_h : float
        Step length [h].

    Raises
    ------
    SolverError
        When the two differ: an internal error, to report.
    """
    expected = parts["total_cost_cny"] + objective_extra_cny(schedule, scenario, dt_h)
    if abs(objective - expected) > OBJECTIVE_CHECK_RTOL * max(1.0, abs(expected)):
        raise SolverError(
            f"internal check failed: the solver's objective {objective:.6f} CNY differs from "
            f"the bill recomputed from the schedule {expected:.6f} CNY; please report this"
        )
