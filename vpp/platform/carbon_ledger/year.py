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
and step (a park has one) and kept per process for the month. They are read again for
a site when a reading of its earlier months arrives: each call reads the ids of the
readings stamped in the earlier months whose id is above the newest id seen when the
sums were read, less :data:`vpp.platform.monitoring.days.ID_MARGIN` (one query on the
primary key: its cost follows what arrived, not the year), and a site with an id not
seen then is read again. A row committed late with a lower id (PostgreSQL) is caught
while it is within the margin, as monitoring's scan does.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from vpp.platform.models import Reading
from vpp.platform.monitoring.compute import pv_channels
from vpp.platform.monitoring.days import ID_MARGIN

__all__ = ["LOAD_CHANNEL", "earlier_energy"]

#: The load channel monitoring's account reads [kW].
LOAD_CHANNEL = "load_kw"
_lock = threading.Lock()


@dataclass
class _Kept:
    """A site's sums: what they are for, the newest id seen before reading them, the ids
    of the earlier months' readings in the margin below it, and the sums [kWh]."""

    key: tuple[Any, ...]
    top: int
    seen: frozenset[int]
    value: dict[str, float]


_caches: weakref.WeakKeyDictionary[Any, dict[int, _Kept]] = weakref.WeakKeyDictionary()


def _utc(day: dt.date, timezone: str) -> dt.datetime:
    """Local midnight of ``day`` as a naive UTC datetime (as readings are stored)."""
    stamp = pd.Timestamp(day).tz_localize(timezone).tz_convert("UTC")
    return stamp.tz_localize(None).to_pydatetime()


def _window(
    session: Any, site_ids: list[int], floor: int, start: dt.datetime, end: dt.datetime
) -> dict[int, set[int]]:
    """The ids above ``floor`` of the sites' readings stamped in ``[start, end)``: read by
    the primary key's range alone (the sites are picked here), so the (site, time) index
    never tempts the planner into reading the year."""
    rows = session.execute(
        select(Reading.id, Reading.site_id).where(
            Reading.id > floor, Reading.timestamp_utc >= start, Reading.timestamp_utc < end
        )
    ).all()
    out: dict[int, set[int]] = {s: set() for s in site_ids}
    for row_id, site in rows:
        if int(site) in out:
            out[int(site)].add(int(row_id))
    return out


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
    if month_first.month == 1:
        return {s: {"load_kwh": 0.0, "pv_kwh": 0.0} for s, _ in sites}
    with _lock:
        cache = _caches.setdefault(platform.engine, {})
    groups: dict[tuple[str, int], list[tuple[int, tuple[Any, ...]]]] = {}
    for site_id, model in sites:
        channels = tuple(pv_channels(model.scenario.site))
        key = (month_first, model.timezone, model.step_minutes, channels)
        groups.setdefault((model.timezone, model.step_minutes), []).append((site_id, key))
    out: dict[int, dict[str, float]] = {}
    for (timezone, step_minutes), group in groups.items():
        start = _utc(month_first.replace(month=1), timezone)
        end = _utc(month_first, timezone)
        with _lock:
            kept = {s: cache.get(s) for s, _ in group}
        fresh = {s: k for s, k in kept.items() if k is not None and k.key == dict(group)[s]}
        todo = [(s, key) for s, key in group if s not in fresh]
        with platform.sessions() as session:
            if fresh:  # what arrived for the earlier months since each site's sums
                floor = min(k.top for k in fresh.values()) - ID_MARGIN
                arrived = _window(session, sorted(fresh), floor, start, end)
                for site, k in fresh.items():
                    if {i for i in arrived[site] if i > k.top - ID_MARGIN} <= k.seen:
                        out[site] = k.value
                    else:
                        todo.append((site, dict(group)[site]))
            if todo:
                out.update(_read(session, cache, todo, start, end, step_minutes / 60.0))
    return out


def _read(
    session: Any,
    cache: dict[int, _Kept],
    todo: list[tuple[int, tuple[Any, ...]]],
    start: dt.datetime,
    end: dt.datetime,
    step_h: float,
) -> dict[int, dict[str, float]]:
    """The sums of the ``todo`` sites, read in one aggregate query, and kept."""
    ids = [s for s, _ in todo]
    top = int(session.execute(select(func.max(Reading.id))).scalar() or 0)
    seen = _window(session, ids, top - ID_MARGIN, start, end)
    channels = sorted({LOAD_CHANNEL} | {c for _, key in todo for c in key[3]})
    query = (
        select(Reading.site_id, Reading.channel, func.sum(Reading.value))
        .where(
            Reading.site_id.in_(ids),
            Reading.channel.in_(channels),
            Reading.timestamp_utc >= start,
            Reading.timestamp_utc < end,
        )
        .group_by(Reading.site_id, Reading.channel)
    )
    sums = {(int(s), c): float(v or 0.0) for s, c, v in session.execute(query).all()}
    out = {}
    for site, key in todo:
        value = {
            "load_kwh": sums.get((site, LOAD_CHANNEL), 0.0) * step_h,
            "pv_kwh": sum(sums.get((site, c), 0.0) for c in key[3]) * step_h,
        }
        out[site] = value
        with _lock:
            cache[site] = _Kept(key, top, frozenset(seen[site]), value)
    return out
