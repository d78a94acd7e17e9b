"""Monitoring's entry points: a site's and the park's view, telemetry gaps, runs and flags.

:func:`site_monitor` reads one site's readings of the month so far (one query), today's
schedule and the month's tariff series, and computes with
:mod:`~vpp.platform.monitoring.compute`. :func:`park_monitor` does so for every site
of a park and adds the park's sums. A site's month is the sum of its past days' parts,
stored in the database (:mod:`~vpp.platform.monitoring.days`: only a day that got a
reading, or whose tariff changed, is computed again), and of today's steps so far. A
site's result is kept while nothing it depends on changes (a new reading of the site,
the newest schedule and the present step), so a park page with many sites recomputes
only the sites that received data, and for each only today.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from vpp.emissions import park_account
from vpp.platform.carbon_ledger.store import load_entries, newest_entry_ids
from vpp.platform.carbon_ledger.view import carbon_assets
from vpp.platform.models import Park, Run, Schedule
from vpp.platform.monitoring import days
from vpp.platform.monitoring.compute import (
    account_from_parts,
    account_parts,
    combine_parts,
    pv_channels,
    soc_channels,
)
from vpp.platform.monitoring.data import (
    month_bounds,
    month_series,
    park_stamps,
    readings_frame,
    readings_frames,
    site_model,
    step_grid,
)
from vpp.platform.monitoring.today import plan_vs_actual
from vpp.platform.parks import SiteRef, list_sites
from vpp.platform.refusals import UnknownSite
from vpp.platform.schedules import schedule_for

__all__ = [
    "GAP_WINDOW_DAYS",
    "park_totals",
    "park_file",
    "park_monitor",
    "runs_and_flags",
    "site_monitor",
    "telemetry_gaps",
    "warm_in_background",
]

LOG = logging.getLogger("vpp.platform.monitoring")

#: Days of telemetry the gap report looks back over [d].
GAP_WINDOW_DAYS = 7
_lock = threading.Lock()


@dataclass
class _Memo:
    """What monitoring keeps per database (engine): the sites' results and today's
    schedules (by site, date and newest schedule id)."""

    results: dict[int, tuple[tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    plans: dict[int, tuple[tuple[Any, ...], Any]] = field(default_factory=dict)


_memos: weakref.WeakKeyDictionary[Any, _Memo] = weakref.WeakKeyDictionary()


def _memo(platform: Any) -> _Memo:
    with _lock:
        return _memos.setdefault(platform.engine, _Memo())


def park_file(platform: Any, park: str) -> str:
    """The registered park's file (raises UnknownSite for an unknown park)."""
    with platform.sessions() as session:
        row = session.execute(select(Park.file).where(Park.name == park)).first()
    if row is None:
        raise UnknownSite(f"no registered park {park[:200]!r}")
    return str(row[0])


def _local_now(platform: Any, timezone: str) -> pd.Timestamp:
    return pd.Timestamp(platform.clock()).tz_convert(timezone)


def _versions(platform: Any, site_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Each site's reading generation (it changes whenever a reading of the site
    arrives: :func:`~vpp.platform.monitoring.days.scan`, incremental), newest
    schedule row id and newest carbon-ledger row id: what its result depends on."""
    with platform.sessions() as session:
        schedules = dict(
            session.execute(
                select(Schedule.site_id, func.max(Schedule.id))
                .where(Schedule.site_id.in_(site_ids))
                .group_by(Schedule.site_id)
            ).all()
        )
    generations = days.scan(platform)
    ledger = newest_entry_ids(platform.sessions, site_ids)
    return {
        s: (generations.get(s, 0), int(schedules.get(s) or 0), ledger.get(s, 0)) for s in site_ids
    }


def site_monitor(
    platform: Any,
    ref: SiteRef,
    file: str,
    *,
    steps: bool = True,
    version: tuple[int, int, int] | None = None,
    today_frame: pd.DataFrame | None = None,
    entries: list[dict[str, Any]] | None = None,
    now: pd.Timestamp | None = None,
    model: Any = None,
) -> dict[str, Any]:
    """A site's monitoring view at the platform's present.

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database and clock.
    ref : vpp.platform.parks.SiteRef
        The site.
    file : str
        Its park's file (:func:`park_file`).
    steps : bool
        Keep today's per-step series (``today.timestamps`` and the ``*_kw`` lists).
    version : tuple of int, optional
        The site's reading generation, newest schedule id and newest carbon-ledger id
        (:func:`_versions`), when the caller read them (:func:`park_monitor` reads all
        sites' at once).
    today_frame : pandas.DataFrame, optional
        Its readings on today's steps, when the caller read them
        (:func:`park_monitor` reads those of every site to compute at once).
    entries : list of dict, optional
        Its carbon-ledger entries (:func:`vpp.platform.carbon_ledger.store.load_entries`),
        when the caller read them.
    now : pandas.Timestamp, optional
        The present (zone-aware), when the caller read the clock: a page reads it once,
        so that all its sites (and their ``today_frame``) are on the same day.
    model : vpp.platform.monitoring.data.SiteModel, optional
        The site's model, when the caller loaded it.

    Returns
    -------
    dict
        ``park``, ``site``, ``timezone``, ``currency`` (ISO 4217 code of every amount
        named ``*_cny``: the site scenario's), ``now`` (local ISO 8601), ``date``, ``month``
        (``YYYY-MM``), ``schedule`` (status, run id of today's schedule, or None),
        ``today`` (:func:`~vpp.platform.monitoring.today.plan_vs_actual`),
        ``month_account`` (:func:`~vpp.platform.monitoring.compute.month_account`),
        ``carbon_assets`` (:func:`vpp.platform.carbon_ledger.view.carbon_assets`).
    """
    model = model or site_model(file, ref.site)
    now = _local_now(platform, model.timezone) if now is None else now.tz_convert(model.timezone)
    version = version or _versions(platform, [ref.site_id])[ref.site_id]
    key = _result_key(ref, file, model, now, version)
    results = _memo(platform).results
    with _lock:
        kept = results.get(ref.site_id)
    cached = kept[1] if kept is not None and kept[0] == key else None
    if cached is None:
        cached = _compute_site(platform, ref, file, model, now, version[1], today_frame, entries)
        with _lock:
            results[ref.site_id] = (key, cached)
    if steps:
        return cached
    today = {k: v for k, v in cached["today"].items() if not isinstance(v, list | dict)}
    return {**cached, "today": today}


def _result_key(
    ref: SiteRef, file: str, model: Any, now: pd.Timestamp, version: tuple[int, int, int]
) -> tuple[Any, ...]:
    """What a site's result depends on: its park file (and the modification times and
    sizes of every file its loading read), its news, newest schedule and newest ledger
    entry, the present step."""
    step = pd.Timedelta(minutes=model.step_minutes)
    return (ref.site_id, file, model.stamps, version, now.floor(step))


def _compute_site(
    platform: Any,
    ref: SiteRef,
    file: str,
    model: Any,
    now: pd.Timestamp,
    schedule_id: int,
    today_frame: pd.DataFrame | None = None,
    entries: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    today = now.date()
    first, following = month_bounds(today)
    tomorrow = today + dt.timedelta(days=1)
    step = pd.Timedelta(minutes=model.step_minutes)
    if today_frame is None:
        today_frame = readings_frame(
            platform.sessions, ref.site_id, step_grid(today, tomorrow, model), model.step_minutes
        )
    facts, plan = _plan(platform, ref.site_id, today, schedule_id)
    pv = pv_channels(model.scenario.site)
    soc = soc_channels(model.scenario.site)
    # the month: its past days' stored parts and today's steps that have ended
    past = days.past_parts(platform, ref, model, today)
    tariff = month_series(model, today, tomorrow, days.tariff_key(model))
    elapsed = today_frame.loc[today_frame.index + step <= now]
    parts = combine_parts([past, account_parts(elapsed, tariff, model.scenario, model.step_h)])
    month_start = pd.Timestamp(first).tz_localize(model.timezone)
    month_end = pd.Timestamp(following).tz_localize(model.timezone)
    account = account_from_parts(parts, model.scenario, model.step_h, month_start, now)
    fraction = float((now - month_start) / (month_end - month_start))
    month_key = f"{first.year:04d}-{first.month:02d}"
    return {
        "park": ref.park,
        "site": ref.site,
        "timezone": model.timezone,
        "currency": model.scenario.currency,
        "now": now.isoformat(),
        "date": today.isoformat(),
        "month": month_key,
        "step_minutes": model.step_minutes,
        "schedule": facts,
        "today": plan_vs_actual(plan, today_frame, now, model.step_h, pv, soc),
        "month_account": account,
        "carbon_assets": carbon_assets(
            model.scenario,
            month_key,
            account["energy"],
            fraction,
            entries
            if entries is not None
            else load_entries(platform.sessions, [ref.site_id])[ref.site_id],
        ),
    }


def _plan(platform: Any, site_id: int, today: dt.date, schedule_id: int) -> tuple[Any, Any]:
    """Today's schedule facts and table (None, None without one), kept while the site's
    newest schedule row (``schedule_id``) is unchanged."""
    if not schedule_id:  # the site never had a schedule
        return None, None
    key = (today, schedule_id)
    plans = _memo(platform).plans
    with _lock:
        kept = plans.get(site_id)
    if kept is not None and kept[0] == key:
        return kept[1]
    found = schedule_for(platform.sessions, site_id, today)
    value = (None, None) if found is None else found
    with _lock:
        plans[site_id] = (key, value)
    return value


def park_totals(sites: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The park's month: the sums of its sites' energy and bill, the sum of the sites'
    month-to-date peaks (each site is billed on its own peak) and the park's carbon
    account (:func:`vpp.emissions.park_account`)."""
    if not sites:
        return {}
    energy_keys = ("import_kwh", "export_kwh", "load_kwh", "pv_kwh")
    bill_keys = ("energy_cost_cny", "export_revenue_cny", "basic_charge_cny", "bill_cny")
    accounts = [s["month_account"]["carbon"] for s in sites]
    carbon = park_account(accounts)
    return {
        "energy": {
            k: float(sum(s["month_account"]["energy"][k] for s in sites)) for k in energy_keys
        },
        "bill": {k: float(sum(s["month_account"]["bill"][k] for s in sites)) for k in bill_keys},
        "sum_of_site_peaks_kw": float(
            sum(s["month_account"]["peak"]["peak_import_kw"] or 0.0 for s in sites)
        ),
        "carbon": carbon,
    }


def park_monitor(platform: Any, park: str, site_ids: set[int] | None = None) -> dict[str, Any]:
    """Every site's view (without per-step lists) and the park's sums.

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database and clock.
    park : str
        The registered park's name.
    site_ids : set of int, optional
        Only these sites (a site key's own); the ``park`` sums then cover them only.

    Returns
    -------
    dict
        ``park``, ``currency`` (the sites'), ``sites`` (:func:`site_monitor` each,
        without steps), ``totals``
        (:func:`park_totals` plus today's planned and
        metered import so far [kWh]) and ``today`` (the park's import per step, planned
        and metered, summed over the sites that have each).
    """
    file = park_file(platform, park)
    refs = [
        r for r in list_sites(platform.sessions, park) if site_ids is None or r.site_id in site_ids
    ]
    versions = _versions(platform, [r.site_id for r in refs])
    frames: dict[int, pd.DataFrame] = {}
    ledgers: dict[int, list[dict[str, Any]]] = {}
    loaded = park_stamps(file) if refs else None  # once, not every file per site
    models = {r.site_id: site_model(file, r.site, loaded) for r in refs}
    now = None
    if refs:  # the stored days, and today's readings of every site to compute, at once
        model = models[refs[0].site_id]
        now = _local_now(platform, model.timezone)  # one present for the whole page
        days.load_month(
            platform, [r.site_id for r in refs], month_bounds(now.date())[0], model.timezone
        )
        results = _memo(platform).results
        with _lock:
            todo = [
                r.site_id
                for r in refs
                if results.get(r.site_id, ((),))[0]
                != _result_key(r, file, models[r.site_id], now, versions[r.site_id])
            ]
        if todo:
            grid = step_grid(now.date(), now.date() + dt.timedelta(days=1), model)
            frames = readings_frames(platform.sessions, todo, grid, model.step_minutes)
            ledgers = load_entries(platform.sessions, todo)
    full = [
        site_monitor(
            platform,
            ref,
            file,
            version=versions[ref.site_id],
            today_frame=frames.get(ref.site_id),
            entries=ledgers.get(ref.site_id),
            now=now,
            model=models[ref.site_id],
        )
        for ref in refs
    ]
    sites = []
    for view in full:
        today = {k: v for k, v in view["today"].items() if not isinstance(v, list | dict)}
        sites.append({**view, "today": today})
    totals = park_totals(sites)
    out: dict[str, Any] = {"park": park, "sites": sites, "totals": totals, "today": None}
    if full:
        out["currency"] = full[0]["currency"]  # the park's sites share one (load_park)
        out["now"] = full[0]["now"]
        out["date"] = full[0]["date"]
        out["month"] = full[0]["month"]
        stamps = full[0]["today"]["timestamps"]
        park_today: dict[str, Any] = {"timestamps": stamps}
        for name in ("plan_import_kw", "actual_import_kw"):
            arrays = [
                np.array([np.nan if v is None else v for v in s["today"][name]], dtype=float)
                for s in full
                if len(s["today"][name]) == len(stamps)
            ]
            stacked = np.vstack(arrays) if arrays else np.full((1, len(stamps)), np.nan)
            have = np.isfinite(stacked).any(axis=0)
            summed = np.nansum(stacked, axis=0)
            park_today[name] = [float(v) if h else None for v, h in zip(summed, have, strict=True)]
        out["today"] = park_today
        totals["today"] = {
            k: float(sum(s["today"][k] for s in sites))
            for k in ("plan_import_kwh", "actual_import_kwh", "deviation_kwh")
        }
    return out


def telemetry_gaps(platform: Any, ref: SiteRef, file: str) -> dict[str, Any]:
    """The site's telemetry over the last :data:`GAP_WINDOW_DAYS` days, per channel:
    steps expected and received, the newest reading, its age [min] and the longest run
    of missing steps [steps] with its start."""
    model = site_model(file, ref.site)
    now = _local_now(platform, model.timezone)
    today = now.date()
    grid = step_grid(
        today - dt.timedelta(days=GAP_WINDOW_DAYS - 1), today + dt.timedelta(days=1), model
    )
    step = pd.Timedelta(minutes=model.step_minutes)
    grid = grid[grid + step <= now]
    frame = readings_frame(platform.sessions, ref.site_id, grid, model.step_minutes)
    channels = []
    for name in sorted(ref.channels):
        have = (
            np.isfinite(frame[name].to_numpy(dtype=float))
            if name in frame
            else np.zeros(len(grid), bool)
        )
        newest = grid[have][-1] if have.any() else None
        run, longest, start, longest_start = 0, 0, None, None
        for i, ok in enumerate(have):
            if ok:
                run = 0
                continue
            if run == 0:
                start = grid[i]
            run += 1
            if run > longest:
                longest, longest_start = run, start
        channels.append(
            {
                "channel": name,
                "unit": ref.channels[name].unit,
                "expected_steps": len(grid),
                "received_steps": int(have.sum()),
                "newest": None if newest is None else newest.isoformat(),
                "age_minutes": None
                if newest is None
                else float((now - newest - step) / pd.Timedelta(minutes=1)),
                "longest_gap_steps": longest,
                "longest_gap_start": None if longest_start is None else longest_start.isoformat(),
            }
        )
    return {
        "park": ref.park,
        "site": ref.site,
        "window_days": GAP_WINDOW_DAYS,
        "channels": channels,
    }


def runs_and_flags(platform: Any, park: str, limit: int = 50) -> list[dict[str, Any]]:
    """The park's newest runs known to the platform, each with the flags of its
    ``summary.json`` (when its output folder is still there)."""
    with platform.sessions() as session:
        rows = (
            session.execute(
                select(Run)
                .join(Park, Run.park_id == Park.id)
                .where(Park.name == park)
                .order_by(Run.id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
    out = []
    for run in rows:
        flags: list[str] = []
        summary = Path(run.out_dir) / "summary.json" if run.out_dir else None
        if summary is not None and summary.is_file():
            try:
                flags = [
                    str(f) for f in json.loads(summary.read_text(encoding="utf-8")).get("flags", [])
                ]
            except (OSError, ValueError):
                flags = [f"{summary} does not read as JSON"]
        out.append(
            {
                "run_id": run.run_id,
                "kind": run.kind,
                "date": run.date.isoformat(),
                "status": run.status,
                "message": run.message,
                "recorded_at": run.recorded_at.replace(tzinfo=dt.UTC).isoformat(),
                "flags": flags,
            }
        )
    return out


def warm_in_background(platform: Any) -> threading.Thread:
    """Load every registered park's file and compute every park's view once in a daemon
    thread, so that the first page after a start is served from kept results: the past
    days' summaries are read from the database, or computed and stored when missing
    (a month of readings for 200 sites takes some 15 s to compute once;
    benchmarks/bench_platform_dashboard.py). A failure is logged and leaves the views
    to be computed on request."""
    from vpp.platform.parks import list_parks

    def warm() -> None:
        try:
            parks = list_parks(platform.sessions)
            for park in parks:  # the park files first: a page needs them all
                park_stamps(park_file(platform, park["park"]))
            for park in parks:
                park_monitor(platform, park["park"])
        except Exception:  # a page computes it again, and reports, on request
            LOG.exception("warming the monitoring views failed")

    thread = threading.Thread(target=warm, name="vpp-monitoring-warm", daemon=True)
    thread.start()
    return thread
