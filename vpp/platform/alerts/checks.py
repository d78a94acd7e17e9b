"""The conditions that raise alerts, each a pure read of the database at a present.

=================  ========  ====================================================  ==========
kind               key       condition                                             severity
=================  ========  ====================================================  ==========
``target``         year:m    the projected year (:mod:`.trajectory`) above a        warning;
                             site's or the park's target for metric m               critical
                                                                                    once the
                                                                                    year to date
                                                                                    is above it
``telemetry_gap``  channel   no reading of a channel for longer than its            warning
                             threshold (:class:`~.settings.Gaps`), counted from
                             the newest reading's timestamp; a channel counts
                             once it has reported, or when its threshold is set
``schedule``       date      the schedule to dispatch today or tomorrow is a        warning
                             fallback (no good one stored)
``run``            ""        the park's newest run failed                           critical
``peak``           YYYY-MM   the month-to-date metered peak (step-average import)   warning;
                             at or above ``peak_warn_fraction`` of the month's      critical
                             planned peak: the highest ``grid_import_kw`` of the    above it
                             schedules to dispatch this month (the plan's target,
                             not the basic charge's billed peak)
=================  ========  ====================================================  ==========
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from vpp.platform.alerts.settings import AlertSettings
from vpp.platform.alerts.targets import METRICS
from vpp.platform.alerts.trajectory import park_trajectory, site_trajectory
from vpp.platform.models import Reading, Run, Schedule
from vpp.platform.monitoring.data import month_bounds, readings_frame, site_model, step_grid
from vpp.platform.parks import SiteRef

__all__ = [
    "Finding",
    "gap_findings",
    "peak_findings",
    "schedule_findings",
    "target_findings",
    "target_report",
]

_TOTALS = ("energy_tce", "co2_t")
_planned_peaks: dict[int, float | None] = {}  # schedule row id -> its highest import [kW]
_lock = threading.Lock()


@dataclass(frozen=True)
class Finding:
    """A condition that holds: the alert it opens (or keeps open)."""

    site_id: int | None
    kind: str
    key: str
    severity: str
    message: str
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[int | None, str, str]:
        """What makes one alert: site, kind and key."""
        return (self.site_id, self.kind, self.key)


def _utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(tzinfo=None)


def gap_findings(
    platform: Any, settings: AlertSettings, refs: list[SiteRef], now: dt.datetime
) -> list[Finding]:
    """Telemetry gaps of ``refs`` at ``now``: the newest timestamp of each site's channel,
    one query each (the end of the readings' unique index on site, channel and time)."""
    by_id = {r.site_id: r for r in refs}
    newest: dict[tuple[int, str], dt.datetime | None] = {}
    with platform.sessions() as session:
        for ref in refs:
            own = settings.telemetry_gaps.sites.get(ref.site, {})
            for channel in sorted(ref.channels):
                stamp = session.scalar(
                    select(func.max(Reading.timestamp_utc)).where(
                        Reading.site_id == ref.site_id, Reading.channel == channel
                    )
                )
                # a channel counts once it has reported, or from the start when its
                # threshold is set
                if stamp is not None or channel in own:
                    newest[(ref.site_id, channel)] = stamp
    present = _utc(now)
    out = []
    for (site_id, channel), stamp in sorted(newest.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        ref = by_id[site_id]
        limit = settings.gap_minutes(ref.site, channel)
        age = None if stamp is None else (present - stamp).total_seconds() / 60.0
        if age is not None and age <= limit:
            continue
        since = "never reported" if stamp is None else f"none for {age:.0f} min"
        out.append(
            Finding(
                site_id,
                "telemetry_gap",
                channel,
                "warning",
                f"{ref.site}: {channel} {since} (allowed {limit:g} min)",
                {
                    "channel": channel,
                    "newest": None if stamp is None else stamp.replace(tzinfo=dt.UTC).isoformat(),
                    "age_minutes": age,
                    "threshold_minutes": limit,
                },
            )
        )
    return out


def schedule_findings(
    platform: Any, park_id: int, refs: list[SiteRef], now: dt.datetime
) -> list[Finding]:
    """Fallback schedules to dispatch today or tomorrow, and the park's newest run failed."""
    out = []
    with platform.sessions() as session:
        for ref in refs:
            today = pd.Timestamp(now).tz_convert(ref.timezone).date()
            for day in (today, today + dt.timedelta(days=1)):
                statuses = set(
                    session.scalars(
                        select(Schedule.status).where(
                            Schedule.site_id == ref.site_id, Schedule.date == day
                        )
                    ).all()
                )
                if "fallback" in statuses and "ok" not in statuses:
                    out.append(
                        Finding(
                            ref.site_id,
                            "schedule",
                            day.isoformat(),
                            "warning",
                            f"{ref.site}: the schedule for {day} is a fallback (no good schedule)",
                            {"date": day.isoformat(), "status": "fallback"},
                        )
                    )
        run = session.scalars(
            select(Run).where(Run.park_id == park_id).order_by(Run.id.desc()).limit(1)
        ).first()
    if run is not None and run.status == "failed":
        out.append(
            Finding(
                None,
                "run",
                "",
                "critical",
                f"the newest run ({run.kind}, {run.date}) failed: {run.message[:300]}",
                {"run_id": run.run_id, "run": run.id, "date": run.date.isoformat()},
            )
        )
    return out


def _planned_peak(session: Any, site_id: int, first: dt.date, last: dt.date) -> float | None:
    """The highest ``grid_import_kw`` of the schedules to dispatch on ``first..last``
    (each day's newest good schedule, else its newest fallback) [kW]."""
    rows = session.execute(
        select(Schedule.id, Schedule.date, Schedule.status).where(
            Schedule.site_id == site_id, Schedule.date >= first, Schedule.date <= last
        )
    ).all()
    chosen: dict[dt.date, tuple[int, int]] = {}
    for row_id, day, status in rows:
        rank = (1 if status == "ok" else 0, row_id)
        chosen[day] = max(chosen.get(day, rank), rank)
    peaks = []
    for _, row_id in chosen.values():
        with _lock:
            known = row_id in _planned_peaks
        if not known:
            table = json.loads(session.get(Schedule, row_id).table_json)
            peak = None
            if "grid_import_kw" in table["columns"]:
                at = table["columns"].index("grid_import_kw")
                values = [float(r[at]) for r in table["data"] if r[at] is not None]
                peak = max(values) if values else None
            with _lock:
                _planned_peaks[row_id] = peak
        with _lock:
            peaks.append(_planned_peaks[row_id])
    found = [p for p in peaks if p is not None and np.isfinite(p)]
    return max(found) if found else None


def peak_findings(
    platform: Any, settings: AlertSettings, refs: list[SiteRef], file: str, now: dt.datetime
) -> list[Finding]:
    """Sites whose month-to-date metered peak nears or passes the month's planned peak."""
    out = []
    warn = settings.evaluation.peak_warn_fraction
    for ref in refs:
        model = site_model(file, ref.site)
        local = pd.Timestamp(now).tz_convert(model.timezone)
        first, following = month_bounds(local.date())
        with platform.sessions() as session:
            planned = _planned_peak(session, ref.site_id, first, following - dt.timedelta(days=1))
        if not planned or planned <= 0:
            continue
        grid = step_grid(first, local.date() + dt.timedelta(days=1), model)
        grid = grid[grid + pd.Timedelta(minutes=model.step_minutes) <= local]
        frame = readings_frame(
            platform.sessions, ref.site_id, grid, model.step_minutes, channels=["import_kw"]
        )
        if "import_kw" not in frame or not np.isfinite(frame["import_kw"]).any():
            continue
        metered = float(np.nanmax(frame["import_kw"].to_numpy(dtype=float)))
        at = frame["import_kw"].idxmax()
        if metered < warn * planned:
            continue
        above = metered > planned
        out.append(
            Finding(
                ref.site_id,
                "peak",
                f"{first:%Y-%m}",
                "critical" if above else "warning",
                f"{ref.site}: the month's metered peak {metered:.0f} kW (at {at:%m-%d %H:%M}) "
                + ("exceeds" if above else f"is {metered / planned:.0%} of")
                + f" the planned peak {planned:.0f} kW",
                {
                    "month": f"{first:%Y-%m}",
                    "metered_peak_kw": metered,
                    "metered_peak_at": at.isoformat(),
                    "planned_peak_kw": planned,
                    "ratio": metered / planned,
                    "warn_fraction": warn,
                },
            )
        )
    return out


def target_report(
    platform: Any,
    settings: AlertSettings,
    refs: list[SiteRef],
    file: str,
    targets: dict[int | None, dict[str, Any]],
    year: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """Each site's and the park's trajectory with its targets and their status."""
    days = settings.evaluation.run_rate_days
    sites = {}
    for ref in refs:
        mine = targets.get(ref.site_id, {})
        model = site_model(file, ref.site)
        trajectory = site_trajectory(
            platform, ref, model, year, now, days, mine.get("value_added_cny")
        )
        sites[ref.site] = {
            "site_id": ref.site_id,
            **trajectory,
            "targets": _status(trajectory, mine),
        }
    park = targets.get(None, {})
    whole = park_trajectory(list(sites.values()), park.get("value_added_cny"))
    return {"year": year, "park": {**whole, "targets": _status(whole, park)}, "sites": sites}


def _status(trajectory: dict[str, Any], mine: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for metric, limit in mine.get("limits", {}).items():
        projected = trajectory["projected"].get(metric)
        ytd = trajectory["ytd"].get(metric) if metric in _TOTALS else None
        state = "unknown" if projected is None else "on track"
        if not trajectory["has_data"]:
            state = "no data"  # nothing metered this year: no projection to judge
        if projected is not None and projected > limit:
            state = "breach" if ytd is not None and ytd > limit else "projected breach"
        out.append(
            {
                "metric": metric,
                "unit": METRICS[metric],
                "limit": limit,
                "ytd": ytd,
                "projected": projected,
                "state": state,
                "source": mine.get("sources", {}).get(metric, ""),
            }
        )
    return out


def target_findings(report: dict[str, Any]) -> list[Finding]:
    """An alert per target projected (or already) above its limit."""
    year = report["year"]
    scopes = [(None, "the park", report["park"])]
    scopes += [(s["site_id"], name, s) for name, s in report["sites"].items()]
    out = []
    for site_id, name, scope in scopes:
        for row in scope["targets"]:
            if row["state"] not in ("breach", "projected breach"):
                continue
            unit = row["unit"]
            out.append(
                Finding(
                    site_id,
                    "target",
                    f"{year}:{row['metric']}",
                    "critical" if row["state"] == "breach" else "warning",
                    f"{name}: {row['metric']} projected {row['projected']:.4g} {unit} for {year},"
                    f" above the target {row['limit']:.4g} {unit}",
                    {
                        **row,
                        "year": year,
                        "run_rate": scope["run_rate"],
                        "days_left": scope.get("days_left"),
                        "method": scope.get("method"),
                    },
                )
            )
    return out
