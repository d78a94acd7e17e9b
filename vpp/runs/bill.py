"""The bill of a dispatch, computed from the schedule alone, by the asset units.

This is the settlement a utility would send, recomputed from metered-like columns
and prices; it does not read the optimization model. That makes it an independent
check of the objective: every solve compares the two
(:func:`vpp.runs.solved_schedule.check_objective`).

:func:`monthly_bill` is the one computation: every registered unit
(:func:`vpp.assets.units`) names its bill columns
(:meth:`~vpp.assets.base.AssetUnit.bill_columns`: metered quantities, charges,
credits, the site's own costs), gives what each step adds to them
(:meth:`~vpp.assets.base.AssetUnit.costs`) and what each month adds
(:meth:`~vpp.assets.base.AssetUnit.monthly_costs`); the table sums them by local
calendar month, with the energy split by TOU period (the schedule's ``tou_period``
column). :func:`bill` gives its totals.

Extra monthly costs join through ``extra_cny``: ``{column: {YYYY-MM: CNY}}`` (a
positive value is a cost, a negative one a credit), added to the column of that name
(a new charge column when no unit names it) and to the totals. Whoever passes extras
must put the same money into the LP objective, or the objective check fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import units
from vpp.assets.grid.tariff import basic_charge_terms
from vpp.assets.months import month_keys
from vpp.scenario.schema import Scenario
from vpp.tariffs.calendars import STANDARD_PERIODS

__all__ = ["EXTRA_COLUMNS", "ExtraCosts", "bill", "bill_parts", "extra_bill_rows", "monthly_bill"]

#: The bill's columns that are not the dispatch: green-power contracts, certificates and
#: the carbon price [CNY] (the baselines have no contracts and no certificates).
EXTRA_COLUMNS = ("green_contracts_cny", "certificates_cny", "carbon_cny")
#: The per-step columns the monthly table also splits by TOU period.
TOU_SPLIT = ("import_kwh", "energy_cost_cny")
#: Parts of a bill column (:meth:`vpp.assets.base.AssetUnit.bill_columns`) and their sign
#: in ``bill_cny`` (``own`` costs are in ``total_cost_cny`` only).
BILLED_SIGN = {"charge": 1.0, "credit": -1.0}
PARTS = ("metered", "charge", "credit", "own")

ExtraCosts = Mapping[str, Mapping[str, float]]


def bill_parts(site: Any) -> dict[str, str]:
    """Every bill column the site's units declare, in model order, with its part
    (``metered``, ``charge``, ``credit`` or ``own``; :data:`PARTS`)."""
    parts: dict[str, str] = {}
    for unit in units():
        for column, part in unit.bill_columns(site).items():
            parts.setdefault(column, part)
    return parts


def extra_bill_rows(
    site: Any, shown: Iterable[str], summary: Mapping[str, Any]
) -> list[tuple[str, str, float]]:
    """The money rows a bill table must add to the ``shown`` keys so its rows add up to
    the total: (label, summary key, sign in the bill) of every ``charge``, ``credit`` or
    ``own`` column a unit declares for the site (a demand charge's ``<name>_charge_cny``,
    a genset's ``genset_cost_cny``, start costs) that ``summary`` and its baseline
    hold. The label is the key without ``_cny``, words spaced."""
    known = set(shown)
    baseline = summary.get("baseline") or {}
    return [
        (column.removesuffix("_cny").replace("_", " "), column, BILLED_SIGN.get(part, 1.0))
        for column, part in bill_parts(site).items()
        if part != "metered" and column not in known and column in summary and column in baseline
    ]


def _period_order(periods: list[str]) -> list[str]:
    standard = [p for p in STANDARD_PERIODS if p in periods]
    return standard + [p for p in periods if p not in STANDARD_PERIODS]


def _add_monthly(into: dict[str, dict[str, float]], column: str, months: Mapping[str, float]):
    target = into.setdefault(column, {})
    for month, value in months.items():
        target[month] = target.get(month, 0.0) + float(value)


def _bill_table(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float, extra_cny: ExtraCosts | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The monthly table and the part of each of its bill columns."""
    site = scenario.site
    parts: dict[str, str] = {}
    per_step: dict[str, np.ndarray] = {}
    monthly: dict[str, dict[str, float]] = {}
    for unit in units():
        for column, part in unit.bill_columns(site).items():
            if part not in PARTS:
                raise ValueError(
                    f"kind '{unit.kind}' gives bill column '{column}' the part '{part}'; "
                    f"allowed: {', '.join(PARTS)}"
                )
            if parts.setdefault(column, part) != part:
                raise ValueError(
                    f"bill column '{column}' is '{parts[column]}' and, for kind "
                    f"'{unit.kind}', '{part}'"
                )
        for column, values in unit.costs(site, schedule, step_h).items():
            per_step[column] = per_step[column] + values if column in per_step else values
        for column, months in unit.monthly_costs(site, schedule, step_h).items():
            _add_monthly(monthly, column, months)
    unknown = sorted((set(per_step) | set(monthly)) - set(parts))
    if unknown:
        raise ValueError(f"costs given for bill column(s) no unit declares: {unknown}")
    for column, months in (extra_cny or {}).items():
        parts.setdefault(column, "charge")
        _add_monthly(monthly, column, months)

    month_id, uniques = pd.factorize(month_keys(schedule.index))
    order = [str(m) for m in uniques]
    if "tou_period" in schedule:
        period = schedule["tou_period"].to_numpy(dtype=object)
    else:
        period = np.full(len(schedule), "series", dtype=object)
    columns: dict[str, np.ndarray] = {}
    split = pd.DataFrame({c: per_step[c] for c in TOU_SPLIT if c in per_step})
    if len(split.columns):
        period_id, periods = pd.factorize(period)
        tou = split.groupby([month_id, period_id], sort=False).sum().unstack(fill_value=0.0)
        tou = tou.reindex(range(len(order)), fill_value=0.0)
        for name in _period_order([str(x) for x in periods]):
            j = list(periods).index(name)
            for c in split.columns:
                columns[f"tou_{name}_{c}"] = tou[(c, j)].to_numpy()
    by_month = pd.DataFrame(per_step).groupby(month_id, sort=False).sum()
    by_month = by_month.reindex(range(len(order)))
    for column in parts:
        value = np.zeros(len(order))
        if column in by_month:
            value = value + by_month[column].to_numpy()
        if column in monthly:
            given = monthly[column]
            value = value + np.array([float(given.get(m, 0.0)) for m in order])
        columns[column] = value
    table = pd.DataFrame(columns, index=pd.Index(order, name="month"))
    return table, parts


def monthly_bill(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float, extra_cny: ExtraCosts | None = None
) -> pd.DataFrame:
    """The bill month by month [kWh, kW, CNY], one row per local calendar month.

    Parameters
    ----------
    schedule : pandas.DataFrame
        Inputs and dispatch: ``grid_import_kw``, ``grid_export_kw``,
        ``price_cny_per_kwh``, ``export_price_cny_per_kwh``, each unit's own columns
        where present (``<battery>_discharge_kw``, ``<curtailable>_shed_kw``, ...) and
        ``tou_period`` (the TOU period of each step; without it every step counts as
        period ``series``).
    scenario : Scenario
        The site whose units bill (basic charge, throughput and shedding costs, ...).
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
        deep_valley); the units' metered, charge and credit columns in unit order
        (``import_kwh``, ``energy_cost_cny``, ``export_kwh``, ``export_revenue_cny``,
        ``peak_import_kw`` (the month's maximum demand at the run's step),
        ``demand_charge_cny`` (the basic charge), ``green_contracts_cny``,
        ``certificates_cny``, ``carbon_cny``) and the extra columns; ``bill_cny`` (what
        the utility and contracts bill: charges - credits); the units' own costs
        (``battery_cost_cny``, ``curtailment_cost_cny``, ``ev_cost_cny`` only with EV
        fleets) and ``total_cost_cny`` (bill + own costs; its sum is :func:`bill`'s
        ``total_cost_cny``).
    """
    table, parts = _bill_table(schedule, scenario, step_h, extra_cny)
    return _with_totals(table, parts)


def _with_totals(table: pd.DataFrame, parts: dict[str, str]) -> pd.DataFrame:
    own = [c for c, p in parts.items() if p == "own"]
    first = [c for c in table.columns if c not in own]
    table = table[first + own].copy()
    billed = pd.Series(0.0, index=table.index)
    for column, part in parts.items():
        if part in BILLED_SIGN:
            billed = billed + BILLED_SIGN[part] * table[column]
    table.insert(len(first), "bill_cny", billed)
    table["total_cost_cny"] = table["bill_cny"] + table[own].sum(axis=1)
    return table


def bill(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float, extra_cny: ExtraCosts | None = None
) -> dict[str, Any]:
    """Cost parts of a schedule [CNY]: the totals of :func:`monthly_bill`.

    Parameters are those of :func:`monthly_bill` (``tou_period`` may be missing).

    Returns
    -------
    dict
        ``total_cost_cny``; every money column of the units in unit order:
        ``energy_cost_cny``, ``export_revenue_cny``, ``demand_charge_cny`` (the basic
        charge by the method in force: demand, contracted demand or capacity),
        ``battery_cost_cny``, ``curtailment_cost_cny``, ``ev_cost_cny`` (only with EV
        fleets), ``green_contracts_cny``, ``certificates_cny``, ``carbon_cny`` and any
        other extra column; ``basic_charge_method`` and ``peak_import_kw`` (per month
        ``YYYY-MM`` [kW]).
    """
    table, parts = _bill_table(schedule, scenario, step_h, extra_cny)
    table = _with_totals(table, parts)
    money = [c for c, p in parts.items() if p != "metered"]
    return {
        "total_cost_cny": float(table["total_cost_cny"].sum()),
        **{c: float(table[c].sum()) for c in money},
        "basic_charge_method": basic_charge_terms(scenario.site.grid).method,
        "peak_import_kw": {str(m): float(v) for m, v in table["peak_import_kw"].items()},
    }
