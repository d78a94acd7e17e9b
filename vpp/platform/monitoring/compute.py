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

Every sum above adds over days, and :math:`\\hat P` is the largest of the days' peaks:
:func:`segment_parts` computes those parts per local day (stored by
:mod:`~vpp.platform.monitoring.days`), :func:`combine_parts` adds them, and
:func:`account_from_parts` makes the account (the basic charge, the carbon account, the
notes) from the sums: :func:`month_account` over a month's steps is the same path with
one segment.
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
    flows_account,
    line_activity,
    pre_assessment,
    prorate,
    year_share,
)
from vpp.platform.monitoring.data import FUEL_CHANNELS
from vpp.platform.monitoring.data import finite_or_none as _num

__all__ = [
    "account_from_parts",
    "account_parts",
    "combine_parts",
    "segment_parts",
    "soc_channels",
    "month_account",
    "pv_channels",
]

_GRID = GridMoney()
#: The tariff series a schedule carries for the grid unit's bill and carbon flows.
_PRICE_COLUMNS = (
    "price_cny_per_kwh",
    "export_price_cny_per_kwh",
    "grid_factor_kg_per_kwh",
    "market_factor_kg_per_kwh",
)


def pv_channels(site: Any) -> list[str]:
    """The site's PV telemetry channels (one per array: the ``pv_output`` role columns)."""
    return [column for _, _, column in role_columns(site, "pv_output")]


def soc_channels(site: Any) -> list[str]:
    """The site's state-of-charge channels (the ``storage_soc`` role columns) [kWh]."""
    return [column for _, _, column in role_columns(site, "storage_soc")]


def account_parts(
    readings: pd.DataFrame, tariff: pd.DataFrame, scenario: Any, step_h: float
) -> dict[str, Any]:
    """The additive parts of the account over ``readings``' steps: the one segment of
    :func:`segment_parts`."""
    return segment_parts(readings, tariff, scenario, step_h, [0])[0]


def segment_parts(
    readings: pd.DataFrame,
    tariff: pd.DataFrame,
    scenario: Any,
    step_h: float,
    starts: Sequence[int],
) -> list[dict[str, Any]]:
    """The additive parts of the account over each segment of ``readings``' steps (the
    local days of a month, or one segment).

    Per segment, over its metered steps (an import reading; export without a reading
    counts 0): import and export [kWh], energy cost and export credit [CNY] (the grid
    unit's :meth:`~vpp.assets.grid.money.GridMoney.costs`), import and cost by TOU
    period, and the kg CO2 of each electricity line (the grid unit's carbon flows,
    :func:`vpp.emissions.line_activity`, times each step's factor); over all its steps:
    load and PV [kWh], the fuel activity per carrier
    (:data:`~vpp.platform.monitoring.data.FUEL_CHANNELS`), the step counts; and its
    largest import [kW] with its step (the first on a tie). Parts of consecutive
    segments combine (:func:`combine_parts`) into the parts of their union.

    Parameters
    ----------
    readings, tariff, scenario, step_h
        As :func:`month_account`.
    starts : sequence of int
        The first step of each segment, ascending, the first 0.

    Returns
    -------
    list of dict
        One per segment, JSON-ready: ``steps``, ``metered_steps``,
        ``steps_without_export``, ``import_kwh``, ``export_kwh``, ``load_kwh``,
        ``pv_kwh``, ``energy_cost_cny``, ``export_revenue_cny``,
        ``import_kwh_by_period``, ``energy_cost_cny_by_period``, ``electricity_kg`` (per
        electricity line), ``activity`` (per fuel carrier), ``peak_import_kw`` and
        ``peak_at`` (ISO 8601; None without a metered step).
    """
    site = scenario.site
    index = readings.index
    n, m = len(index), len(starts)
    arrays = dict(zip(readings.columns, readings.to_numpy(dtype=float).T, strict=True))

    def read(name: str) -> np.ndarray:
        return arrays[name] if name in arrays else np.full(n, np.nan)

    segment = np.searchsorted(np.asarray(starts), np.arange(n), side="right") - 1
    imp = read("import_kw")
    metered = np.isfinite(imp)
    export_read = read("export_kw")
    prices = _prices(tariff, index)
    columns = {
        "grid_import_kw": imp[metered],
        "grid_export_kw": np.nan_to_num(export_read)[metered],
    }
    for name in _PRICE_COLUMNS:
        columns[name] = prices[name][metered]
    schedule = pd.DataFrame(columns, index=index[metered], copy=False)
    costs = _GRID.costs(site, schedule, step_h)
    lines = line_activity(_GRID.carbon_flows(site, schedule, step_h).values(), len(schedule))
    kg = {
        "electricity_location_based": columns["grid_factor_kg_per_kwh"],
        "electricity_market_based": columns["market_factor_kg_per_kwh"],
    }
    seg_m = segment[metered]

    def summed(values: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(
            segment if where is None else segment[where], weights=values, minlength=m
        )

    by_period = _by_period(prices["tou_period"][metered], seg_m, m, costs)
    pv_kw = sum((np.nan_to_num(read(c)) for c in pv_channels(site)), np.zeros(n))
    sums = {
        "steps": np.bincount(segment, minlength=m),
        "metered_steps": np.bincount(seg_m, minlength=m),
        "steps_without_export": np.bincount(
            segment[metered & ~np.isfinite(export_read)], minlength=m
        ),
        "import_kwh": summed(costs["import_kwh"], metered),
        "export_kwh": summed(costs["export_kwh"], metered),
        "load_kwh": summed(np.nan_to_num(read("load_kw"))) * step_h,
        "pv_kwh": summed(pv_kw) * step_h,
        "energy_cost_cny": summed(costs["energy_cost_cny"], metered),
        "export_revenue_cny": summed(costs["export_revenue_cny"], metered),
    }
    line_kg = {
        line: summed(lines.get(line, np.zeros(len(schedule))) * kg[line], metered)
        for line in ELECTRICITY_LINES
    }
    fuels = {c: np.zeros(n) for c in FUEL_CARRIERS}
    for channel, carrier in FUEL_CHANNELS.items():
        fuels[carrier] = fuels[carrier] + np.nan_to_num(read(channel))
    activity = {carrier: summed(amount) for carrier, amount in fuels.items()}
    bounds = [*starts, n]
    out = []
    for i in range(m):
        part: dict[str, Any] = {k: v[i].item() for k, v in sums.items()}
        part["import_kwh_by_period"], part["energy_cost_cny_by_period"] = by_period[i]
        part["electricity_kg"] = {line: float(v[i]) for line, v in line_kg.items()}
        part["activity"] = {carrier: float(v[i]) for carrier, v in activity.items()}
        part["peak_import_kw"], part["peak_at"] = None, None
        window = imp[bounds[i] : bounds[i + 1]]
        if np.isfinite(window).any():
            k = int(np.argmax(np.where(np.isfinite(window), window, -np.inf)))
            part["peak_import_kw"] = float(window[k])
            part["peak_at"] = index[bounds[i] + k].isoformat()
        out.append(part)
    return out


_tariff_arrays: dict[int, tuple[pd.DataFrame, dict[str, np.ndarray]]] = {}


def _prices(tariff: pd.DataFrame, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """The tariff's columns on ``index`` as arrays (a prefix of a kept series' arrays when
    ``index`` is its first steps, as today's steps so far are)."""
    kept = _tariff_arrays.get(id(tariff))
    if kept is None or kept[0] is not tariff:
        if len(_tariff_arrays) > 256:
            _tariff_arrays.clear()
        arrays = {c: tariff[c].to_numpy(dtype=float) for c in _PRICE_COLUMNS}
        arrays["tou_period"] = tariff["tou_period"].to_numpy(dtype=object)
        kept = _tariff_arrays[id(tariff)] = (tariff, arrays)
    n = len(index)
    if n <= len(tariff) and tariff.index[:n].equals(index):
        return {c: a[:n] for c, a in kept[1].items()}
    at = tariff.index.get_indexer(index)
    out = {}
    for c, a in kept[1].items():
        out[c] = np.where(at >= 0, a[at], np.nan if a.dtype != object else None)
    return out


def _by_period(
    periods: np.ndarray, segment: np.ndarray, m: int, costs: Mapping[str, np.ndarray]
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """Import [kWh] and energy cost [CNY] of each segment's metered steps by TOU period
    (the periods a segment has, in order of first appearance; a missing period left
    out, as ``groupby`` leaves it out)."""
    codes, uniques = pd.factorize(periods)
    used = codes >= 0
    cell = segment[used] * len(uniques) + codes[used]
    size = m * len(uniques)
    count = np.bincount(cell, minlength=size).reshape(m, -1)
    kwh = np.bincount(cell, weights=costs["import_kwh"][used], minlength=size).reshape(m, -1)
    cny = np.bincount(cell, weights=costs["energy_cost_cny"][used], minlength=size).reshape(m, -1)
    out = []
    for i in range(m):
        present = [u for u in range(len(uniques)) if count[i, u]]
        out.append(
            (
                {str(uniques[u]): float(kwh[i, u]) for u in present},
                {str(uniques[u]): float(cny[i, u]) for u in present},
            )
        )
    return out


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
