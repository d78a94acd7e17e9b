"""The window a run of the daily job plans, its events, and what earlier runs committed.

A run at ``now`` for the target date ``D`` is one decision of the operation engine
(:mod:`vpp.operation.park_window`); it plans the window

.. math::

    [\\lceil now \\rceil,\\; \\max(\\lceil now \\rceil + L,\\; D + 1\\,\\mathrm{day}))

on the park's step grid (:func:`job_window`): the rest of today, the target day, and the
look-ahead :math:`L` past it (the park file's ``operation.rolling.lookahead_h``, 48 h by
default), as the park backtest (:mod:`vpp.operation.park_rolling`) plans each decision.
An intraday run (``--intraday``) has ``D`` = today.

Demand-response events (:func:`window_events`): the park file's and the notices' events
lying wholly inside the window are planned; a notice event that only overlaps the
window, lies before it, is off the step grid, repeats a name, or is one too many for its
day (:data:`~vpp.portfolio.run.MAX_EVENTS_PER_DAY`) is dropped and flagged. Offers an
earlier run already decided (:func:`committed_offers`: the ``offers_kw`` of the
``summary.json`` of today's, tomorrow's and the target date's folders, written by a
run with an earlier ``now``) are **committed**: the plan keeps them, or breaks them with a flag
saying why.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import unit
from vpp.assets.columns import has_role
from vpp.errors import clip
from vpp.portfolio.dr import announced_by
from vpp.portfolio.park import Park
from vpp.scenario.common import step_minutes
from vpp.scenario.operation import RollingSpec
from vpp.timeseries import Horizon, local_time

#: The look-ahead of a park file without ``operation.rolling`` [h].
DEFAULT_LOOKAHEAD_H = 48.0
#: Sub-folder of ``<date>/`` holding the intraday re-plans, one folder per run (``HHMM``).
INTRADAY_DIR = "intraday"


def job_spec(park: Park) -> RollingSpec:
    """The park's rolling settings, or the job's defaults (profile load forecast, 48 h)."""
    spec = park.spec.operation.rolling
    if spec is not None:
        return spec
    return RollingSpec(load_forecast="profile", lookahead_h=DEFAULT_LOOKAHEAD_H)


def day_bounds(day: pd.Timestamp, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The local start and end (exclusive) of the calendar date ``day``."""
    start = day.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
    end = (day + pd.Timedelta(days=1)).tz_localize(tz, ambiguous=False, nonexistent="shift_forward")
    return start, end


def job_window(park: Park, day: pd.Timestamp, now: pd.Timestamp, lookahead_h: float) -> Horizon:
    """The window planned at ``now`` for the date ``day`` (module docstring)."""
    tz = park.spec.timezone
    minutes = step_minutes(park.spec.horizon.step)
    step = pd.Timedelta(minutes=minutes)
    _, day_end = day_bounds(day, tz)
    start = now.tz_convert(tz).ceil(step)
    steps = math.ceil(lookahead_h * 60.0 / minutes - 1e-9)
    stop = max(start + steps * step, day_end)
    return Horizon.from_bounds(
        start.tz_localize(None).to_pydatetime(),
        end=stop.tz_localize(None).to_pydatetime(),
        step_minutes=minutes,
        timezone=tz,
    )


def window_park(park: Park, window: Horizon, events: list[Any]) -> Park:
    """The park on the window: every site on its steps, the window's events."""
    spec = park.spec
    end = window.index[-1] + pd.Timedelta(hours=window.step_h)
    horizon = spec.horizon.model_copy(
        update={
            "start": window.index[0].tz_localize(None).to_pydatetime(),
            "end": end.tz_localize(None).to_pydatetime(),
            "days": None,
        }
    )
    new_spec = spec.model_copy(update={"horizon": horizon, "demand_response": events})
    sites = {n: s.model_copy(update={"horizon": horizon}) for n, s in park.sites.items()}
    return Park(new_spec, sites, park.file, park.notes)


def window_events(
    park: Park,
    window: Horizon,
    notices: list[Any],
    flags: list[str],
    now: pd.Timestamp | None = None,
    sources: dict[str, Any] | None = None,
) -> list:
    """The events the window plans: the park file's and the notices' (module docstring).

    ``notices`` are :class:`vpp.jobs.day.Notice` (``event``, ``where``). A park-file event
    announced after ``now`` (its ``notified_at``) is not known yet: it is left out, as
    the park backtest leaves it out of the decisions before its notice, and named in
    ``sources["not_yet_notified"]``.
    """
    from vpp.portfolio.run import MAX_EVENTS_PER_DAY

    tz = park.spec.timezone
    start = window.index[0]
    step = pd.Timedelta(hours=window.step_h)
    end = window.index[-1] + step
    out: list[Any] = []
    per_day: dict[Any, int] = {}
    names: set[str] = set()
    for event in park.spec.demand_response:
        first, last = local_time(event.start, tz), local_time(event.end, tz)
        if not announced_by(event, now):
            if sources is not None and first < end and last > start:
                sources.setdefault("not_yet_notified", []).append(event.name)
            continue
        if first >= start and last <= end:
            out.append(event)
            names.add(event.name)
            per_day[first.date()] = per_day.get(first.date(), 0) + 1
    for notice in notices:
        event = notice.event
        first, last = local_time(event.start, tz), local_time(event.end, tz)
        why = None
        if not announced_by(event, now):
            why = f"it is announced at {local_time(event.notified_at, tz).isoformat()}, after now"
        elif last <= start:
            why = f"it is over before the window starts ({start.isoformat()})"
        elif first >= end:
            why = f"it starts after the window ends ({end.isoformat()})"
        elif first < start or last > end:
            why = (
                f"it is not inside the window {start.isoformat()} .. {end.isoformat()} "
                f"({first.isoformat()} .. {last.isoformat()})"
            )
        elif (first - start) % step or (last - start) % step:
            why = f"it is not on the park's {park.spec.horizon.step} step grid"
        elif event.name in names:
            why = f"another event of the window is named '{event.name}'"
        elif per_day.get(first.date(), 0) >= MAX_EVENTS_PER_DAY:
            why = f"its day already has {MAX_EVENTS_PER_DAY} events, the most weighed"
        if why:
            flags.append(f"demand-response notice {notice.where} ('{event.name}') dropped: {why}")
            continue
        names.add(event.name)
        per_day[first.date()] = per_day.get(first.date(), 0) + 1
        out.append(event)
    return out


def _summary(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def committed_offers(
    out: Path, now: pd.Timestamp, dates: list[pd.Timestamp], flags: list[str]
) -> dict[str, float]:
    """Offers decided by earlier runs, by event name [kW] (module docstring).

    Read from ``<out>/<date>/summary.json`` and ``<out>/<date>/intraday/*/summary.json``
    (``offers_kw``) of each of ``dates`` whose run was ``ok`` and had an earlier ``now``;
    the latest such run's offer wins (each run keeps the commitments it found, so it is
    the first decision's). A value that
    is not a finite number at least 0 is dropped and flagged.
    """
    found: list[tuple[pd.Timestamp, dict[str, Any], Path]] = []
    paths = []
    for day in dates:
        folder = out / day.strftime("%Y-%m-%d")
        paths += [folder / "summary.json", *sorted((folder / INTRADAY_DIR).glob("*/summary.json"))]
    for path in paths:
        data = _summary(path) if path.is_file() else None
        if not data or data.get("status") != "ok":
            continue
        try:
            then = pd.Timestamp(data["sources"]["now"]).tz_convert(now.tz)
        except (KeyError, TypeError, ValueError):
            continue
        if then < now and isinstance(data.get("offers_kw"), dict):
            found.append((then, data["offers_kw"], path))
    offers: dict[str, float] = {}
    for _then, table, path in sorted(found, key=lambda f: f[0]):
        for name, value in table.items():
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not np.isfinite(value) or value < 0:
                flags.append(
                    f"{path}: offer of event {clip(repr(name), 40)} is not a number >= 0 "
                    f"({clip(repr(value), 40)}); not kept"
                )
                continue
            offers[str(name)] = float(value)
    return offers


def peak_targets(out: Path, day: pd.Timestamp, flags: list[str]) -> dict[str, float]:
    """The day-ahead plan's peak import per site for ``day`` [kW] (an intraday run keeps
    them): ``sites.<site>.peak_import_kw`` of ``<out>/<date>/summary.json`` when that run
    was ``ok``; empty otherwise (flagged)."""
    path = out / day.strftime("%Y-%m-%d") / "summary.json"
    data = _summary(path) if path.is_file() else None
    if not data or data.get("status") != "ok":
        flags.append(
            f"no good day-ahead schedule in {path.parent}: the intraday re-plan has no peak "
            "target to keep"
        )
        return {}
    out_targets = {}
    for name, site in (data.get("sites") or {}).items():
        value = site.get("peak_import_kw") if isinstance(site, dict) else None
        if isinstance(value, (int, float)) and np.isfinite(value) and value >= 0:
            out_targets[str(name)] = float(value)
    return out_targets


def window_inputs(
    wpark: Park,
    read: Any,
    caps_kw: dict[str, float] | None = None,
    caps_until: pd.Timestamp | None = None,
) -> dict[str, Any]:
    """Each site's window block inputs (``read``: the job's
    :class:`vpp.jobs.day.SitesRead`): its units' window inputs from its states at ``now``
    and its forecasts (:func:`vpp.operation.windows.window_assets`), as the park backtest
    makes them; ``caps_kw`` caps a site's import in the steps before ``caps_until`` (an
    intraday run's peak target for the rest of today; the grid's ``import_cap_kw``,
    :func:`vpp.assets.grid.limits.import_bounds_kw`)."""
    from vpp.operation.windows import window_assets

    out = {}
    for name, site in read.inputs.items():
        horizon = site.horizon
        series = site.series
        forecasts = {
            c: series[c].to_numpy(float)
            for c in series.columns
            if c == "load_kw" or c.endswith("_available_kw")
        }
        assets, _ = window_assets(
            site.assets, wpark.sites[name], horizon, 0, horizon.n, read.states[name], forecasts
        )
        cap = (caps_kw or {}).get(name)
        if cap is not None:
            until = horizon.index < caps_until if caps_until is not None else True
            steps = np.where(until, float(cap), np.inf)
            assets = [capped(a, steps) for a in assets]
        out[name] = replace(site, assets=assets)
    return out


def capped(asset: Any, caps_kw: np.ndarray) -> Any:
    """The grid connection with its import capped per step (other assets as they are)."""
    if not has_role(unit(asset.kind), "grid_import"):
        return asset
    return replace(asset, series={**asset.series, "import_cap_kw": caps_kw})
