"""Monitoring's day summaries: a site's account parts per local day, kept in the database.

A month's account is the combination (:func:`~vpp.platform.monitoring.compute.combine_parts`)
of its days' parts (:func:`~vpp.platform.monitoring.compute.segment_parts`): the past
days' parts are stored in the table ``monitoring_days`` (one row per site and local
day), today's are computed live by :mod:`~vpp.platform.monitoring.service`. A stored day
is used while it is current, and recomputed (and written again, by an upsert that two
computations of the same day may race on) when

- a reading of that site stamped in that local day has a row id above the day's
  ``through_reading_id`` (the newest row id seen before its readings were read), or
  was committed after the computation with a lower id (PostgreSQL: a concurrent
  transaction commits its ids late);
- the site's ``key`` changed: the hash of what the parts depend on (the site's grid
  tariff, emission factors and PV channels, the content of every price or factor file
  these name, the step, the park's time zone and :data:`PARTS_VERSION`), such as a
  site file whose tariff was edited or a factor file rewritten.

News is found incrementally: :func:`scan` reads only the rows (id, site, time) whose
id is above the newest id seen, so the cost follows what arrived, not the table's
size, and readings written in bulk outside the platform are seen as well as those of
its writer. The ids of the last :data:`ID_MARGIN` rows are kept: when the table holds
more rows in that window than were seen there, the window is read again, and a row
that was not seen, with an id at or below the newest seen then, was committed late:
its day is recomputed whatever its id. Each new row marks its site's
quarter-hour (UTC), which the site's next computation maps to its local day.

What a process did not see (news that came before it started, more than
:data:`ID_MARGIN` rows below the newest, or that another process sharing the database
saw) is found from the stored days themselves: a process's first load of a month's
stored days marks the readings of each day whose id is above its
``through_reading_id`` (:func:`load_month`). On PostgreSQL a day computed while
another transaction is writing is stored with ``through_reading_id`` lowered by
:data:`ID_MARGIN` (:func:`_settled`), so that a lower id committing late is above it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import String, func, select, text, type_coerce, union_all

from vpp.platform.models import MonitoringDay, Reading
from vpp.platform.monitoring.compute import combine_parts, pv_channels, segment_parts
from vpp.platform.monitoring.data import month_bounds, month_series, readings_frame, step_grid

__all__ = [
    "ID_MARGIN",
    "PARTS_VERSION",
    "day_computations",
    "load_month",
    "past_parts",
    "scan",
    "summary_key",
    "tariff_key",
]

#: Readings this many row ids below the newest seen are read again when looking for
#: news (a concurrent transaction on PostgreSQL may commit a lower id later) [-].
ID_MARGIN = 10_000
#: The layout of the stored parts; a change makes every stored day stale [-].
PARTS_VERSION = 1
#: A row committed late (below the newest id seen): its day is stale whatever its
#: ``through_reading_id``.
_LATE = 2**62
#: Rows per upsert statement (SQLite binds at most 32,766 parameters) [-].
_CHUNK = 500
_QUARTER = np.timedelta64(15, "m")
_lock = threading.Lock()


@dataclass
class _Day:
    """A stored day: its key, through id and parts as JSON text (a string is one object,
    which the garbage collector does not walk)."""

    key: str
    through: int
    payload: str


@dataclass
class _Store:
    """What is known per database (engine): the newest reading id seen and the ids of
    the last scan's window, each site's generation (bumped by news), its quarter-hours
    with news, its days' parts and the sum of its past days."""

    top: int | None = None
    window: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    generation: dict[int, int] = field(default_factory=dict)
    news: dict[int, dict[np.datetime64, int]] = field(default_factory=dict)
    days: dict[int, dict[dt.date, _Day]] = field(default_factory=dict)
    loaded: set[tuple[int, dt.date]] = field(default_factory=set)
    revision: dict[int, int] = field(default_factory=dict)
    past: dict[int, tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    site_locks: dict[int, threading.Lock] = field(default_factory=dict)
    computed: int = 0


_stores: weakref.WeakKeyDictionary[Any, _Store] = weakref.WeakKeyDictionary()


def _store(platform: Any) -> _Store:
    with _lock:
        return _stores.setdefault(platform.engine, _Store())


def day_computations(platform: Any) -> int:
    """How many site days this process has computed from readings on this database."""
    return _store(platform).computed


def tariff_key(model: Any) -> tuple[str, str, str, str]:
    """What a site's tariff and factor series depend on (sites that share it share the
    series): the time zone, the grid and the emissions of its scenario, and the content
    (SHA-256) of every file these name (a price or factor series edited in place)."""
    site = model.scenario.site
    return (
        model.timezone,
        site.grid.model_dump_json(),
        site.emissions.model_dump_json(),
        json.dumps(model.tariff_files),
    )


def summary_key(model: Any) -> str:
    """The hash of what a site's day parts depend on (module docstring) [hex SHA-256]."""
    text = json.dumps(
        [
            PARTS_VERSION,
            model.step_minutes,
            *tariff_key(model),
            pv_channels(model.scenario.site),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def scan(platform: Any) -> dict[int, int]:
    """Read the readings that arrived since the last scan (module docstring).

    Returns
    -------
    dict of int to int
        Each site's generation: it changes whenever a reading of the site arrives.
    """
    store = _store(platform)
    with _lock:
        seen_top, window = store.top, store.window
    raw_time = type_coerce(Reading.timestamp_utc, String)
    read = select(Reading.id, Reading.site_id, raw_time)
    with platform.sessions() as session:
        connection = session.connection()
        first = seen_top is None
        if seen_top is None:
            seen_top = int(connection.execute(select(func.max(Reading.id))).scalar() or 0)
            rows = connection.execute(read.where(Reading.id > seen_top - ID_MARGIN)).fetchall()
        else:
            # the window is read again only when it holds more rows than last time
            floor = seen_top - ID_MARGIN
            known = int(np.count_nonzero(window > floor))
            held = connection.execute(
                select(func.count(Reading.id)).where(Reading.id > floor, Reading.id <= seen_top)
            ).scalar()
            lower = floor if int(held or 0) > known else seen_top
            rows = connection.execute(read.where(Reading.id > lower)).fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    sites = np.array([r[1] for r in rows], dtype=np.int64)
    stamps = np.array([r[2] for r in rows], dtype="datetime64[us]")
    with _lock:
        fresh = np.ones(len(ids), dtype=bool) if first else ~np.isin(ids, store.window)
        late = fresh & (ids <= seen_top) & (not first)
        _mark(store, np.where(late, _LATE, ids)[fresh], sites[fresh], stamps[fresh])
        top = max(store.top or 0, seen_top, int(ids.max()) if len(ids) else 0)
        kept = np.union1d(store.window, ids)
        store.top, store.window = top, kept[kept > top - ID_MARGIN]
        return dict(store.generation)


def load_month(platform: Any, site_ids: Iterable[int], first: dt.date, timezone: str) -> None:
    """Read the stored days of ``first``'s month for the sites not read yet (one query),
    and check them against the readings (:func:`_check_stored`)."""
    store = _store(platform)
    with _lock:
        wanted = [s for s in site_ids if (s, first) not in store.loaded]
    if not wanted:
        return
    following = month_bounds(first)[1]
    query = select(
        MonitoringDay.site_id,
        MonitoringDay.day,
        MonitoringDay.key,
        MonitoringDay.through_reading_id,
        MonitoringDay.payload_json,
    ).where(
        MonitoringDay.site_id.in_(wanted),
        MonitoringDay.day >= first,
        MonitoringDay.day < following,
    )
    with platform.sessions() as session:
        rows = session.execute(query).all()
        news = _check_stored(session, wanted, [(r[1], int(r[3])) for r in rows], timezone)
    with _lock:
        for site in wanted:  # earlier months' days are not needed any more
            mine = store.days.get(site, {})
            for day in [d for d in mine if d < first]:
                del mine[day]
        for site, day, key, through, payload in rows:
            mine = store.days.setdefault(int(site), {})
            if day not in mine:  # a day computed here since is newer
                mine[day] = _Day(key, int(through), payload)
        _mark(store, *news, bump=False)  # consumed by the computation that follows
        for site in wanted:
            store.loaded.add((site, first))
            store.revision[site] = store.revision.get(site, 0) + 1


def _check_stored(
    session: Any, site_ids: list[int], stored: list[tuple[dt.date, int]], timezone: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The readings (ids, sites, times) of the stored days whose id is above the day's
    ``through_reading_id`` (the lowest of the sites' for that day): what arrived after
    the day was computed, whichever process saw it, or none did (it came in before a
    restart, or below the first scan's window). One query: per run of days with the
    same threshold, the rows of those sites in those local days with a higher id. It
    reads the (site, time) index over the stored days once per process and month
    (200 sites x a month of 3 channels: some 0.3 s on SQLite, whose index holds the
    row id, 1.7 s on PostgreSQL, which reads each row; the warm thread of
    ``vpp serve`` pays it)."""
    lowest: dict[dt.date, int] = {}
    for day, through in stored:
        lowest[day] = min(lowest.get(day, through), through)
    runs: list[tuple[dt.date, dt.date, int]] = []
    for day in sorted(lowest):
        if runs and runs[-1][1] == day and runs[-1][2] == lowest[day]:
            runs[-1] = (runs[-1][0], day + dt.timedelta(days=1), lowest[day])
        else:
            runs.append((day, day + dt.timedelta(days=1), lowest[day]))
    empty = np.zeros(0, dtype=np.int64)
    if not runs:
        return empty, empty, np.zeros(0, dtype="datetime64[us]")

    def utc(day: dt.date) -> dt.datetime:
        local = pd.Timestamp(day).tz_localize(timezone)
        return local.tz_convert("UTC").tz_localize(None).to_pydatetime()

    raw_time = type_coerce(Reading.timestamp_utc, String)
    read = select(Reading.id, Reading.site_id, raw_time)
    # one query per run, each a range of the (site, time) index: an OR of the runs
    # makes SQLite read the whole table
    query = union_all(
        *[
            read.where(
                Reading.site_id.in_(site_ids),
                Reading.timestamp_utc >= utc(start),
                Reading.timestamp_utc < utc(end),
                Reading.id > through,
            )
            for start, end, through in runs
        ]
    )
    rows = session.connection().execute(query).fetchall()
    return (
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype="datetime64[us]"),
    )


def _mark(
    store: _Store, ids: np.ndarray, sites: np.ndarray, stamps: np.ndarray, bump: bool = True
) -> None:
    """Mark each reading's site quarter-hour with its id (the newest mark kept) and,
    with ``bump``, change the sites' generations; the caller holds ``_lock``."""
    quarters = (stamps - np.datetime64(0, "us")) // _QUARTER
    for site, quarter, mark in zip(sites.tolist(), quarters.tolist(), ids.tolist(), strict=True):
        mine = store.news.setdefault(site, {})
        if mine.get(quarter, -1) < mark:
            mine[quarter] = mark
    for site in set(sites.tolist()) if bump else ():
        store.generation[site] = store.generation.get(site, 0) + 1


def past_parts(platform: Any, ref: Any, model: Any, today: dt.date) -> dict[str, Any]:
    """The combined parts of the site's days of this month before ``today``, each
    stored day used while current and the others computed and stored (module
    docstring)."""
    store = _store(platform)
    with _lock:
        site_lock = store.site_locks.setdefault(ref.site_id, threading.Lock())
    # one computation per site at a time: a second request waits for the days the
    # first is computing rather than combining the days it has not yet replaced
    with site_lock:
        return _past_parts(platform, store, ref, model, today)


def _past_parts(
    platform: Any, store: _Store, ref: Any, model: Any, today: dt.date
) -> dict[str, Any]:
    first = month_bounds(today)[0]
    site = ref.site_id
    load_month(platform, [site], first, model.timezone)
    key = summary_key(model)
    with _lock:
        through = store.top or 0
    through = _settled(platform, through)
    with _lock:
        news = store.news.pop(site, {})
    try:
        stale = _stale_days(news, model.timezone)
        days = [first + dt.timedelta(days=k) for k in range((today - first).days)]
        with _lock:
            mine = store.days.setdefault(site, {})
            todo = [
                d
                for d in days
                if d not in mine or mine[d].key != key or stale.get(d, -1) > mine[d].through
            ]
        if todo:
            _compute(platform, ref, model, todo, key, through)
    except BaseException:
        with _lock:  # left for the next computation
            for quarter, mark in news.items():
                mine_news = store.news.setdefault(site, {})
                mine_news[quarter] = max(mine_news.get(quarter, -1), mark)
        raise
    with _lock:
        signature = (key, first, today, store.revision.get(site, 0))
        kept = store.past.get(site)
        if kept is not None and kept[0] == signature:
            return kept[1]
        parts = combine_parts([json.loads(store.days[site][d].payload) for d in days])
        store.past[site] = (signature, parts)
        return parts


def _settled(platform: Any, through: int) -> int:
    """The id through which every reading is final: ``through`` (the newest id seen),
    unless another transaction is writing on PostgreSQL (a lower id may commit later):
    then :data:`ID_MARGIN` lower, so that a reading committed late into a day
    computed now is above the day's ``through_reading_id`` for any process that
    loads the day later (:func:`_check_stored`), not only for this one's scan."""
    if platform.engine.dialect.name != "postgresql":
        return through  # one writer at a time: an id is final when seen
    busy = text("SELECT 1 FROM pg_snapshot_xip(pg_current_snapshot()) LIMIT 1")
    with platform.engine.connect() as connection:
        writing = connection.execute(busy).first() is not None
    return max(0, through - ID_MARGIN) if writing else through


def _stale_days(news: dict[int, int], timezone: str) -> dict[dt.date, int]:
    """The newest mark of each local day among a site's quarter-hours with news."""
    if not news:
        return {}
    quarters = np.array(list(news), dtype=np.int64) * _QUARTER + np.datetime64(0, "us")
    local = pd.DatetimeIndex(quarters).tz_localize("UTC").tz_convert(timezone)
    out: dict[dt.date, int] = {}
    for day, mark in zip(local.date, news.values(), strict=True):
        out[day] = max(out.get(day, -1), mark)
    return out


def _runs(days: list[dt.date]) -> list[list[dt.date]]:
    """Consecutive days grouped (each run is read in one query)."""
    runs: list[list[dt.date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _compute(
    platform: Any, ref: Any, model: Any, days: list[dt.date], key: str, through: int
) -> None:
    """Compute the site's ``days`` from its readings, keep and store them."""
    store = _store(platform)
    rows = []
    computed = {}
    for run in _runs(days):
        start, end = run[0], run[-1] + dt.timedelta(days=1)
        frame = readings_frame(
            platform.sessions, ref.site_id, step_grid(start, end, model), model.step_minutes
        )
        # a whole month's series is built once per tariff; a day or two on their own
        first, following = month_bounds(start) if len(run) > 2 else (start, end)
        tariff = month_series(model, first, following, tariff_key(model))
        index = frame.index
        starts = [
            int(index.searchsorted(pd.Timestamp(day).tz_localize(model.timezone))) for day in run
        ]
        parts = segment_parts(frame, tariff, model.scenario, model.step_h, starts)
        for day, part in zip(run, parts, strict=True):
            payload = json.dumps(part)
            computed[day] = _Day(key, through, payload)
            rows.append(
                {
                    "site_id": ref.site_id,
                    "day": day,
                    "key": key,
                    "through_reading_id": through,
                    "payload_json": payload,
                    "computed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
                }
            )
    _upsert(platform, rows)
    with _lock:
        store.days.setdefault(ref.site_id, {}).update(computed)
        store.revision[ref.site_id] = store.revision.get(ref.site_id, 0) + 1
        store.computed += len(computed)


def _upsert(platform: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the days, or update a stored one (the same site and day) unless it was
    computed with newer readings: safe when two computations race on a day."""
    if not rows:
        return
    if platform.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    with platform.engine.begin() as connection:
        for k in range(0, len(rows), _CHUNK):
            statement = insert(MonitoringDay).values(rows[k : k + _CHUNK])
            new = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=["site_id", "day"],
                set_={
                    "key": new.key,
                    "through_reading_id": new.through_reading_id,
                    "payload_json": new.payload_json,
                    "computed_at": new.computed_at,
                },
                where=MonitoringDay.through_reading_id <= new.through_reading_id,
            )
            connection.execute(statement)
