"""A site's year to date and its projection to the year's end (the targets' trajectory).

The year to date sums monitoring's carbon account
(:func:`vpp.platform.monitoring.compute.month_account`, month by month on the site's
step grid: location-based CO2 of the metered import at each step's grid factor plus the
metered gas, heat and diesel) and turns the same activity into energy with
:func:`~vpp.platform.alerts.conversion.energy_tce`. With :math:`X_{ytd}` a total so far,
the run-rate window :math:`W` (the last ``run_rate_days`` whole days before today and
today so far, within the year), :math:`X_W` its total and :math:`h_W` its hours with an
import reading:

.. math::

    r = \\frac{24\\,X_W}{h_W}\\ [\\text{per day}], \\qquad
    \\hat X = X_{ytd} + r\\,d_{rest}, \\qquad
    \\hat I = \\frac{\\hat X}{V / 10^4}

with :math:`d_{rest}` the days left in the calendar year (local time) and :math:`V` the
year's value added [CNY]. A window without any import reading uses its length in hours.
Steps without a reading are left out (not filled): the run-rate is per metered hour, so
a gap does not lower it. The same period of last year is not used yet.

Sums over whole months before the present month, and over the present month's whole
days, are kept while the site's readings stamped before them are unchanged (their count
and newest row id); only today's steps are read at each evaluation.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections import OrderedDict
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from vpp.platform.alerts.conversion import energy_tce, mwh_equivalent
from vpp.platform.models import Reading
from vpp.platform.monitoring.compute import month_account
from vpp.platform.monitoring.data import month_bounds, month_series, readings_frame, step_grid
from vpp.platform.parks import SiteRef

__all__ = ["METHOD", "park_trajectory", "site_trajectory"]

METHOD = (
    "projected = year to date + run-rate x days left in the year; run-rate = the total of "
    "the last {days} whole days and today so far per metered hour x 24 (steps without an "
    "import reading left out)"
)
_CNY_PER_10K = 1e4
_ACTIVITY = ("electricity_import_kwh", "natural_gas", "heat", "diesel")
#: Pieces of sums kept per database (sites x pieces) [-].
_CACHE_SIZE = 20_000
_lock = threading.Lock()
_caches: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[Any, ...], dict[str, float]]] = (
    weakref.WeakKeyDictionary()
)


def _version(platform: Any, site_id: int, before: pd.Timestamp) -> tuple[int, int]:
    """The count and newest row id of a site's readings stamped before ``before``: what
    its sums over earlier periods depend on (a late reading changes them)."""
    limit = before.tz_convert("UTC").tz_localize(None).to_pydatetime()
    with platform.sessions() as session:
        count, top = session.execute(
            select(func.count(Reading.id), func.max(Reading.id)).where(
                Reading.site_id == site_id, Reading.timestamp_utc < limit
            )
        ).one()
    return int(count or 0), int(top or 0)


def _pieces(
    platform: Any,
    ref: SiteRef,
    model: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
    cuts: list[tuple[pd.Timestamp, tuple[int, int]]],
) -> dict[str, float]:
    """:func:`_sums` on ``[start, end)`` in pieces: before each cut (the month's first
    day, today's midnight) a piece is kept while the readings before the cut are
    unchanged (its version); after the last cut it is computed each time."""
    total = dict.fromkeys(("co2_t", "metered_steps", *_ACTIVITY), 0.0)
    site = model.scenario.site
    scenario_key = (site.grid.model_dump_json(), site.emissions.model_dump_json())
    with _lock:
        cache = _caches.setdefault(platform.engine, OrderedDict())
    t = start
    for cut, version in [*cuts, (end, None)]:
        stop = min(cut, end)
        if t >= stop:
            continue
        key = (ref.site_id, model.timezone, scenario_key, t, stop, version)
        with _lock:
            part = cache.get(key) if version is not None else None
        if part is None:
            part = _sums(platform, ref, model, t, stop)
            if version is not None:
                with _lock:
                    cache[key] = part
                    while len(cache) > _CACHE_SIZE:
                        cache.popitem(last=False)
        for name, value in part.items():
            total[name] += value
        t = stop
    return total


def _sums(
    platform: Any, ref: SiteRef, model: Any, start: pd.Timestamp, end: pd.Timestamp
) -> dict[str, float]:
    """Location-based CO2 [t], activity and metered steps of a site on ``[start, end)``."""
    out = dict.fromkeys(("co2_t", "metered_steps", *_ACTIVITY), 0.0)
    step = pd.Timedelta(minutes=model.step_minutes)
    site = model.scenario.site
    key = (model.timezone, site.grid.model_dump_json(), site.emissions.model_dump_json())
    first = start.date().replace(day=1)
    while pd.Timestamp(first).tz_localize(model.timezone) < end:
        _, following = month_bounds(first)
        grid = step_grid(first, following, model)
        grid = grid[(grid >= start) & (grid + step <= end)]
        frame = readings_frame(platform.sessions, ref.site_id, grid, model.step_minutes)
        if len(frame.columns):
            tariff = month_series(model, first, following, key)
            account = month_account(frame, tariff, model.scenario, model.step_h, end)
            carbon = account["carbon"]
            out["co2_t"] += float(carbon["location_based_t"])
            for name in _ACTIVITY:
                out[name] += float(carbon["activity"].get(name, 0.0))
            out["metered_steps"] += account["coverage"]["metered_steps"]
        first = following
    return out


def _intensity(total: float, value_added_cny: float | None) -> float | None:
    if not value_added_cny:
        return None
    return total / (value_added_cny / _CNY_PER_10K)


def site_trajectory(
    platform: Any,
    ref: SiteRef,
    model: Any,
    year: int,
    now: dt.datetime,
    run_rate_days: int,
    value_added_cny: float | None = None,
) -> dict[str, Any]:
    """A site's year to date, run-rate and projection (module docstring).

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database.
    ref : vpp.platform.parks.SiteRef
        The site.
    model : vpp.platform.monitoring.data.SiteModel
        Its scenario, step and time zone.
    year : int
        The calendar year (local time).
    now : datetime.datetime
        The present (zone-aware).
    run_rate_days : int
        The run-rate window [d].
    value_added_cny : float, optional
        The year's value added [CNY]; default the scenario's ``emissions.economics``.

    Returns
    -------
    dict
        ``ytd`` (``energy_tce``, its ``energy_tce_by_carrier``, ``energy_mwh_equivalent``,
        ``co2_t``, the activity, ``metered_hours``), ``run_rate`` (window days, metered
        hours, ``energy_tce_per_day``, ``co2_t_per_day``), ``days_left``, ``projected``
        (``energy_tce``, ``co2_t`` and both intensities [per 10^4 CNY], None without a
        value added), ``has_data`` (any metered step or fuel this year) and
        ``value_added_cny``.
    """
    tz = model.timezone
    year_start = pd.Timestamp(dt.date(year, 1, 1)).tz_localize(tz)
    year_end = pd.Timestamp(dt.date(year + 1, 1, 1)).tz_localize(tz)
    present = min(max(pd.Timestamp(now).tz_convert(tz), year_start), year_end)
    step = pd.Timedelta(minutes=model.step_minutes)
    present = year_start + ((present - year_start) // step) * step  # whole steps only
    midnight = present.normalize()
    month_start = midnight.replace(day=1)
    cuts = [
        (month_start, _version(platform, ref.site_id, month_start)),
        (midnight, _version(platform, ref.site_id, midnight)),
    ]
    ytd = _pieces(platform, ref, model, year_start, present, cuts)
    window_start = max(year_start, midnight - pd.Timedelta(days=run_rate_days))
    window = _pieces(platform, ref, model, window_start, present, cuts)
    hours = window["metered_steps"] * model.step_h
    if hours <= 0:
        hours = (present - window_start) / pd.Timedelta(hours=1)
    days_left = (year_end - present) / pd.Timedelta(days=1)
    energy = energy_tce(ytd)
    window_energy = energy_tce(window)["total"]
    per_day = {
        "energy_tce_per_day": 24.0 * window_energy / hours if hours > 0 else 0.0,
        "co2_t_per_day": 24.0 * window["co2_t"] / hours if hours > 0 else 0.0,
    }
    projected_energy = energy["total"] + per_day["energy_tce_per_day"] * days_left
    projected_co2 = ytd["co2_t"] + per_day["co2_t_per_day"] * days_left
    if value_added_cny is None:
        value_added_cny = model.scenario.site.emissions.economics.value_added_cny
    return {
        "year": year,
        "present": present.isoformat(),
        "method": METHOD.format(days=run_rate_days),
        "ytd": {
            "energy_tce": energy["total"],
            "energy_tce_by_carrier": {k: v for k, v in energy.items() if k != "total"},
            "energy_mwh_equivalent": mwh_equivalent(energy["total"]),
            "co2_t": ytd["co2_t"],
            "activity": {k: ytd[k] for k in _ACTIVITY},
            "metered_hours": ytd["metered_steps"] * model.step_h,
        },
        "run_rate": {
            "window_start": window_start.isoformat(),
            "metered_hours": window["metered_steps"] * model.step_h,
            **per_day,
        },
        "days_left": days_left,
        "has_data": bool(ytd["metered_steps"] or any(ytd[k] for k in _ACTIVITY)),
        "projected": _projected(projected_energy, projected_co2, value_added_cny),
        "value_added_cny": value_added_cny,
    }


def _projected(energy: float, co2: float, value_added_cny: float | None) -> dict[str, Any]:
    return {
        "energy_tce": energy,
        "energy_mwh_equivalent": mwh_equivalent(energy),
        "co2_t": co2,
        "energy_intensity_tce_per_10k_cny": _intensity(energy, value_added_cny),
        "co2_intensity_t_per_10k_cny": _intensity(co2, value_added_cny),
    }


def park_trajectory(
    sites: list[dict[str, Any]], value_added_cny: float | None = None
) -> dict[str, Any]:
    """The park's: the sums of its sites' year to date, run-rates and projections; the
    intensity divides by ``value_added_cny`` or else the sum of the sites' (None when a
    site's is unknown)."""
    if value_added_cny is None and sites and all(s["value_added_cny"] for s in sites):
        value_added_cny = float(sum(s["value_added_cny"] for s in sites))
    ytd_energy = float(sum(s["ytd"]["energy_tce"] for s in sites))
    ytd_co2 = float(sum(s["ytd"]["co2_t"] for s in sites))
    energy = float(sum(s["projected"]["energy_tce"] for s in sites))
    co2 = float(sum(s["projected"]["co2_t"] for s in sites))
    return {
        "ytd": {
            "energy_tce": ytd_energy,
            "energy_mwh_equivalent": mwh_equivalent(ytd_energy),
            "co2_t": ytd_co2,
        },
        "run_rate": {
            k: float(sum(s["run_rate"][k] for s in sites))
            for k in ("energy_tce_per_day", "co2_t_per_day")
        },
        "days_left": sites[0]["days_left"] if sites else None,
        "has_data": any(s["has_data"] for s in sites),
        "method": sites[0]["method"] if sites else None,
        "projected": _projected(energy, co2, value_added_cny),
        "value_added_cny": value_added_cny,
        "sites": len(sites),
    }
