"""The rule-based baseline: the site's batteries run by a commercial-controller rule.

No optimization: one pass over the steps, in order, with only the present step known
(plus the month's set point, see below). At each step ``t`` the site's net demand
before storage is :math:`n_t = D_t - P_t` [kW] (consumption ``D`` with shiftable loads
at their as-soon-as-possible default and nothing shed; ``P`` all PV available). Each
asset whose unit acts under the rule (``rule`` of :mod:`vpp.assets.base`; today the
batteries, :mod:`vpp.assets.battery.rules`) acts in turn, in model order, on what the
ones before it left; the others say they do not act. A battery:

1. **PV surplus** (:math:`n_t < 0`): charge from the surplus that would otherwise be
   exported or curtailed.
2. **TOU peak** (``tou_period`` ``peak`` or ``critical_peak``): discharge to cover the
   whole net demand, but only down to a reserve of
   :data:`~vpp.assets.battery.rules.PEAK_RESERVE_FRACTION` of the usable capacity above
   the minimum state, kept for the set point below;
3. **Always**, outside PV surplus: discharge (down to the minimum state) what exceeds
   the month's **peak-limit set point**
   :math:`L_m` [kW]; in ``valley`` and ``deep_valley`` steps without discharge, charge
   from the grid as far as the import stays at or below
   :math:`\\min(L_m, \\text{import limit of the step})`.

The set point is the default of :func:`rule_based_schedule`: :math:`L_m = \\hat G_m -
f \\sum_b \\bar P^{dis}_b` (``rule_power_kw`` of the acting assets) with
:math:`\\hat G_m` the month's largest import of the pv-only baseline and
:math:`f` = :data:`PEAK_LIMIT_FACTOR`. An operator sets such a value from last year's
bills; taking it from the same month's pv-only peak is a hindsight choice that favours
the rule. A fixed ``peak_limit_kw`` may be given instead.

Every step respects the power limits, the state-of-charge bounds and the
efficiencies, with the optimizer's dynamics :math:`s_{t+1} = k s_t + \\eta^c c_t
\\Delta t - d_t \\Delta t / \\eta^d`, :math:`k = (1 - \\sigma)^{\\Delta t}`. The final-state
rule of the scenario is kept too: a backward pass gives the least state from which
the end target is still reachable by charging at
:data:`~vpp.assets.battery.rules.CORRIDOR_POWER_FRACTION` of the charge power in valley
steps only (all steps when there are none), and for ``equal_initial`` the largest
state from which it is reachable at full discharge power; when the rule would leave
that corridor the battery charges (from PV or grid) or discharges just enough. So a
battery left low recharges in the last valleys before the end, at a moderate power,
rather than at full power in the last steps.

The rule sees the month's import peak only: ``demand_charges`` entries (windowed or
daily charges) are ignored by it, and so by the daily job's fallback
(:func:`guard_schedule`), which does not share the rolling run's step loop
(:mod:`vpp.operation.real_time`, where each charge guards its own peak).
Without a TOU calendar (a price series) the top quartile of prices counts as peak
and the bottom quartile as valley.

Exports: surplus after storage is exported up to the export bound of the step when the
export price is positive and curtailed otherwise, as in :mod:`vpp.runs.baseline`. The
import and export limits of each step are the grid's
(:func:`vpp.assets.grid.limits.site_limits_kw`: a number or a series, lowered by the
no-export rule of batteries with ``export_to_grid: false``: then the export of a step is
at most the PV surplus over the load, and the rest is curtailed).

A battery starts from ``soc_initial_kwh`` of its series when the state was measured (the
daily job puts it in), else from ``soc_initial_fraction``; the end target is then that
state (``soc_terminal_kwh`` when given), as in the optimizer's block.

**The peak guard** (:func:`guard_schedule`, the daily job's fallback) is the same rule
with the set point as a guard level that starts at the month-to-date peak import and
rises to any peak the batteries cannot shave, capped by the import limit, and without
the final-state rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.grid.limits import site_limits_kw
from vpp.assets.idle import RuleStep
from vpp.assets.months import month_keys
from vpp.errors import DataError, Problem
from vpp.inputs.site import SiteInputs
from vpp.runs.baseline import baseline_schedule
from vpp.runs.carbon import consumption_kw
from vpp.scenario.schema import Scenario

#: Default set point: the pv-only month peak minus this share of the discharge power [-].
PEAK_LIMIT_FACTOR = 0.5
#: TOU periods in which the rule discharges to cover the whole net demand.
PEAK_PERIODS = ("critical_peak", "peak")
#: TOU periods in which the rule charges from the grid below the set point.
VALLEY_PERIODS = ("valley", "deep_valley")
#: Price quantiles that stand for peak and valley when prices come as a series [-].
PRICE_SERIES_QUANTILES = (0.25, 0.75)

RULE_TEXT = (
    "charge from PV surplus; discharge to cover net demand in TOU peak periods and to keep "
    "import under the month's set point otherwise; charge from the grid in valley periods "
    "up to the set point; keep the scenario's final state-of-charge rule"
)
GUARD_TEXT = (
    "from the measured state: charge from PV surplus; discharge to cover net demand in TOU "
    "peak periods down to a reserve; discharge to keep import at or below the guard level "
    "(the month-to-date peak import, raised to any peak that cannot be shaved, and at most "
    "the import limit); charge from the grid in valley periods up to the guard level; "
    "no end-of-day state target"
)


def _periods(series: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the peak and the valley steps."""
    period = (
        series["tou_period"].to_numpy(dtype=object)
        if "tou_period" in series
        else np.full(len(series), "series", dtype=object)
    )
    if (period == "series").all():
        price = series["price_cny_per_kwh"].to_numpy(dtype=float)
        low, high = np.quantile(price, PRICE_SERIES_QUANTILES)
        return (price >= high) & (price > low), (price <= low) & (price < high)
    return np.isin(period, PEAK_PERIODS), np.isin(period, VALLEY_PERIODS)


def set_points_kw(
    pv_only: pd.DataFrame,
    rule_power_kw: float,
    peak_limit_kw: float | Mapping[str, float] | None = None,
    factor: float = PEAK_LIMIT_FACTOR,
    months: np.ndarray | None = None,
) -> dict[str, float]:
    """The peak-limit set point of each month ``YYYY-MM`` [kW].

    Parameters
    ----------
    pv_only : pandas.DataFrame
        The pv-only baseline (``grid_import_kw``).
    rule_power_kw : float
        The power the acting assets can lower the import by (the batteries' discharge
        power, ``rule_power_kw`` of their units) [kW].
    peak_limit_kw : float or mapping, optional
        A fixed set point [kW], or one per month; default: the pv-only month peak
        minus ``factor`` times ``rule_power_kw`` (never below zero).
    factor : float
        See ``peak_limit_kw`` [-].
    months : numpy.ndarray, optional
        :func:`vpp.assets.months.month_keys` of the index, when known.
    """
    keys = month_keys(pv_only.index) if months is None else months
    grouped = pd.Series(pv_only["grid_import_kw"].to_numpy(dtype=float)).groupby(keys, sort=False)
    peaks = {str(k): float(v) for k, v in grouped.max().items()}
    if isinstance(peak_limit_kw, Mapping):
        return {m: float(peak_limit_kw.get(m, p)) for m, p in peaks.items()}
    if peak_limit_kw is not None:
        return dict.fromkeys(peaks, float(peak_limit_kw))
    return {m: max(0.0, p - factor * rule_power_kw) for m, p in peaks.items()}


def rule_based_schedule(
    inputs: SiteInputs,
    scenario: Scenario,
    pv_only: pd.DataFrame | None = None,
    *,
    peak_limit_kw: float | Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Dispatch of the site with its batteries run by the rule of the module docstring.

    Parameters
    ----------
    inputs : SiteInputs
        The run's inputs (a battery starts from ``soc_initial_kwh`` of its series when
        given, else from ``soc_initial_fraction``).
    scenario : Scenario
        The scenario (batteries, grid limits).
    pv_only : pandas.DataFrame, optional
        The pv-only baseline (:func:`vpp.runs.baseline.baseline_schedule`); computed
        when not given.
    peak_limit_kw : float or mapping, optional
        The set point [kW] (see :func:`set_points_kw`).

    Returns
    -------
    schedule : pandas.DataFrame
        The pv-only baseline's columns with the rule's ``grid_import_kw``,
        ``grid_export_kw``, ``<pv>_pv_kw``, ``<pv>_curtailed_kw``, and per battery
        ``<b>_charge_kw``, ``<b>_discharge_kw`` [kW] and ``<b>_soc_kwh`` (state at the
        start of each step) [kWh]; ``grid_net_import_kw``.
    info : dict
        ``rule`` (text), ``peak_limit_kw`` (per month) and ``final_soc_kwh`` (per battery).
    """
    base = baseline_schedule(inputs, scenario) if pv_only is None else pv_only
    months = month_keys(base.index)
    power_kw = sum(unit(a.kind).rule_power_kw(a) for a in inputs.assets)
    limits = set_points_kw(base, power_kw, peak_limit_kw, months=months)
    limit_kw, _ = site_limits_kw(inputs.assets, len(base))
    cap = np.array([limits[m] for m in months], dtype=float)
    grid_cap = np.minimum(cap, limit_kw)
    out, final_soc_kwh = _run_rule(inputs, scenario, base, cap, grid_cap, None)
    info = {"rule": RULE_TEXT, "peak_limit_kw": limits, "final_soc_kwh": final_soc_kwh}
    return out, info


def guard_schedule(
    inputs: SiteInputs,
    scenario: Scenario,
    mtd_peak_kw: float | None = None,
    pv_only: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The rule as a **peak guard** from the measured state (the daily job's fallback).

    The rule of the module docstring with two changes. The set point is a guard level
    that starts, in the month of the first step, at ``mtd_peak_kw`` (a peak already
    paid for is not shaved below, and every import above it is) and in any later month
    at the default set point (:func:`set_points_kw`); in each month it rises to every
    import the batteries leave above it (a peak they could not shave is paid for), and
    it is also capped by the grid's import limit. The final-state rule is not kept:
    the guard may use all the usable energy, and the next run starts from the state
    the schedule ends in. Each battery starts from ``soc_initial_kwh`` of its series
    (the measured state the job puts in), else from ``soc_initial_fraction``.

    Parameters
    ----------
    inputs : SiteInputs
        The site's inputs, with the forecasts and measured states put in.
    scenario : Scenario
        The site's scenario.
    mtd_peak_kw : float, optional
        The month-to-date peak import of the month of the first step [kW]; None when
        not known (then the default set point of that month).
    pv_only : pandas.DataFrame, optional
        The pv-only baseline; computed when not given.

    Returns
    -------
    schedule : pandas.DataFrame
        As :func:`rule_based_schedule`.
    info : dict
        ``rule`` (text), ``guard_start_kw`` (the level each month starts at) [kW],
        ``guard_end_kw`` (the level each month ends at: its peak import) [kW] and
        ``final_soc_kwh`` (per battery) [kWh].

    Raises
    ------
    DataError
        ``mtd_peak_kw`` is not a finite number at least zero.
    """
    if mtd_peak_kw is not None and not (np.isfinite(mtd_peak_kw) and mtd_peak_kw >= 0.0):
        raise DataError(
            Problem(
                "the month-to-date peak import for the fallback's peak guard is not usable",
                value=repr(mtd_peak_kw),
                allowed="a finite number >= 0 kW, or none (then the rule's default set point)",
                fix="check the grid telemetry the month-to-date peak was read from",
            )
        )
    base = baseline_schedule(inputs, scenario) if pv_only is None else pv_only
    months = month_keys(base.index)
    power_kw = sum(unit(a.kind).rule_power_kw(a) for a in inputs.assets)
    limits = set_points_kw(base, power_kw, months=months)
    if mtd_peak_kw is not None and len(months):
        limits[str(months[0])] = float(mtd_peak_kw)
    grid_cap, _ = site_limits_kw(inputs.assets, len(base))
    cap = np.array([limits[m] for m in months], dtype=float)
    out, final_soc_kwh = _run_rule(inputs, scenario, base, cap, grid_cap, months)
    peaks = out["grid_import_kw"].groupby(np.asarray(months), sort=False).max()
    info = {
        "rule": GUARD_TEXT,
        "guard_start_kw": limits,
        "guard_end_kw": {str(m): max(limits[str(m)], float(v)) for m, v in peaks.items()},
        "final_soc_kwh": final_soc_kwh,
    }
    return out, info


def _run_rule(
    inputs: SiteInputs,
    scenario: Scenario,
    base: pd.DataFrame,
    cap: np.ndarray,
    grid_cap: np.ndarray,
    ratchet_months: np.ndarray | None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """One pass of the acting assets over the steps; the schedule and final states."""
    out = base.copy()
    n, dt = len(base), inputs.horizon.step_h
    units_of = [(unit(a.kind), a) for a in inputs.assets]
    idle = [u.idle(a, base) for u, a in units_of]
    available = np.zeros(n)
    export_max = np.zeros(n)
    for behaviour in idle:
        for column in behaviour.supply_columns:
            available += base[column].to_numpy(dtype=float)
        if behaviour.export_max_kw is not None:
            export_max += behaviour.export_max_kw
    peak_mask, valley_mask = _periods(base)
    step = RuleStep(
        dt_h=dt,
        net_kw=(consumption_kw(base, scenario) - available).tolist(),
        set_point_kw=cap.tolist(),
        grid_cap_kw=grid_cap.tolist(),
        peak=peak_mask.tolist(),
        valley=valley_mask.tolist(),
        valley_mask=valley_mask,
        ratchet_months=ratchet_months,
        end_rule=ratchet_months is None,
    )
    final_soc_kwh: dict[str, float] = {}
    for u, a in units_of:  # in model order, each on what the ones before left
        result = u.rule(a, step)
        if result is None:
            continue
        for column, values in result.columns.items():
            out[column] = values
        if result.final_soc_kwh is not None:
            final_soc_kwh[a.name] = result.final_soc_kwh
    residual = np.array(step.net_kw, dtype=float)
    surplus = np.maximum(-residual, 0.0)
    export = np.minimum(surplus, export_max)
    curtailed = np.minimum(surplus - export, available)
    share = np.divide(
        available - curtailed, available, out=np.zeros_like(available), where=available > 0
    )
    for u, a in units_of:
        for column, values in u.delivered(a, base, share).items():
            out[column] = values
    out["grid_import_kw"] = np.maximum(residual, 0.0)
    out["grid_export_kw"] = export
    out["grid_net_import_kw"] = out["grid_import_kw"] - out["grid_export_kw"]
    return out, final_soc_kwh
