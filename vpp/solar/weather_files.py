"""Readers of weather files (EPW, TMY3, PVGIS, PSM3, CSV) into one raw form.

Each reader turns its format into :class:`RawWeather`: times in UTC [ns] labelling interval
starts (or instants), pvlib glossary columns, the file's own location and notes.
:func:`vpp.solar.weather.read_weather` picks the reader from :data:`READERS`, collects the
problems in a :class:`ReadContext`, then checks, fills and completes the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from vpp.csv_delimiter import delimiter_problem
from vpp.errors import DataError, Problem, clip

__all__ = [
    "READERS",
    "TYPICAL_REFERENCE_YEAR",
    "WEATHER_COLUMNS",
    "RawWeather",
    "ReadContext",
    "mode_step_ns",
    "to_reference_year",
]

WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""Columns of weather data [W/m^2, W/m^2, W/m^2, degC, m/s]."""
TYPICAL_REFERENCE_YEAR = 2025
"""The non-leap year that typical-year data are put on [-]."""
_NS_H = 3_600_000_000_000
_EPW_MISSING = {"ghi": 9999.0, "dni": 9999.0, "dhi": 9999.0, "temp_air": 99.9, "wind_speed": 999.0}
_PVGIS = {"G(h)": "ghi", "Gb(n)": "dni", "Gd(h)": "dhi", "T2m": "temp_air", "WS10m": "wind_speed"}
_FIX_TZ = "remove `timezone:` (the file states its own) or give the zone the file is written in"


@dataclass
class RawWeather:
    """A file as read: one entry per data row, times as UTC [ns] (interval starts or instants).

    Parameters
    ----------
    t : numpy.ndarray
        Time of each data row, UTC [ns].
    tz : str or datetime.tzinfo
        Zone the data are written in, and of the result.
    values : pandas.DataFrame
        The weather columns found (pvlib names, and ``cloud_cover``), one row per data row
        [W/m^2, degC, m/s, %].
    source : str
        Human description, e.g. ``"EPW file /x/y.epw"``.
    line0 : int or None
        Line of the file holding data row 0, for messages [-].
    typical : bool
        A typical year, to be put on :data:`TYPICAL_REFERENCE_YEAR`.
    instant : bool
        Times are instants, not interval starts.
    location : tuple of float or None
        Latitude, longitude [deg] and altitude [m] the file states, if any.
    notes : list of str
        What was assumed or changed while reading, for the user.
    """

    t: np.ndarray
    tz: Any
    values: pd.DataFrame
    source: str
    line0: int | None = None  # line of the file holding data row 0
    typical: bool = False
    instant: bool = False
    location: tuple[float, float, float] | None = None
    notes: list[str] = field(default_factory=list)


class ReadContext:
    """The problems of one :func:`~vpp.solar.weather.read_weather` call and how to name places.

    Parameters
    ----------
    path : pathlib.Path
        The weather file.
    where : str
        Scenario key path used in messages.

    Attributes
    ----------
    problems : list of vpp.errors.Problem
        Problems found so far.
    tz : str or datetime.tzinfo
        Zone in which :meth:`at` writes times.
    line0 : int or None
        Line of the file holding data row 0.
    rows : numpy.ndarray
        Data row of each element of the times being checked, -1 where none.
    """

    def __init__(self, path: Path, where: str):
        self.path, self.where = path, where
        self.problems: list[Problem] = []
        self.tz: Any = "UTC"
        self.line0: int | None = None
        self.rows = np.empty(0, dtype=np.int64)  # data row of each element, -1 if none

    def add(self, message: str, col: str = "", *, key: str = "", **kw: str | None) -> None:
        """Record a problem about column ``col`` or about the scenario key ``key``."""
        full = key or (f"{self.where} column '{col}'" if col else self.where)
        self.problems.append(Problem(message, file=str(self.path), key=full, **kw))

    def fail(self, message: str, col: str = "", *, key: str = "", **kw: str | None) -> DataError:
        """Record a problem as :meth:`add` does; the error with every problem, to raise."""
        self.add(message, col, key=key, **kw)
        return DataError(self.problems)

    def at(self, t_ns: int, i: int | None = None) -> str:
        """ISO time of ``t_ns`` in the data's zone, with the file line of element ``i``."""
        text = pd.Timestamp(int(t_ns), tz="UTC").tz_convert(self.tz).isoformat()
        row = int(self.rows[i]) if i is not None and len(self.rows) else -1
        if row >= 0:
            text += f" (line {self.line0 + row} of the file)" if self.line0 else f" (row {row + 1})"
        return text


def mode_step_ns(t: np.ndarray) -> int:
    """The most common positive step between times ``t`` [ns]; one hour without any [ns]."""
    diffs = np.diff(t)
    diffs = diffs[diffs > 0]
    return int(pd.Series(diffs).mode().iloc[0]) if len(diffs) else _NS_H


def _localize_fixed(
    ctx: ReadContext, naive: pd.DatetimeIndex, offset_h: float, timezone: str | None
) -> tuple[np.ndarray, Any]:
    """UTC [ns] of local standard times at ``offset_h`` [h], and the zone of the result."""
    fixed = dt.timezone(dt.timedelta(hours=offset_h))
    t = naive.tz_localize(fixed).as_unit("ns").asi8
    if timezone is None:
        return t, fixed
    probe = pd.DatetimeIndex([t[0], t[0] + 182 * 24 * _NS_H], tz="UTC").tz_convert(timezone)
    offsets = {ts.utcoffset().total_seconds() / 3600 for ts in probe}
    if offset_h not in offsets:
        raise ctx.fail(
            "time zone contradicts the file's metadata",
            key=f"{ctx.where}.timezone",
            timestamp=f"{naive[0].isoformat()} (first row, file time)",
            value=f"'{timezone}' (UTC{min(offsets):+g}) for a file in UTC{offset_h:+g}",
            allowed=f"a zone at UTC{offset_h:+g}",
            fix=_FIX_TZ,
        )
    return t, (timezone if len(offsets) == 1 else fixed)


def _read_epw(ctx: ReadContext, timezone: str | None, _label: str) -> RawWeather:
    data, meta = pvlib.iotools.read_epw(ctx.path)
    hours = pd.to_timedelta(data["hour"] - 1, unit="h")
    naive = pd.DatetimeIndex(pd.to_datetime(data[["year", "month", "day"]]) + hours)
    t, tz = _localize_fixed(ctx, naive, float(meta["TZ"]), timezone)
    values = data[list(WEATHER_COLUMNS)].astype(float).reset_index(drop=True)
    codes = values.eq(pd.Series(_EPW_MISSING)).to_numpy()
    notes = [f"{int(codes.sum())} EPW missing-data code(s) treated as gaps"] if codes.any() else []
    location = (meta["latitude"], meta["longitude"], meta["altitude"])
    return RawWeather(
        t, tz, values.mask(codes), f"EPW file {ctx.path}", 9, True, False, location, notes
    )


def _read_tmy3(ctx: ReadContext, timezone: str | None, _label: str) -> RawWeather:
    data, meta = pvlib.iotools.read_tmy3(ctx.path, map_variables=True)
    data = data.reset_index(drop=True)
    hhmm = data["Time (HH:MM)"].str.split(":", expand=True).astype(int)
    day = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
    naive = pd.DatetimeIndex(day + pd.to_timedelta(hhmm[0] * 60 + hhmm[1] - 60, unit="min"))
    t, tz = _localize_fixed(ctx, naive, float(meta["TZ"]), timezone)
    location = (meta["latitude"], meta["longitude"], meta["altitude"])
    return RawWeather(t, tz, _columns(ctx, data), f"TMY3 file {ctx.path}", 3, True, False, location)


def _read_pvgis(ctx: ReadContext, timezone: str | None, label: str) -> RawWeather:
    if ctx.path.suffix.lower() == ".epw":
        raw = _read_epw(ctx, timezone, label)
        raw.source = f"PVGIS TMY (EPW) file {ctx.path}"
        return raw
    data, meta = pvlib.iotools.read_pvgis_tmy(ctx.path, map_variables=False)
    inputs = meta.get("inputs", {})
    loc = inputs.get("location", inputs)
    t = data.index.as_unit("ns").asi8
    tz: Any = "UTC"
    if timezone is not None:  # the data are in UTC: any zone without daylight saving will do
        probe = pd.DatetimeIndex([t[0], t[0] + 182 * 24 * _NS_H], tz="UTC").tz_convert(timezone)
        tz = timezone if probe[0].utcoffset() == probe[1].utcoffset() else "UTC"
    notes = ["PVGIS times (UTC, HH:00) taken as the start of the hour they stand for"]
    if (offset := inputs.get("irradiance time offset")) is not None:
        notes.append(f"PVGIS irradiance time offset {float(offset):g} h: not shifted")
    location = None
    if "latitude" in loc:
        location = (float(loc["latitude"]), float(loc["longitude"]), float(loc["elevation"]))
    values = _columns(ctx, data.rename(columns=_PVGIS).reset_index(drop=True))
    return RawWeather(
        t, tz, values, f"PVGIS TMY file {ctx.path}", None, True, False, location, notes
    )


def _read_psm3(ctx: ReadContext, timezone: str | None, _label: str) -> RawWeather:
    data, meta = pvlib.iotools.read_nsrdb_psm4(str(ctx.path), map_variables=True)
    data = data.reset_index(drop=True)
    parts = data[["Year", "Month", "Day", "Hour", "Minute"]]
    naive = pd.DatetimeIndex(pd.to_datetime(parts.set_axis([c.lower() for c in parts], axis=1)))
    naive = naive.as_unit("ns")
    typical = data["Year"].nunique() > 1 and not naive.is_monotonic_increasing
    step = mode_step_ns(naive.asi8)
    if step <= _NS_H and (naive.asi8 % step == step // 2).all():
        naive = naive - pd.Timedelta(step // 2)
        note = "NSRDB times at the middle of each step moved back half a step to interval starts"
    else:
        note = "NSRDB times taken as interval starts"
    t, tz = _localize_fixed(ctx, naive, float(meta["Time Zone"]), timezone)
    location = (meta["latitude"], meta["longitude"], meta["altitude"])
    source = f"NSRDB PSM3 file {ctx.path}"
    return RawWeather(t, tz, _columns(ctx, data), source, 4, typical, False, location, [note])


def _columns(ctx: ReadContext, data: pd.DataFrame, line0: int | None = None) -> pd.DataFrame:
    """The weather columns of ``data`` as floats; missing columns and non-numbers refused.

    ``line0``: the file line of data row 0 of a csv file (whose rules apply), else None."""
    csv = line0 is not None
    names = [str(c).strip() for c in data.columns]
    data = data.set_axis(names, axis=1)
    have = [c for c in (*WEATHER_COLUMNS, "cloud_cover") if c in names]
    need = [c for c in ("temp_air", "wind_speed") if c not in have]
    if "ghi" not in have and "cloud_cover" not in have:
        need.insert(0, "ghi or cloud_cover" if csv else "ghi")
    need += [] if csv else [c for c in ("dni", "dhi") if c not in have]
    if need:
        raise ctx.fail(
            f"weather file misses column(s): {', '.join(need)}",
            value="columns "
            + (", ".join(f"'{clip(c, 40)}'" for c in names[:12]) or "none")
            + (f" and {len(names) - 12} more" if len(names) > 12 else ""),
            allowed=", ".join(WEATHER_COLUMNS) + (" (dni, dhi optional) or cloud_cover" * csv),
            fix="add or rename the columns (pvlib names; W/m^2, degC, m/s, cloud_cover in %)",
        )
    raw = data[have]
    values = raw.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = values.isna().to_numpy() & raw.notna().to_numpy()
    for j in np.flatnonzero(bad.any(axis=0)):
        i = int(np.argmax(bad[:, j]))
        ctx.add(
            f"{int(bad[:, j].sum())} value(s) are not numbers, the first",
            have[j],
            timestamp=f"line {i + line0} of the file" if line0 else f"data row {i + 1}",
            value=f"'{clip(str(raw.iloc[i, j]))}'",
            allowed="numbers",
            fix="correct them",
        )
    return values


def _read_csv(ctx: ReadContext, timezone: str | None, label: str) -> RawWeather:
    with open(ctx.path, encoding="utf-8-sig") as lines:  # leading '#' lines: a header
        n_head, header = next(
            ((i, line) for i, line in enumerate(lines) if not line.startswith("#")), (0, "")
        )
    wrong = delimiter_problem(header, file=str(ctx.path), key=ctx.where)
    if wrong is not None:
        raise DataError([*ctx.problems, wrong])
    frame = pd.read_csv(
        ctx.path, dtype=str, skipinitialspace=True, skiprows=n_head, encoding="utf-8-sig"
    )
    line0 = n_head + 2
    if len(frame) < 2:
        raise ctx.fail(
            "weather file has fewer than two data rows",
            value=f"{len(frame)} rows",
            fix="give at least two rows, so that the step is known",
        )
    values = _columns(ctx, frame.iloc[:, 1:], line0)
    col, text = str(frame.columns[0]), frame.iloc[:, 0].fillna("").str.strip()
    off = text.str.extract(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})$")[0]
    aware = off.notna().to_numpy()
    parsed = pd.to_datetime(text, errors="coerce", utc=bool(aware[0]), format="ISO8601")
    bad = parsed.isna().to_numpy() | (aware != aware[0])
    if bad.any() or (not aware[0] and timezone is None):
        i = int(np.argmax(bad)) if bad.any() else 0
        raise ctx.fail(
            f"timestamp in '{col}' " + ("cannot be read" if bad.any() else "has no time zone"),
            col,
            timestamp=f"line {i + line0} of the file",
            value=f"'{clip(text.iloc[i])}'",
            allowed="ISO 8601, all with a UTC offset (2026-01-01T00:00+08:00), or all without "
            "and `timezone:` set",
            fix="correct the timestamps or set `timezone:`",
        )
    if aware[0]:
        t = pd.DatetimeIndex(parsed).as_unit("ns").asi8
        hhmm = off.str.replace("Z", "+00:00").str.replace(":", "")
        sign = np.where(hhmm.str[0] == "-", -1, 1)
        minutes = sign * (hhmm.str[1:3].astype(int) * 60 + hhmm.str[3:5].astype(int)).to_numpy()
        tz: Any = timezone or (
            dt.timezone(dt.timedelta(minutes=int(minutes[0])))
            if (minutes == minutes[0]).all()
            else "UTC"
        )
        local = pd.DatetimeIndex(t, tz="UTC").tz_convert(tz)
        wrong = np.flatnonzero((local.tz_localize(None).asi8 - t) // 60_000_000_000 != minutes)
        if timezone is not None and len(wrong):
            i = int(wrong[0])
            raise ctx.fail(
                "timestamp offsets contradict the time zone",
                key=f"{ctx.where}.timezone",
                timestamp=f"{text.iloc[i]} (line {i + line0} of the file)",
                value=f"'{timezone}', which is {local[i].isoformat()[-6:]} there",
                allowed=f"the offsets of {timezone}",
                fix=_FIX_TZ,
            )
    else:
        local = pd.DatetimeIndex(parsed).tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        if local.isna().any():
            i = int(np.argmax(local.isna()))
            raise ctx.fail(
                f"local time does not exist or is ambiguous in {timezone}",
                col,
                timestamp=f"line {i + line0} of the file",
                value=f"'{clip(text.iloc[i])}'",
                allowed="local times that occur once",
                fix="write timestamps with offsets",
            )
        t, tz = local.as_unit("ns").asi8, timezone
    notes = [] if label == "instant" else [f"csv times taken as interval {label}s"]
    if label == "end":
        t = t - mode_step_ns(t)
    source = f"CSV weather file {ctx.path}"
    return RawWeather(t, tz, values, source, line0, False, label == "instant", None, notes)


READERS = {
    "epw": _read_epw,
    "tmy3": _read_tmy3,
    "pvgis": _read_pvgis,
    "psm3": _read_psm3,
    "csv": _read_csv,
}
"""Reader of each format: ``(context, timezone, interval_label) -> RawWeather``."""


def to_reference_year(t: np.ndarray, tz: Any) -> tuple[np.ndarray, np.ndarray]:
    """Times put on :data:`TYPICAL_REFERENCE_YEAR` in local time, Feb 29 dropped.

    Parameters
    ----------
    t : numpy.ndarray
        Times, UTC [ns].
    tz : str or datetime.tzinfo
        Zone whose local month, day and time of day are kept.

    Returns
    -------
    tuple of numpy.ndarray
        The times on the reference year, UTC [ns], and the positions in ``t`` kept.
    """
    local = pd.DatetimeIndex(t, tz="UTC").tz_convert(tz)
    keep = np.flatnonzero(~((local.month == 2) & (local.day == 29)))
    wall = local[keep].tz_localize(None)
    days = pd.DataFrame({"year": TYPICAL_REFERENCE_YEAR, "month": wall.month, "day": wall.day})
    naive = pd.to_datetime(days).to_numpy() + (wall - wall.normalize()).to_numpy()
    return pd.DatetimeIndex(naive).tz_localize(tz).as_unit("ns").asi8, keep
