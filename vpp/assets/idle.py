r"""What a unit's idle and rule capabilities answer (see the ``rules.py`` section of
:mod:`vpp.assets.base`).

Idle: the site when nothing is optimized (:mod:`vpp.runs.baseline`). Every asset says
what it consumes and what it can supply (:class:`Idle`); the site serves its demand
from the supply first, exports the surplus up to what the grid takes and curtails the
rest; the grid supplies what is left.

Rule: the rule-based baseline (:mod:`vpp.runs.rule_based`). One pass over the steps; the
assets that act (batteries; a unit that does not act says so) each act in turn on the
net demand the ones before them left (:class:`RuleStep`), and give their columns
(:class:`RuleResult`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Idle:
    """One asset when nothing is optimized.

    Attributes
    ----------
    demand_kw : numpy.ndarray or None
        What it consumes at the bus in each step [kW] (the fixed load, a shiftable load
        at its as-soon-as-possible default, a curtailable load never shed, an EV fleet
        charging as it arrives); None when it consumes nothing.
    supply_columns : tuple of str
        The input columns holding the power it can supply in each step [kW] (a PV
        array's ``<name>_available_kw``). The site uses supply for its demand first;
        the no-assets baseline sets these columns to zero.
    export_max_kw : numpy.ndarray or None
        What it takes of the site's surplus in each step [kW] (the grid: its export
        limit where the export price is positive, else zero); None when nothing.
    columns : dict of str to numpy.ndarray or float
        The schedule columns its idle behaviour fixes, in order, by full name
        (``<shiftable>_power_kw`` at its default, ``<curtailable>_shed_kw`` zero).
    """

    demand_kw: np.ndarray | None = None
    supply_columns: tuple[str, ...] = ()
    export_max_kw: np.ndarray | None = None
    columns: dict[str, np.ndarray | float] = field(default_factory=dict)


@dataclass
class RuleStep:
    """The site as the rule-based baseline sees it, shared by the assets that act.

    Attributes
    ----------
    dt_h : float
        Step [h].
    net_kw : list of float
        Per step, the net demand the assets before this one left [kW] (consumption
        minus all PV available, plus their charging, minus their discharging; negative
        is surplus). An asset that acts adds what it draws and subtracts what it gives,
        in place.
    set_point_kw : list of float
        Per step, the month's peak-limit set point :math:`L_m` [kW].
    grid_cap_kw : list of float
        Per step, the import the rule charges from the grid up to [kW]:
        :math:`\\min(L_m, \\text{import limit})`.
    peak, valley : list of bool
        Per step, whether it is a TOU peak step (discharge to cover the whole net
        demand) or a valley step (charge from the grid up to ``grid_cap_kw``).
    valley_mask : numpy.ndarray
        ``valley`` as a boolean array.
    ratchet_months : numpy.ndarray or None
        The month key of each step when the set point is a **peak guard** (the daily
        job's fallback, :func:`vpp.runs.rule_based.guard_schedule`): in each month the
        guard level starts at the set point of the month's first step and rises to every
        import an asset leaves above it (a peak already paid for is not shaved further);
        the asset shaves import above, and charges from the grid up to, the lesser of
        that level and ``grid_cap_kw``. None: fixed set points (the rule-based baseline).
    end_rule : bool
        Whether the assets keep the scenario's final-state rule (the corridor of
        :func:`vpp.assets.battery.rules.corridor`); the fallback does not (the next run
        starts from the state it leaves).
    """

    dt_h: float
    net_kw: list[float]
    set_point_kw: list[float]
    grid_cap_kw: list[float]
    peak: list[bool]
    valley: list[bool]
    valley_mask: np.ndarray
    ratchet_months: np.ndarray | None = None
    end_rule: bool = True


@dataclass(frozen=True)
class RuleResult:
    """What one asset did under the rule.

    Attributes
    ----------
    columns : dict of str to list of float
        Its schedule columns, in order, by full name (``<b>_charge_kw``,
        ``<b>_discharge_kw`` [kW], ``<b>_soc_kwh`` at the start of each step [kWh]).
    final_soc_kwh : float or None
        Its state of charge at the end of the horizon [kWh] (``final_soc_kwh`` of the
        rule's summary); None for an asset without a store.
    """

    columns: dict[str, list[float]]
    final_soc_kwh: float | None = None
