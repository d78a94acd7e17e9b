"""The metered load and on-site PV of a site's year before the present month: what the
certificates' year-to-date need adds to monitoring's month
(:mod:`~vpp.platform.carbon_ledger.view`).

For a site with the step :math:`\\Delta t` [h], its load channel ``load_kw`` and its PV
channels :math:`p` (``pv_output`` role columns, as monitoring's account reads them):

.. math::

    L = \\Delta t \\sum_{r \\in load} v_r, \\qquad G = \\Delta t \\sum_p \\sum_{r \\in p} v_r

over the readings :math:`r` stamped from local midnight of 1 January to local midnight
of the month's first day [kWh] (each reading counts its step, as in monitoring's
account). The sums of every site asked are read in ONE aggregate query per time zone
and step (a park has one), and kept per process while the site's readings are
unchanged (:func:`vpp.platform.monitoring.days.scan`'s generation: any reading that
arrives for the site, late ones included, reads its sums again) and the month is the
same.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from vpp.platform.models import Reading
from vpp.platform.monitoring import days
from vpp.platform.monitoring.compute import pv_channels

__all__ = ["LOAD_CHANNEL", "earlier_energy"]

#: The load channel monitoring's account reads [kW].
LOAD_CHANNEL = "load_kw"
_lock = threading.Lock()
_caches: weakref.WeakKeyDictionary[Any, dict[int, tuple[tuple[Any, ...], dict[str, float]]]] = (
    weakref.WeakKeyDictionary()
)


def _utc(day: dt.date, timezone: str) -> dt.datetime:
    """Local midnight of ``day`` as a naive UTC datetime (as readings are stored)."""
    return (
        pd.Timestamp(day).tz_localize(timezone).tz_convert("UTC").tz_localize(None).to_pydatetime()
    )


def earlier_energy(
    platform: Any, sites: Sequence[tuple[int, Any]], month_first: dt.date
) -> dict[int, dict[str, float]]:
    """Each site's metered load and PV from 1 January to ``month_first`` (module
    docstring) [kWh].

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database.
    sites : sequence of (int, SiteModel)
        Site row ids and their models (:func:`vpp.platform.monitoring.data.site_model`).
    month_first : datetime.date
        The present month's first day (local).

    Returns
    -------
    dict
        Site row id -> ``load_kwh`` and ``pv_kwh`` [kWh] (0 without readings; both 0 in
        January).
    """
    generation = days.scan(platform)
    with _lock:
        cache = _caches.setdefault(platform.engine, {})
    out: dict[int, dict[str, float]] = {}
    todo: dict[tuple[str, int], list[tuple[int, Any, tuple[Any, ...]]]] = {}
    for site_id, model in sites:
        channels = tuple(pv_channels(model.scenario.site))
        key = (month_first, model.timezone, model.step_minutes, channels, generation.get(site_id))
        with _lock:
            kept = cache.get(site_id)
        if kept is not None and kept[0] == key:
            out[site_id] = kept[1]
        elif month_first.month == 1:
            out[site_id] = {"load_kwh": 0.0, "pv_kwh": 0.0}
        else:
            todo.setdefault((model.timezone, model.step_minutes), []).append((site_id, model, key))
    for (timezone, step_minutes), group in todo.items():
        channels = sorted({LOAD_CHANNEL} | {c for _, m, k in group for c in k[3]})
        query = (
            select(Reading.site_id, Reading.channel, func.sum(Reading.value))
            .where(
                Reading.site_id.in_([s for s, _, _ in group]),
                Reading.channel.in_(channels),
                Reading.timestamp_utc >= _utc(month_first.replace(month=1), timezone),
                Reading.timestamp_utc < _utc(month_first, timezone),
            )
            .group_by(Reading.site_id, Reading.channel)
        )
        with platform.sessions() as session:
            sums: dict[tuple[int, str], float] = {
                (int(s), c): float(v or 0.0) for s, c, v in session.execute(query).all()
            }
        step_h = step_minutes / 60.0
        for site_id, _, key in group:
            value = {
                "load_kwh": sums.get((site_id, LOAD_CHANNEL), 0.0) * step_h,
                "pv_kwh": sum(sums.get((site_id, c), 0.0) for c in key[3]) * step_h,
            }
            out[site_id] = value
            with _lock:
                cache[site_id] = (key, value)
    return out
