"""The platform's telemetry as the daily job's telemetry folder (docs/telemetry.md).

A run the platform starts reads its measured states from the database: the readings of
the last :data:`TELEMETRY_DAYS` days up to ``now`` are written as ``soc.csv``,
``load-<site>.csv``, ``pv-<site>.csv`` and ``grid-<site>.csv``, with timestamps in the
park's zone. A file row needs every column of its file: a step missing one of them (PV
of one array, import without export) is left out and said in the notes, never guessed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.models import Reading
from vpp.platform.parks import SiteRef

__all__ = ["TELEMETRY_DAYS", "export_telemetry"]

#: Days of readings before ``now`` given to a run (the states' maximum ages are hours) [d].
TELEMETRY_DAYS = 7


def _frame(
    sessions: sessionmaker[Session], ref: SiteRef, first: dt.datetime, last: dt.datetime
) -> pd.DataFrame:
    with sessions() as session:
        rows = session.execute(
            select(Reading.channel, Reading.timestamp_utc, Reading.value).where(
                Reading.site_id == ref.site_id,
                Reading.timestamp_utc >= first,
                Reading.timestamp_utc <= last,
            )
        ).all()
    frame = pd.DataFrame(rows, columns=["channel", "timestamp", "value"])
    if frame.empty:
        return pd.DataFrame()
    wide = frame.pivot(index="timestamp", columns="channel", values="value").sort_index()
    wide.index = pd.DatetimeIndex(wide.index).tz_localize("UTC").tz_convert(ref.timezone)
    return wide


def _write(wide: pd.DataFrame, columns: list[str], path: Path, notes: list[str]) -> None:
    """The rows of ``wide`` holding every one of ``columns``, as a job telemetry file."""
    present = [c for c in columns if c in wide.columns]
    if not present:
        return
    part = wide[present].dropna(how="all")
    complete = part.dropna(how="any") if len(present) == len(columns) else part.iloc[0:0]
    left = len(part) - len(complete)
    if left:
        notes.append(f"{path.name}: {left} step(s) left out: they lack one of {', '.join(columns)}")
    if complete.empty:
        return
    out = complete.copy()
    out.insert(0, "timestamp", [t.isoformat() for t in out.index])
    out.to_csv(path, index=False, float_format="%.10g")


def export_telemetry(
    sessions: sessionmaker[Session], sites: list[SiteRef], now: dt.datetime, folder: Path
) -> list[str]:
    """Write the sites' readings of ``(now - TELEMETRY_DAYS, now]`` into ``folder``.

    Returns
    -------
    list of str
        Notes: the steps left out and why.
    """
    folder.mkdir(parents=True, exist_ok=True)
    last = now.astimezone(dt.UTC).replace(tzinfo=None)
    first = last - dt.timedelta(days=TELEMETRY_DAYS)
    notes: list[str] = []
    soc_rows = []
    for ref in sites:
        wide = _frame(sessions, ref, first, last)
        if wide.empty:
            continue
        _write(wide, ["load_kw"], folder / f"load-{ref.site}.csv", notes)
        pv = [c for c in ref.channels if c.endswith("_pv_kw")]
        _write(wide, pv, folder / f"pv-{ref.site}.csv", notes)
        _write(wide, ["import_kw", "export_kw"], folder / f"grid-{ref.site}.csv", notes)
        for column in [c for c in wide.columns if c.endswith("_soc_kwh")]:
            battery = column.removesuffix("_soc_kwh")
            for stamp, value in wide[column].dropna().items():
                soc_rows.append((ref.site, battery, stamp.isoformat(), value))
    if soc_rows:
        soc = pd.DataFrame(soc_rows, columns=["site", "battery", "timestamp", "soc_kwh"])
        soc.to_csv(folder / "soc.csv", index=False, float_format="%.10g")
    return notes
