"""The rule-based baseline: the site's batteries run by a commercial-controller rule.

No optimization: one pass over the steps, in order, with only the present step known
(plus the month's set point, see below). At each step ``t`` the site's net demand
before storage is :math:`n_t = D_t - P_t` [kW] (consumption ``D`` with shiftable loads
at their as-soon-as-possible default and nothing shed; ``P`` all PV available). Each
battery in turn (in scenario order) acts on what the batteries before it left:

1. **PV surplus** (:math:`n_t < 0`): charge from the surplus that would otherwise be
   exported or curtailed.
2. **TOU peak** (``tou_period`` ``peak`` or ``critical_peak``): discharge to cover the
   whole net demand, but only down to a reserve of :data:`PEAK_RESERVE_FRACTION` of the
   usable capacity above the minimum state, kept for the set point below;
3. **Always**, outside PV surplus: discharge (down to the minimum state) what exceeds
   the month's **peak-limit set point**
   :math:`L_m` [kW]; in ``valley`` and ``deep_valley`` steps without discharge, charge
   from the grid as far as the import stays at or below
   :math:`\\min(L_m, \\text{import limit})`.

The set point is the default of :func:`rule_based_schedule`: :math:`L_m = \\hat G_m -
f \\sum_b \\bar P^{dis}_b` with :math:`\\hat G_m` the month's largest import of the
pv-only baseline and :math:`f` = :data:`PEAK_LIMIT_FACTOR`. An operator sets such a
value from last year's bills; taking it from the same month's pv-only peak is a
hindsight choice that favours the rule. A fixed ``peak_limit_kw`` may be given instead.

Every step respects the power limits, the state-of-charge bounds and the
efficiencies, with the optimizer's dynamics :math:`s_{t+1} = k s_t + \\eta^c c_t
\\Delta t - d_t \\Delta t / \\eta^d`, :math:`k = (1 - \\sigma)^{\\Delta t}`. The final-state
rule of the scenario is kept too: a backward pass gives the least state from which
the end target is still reachable by charging at :data:`CORRIDOR_POWER_FRACTION` of
the charge power in valley steps only (all steps when there are none), and for
``equal_initial`` the largest state from which it is reachable at full discharge
power; when the rule would leave that corridor the battery charges (from PV or grid)
or discharges just enough. So a battery left low recharges in the last valleys
before the end, at a moderate power, rather than at full power in the last steps.
Without a TOU calendar (a price series) the top quartile of prices counts as peak
and the bottom quartile as valley.

Exports: surplus after storage is exported up to the export limit when the export
price is positive and curtailed otherwise, as in :mod:`vpp.sim.baseline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.scenario.schema import Battery, Scenario
from vpp.sim.baseline import baseline_schedule
from vpp.sim.bill import month_keys
from vpp.sim.carbon import consumption_kw
from vpp.sim.inputs import SiteInputs

#: Default set point: the pv-only month peak minus this share of the discharge power [-].
PEAK_LIMIT_FACTOR = 0.5
#: Share of the usable capacity that TOU-peak discharge leaves for the set point [-].
PEAK_RESERVE_FRACTION = 0.5
#: Share of the charge power the end-of-horizon recharge plans with, in valley steps [-].
CORRIDOR_POWER_FRACTION = 0.5
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


def _corridor(b: Battery, valley: np.ndarray, dt_h: float) -> tuple[list[float], list[float]]:
    """Least and largest state [kWh] at each of the ``n + 1`` points that keeps the end rule."""
    n = len(valley)
    can_charge = valley.tolist() if valley.any() else [True] * n
    lo, hi = b.soc_min_fraction * b.energy_kwh, b.soc_max_fraction * b.energy_kwh
    init = b.soc_initial_fraction * b.energy_kwh
    keep = (1.0 - b.self_discharge_fraction_per_h) ** dt_h
    up = CORRIDOR_POWER_FRACTION * b.charge_efficiency * b.charge_power_kw * dt_h
    down = b.discharge_power_kw * dt_h / b.discharge_efficiency
    floor = [lo] * (n + 1)
    ceil = [hi] * (n + 1)
    if b.final_soc != "free":
        floor[n] = init
        for k in range(n - 1, -1, -1):
            floor[k] = min(hi, max(lo, (floor[k + 1] - (up if can_charge[k] else 0.0)) / keep))
    if b.final_soc == "equal_initial":
        ceil[n] = init
        for k in range(n - 1, -1, -1):
            ceil[k] = max(lo, min(hi, (ceil[k + 1] + down) / keep))
    return floor, ceil


def set_points_kw(
    pv_only: pd.DataFrame,
    scenario: Scenario,
    peak_limit_kw: float | Mapping[str, float] | None = None,
    factor: float = PEAK_LIMIT_FACTOR,
    months: np.ndarray | None = None,
) -> dict[str, float]:
    """The peak-limit set point of each month ``YYYY-MM`` [kW].

    Parameters
    ----------
    pv_only : pandas.DataFrame
        The pv-only baseline (``grid_import_kw``).
    scenario : Scenario
        For the batteries' discharge power.
    peak_limit_kw : float or mapping, optional
        A fixed set point [kW], or one per month; default: the pv-only month peak
        minus ``factor`` times the total discharge power (never below zero).
    factor : float
        See ``peak_limit_kw`` [-].
    months : numpy.ndarray, optional
        :func:`vpp.sim.bill.month_keys` of the index, when known.
    """
    keys = month_keys(pv_only.index) if months is None else months
    grouped = pd.Series(pv_only["grid_import_kw"].to_numpy(dtype=float)).groupby(keys, sort=False)
    peaks = {str(k): float(v) for k, v in grouped.max().items()}
    if isinstance(peak_limit_kw, Mapping):
        return {m: float(peak_limit_kw.get(m, p)) for m, p in peaks.items()}
    if peak_limit_kw is not None:
        return dict.fromkeys(peaks, float(peak_limit_kw))
    power = sum(b.discharge_power_kw for b in scenario.site.batteries)
    return {m: max(0.0, p - factor * power) for m, p in peaks.items()}


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
        The run's inputs.
    scenario : Scenario
        The scenario (batteries, grid limits).
    pv_only : pandas.DataFrame, optional
        The pv-only baseline (:func:`vpp.sim.baseline.baseline_schedule`); computed
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
    site = scenario.site
    base = baseline_schedule(inputs, scenario) if pv_only is None else pv_only
    out = base.copy()
    n, dt = len(base), inputs.horizon.step_h
    months = month_keys(base.index)
    limits = set_points_kw(base, scenario, peak_limit_kw, months=months)
    cap = np.array([limits[m] for m in months], dtype=float)
    grid_cap = (
        cap if site.grid.import_limit_kw is None else np.minimum(cap, site.grid.import_limit_kw)
    )
    pv_names = [a.name for a in site.pv]
    available = np.zeros(n)
    for name in pv_names:
        available += base[f"{name}_available_kw"].to_numpy(dtype=float)
    net = (consumption_kw(base, scenario) - available).tolist()
    peak_mask, valley_mask = _periods(base)
    peak, valley = peak_mask.tolist(), valley_mask.tolist()
    cap_l, grid_cap_l = cap.tolist(), grid_cap.tolist()
    params = []
    for b in site.batteries:
        floor, ceil = _corridor(b, valley_mask, dt)
        usable = b.soc_max_fraction - b.soc_min_fraction
        params.append(
            (
                b.soc_initial_fraction * b.energy_kwh,
                (1.0 - b.self_discharge_fraction_per_h) ** dt,
                b.charge_efficiency * dt,
                dt / b.discharge_efficiency,
                b.charge_power_kw,
                b.discharge_power_kw,
                (b.soc_min_fraction + PEAK_RESERVE_FRACTION * usable) * b.energy_kwh,
                floor,
                ceil,
            )
        )
    residual = np.empty(n)
    columns = {}
    for soc, keep, gain, loss, p_c, p_d, reserve, floor, ceil in params:
        charge, discharge, state = [0.0] * n, [0.0] * n, [0.0] * n
        for t in range(n):
            state[t] = soc
            s0 = keep * soc
            need, room = floor[t + 1], ceil[t + 1]
            max_c = min(p_c, max(0.0, (room - s0) / gain))
            max_d = min(p_d, max(0.0, (s0 - need) / loss))
            r = net[t]
            c = d = 0.0
            if r < 0.0:
                c = min(max_c, -r)
            else:
                d = min(max_d, max(0.0, r - cap_l[t]))
                if peak[t]:
                    d = max(d, min(r, p_d, max(0.0, (s0 - max(need, reserve)) / loss)))
                elif valley[t] and d == 0.0:
                    c = min(max_c, max(0.0, grid_cap_l[t] - r))
            s1 = s0 + gain * c - loss * d
            if s1 < need:  # keep the end rule reachable: discharge less, then charge
                short = need - s1
                less = min(d, short / loss)
                d -= less
                c += max(0.0, short - less * loss) / gain
            elif s1 > room:
                excess = s1 - room
                less = min(c, excess / gain)
                c -= less
                d += max(0.0, excess - less * gain) / loss
            soc = s0 + gain * c - loss * d
            charge[t], discharge[t] = c, d
            net[t] = r + c - d
        columns[len(columns)] = (charge, discharge, state, soc)
    residual[:] = net
    for b, (charge, discharge, state, _) in zip(site.batteries, columns.values()):
        out[f"{b.name}_charge_kw"] = charge
        out[f"{b.name}_discharge_kw"] = discharge
        out[f"{b.name}_soc_kwh"] = state
    surplus = np.maximum(-residual, 0.0)
    can_export = base["export_price_cny_per_kwh"].to_numpy() > 0.0
    export = np.where(can_export, np.minimum(surplus, site.grid.export_limit_kw), 0.0)
    curtailed = np.minimum(surplus - export, available)
    share = np.divide(
        available - curtailed, available, out=np.zeros_like(available), where=available > 0
    )
    for name in pv_names:
        avail = base[f"{name}_available_kw"].to_numpy(dtype=float)
        out[f"{name}_pv_kw"] = avail * share
        out[f"{name}_curtailed_kw"] = avail * (1.0 - share)
    out["grid_import_kw"] = np.maximum(residual, 0.0)
    out["grid_export_kw"] = export
    out["grid_net_import_kw"] = out["grid_import_kw"] - out["grid_export_kw"]
    info = {
        "rule": RULE_TEXT,
        "peak_limit_kw": limits,
        "final_soc_kwh": {
            b.name: float(col[3]) for b, col in zip(site.batteries, columns.values())
        },
    }
    return out, info
