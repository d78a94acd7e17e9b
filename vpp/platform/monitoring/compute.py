"""Monitoring's computations: pure functions over readings, schedules and tariff series.

Notation per step :math:`t` of length :math:`\\Delta t` [h] with a metered import
reading :math:`P^{imp}_t` [kW] (the set :math:`M` of such steps so far this month):

.. math::

    E^{imp} = \\sum_{t \\in M} P^{imp}_t \\Delta t, \\qquad
    \\hat P = \\max_{t \\in M} P^{imp}_t, \\qquad
    B = \\sum_{t \\in M} c_t P^{imp}_t \\Delta t - \\sum_{t \\in M} c^x_t P^{exp}_t \\Delta t
        + F(\\hat P)

with the energy price :math:`c_t`, export price :math:`c^x_t` and basic charge
:math:`F` of the site's tariff, computed by the grid unit's own bill code
(:class:`vpp.assets.grid.money.GridMoney`: ``costs`` and ``monthly_costs``). The basic
charge :math:`F(\\hat P)` is what the month-to-date peak would bill if no higher peak
came. The carbon account is :func:`vpp.emissions.flows_account` over the metered import
(both electricity lines, each at its factor per step) and the metered gas, heat and
diesel (:data:`~vpp.platform.monitoring.data.FUEL_CHANNELS`); the economic figures are
the scenario's annual ones counted over the elapsed share of the year
(:func:`vpp.emissions.prorate`). A step without an import reading is left out of every
sum and counted in ``coverage``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.columns import role_columns
from vpp.assets.emission_factors import carbon_factors
from vpp.assets.grid.money import GridMoney
from vpp.assets.grid.tariff import basic_charge_terms, floored_peaks_kw
from vpp.emissions import (
    ELECTRICITY_LINES,
    FUEL_CARRIERS,
    CarbonFlow,
    electricity_kg,
    flows_account,
    line_activity,
    pre_assessment,
    prorate,
    year_share,
)
from vpp.platform.monitoring.data import FUEL_CHANNELS

__all__ = [
    "account_from_parts",
    "account_parts",
    "carbon_assets",
    "combine_parts",
    "soc_channels",
    "month_account",
    "plan_vs_actual",
    "pv_channels",
]

_KWH_PER_MWH = 1000.0
_GRID = GridMoney()
#: The tariff series a schedule carries for the grid unit's bill and carbon flows.
_PRICE_COLUMNS = (
    "price_cny_per_kwh",
    "export_price_cny_per_kwh",
    "grid_factor_kg_per_kwh",
    "market_factor_kg_per_kwh",
)


def _num(value: float) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    value = float(value)
    return value if np.isfinite(value) else None


def _list(values: np.ndarray) -> list[float | None]:
    values = np.asarray(values, dtype=float)
    out: list[float | None] = values.tolist()
    for k in np.flatnonzero(~np.isfinite(values)).tolist():
        out[k] = None
    return out


_labels_kept: dict[tuple[Any, int], list[str]] = {}


def _labels(index: pd.DatetimeIndex) -> list[str]:
    """The steps' ISO 8601 labels (kept per first step and count: every site of a park
    shares today's)."""
    if not len(index):
        return []
    key = (index[0], len(index))
    if key not in _labels_kept:
        if len(_labels_kept) > 64:
            _labels_kept.clear()
        _labels_kept[key] = [t.isoformat() for t in index]
    return list(_labels_kept[key])


def pv_channels(site: Any) -> list[str]:
    """The site's PV telemetry channels (one per array: the ``pv_output`` role columns)."""
    return [column for _, _, column in role_columns(site, "pv_output")]


def soc_channels(site: Any) -> list[str]:
    """The site's state-of-charge channels (the ``storage_soc`` role columns) [kWh]."""
    return [column for _, _, column in role_columns(site, "storage_soc")]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame:
        return frame[name].to_numpy(dtype=float)
    return np.full(len(frame), np.nan)


def plan_vs_actual(
    plan: pd.DataFrame | None,
    actual: pd.DataFrame,
    now: pd.Timestamp,
    step_h: float,
    pv: Sequence[str] = (),
    soc: Sequence[str] = (),
) -> dict[str, Any]:
    """Today's plan against the metered actuals.

    Parameters
    ----------
    plan : pandas.DataFrame or None
        The schedule to dispatch (``grid_import_kw``, ``load_kw``, PV columns), indexed
        by ISO 8601 step labels; None when no schedule is stored.
    actual : pandas.DataFrame
        The readings on today's step grid (:func:`~vpp.platform.monitoring.data.readings_frame`).
    now : pandas.Timestamp
        The present (zone-aware): steps ending at or before it are elapsed.
    step_h : float
        Step [h].
    pv : sequence of str
        The PV channels (plan columns of the same names).
    soc : sequence of str
        The state-of-charge channels (plan columns of the same names) [kWh].

    Returns
    -------
    dict
        ``timestamps``; per step ``plan_import_kw``, ``actual_import_kw``,
        ``plan_load_kw``, ``actual_load_kw``, ``plan_pv_kw``, ``actual_pv_kw`` (None:
        none); over the elapsed steps with an import reading: ``plan_import_kwh``,
        ``actual_import_kwh``, ``deviation_kwh`` (actual - plan), ``deviation_fraction``
        (of the plan; None when the plan is 0), ``mean_abs_deviation_kw``;
        ``plan_peak_kw`` (the whole day), ``actual_peak_kw`` (so far), ``elapsed_steps``,
        ``metered_steps`` and ``has_plan``.
    """
    index = actual.index
    n = len(index)
    ends = index + pd.Timedelta(hours=step_h)
    elapsed = np.asarray(ends <= now, dtype=bool)
    act_imp = _column(actual, "import_kw")
    act_load = _column(actual, "load_kw")
    act_pv = sum((np.nan_to_num(_column(actual, c)) for c in pv), np.zeros(n))
    any_pv = np.zeros(n, dtype=bool)
    for c in pv:
        any_pv |= np.isfinite(_column(actual, c))
    act_pv = np.where(any_pv, act_pv, np.nan)
    plan_imp = plan_load = plan_pv = np.full(n, np.nan)
    table = None
    if plan is not None:
        table = plan.copy()
        table.index = pd.DatetimeIndex(pd.to_datetime(table.index)).tz_convert(index.tz)
        table = table.reindex(index)
        plan_imp = _column(table, "grid_import_kw")
        plan_load = _column(table, "load_kw")
        pv_cols = [c for c in pv if c in table]
        plan_pv = table[pv_cols].sum(axis=1).to_numpy(dtype=float) if pv_cols else plan_pv
    soc_kwh = {
        name: {
            "plan": _list(_column(table, name) if table is not None else np.full(n, np.nan)),
            "actual": _list(_column(actual, name)),
        }
        for name in soc
    }
    used = elapsed & np.isfinite(act_imp) & np.isfinite(plan_imp)
    plan_kwh = float(np.sum(plan_imp[used]) * step_h)
    act_kwh = float(np.sum(act_imp[used]) * step_h)
    metered = elapsed & np.isfinite(act_imp)
    return {
        "has_plan": plan is not None,
        "timestamps": _labels(index),
        "plan_import_kw": _list(plan_imp),
        "actual_import_kw": _list(act_imp),
        "plan_load_kw": _list(plan_load),
        "actual_load_kw": _list(act_load),
        "plan_pv_kw": _list(plan_pv),
        "actual_pv_kw": _list(act_pv),
        "soc_kwh": soc_kwh,
        "elapsed_steps": int(elapsed.sum()),
        "metered_steps": int(metered.sum()),
        "compared_steps": int(used.sum()),
        "plan_import_kwh": plan_kwh,
        "actual_import_kwh": act_kwh,
        "deviation_kwh": act_kwh - plan_kwh,
        "deviation_fraction": (act_kwh - plan_kwh) / plan_kwh if plan_kwh > 0 else None,
        "mean_abs_deviation_kw": (
            float(np.mean(np.abs(act_imp[used] - plan_imp[used]))) if used.any() else None
        ),
        "plan_peak_kw": _num(np.nanmax(plan_imp)) if np.isfinite(plan_imp).any() else None,
        "actual_peak_kw": _num(np.max(act_imp[metered])) if metered.any() else None,
    }


def _factorized_sums(keys: np.ndarray, *values: np.ndarray) -> list[dict[str, float]]:
    """``values`` summed by ``keys`` (in order of first appearance; a missing key, NaN or
    None, is left out as ``groupby`` leaves it out)."""
    codes, uniques = pd.factorize(keys)
    used = codes >= 0
    return [
        {
            str(k): float(v)
            for k, v in zip(
                uniques,
                np.bincount(codes[used], weights=x[used], minlength=len(uniques)),
                strict=True,
            )
        }
        for x in values
    ]


def account_parts(
    readings: pd.DataFrame, tariff: pd.DataFrame, scenario: Any, step_h: float
) -> dict[str, Any]:
    """The additive parts of the account over ``readings``' steps (a local day, a month).

    Sums over the metered steps (an import reading; export without a reading counts 0):
    import, export [kWh], energy cost and export credit [CNY], each also by TOU period;
    the location- and market-based kg CO2 of the import (:func:`vpp.emissions.electricity_kg`
    of the grid unit's carbon flows at each step's factor); over all steps: load and PV
    [kWh], the fuel activity per carrier (:data:`~vpp.platform.monitoring.data.FUEL_CHANNELS`),
    the step counts; and the largest import [kW] with its step. Parts of consecutive
    periods add up (:func:`combine_parts`) to the parts of their union.

    Parameters
    ----------
    readings, tariff, scenario, step_h
        As :func:`month_account`.

    Returns
    -------
    dict
        JSON-ready: ``steps``, ``metered_steps``, ``steps_without_export``,
        ``import_kwh``, ``export_kwh``, ``load_kwh``, ``pv_kwh``, ``energy_cost_cny``,
        ``export_revenue_cny``, ``import_kwh_by_period``, ``energy_cost_cny_by_period``,
        ``electricity_kg`` (per electricity line), ``activity`` (per fuel carrier),
        ``peak_import_kw`` and ``peak_at`` (ISO 8601; None without a metered step).
    """
    site = scenario.site
    index = readings.index
    imp = _column(readings, "import_kw")
    metered = np.isfinite(imp)
    export_read = _column(readings, "export_kw")
    n = len(index)
    if n <= len(tariff) and tariff.index[:n].equals(index):  # today's steps so far
        prices = tariff.iloc[:n]
    else:
        prices = tariff.reindex(index)
    columns = {
        "grid_import_kw": imp[metered],
        "grid_export_kw": np.nan_to_num(export_read)[metered],
    }
    for name in _PRICE_COLUMNS:
        columns[name] = prices[name].to_numpy(dtype=float)[metered]
    schedule = pd.DataFrame(columns, index=index[metered])
    costs = _GRID.costs(site, schedule, step_h)
    periods = prices["tou_period"].to_numpy(dtype=object)[metered]
    kwh_by, cny_by = _factorized_sums(periods, costs["import_kwh"], costs["energy_cost_cny"])
    flows = list(_GRID.carbon_flows(site, schedule, step_h).values())
    lines = line_activity(flows, len(schedule))
    factors = {
        "electricity_location_based": schedule["grid_factor_kg_per_kwh"].to_numpy(dtype=float),
        "electricity_market_based": schedule["market_factor_kg_per_kwh"].to_numpy(dtype=float),
    }
    pv_kw = sum(
        (np.nan_to_num(_column(readings, c)) for c in pv_channels(site)), np.zeros(len(index))
    )
    peak_kw, peak_at = None, None
    if metered.any():
        k = int(np.argmax(imp[metered]))
        peak_kw, peak_at = float(imp[metered][k]), index[metered][k].isoformat()
    return {
        "steps": len(index),
        "metered_steps": int(metered.sum()),
        "steps_without_export": int((metered & ~np.isfinite(export_read)).sum()),
        "import_kwh": float(costs["import_kwh"].sum()),
        "export_kwh": float(costs["export_kwh"].sum()),
        "load_kwh": float(np.nansum(_column(readings, "load_kw")) * step_h),
        "pv_kwh": float(pv_kw.sum() * step_h),
        "energy_cost_cny": float(costs["energy_cost_cny"].sum()),
        "export_revenue_cny": float(costs["export_revenue_cny"].sum()),
        "import_kwh_by_period": kwh_by,
        "energy_cost_cny_by_period": cny_by,
        "electricity_kg": {
            line: electricity_kg(lines.get(line, np.zeros(len(schedule))), factors[line])
            for line in ELECTRICITY_LINES
        },
        "activity": {
            carrier: float(
                sum(
                    np.nansum(_column(readings, ch))
                    for ch, c in FUEL_CHANNELS.items()
                    if c == carrier
                )
            )
            for carrier in FUEL_CARRIERS
        },
        "peak_import_kw": peak_kw,
        "peak_at": peak_at,
    }


_SUMMED = (
    "steps",
    "metered_steps",
    "steps_without_export",
    "import_kwh",
    "export_kwh",
    "load_kwh",
    "pv_kwh",
    "energy_cost_cny",
    "export_revenue_cny",
)
_SUMMED_BY = ("import_kwh_by_period", "energy_cost_cny_by_period", "electricity_kg", "activity")


def combine_parts(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The parts of consecutive periods (in time order) combined: every sum added, the
    largest import the largest of theirs (the earliest on a tie, as over the steps)."""
    out: dict[str, Any] = {k: 0 if k.endswith("steps") else 0.0 for k in _SUMMED}
    for name in _SUMMED_BY:
        out[name] = {}
    out["peak_import_kw"], out["peak_at"] = None, None
    for part in parts:
        for k in _SUMMED:
            out[k] += part[k]
        for name in _SUMMED_BY:
            for k, v in part[name].items():
                out[name][k] = out[name].get(k, 0.0) + v
        peak = part["peak_import_kw"]
        if peak is not None and (out["peak_import_kw"] is None or peak > out["peak_import_kw"]):
            out["peak_import_kw"], out["peak_at"] = peak, part["peak_at"]
    return out


def month_account(
    readings: pd.DataFrame,
    tariff: pd.DataFrame,
    scenario: Any,
    step_h: float,
    period_end: pd.Timestamp,
) -> dict[str, Any]:
    """The month so far: energy, peak, basic charge, bill and the carbon account.

    :func:`account_parts` of the readings, then :func:`account_from_parts` (the one way
    the account is made, whether from the month's steps or from its days' parts).

    Parameters
    ----------
    readings : pandas.DataFrame
        The site's readings on the month's steps so far (``import_kw``, ``export_kw``,
        ``load_kw``, PV and fuel channels; NaN = no reading).
    tariff : pandas.DataFrame
        The month's :data:`~vpp.platform.monitoring.data.TARIFF_COLUMNS` on the same or
        a longer index (:func:`~vpp.platform.monitoring.data.month_series`).
    scenario : vpp.scenario.schema.Scenario
        The site scenario (grid tariff, emission factors, economics, targets).
    step_h : float
        Step [h].
    period_end : pandas.Timestamp
        End of the period counted (the present): the share of the year of the economic
        figures runs from the month's first step to it.

    Returns
    -------
    dict
        As :func:`account_from_parts`.
    """
    parts = account_parts(readings, tariff, scenario, step_h)
    start = readings.index[0] if len(readings.index) else None
    return account_from_parts(parts, scenario, step_h, start, period_end)


def account_from_parts(
    parts: Mapping[str, Any],
    scenario: Any,
    step_h: float,
    start: pd.Timestamp | None,
    period_end: pd.Timestamp,
) -> dict[str, Any]:
    """The account of a month so far from its parts (:func:`account_parts`,
    :func:`combine_parts`).

    The basic charge is the grid unit's (as :meth:`GridMoney.monthly_costs
    <vpp.assets.grid.money.GridMoney.monthly_costs>` bills a month: the month's largest
    import, floored by :func:`~vpp.assets.grid.tariff.floored_peaks_kw`, billed by the
    terms of :func:`~vpp.assets.grid.tariff.basic_charge_terms`); the carbon account
    :func:`vpp.emissions.flows_account` of the parts' kg per
    electricity line and fuel activity.

    Parameters
    ----------
    parts : mapping
        The month's parts so far.
    scenario : vpp.scenario.schema.Scenario
        The site scenario.
    step_h : float
        Step [h].
    start : pandas.Timestamp or None
        The month's first step (None: no step counted).
    period_end : pandas.Timestamp
        The present (:func:`month_account`).

    Returns
    -------
    dict
        ``energy`` (import, export, load, PV [kWh], by TOU period), ``peak`` (the
        month-to-date peak [kW], its time, the basic-charge method and rate, the charge
        it bills [CNY]), ``bill`` (energy cost, export credit, basic charge and
        ``bill_cny`` so far [CNY]), ``carbon`` (:func:`vpp.emissions.flows_account` with
        ``pre_assessment``), ``coverage`` (steps, metered steps, fraction, metered steps
        without an export reading) and ``notes`` (what was left out or assumed).
    """
    site = scenario.site
    steps, metered = int(parts["steps"]), int(parts["metered_steps"])
    terms = basic_charge_terms(site.grid)
    peaks: dict[str, float] = {}
    if metered:  # the month's largest import, floored and billed as the grid unit bills
        # it (GridMoney.monthly_costs: floored_peaks_kw, then the terms' months_cny)
        month = str(parts["peak_at"])[:7]
        peaks = floored_peaks_kw(site.grid, {month: float(parts["peak_import_kw"])})
    basic_cny = float(sum(terms.months_cny(peaks).values())) if peaks else 0.0
    no_export = int(parts["steps_without_export"])
    notes = [
        "gas, heat and diesel are the metered channels only: the scenario's declared annual "
        "activity is not added"
    ]
    if no_export:
        notes.append(f"{no_export} metered step(s) without an export reading count no export")
    if steps - metered:
        notes.append(
            f"{steps - metered} step(s) without an import reading are left out of every sum"
        )
    energy_cny, export_cny = float(parts["energy_cost_cny"]), float(parts["export_revenue_cny"])
    return {
        "coverage": {
            "steps": steps,
            "metered_steps": metered,
            "fraction": metered / steps if steps else None,
            "steps_without_export": no_export,
        },
        "notes": notes,
        "energy": {
            "import_kwh": float(parts["import_kwh"]),
            "export_kwh": float(parts["export_kwh"]),
            "load_kwh": float(parts["load_kwh"]),
            "pv_kwh": float(parts["pv_kwh"]),
            "import_kwh_by_period": dict(parts["import_kwh_by_period"]),
            "energy_cost_cny_by_period": dict(parts["energy_cost_cny_by_period"]),
        },
        "peak": {
            "peak_import_kw": float(sum(peaks.values())) if metered else None,
            "at": parts["peak_at"] if metered else None,
            "basic_charge_method": terms.method,
            "demand_rate_cny_per_kw_month": _num(terms.demand_rate_cny_per_kw),
            "basic_charge_cny": basic_cny,
        },
        "bill": {
            "energy_cost_cny": energy_cny,
            "export_revenue_cny": export_cny,
            "basic_charge_cny": basic_cny,
            "bill_cny": energy_cny - export_cny + basic_cny,
        },
        "carbon": _carbon(parts, scenario, start if steps else None, period_end),
    }


def _carbon(
    parts: Mapping[str, Any],
    scenario: Any,
    start: pd.Timestamp | None,
    period_end: pd.Timestamp,
) -> dict[str, Any]:
    """The carbon account of the metered import and fuels (module docstring): each
    electricity line enters :func:`vpp.emissions.flows_account` as its kg at a factor
    of 1 kg/kg."""
    site = scenario.site
    factors = carbon_factors(site)
    flows = [
        CarbonFlow(np.array([float(parts["electricity_kg"][line])]), {line: 1.0})
        for line in ELECTRICITY_LINES
    ]
    activity = {c: float(parts["activity"].get(c, 0.0)) for c in FUEL_CARRIERS}
    share = year_share(start, period_end) if start is not None else 0.0
    economics = site.emissions.economics
    annual = {"output_value": economics.output_value_cny, "value_added": economics.value_added_cny}
    account = flows_account(
        flows=flows,
        n_steps=1,
        location_factor_kg_per_kwh=1.0,
        market_factor_kg_per_kwh=1.0,
        activity=activity,
        fuel_factors_kg={c: factors.fuels[c].value for c in FUEL_CARRIERS},
        # no step has ended yet this month: no economic figure to divide by
        economics_cny=prorate(annual, share) if share > 0.0 else None,
    )
    account["activity"] = {"electricity_import_kwh": float(parts["import_kwh"]), **activity}
    account["factors_kg"] = {
        "electricity_location_based": factors.electricity.value,
        "electricity_market_based": factors.electricity_market_based.value,
        **{c: factors.fuels[c].value for c in FUEL_CARRIERS},
    }
    account["year_share"] = share
    check = site.emissions.pre_assessment
    account["pre_assessment"] = None
    if check is not None and check.basis in account["economics_cny"] and parts["metered_steps"]:
        account["pre_assessment"] = pre_assessment(
            account,
            threshold_t_per_10k_cny=check.threshold_t_per_10k_cny,
            basis=check.basis,
            accounting=check.accounting,
        )
    return account


def carbon_assets(
    scenario: Any, month: str, energy: Mapping[str, Any], month_fraction: float
) -> dict[str, Any]:
    """The site's carbon assets this month: green-power contracts and the renewable target.

    Parameters
    ----------
    scenario : vpp.scenario.schema.Scenario
        The site scenario (``green_contracts``, ``renewable_target``).
    month : str
        ``YYYY-MM``.
    energy : mapping
        :func:`month_account`'s ``energy`` (``load_kwh``, ``pv_kwh``).
    month_fraction : float
        The elapsed share of the month [-].

    Returns
    -------
    dict
        ``contracts``: per contract the month's contracted volume [MWh], its pro-rata
        share so far and ``delivered_mwh`` (None: no telemetry channel carries green
        deliveries; the utility's settlement does); ``target``: the renewable share so
        far (on-site PV over the load), the target fraction, the certificates that would
        close the gap [MWh, one certificate each] and their cost [CNY]; None without a
        target. ``has_assets``: whether the scenario declares any.
    """
    site = scenario.site
    contracts = []
    for contract in site.green_contracts:
        volume = (contract.monthly_mwh or {}).get(month)
        contracts.append(
            {
                "name": contract.name,
                "contracted_mwh": volume,
                "contracted_to_date_mwh": None if volume is None else volume * month_fraction,
                "delivered_mwh": None,
                "note": "deliveries are settled by the utility; no telemetry channel carries them",
            }
        )
    load = float(energy["load_kwh"])
    green = float(energy["pv_kwh"])
    share = green / load if load > 0 else None
    target = None
    if site.renewable_target is not None:
        goal = site.renewable_target
        gap_kwh = max(0.0, goal.fraction * load - green)
        target = {
            "basis": goal.basis,
            "fraction": goal.fraction,
            "renewable_fraction": share,
            "gap_mwh": gap_kwh / _KWH_PER_MWH,
            "certificates_needed": gap_kwh / _KWH_PER_MWH,
            "certificates_cost_cny": gap_kwh / _KWH_PER_MWH * goal.certificate_price_cny_per_mwh,
            "met": share is not None and share >= goal.fraction,
        }
    return {
        "has_assets": bool(contracts) or target is not None,
        "renewable_fraction": share,
        "contracts": contracts,
        "target": target,
    }
