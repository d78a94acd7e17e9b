"""The bill of a dispatch, computed from the schedule alone.

This is the settlement a utility would send, recomputed from metered-like columns
and prices; it does not read the optimization model. That makes it an independent
check of the objective: :func:`vpp.sim.run.run` compares the two on every solve.

:func:`bill` gives the totals; :func:`monthly_bill` the same money month by month, with
the energy split by TOU period (the schedule's ``tou_period`` column).

Extra monthly costs (green-power contracts, certificates, carbon) join through
``extra_cny``: ``{column: {YYYY-MM: CNY}}`` (a positive value is a cost, a negative one
a credit). Each column is added to the monthly table and to the totals; the columns of
:data:`EXTRA_COLUMNS` are always present (zero when not given). Whoever passes extras
must put the same money into the LP objective, or the objective check of
:func:`vpp.sim.run.run` fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.grid.tariff import basic_charge_terms
from vpp.scenario.schema import Battery, CurtailableLoad, Scenario
from vpp.tariffs.calendars import STANDARD_PERIODS

#: Monthly cost columns reserved for green contracts, certificates and carbon [CNY].
EXTRA_COLUMNS = ("green_contracts_cny", "certificates_cny", "carbon_cny")

ExtraCosts = Mapping[str, Mapping[str, float]]


def month_keys(index: pd.DatetimeIndex) -> np.ndarray:
    """The local calendar month ``YYYY-MM`` of each label."""
    local = index.tz_localize(None) if index.tz is not None else index
    return np.asarray(local.strftime("%Y-%m"), dtype=object)


def monthly_peaks_kw(import_kw: pd.Series) -> dict[str, float]:
    """The largest import of each calendar month [kW], keyed ``YYYY-MM``."""
    keys = month_keys(import_kw.index)
    peaks = pd.Series(import_kw.to_numpy(), index=keys).groupby(level=0, sort=False).max()
    return {str(k): float(v) for k, v in peaks.items()}


def _extra_totals(extra_cny: ExtraCosts | None) -> dict[str, float]:
    totals = dict.fromkeys(EXTRA_COLUMNS, 0.0)
    for column, months in (extra_cny or {}).items():
        totals[column] = float(sum(months.values()))
    return totals


def bill(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float, extra_cny: ExtraCosts | None = None
) -> dict[str, Any]:
    """Cost parts of a schedule [CNY].

    Parameters
    ----------
    schedule : pandas.DataFrame
        With ``grid_import_kw``, ``grid_export_kw``, ``price_cny_per_kwh``,
        ``export_price_cny_per_kwh`` and, per asset, ``<battery>_discharge_kw`` and
        ``<curtailable>_shed_kw`` where present.
    scenario : Scenario
        For the basic charge, throughput and shedding costs.
    step_h : float
        Step length [h].
    extra_cny : mapping, optional
        Extra monthly costs ``{column: {YYYY-MM: CNY}}`` (see the module docstring).

    Returns
    -------
    dict
        ``energy_cost_cny``, ``export_revenue_cny``, ``demand_charge_cny`` (the basic
        charge by the method in force: demand, contracted demand or capacity),
        ``battery_cost_cny``, ``curtailment_cost_cny``, ``ev_cost_cny`` (only with EV
        fleets: :func:`ev_cost_cny`), the :data:`EXTRA_COLUMNS` and any
        other extra column, ``total_cost_cny``, ``basic_charge_method`` and
        ``peak_import_kw`` (per month).
    """
    site = scenario.site
    imp = schedule["grid_import_kw"]
    exp = schedule["grid_export_kw"]
    energy = float(np.dot(imp.to_numpy(), schedule["price_cny_per_kwh"].to_numpy()) * step_h)
    export = float(np.dot(exp.to_numpy(), schedule["export_price_cny_per_kwh"].to_numpy()) * step_h)
    peaks = monthly_peaks_kw(imp)
    terms = basic_charge_terms(site.grid)
    demand = float(sum(terms.months_cny(peaks).values()))
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
    ev = {"ev_cost_cny": float(ev_cost_cny(schedule, scenario, step_h).sum())}
    extras = _extra_totals(extra_cny)
    own = battery + shed + ev["ev_cost_cny"]
    return {
        "total_cost_cny": energy - export + demand + own + sum(extras.values()),
        "energy_cost_cny": energy,
        "export_revenue_cny": export,
        "demand_charge_cny": demand,
        "battery_cost_cny": battery,
        "curtailment_cost_cny": shed,
        **(ev if site.ev_fleets else {}),
        **extras,
        "basic_charge_method": terms.method,
        "peak_import_kw": peaks,
    }


def ev_cost_cny(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> np.ndarray:
    """EV fleets' own cost per step [CNY]: V2G wear on ``<fleet>_discharge_kw`` and, for
    ``unmet: priced``, the price of ``<fleet>_unmet_kwh`` (energy not delivered)."""
    cost = np.zeros(len(schedule))
    for f in scenario.site.ev_fleets:
        col = f"{f.name}_discharge_kw"
        if f.v2g and col in schedule:
            cost += f.degradation_cost_cny_per_kwh * schedule[col].to_numpy() * step_h
        col = f"{f.name}_unmet_kwh"
        if f.unmet == "priced" and col in schedule:
            cost += f.unmet_cost_cny_per_kwh * schedule[col].to_numpy()
    return cost


def _throughput_cost(battery: Battery, discharge_kw: np.ndarray, step_h: float) -> float:
    return battery.throughput_cost_cny_per_kwh * float(discharge_kw.sum()) * step_h


def _period_order(periods: list[str]) -> list[str]:
    standard = [p for p in STANDARD_PERIODS if p in periods]
    return standard + [p for p in periods if p not in STANDARD_PERIODS]


def monthly_bill(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float, extra_cny: ExtraCosts | None = None
) -> pd.DataFrame:
    """The bill month by month [kWh, kW, CNY], one row per local calendar month.

    Parameters
    ----------
    schedule : pandas.DataFrame
        As for :func:`bill`, plus ``tou_period`` (the TOU period of each step; without
        it every step counts as period ``series``).
    scenario : Scenario
        For the basic charge, throughput and shedding costs.
    step_h : float
        Step length [h].
    extra_cny : mapping, optional
        Extra monthly costs ``{column: {YYYY-MM: CNY}}`` (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``month`` (``YYYY-MM``), with columns, in order:
        ``tou_<period>_import_kwh`` and ``tou_<period>_energy_cost_cny`` for each TOU
        period that occurs (standard periods first: critical_peak, peak, flat, valley,
        deep_valley); ``import_kwh``, ``energy_cost_cny``, ``export_kwh``,
        ``export_revenue_cny``, ``peak_import_kw`` (the month's maximum demand at the
        run's step), ``demand_charge_cny`` (the basic charge), the extra columns,
        ``bill_cny`` (what the utility and contracts bill: energy - export credit + basic
        charge + extras), ``battery_cost_cny``, ``curtailment_cost_cny``, ``ev_cost_cny``
        (only with EV fleets) and ``total_cost_cny`` (bill + battery wear + shedding + EV
        wear and unmet energy; its sum is
        :func:`bill`'s ``total_cost_cny``).
    """
    site = scenario.site
    months = month_keys(schedule.index)
    order = list(dict.fromkeys(months.tolist()))
    imp = schedule["grid_import_kw"].to_numpy()
    exp = schedule["grid_export_kw"].to_numpy()
    if "tou_period" in schedule:
        period = schedule["tou_period"].to_numpy(dtype=object)
    else:
        period = np.full(len(schedule), "series", dtype=object)
    frame = pd.DataFrame(
        {
            "month": months,
            "period": period,
            "import_kwh": imp * step_h,
            "energy_cost_cny": imp * schedule["price_cny_per_kwh"].to_numpy() * step_h,
            "export_kwh": exp * step_h,
            "export_revenue_cny": exp * schedule["export_price_cny_per_kwh"].to_numpy() * step_h,
        }
    )
    by_period = frame.groupby(["month", "period"], sort=False)[["import_kwh", "energy_cost_cny"]]
    tou = by_period.sum().unstack("period", fill_value=0.0)
    columns: dict[str, pd.Series] = {}
    for p in _period_order(list(dict.fromkeys(period.tolist()))):
        columns[f"tou_{p}_import_kwh"] = tou[("import_kwh", p)]
        columns[f"tou_{p}_energy_cost_cny"] = tou[("energy_cost_cny", p)]
    table = pd.DataFrame(columns).reindex(order)
    totals = frame.groupby("month", sort=False)[
        ["import_kwh", "energy_cost_cny", "export_kwh", "export_revenue_cny"]
    ].sum()
    for column in totals.columns:
        table[column] = totals[column]
    peaks = monthly_peaks_kw(schedule["grid_import_kw"])
    table["peak_import_kw"] = pd.Series(peaks)
    table["demand_charge_cny"] = pd.Series(basic_charge_terms(site.grid).months_cny(peaks))
    extra_columns = list(EXTRA_COLUMNS) + [c for c in (extra_cny or {}) if c not in EXTRA_COLUMNS]
    for column in extra_columns:
        given = (extra_cny or {}).get(column, {})
        table[column] = [float(given.get(month, 0.0)) for month in order]
    table["bill_cny"] = (
        table["energy_cost_cny"]
        - table["export_revenue_cny"]
        + table["demand_charge_cny"]
        + table[extra_columns].sum(axis=1)
    )
    battery = np.zeros(len(schedule))
    for b in site.batteries:
        col = f"{b.name}_discharge_kw"
        if col in schedule:
            battery += b.throughput_cost_cny_per_kwh * schedule[col].to_numpy() * step_h
    shed = np.zeros(len(schedule))
    for f in site.flexible_loads:
        col = f"{f.name}_shed_kw"
        if isinstance(f, CurtailableLoad) and col in schedule:
            shed += f.shed_cost_cny_per_kwh * schedule[col].to_numpy() * step_h
    own = pd.DataFrame({"battery_cost_cny": battery, "curtailment_cost_cny": shed})
    if site.ev_fleets:
        own["ev_cost_cny"] = ev_cost_cny(schedule, scenario, step_h)
    own_by_month = own.groupby(months, sort=False).sum()
    for column in own.columns:
        table[column] = own_by_month[column]
    table["total_cost_cny"] = table["bill_cny"] + table[list(own.columns)].sum(axis=1)
    table.index.name = "month"
    return table
