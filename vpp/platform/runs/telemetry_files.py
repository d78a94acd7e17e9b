"""The daily job's telemetry folder written from the platform's stored readings.

A run the platform starts reads the same files as ``vpp schedule --telemetry DIR``
(:mod:`vpp.jobs.telemetry`, ``docs/telemetry.md``), written here from table
``readings`` for every site of the park, from :data:`HISTORY_DAYS` before ``now`` up to
``now`` (a later reading would be future-dated to the job):

=====================  ===========================================================
file                   from the channels
=====================  ===========================================================
``load-<site>.csv``    ``load_kw``
``grid-<site>.csv``    ``import_kw``, ``export_kw`` (rows where both were read)
``pv-<site>.csv``      every ``<array>_pv_kw`` (rows where every array was read)
``soc.csv``            every ``<battery>_soc_kwh`` (``site, battery, timestamp``)
=====================  ===========================================================

A file needs every column in every row: a timestamp where only some of a file's
channels were read is left out and counted in the notes returned (the run's log shows
them), never guessed. The job itself checks the values again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vpp.assets.columns import role_columns
from vpp.platform.models import Park, Reading, Site

__all__ = ["HISTORY_DAYS", "write_job_telemetry"]

#: How far back the readings written for a run go [days] (a month-to-date peak needs
#: up to 31 days; the load forecast's recent days fit in it).
HISTORY_DAYS = 35
_LOAD, _GRID = ("load_kw",), ("import_kw", "export_kw")
_PV, _SOC = "_pv_kw", "_soc_kwh"


def _frame(sessions: sessionmaker[Session], site_id: int, first: Any, last: Any) -> pd.DataFrame:
    """A site's readings in ``[first, last]`` (naive UTC), one column per channel."""
    with sessions() as session:
        rows = session.execute(
            select(Reading.channel, Reading.timestamp_utc, Reading.value).where(
                Reading.site_id == site_id,
                Reading.timestamp_utc >= first,
                Reading.timestamp_utc <= last,
            )
        ).all()
    if not rows:
        return pd.DataFrame()
    long = pd.DataFrame(rows, columns=["channel", "timestamp", "value"])
    return long.pivot(index="timestamp", columns="channel", values="value").sort_index()


def _write(frame: pd.DataFrame, columns: list[str], tz: str, path: Path, notes: list[str]) -> int:
    """Write ``columns`` of ``frame`` where every one was read; returns the rows written."""
    present = [c for c in columns if c in frame.columns]
    if not present:
        return 0
    part = frame[present]
    if len(present) == len(columns):
        complete = part.notna().all(axis=1)
    else:
        complete = pd.Series(False, index=part.index)
    left = int(part.notna().any(axis=1).sum() - complete.sum())
    if left:
        notes.append(f"{path.name}: {left} step(s) left out: they lack one of {', '.join(columns)}")
    rows = part[complete]
    if rows.empty:
        return 0
    stamps = pd.DatetimeIndex(rows.index).tz_localize("UTC").tz_convert(tz)
    out = pd.DataFrame({"timestamp": [t.isoformat() for t in stamps]})
    for column in columns:
        out[column] = rows[column].to_numpy(dtype=float)
    out.to_csv(path, index=False, float_format="%.10g")
    return len(out)


def write_job_telemetry(
    sessions: sessionmaker[Session], park: Any, now: pd.Timestamp, folder: Path
) -> list[str]:
    """Write the telemetry folder of a run of ``park`` at ``now`` (module docstring).

    Parameters
    ----------
    sessions : sessionmaker
        The platform database.
    park : vpp.portfolio.park.Park
        The loaded park (its sites' batteries name the ``soc.csv`` rows).
    now : pandas.Timestamp
        The run's present, zone-aware: readings up to it are written.
    folder : pathlib.Path
        The folder to write (created).

    Returns
    -------
    list of str
        What was written and what was left out, one line each.
    """
    folder.mkdir(parents=True, exist_ok=True)
    last = now.tz_convert("UTC").tz_localize(None).to_pydatetime()
    first = last - dt.timedelta(days=HISTORY_DAYS)
    tz = str(park.spec.timezone)
    with sessions() as session:
        sites = {
            s.name: s.id
            for s in session.scalars(
                select(Site).join(Park).where(Park.name == park.name).order_by(Site.name)
            )
        }
    notes: list[str] = []
    soc_rows: list[pd.DataFrame] = []
    for name, scenario in park.sites.items():
        if name not in sites:
            notes.append(f"site {name!r} is not registered: no telemetry written for it")
            continue
        frame = _frame(sessions, sites[name], first, last)
        if frame.empty:
            notes.append(f"site {name!r}: no readings in the {HISTORY_DAYS} days before now")
            continue
        written = {
            "load": _write(frame, list(_LOAD), tz, folder / f"load-{name}.csv", notes),
            "grid": _write(frame, list(_GRID), tz, folder / f"grid-{name}.csv", notes),
        }
        arrays = [c for _, _, c in role_columns(scenario.site, "pv_output")]
        if arrays:
            written["pv"] = _write(frame, arrays, tz, folder / f"pv-{name}.csv", notes)
        for _, entry, column in role_columns(scenario.site, "storage_soc"):
            if column in frame.columns:
                values = frame[column].dropna()
                stamps = pd.DatetimeIndex(values.index).tz_localize("UTC").tz_convert(tz)
                soc_rows.append(
                    pd.DataFrame(
                        {
                            "site": name,
                            "battery": entry.name,
                            "timestamp": [t.isoformat() for t in stamps],
                            "soc_kwh": values.to_numpy(dtype=float),
                        }
                    )
                )
                written[f"soc {entry.name}"] = len(values)
        notes.append(f"site {name!r}: " + ", ".join(f"{k} {v} row(s)" for k, v in written.items()))
    if soc_rows:
        pd.concat(soc_rows).to_csv(folder / "soc.csv", index=False, float_format="%.10g")
    return notes
