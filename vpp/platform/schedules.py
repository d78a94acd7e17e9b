"""Schedules on the platform: a job run's published day stored, a site's day read back.

:func:`record_day_folder` reads what ``vpp schedule`` wrote into ``<out>/<date>/``
(:mod:`vpp.jobs.outputs`: ``summary.json`` and ``sites/<site>/schedule.csv``) and
stores a run row and one schedule row per site in one transaction. The schedule to
dispatch for a site and date (:func:`schedule_for`) follows the job's rule: **a
fallback never replaces an earlier good schedule**: the newest ``ok`` schedule, else
the newest fallback.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.models import Park, Run, Schedule, Site
from vpp.platform.refusals import BadRequest, UnknownSite

__all__ = [
    "ScheduleCommitted",
    "latest_schedules",
    "record_day_folder",
    "schedule_for",
    "table_csv",
]

_STATUSES = ("ok", "fallback")


@dataclass(frozen=True)
class ScheduleCommitted:
    """A site's schedule committed to the database (what a publisher announces).

    Attributes
    ----------
    park, site : str
        The park's and the site's names.
    date : datetime.date
        The schedule's local date.
    run_id : str or None
        The job's run id.
    status : str
        ``ok`` or ``fallback``.
    schedule_id : int
        The row id in ``schedules``.
    """

    park: str
    site: str
    date: dt.date
    run_id: str | None
    status: str
    schedule_id: int


def _table_json(frame: pd.DataFrame) -> str:
    """The schedule as JSON: ``timestamps`` (ISO 8601 text with offset), ``columns`` and
    ``data`` (rows of floats)."""
    return json.dumps(
        {
            "timestamps": [str(t) for t in frame.index],
            "columns": [str(c) for c in frame.columns],
            "data": frame.to_numpy(dtype=float).tolist(),
        },
        allow_nan=False,
    )


def _frame(text: str) -> pd.DataFrame:
    data = json.loads(text)
    frame = pd.DataFrame(data["data"], columns=data["columns"], dtype=float)
    frame.index = pd.Index(data["timestamps"], name="timestamp")
    return frame


def table_csv(frame: pd.DataFrame) -> str:
    """The schedule as CSV (``timestamp`` as the job writes it, then the columns)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, float_format="%.10g", lineterminator="\n")
    return buffer.getvalue()


def record_day_folder(
    sessions: sessionmaker[Session],
    folder: str | Path,
    run_id: str | None = None,
    run_pk: int | None = None,
) -> list[ScheduleCommitted]:
    """Store the day a job run published in ``folder`` (``<out>/<date>/``), as a new run
    row or into the row ``run_pk`` (a run the platform started).

    Returns
    -------
    list of ScheduleCommitted
        One per site, committed.

    Raises
    ------
    BadRequest
        The folder holds no readable ``summary.json`` or a site's ``schedule.csv``.
    UnknownSite
        Its park is not registered, or a site is not in it.
    """
    folder = Path(folder)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        day = dt.date.fromisoformat(summary["date"])
        status = summary["status"]
        park_name = summary["park"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"{folder}/summary.json is not a job's summary: {exc}") from exc
    if status not in _STATUSES:
        raise BadRequest(f"{folder}: status {status!r} has no schedule to store")
    run_id = run_id or summary.get("run_id")
    tables = {}
    for path in sorted((folder / "sites").glob("*/schedule.csv")):
        try:
            tables[path.parent.name] = pd.read_csv(path, index_col=0, dtype={0: str})
        except (OSError, ValueError) as exc:
            raise BadRequest(f"{path} does not read: {exc}") from exc
    if not tables:
        raise BadRequest(f"{folder} holds no sites/<site>/schedule.csv")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with sessions() as session, session.begin():
        park = session.execute(select(Park).where(Park.name == park_name)).scalar_one_or_none()
        if park is None:
            raise UnknownSite(f"park {park_name!r} is not registered (POST /api/v1/parks)")
        sites = {s.name: s for s in session.scalars(select(Site).where(Site.park_id == park.id))}
        unknown = sorted(set(tables) - set(sites))
        if unknown:
            raise UnknownSite(f"sites {unknown} are not in the registered park {park_name!r}")
        run = session.get(Run, run_pk) if run_pk is not None else None
        if run is None:
            run = Run(park_id=park.id, recorded_at=now, message="")
            session.add(run)
        run.run_id = None if run_id is None else str(run_id)
        run.kind = str(summary.get("kind", "day-ahead"))
        run.date = day
        run.status = status
        run.out_dir = str(folder)
        run.message = (run.message or str(summary.get("failure", "")))[:4000]
        session.flush()
        rows = []
        for name, frame in tables.items():
            row = Schedule(
                site_id=sites[name].id,
                run_pk=run.id,
                date=day,
                status=status,
                table_json=_table_json(frame),
                committed_at=now,
            )
            session.add(row)
            rows.append((name, row))
        session.flush()
        events = [
            ScheduleCommitted(park_name, name, day, run.run_id, status, row.id)
            for name, row in rows
        ]
    return events


def _chosen(session: Session, site_id: int, day: dt.date) -> Schedule | None:
    for status in _STATUSES:  # ok first: a fallback never replaces a good schedule
        row = session.scalars(
            select(Schedule)
            .where(Schedule.site_id == site_id, Schedule.date == day, Schedule.status == status)
            .order_by(Schedule.id.desc())
            .limit(1)
        ).first()
        if row is not None:
            return row
    return None


def schedule_for(
    sessions: sessionmaker[Session], site_id: int, day: dt.date
) -> tuple[dict[str, Any], pd.DataFrame] | None:
    """The schedule to dispatch for a site and date, with its run's facts (None: none)."""
    with sessions() as session:
        row = _chosen(session, site_id, day)
        if row is None:
            return None
        run = session.get(Run, row.run_pk)
        facts = {
            "date": row.date.isoformat(),
            "status": row.status,
            "run_id": run.run_id if run else None,
            "schedule_id": row.id,
            "committed_at": row.committed_at.replace(tzinfo=dt.UTC).isoformat(),
        }
        return facts, _frame(row.table_json)


def latest_schedules(sessions: sessionmaker[Session]) -> list[ScheduleCommitted]:
    """Each site's schedule to dispatch on its newest date (to re-publish at start)."""
    newest = (
        select(Schedule.site_id, func.max(Schedule.date).label("day"))
        .group_by(Schedule.site_id)
        .subquery()
    )
    out = []
    with sessions() as session:
        for site_id, day in session.execute(select(newest.c.site_id, newest.c.day)).all():
            row = _chosen(session, site_id, day)
            site = session.get(Site, site_id)
            park = session.get(Park, site.park_id) if site else None
            run = session.get(Run, row.run_pk) if row else None
            if row is None or site is None or park is None:
                continue
            out.append(
                ScheduleCommitted(
                    park.name, site.name, row.date, run.run_id if run else None, row.status, row.id
                )
            )
    return sorted(out, key=lambda e: (e.park, e.site))
