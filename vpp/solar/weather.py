"""Weather for PV models: reading weather files, checking them, putting them on a run's index.

:func:`read_weather` reads one file into a :class:`Weather`: a timezone-aware, regular frame of
``ghi``, ``dni``, ``dhi`` [W/m^2], ``temp_air`` [degC] and ``wind_speed`` [m/s] whose labels are
the START of each interval and whose values are interval means. :func:`weather_on_index` puts it
on a run's index, re-mapping a typical year onto the run's years.

======  =================  =============================================================
format  pvlib reader       timestamps in the file -> interval starts
======  =================  =============================================================
epw     read_epw           hourly, local standard time (header TZ); ``hour`` h (1..24) ends
                           its interval: start = h - 1
tmy3    read_tmy3          hourly, local standard time (header TZ); ``Time`` 01:00..24:00
                           ends its interval: start = time - 1 h
pvgis   read_pvgis_tmy     hourly, UTC; ``HH:00`` taken as the start of its hour (PVGIS gives
                           ERA5 hourly means, or SARAH instants at HH:00 plus the file's
                           "irradiance time offset", about 10 min; noted, not shifted)
psm3    read_nsrdb_psm4    NSRDB CSV (PSM3/PSM4 layout) in the header's ``Time Zone``; times at
                           the middle of the step (HH:30 hourly, NSRDB practice since 2019)
                           move back half a step; times on the step are taken as starts
csv     (vpp)              leading lines starting with ``#`` are skipped (a header); first
                           column: ISO 8601 with offset, or naive with ``timezone``;
                           ``interval_label`` "start" (default), "end" (start = label - step)
                           or "instant" (the interval from a row to the next gets the mean of
                           the two; the last row starts no interval)
======  =================  =============================================================

EPW, TMY3 and PVGIS files are typical years, and so is a PSM3 file whose ``Year`` changes while
its times go back (months of different years). Typical years are put on the non-leap year
:data:`TYPICAL_REFERENCE_YEAR` in the local time of the data (Feb 29 dropped, noted).
A ``timezone`` must agree with the offset a file states; the result is in that zone unless it
has daylight saving, in which case the data stay in the file's standard time (noted).

CSV columns: ``ghi``, ``dni``, ``dhi`` [W/m^2], ``temp_air`` [degC], ``wind_speed`` [m/s], or
``cloud_cover`` [%] in place of irradiance (forecasts); ``temp_air``, ``wind_speed`` and one of
``ghi`` / ``cloud_cover`` are required. Missing ``dni`` and ``dhi`` are decomposed from ``ghi``
with Erbs et al. (1982); if one of them is given, the other closes ``ghi = dhi + dni cos z``.
Cloud cover becomes irradiance through :func:`cloud_cover_to_irradiance`.

Checks on every read, collected into one :class:`~vpp.errors.DataError` whose problems name the
file, column, first timestamp (and file line), value, what is allowed and how to fix it:

- the needed columns exist (the message lists those present);
- irradiance >= -5 W/m^2 (values in [-5, 0) are set to 0 and noted);
- ``ghi <= 1.1 * extraterrestrial horizontal + 50 W/m^2`` and ``dni <= 1.1 * extraterrestrial
  normal``, where extraterrestrial horizontal is ``get_extra_radiation * max(cos zenith, 0)``
  averaged over the interval: a tolerant test that catches sunlight at night (a wrong time zone
  or interval label) and wrong units. Without a location it is skipped (noted);
- irradiance <= 1605 W/m^2 (1.1 x extraterrestrial at perihelion + 50), with or without a
  location, so that no infinite or absurd value passes;
- ``temp_air`` in -50..60 degC, ``wind_speed`` in 0..60 m/s, ``cloud_cover`` in 0..100 %;
- gaps (empty cells, missing-data codes, missing rows): runs of at most ``max_gap_steps`` steps
  are filled by linear interpolation (the nearest value at the ends) and listed in the notes;
  longer runs are refused, naming their first and last timestamps.

Sun geometry and decomposition are those of :mod:`vpp.solar.irradiance`: sun positions by
``pvlib.solarposition.ephemeris``, interval quantities as means over sub-steps of at most
15 min, and decomposition from the interval mean of ``max(cos zenith, 0)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from vpp.errors import DataError, Problem
from vpp.solar.irradiance import decompose_ghi, interval_sun
from vpp.solar.weather_files import (
    READERS,
    TYPICAL_REFERENCE_YEAR,
    WEATHER_COLUMNS,
    RawWeather,
    ReadContext,
    mode_step_ns,
    to_reference_year,
)

__all__ = [
    "CLOUD_OFFSET_FRACTION",
    "FORMATS",
    "TYPICAL_REFERENCE_YEAR",
    "WEATHER_COLUMNS",
    "Weather",
    "cloud_cover_to_irradiance",
    "read_weather",
    "weather_on_index",
]

FORMATS = ("epw", "tmy3", "pvgis", "psm3", "csv")
CLOUD_OFFSET_FRACTION = 0.35
"""Share of clear-sky GHI left at 100 % cloud cover (Larson et al. 2016, pvlib forecast) [-]."""
NEGATIVE_TOLERANCE_W_PER_M2 = 5.0
ET_FACTOR = 1.1
ET_MARGIN_W_PER_M2 = 50.0
IRRADIANCE_MAX_W_PER_M2 = ET_FACTOR * 1414.0 + ET_MARGIN_W_PER_M2
"""Most irradiance anywhere, located or not: 1.1 x the extraterrestrial irradiance at
perihelion (1414 W/m^2) + 50 W/m^2 = 1605 W/m^2 [W/m^2]."""
RANGES = {"temp_air": (-50.0, 60.0), "wind_speed": (0.0, 60.0), "cloud_cover": (0.0, 100.0)}
"""Allowed values [degC, m/s, %]."""

_IRR = ("ghi", "dni", "dhi")
_UNITS = {"temp_air": "degC", "wind_speed": "m/s", "cloud_cover": "%"}
_FIX_SUN = (
    "check the time zone and interval labels (values shifted by hours put sunlight at night), "
    "the site location and the units (W/m^2 means, not Wh or J)"
)


@dataclass(frozen=True, eq=False)
class Weather:
    """Weather as read and checked: one regular, timezone-aware frame and its provenance.

    Parameters
    ----------
    data : pandas.DataFrame
        Exactly :data:`WEATHER_COLUMNS`: ghi, dni, dhi [W/m^2], temp_air [degC], wind_speed
        [m/s]; a regular tz-aware index with ``freq`` set, each label the START of its
        interval, values interval means. May be shared (cached): do not modify it in place.
    source : str
        Human description, e.g. ``"EPW file /x/y.epw"``.
    typical_year : bool
        Typical-year data (on :data:`TYPICAL_REFERENCE_YEAR`), re-mapped onto the run's years
        by :func:`weather_on_index`.
    notes : tuple of str
        What was filled, decomposed, shifted or assumed, for the user.
    """

    data: pd.DataFrame
    source: str
    typical_year: bool
    notes: tuple[str, ...] = ()


def _step_ns(index: pd.DatetimeIndex) -> int:
    if index.freq is not None:
        return int(pd.Timedelta(index.freq).value)
    diffs = np.unique(np.diff(index.as_unit("ns").asi8))
    if len(diffs) != 1 or diffs[0] <= 0:
        raise ValueError("the index must be regular (one positive step) or have its freq set")
    return int(diffs[0])


def cloud_cover_to_irradiance(
    cloud_cover_pct: np.ndarray | pd.Series | list[float],
    index: pd.DatetimeIndex,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float = 0.0,
    *,
    offset_fraction: float = CLOUD_OFFSET_FRACTION,
) -> pd.DataFrame:
    """Irradiance from cloud cover with the linear model of Larson et al. (2016).

    As in pvlib's former forecast module: ``ghi = clearsky_ghi * (offset + (1 - offset) *
    (1 - cloud_cover / 100))``, with Ineichen clear sky (pvlib's Linke turbidity climatology,
    pressure from altitude) averaged over each interval, then dni and dhi by Erbs et al. (1982).
    0 % cover gives clear sky; 100 % gives ``offset_fraction`` times clear sky.

    Parameters
    ----------
    cloud_cover_pct : array-like
        Total cloud cover of each interval [%], clipped to 0..100.
    index : pandas.DatetimeIndex
        Timezone-aware and regular (or with ``freq``); labels are interval starts.
    latitude_deg, longitude_deg : float
        Site position [deg], north and east positive.
    altitude_m : float
        Site altitude [m].
    offset_fraction : float
        Share of clear-sky GHI left at 100 % cover [0-1].

    Returns
    -------
    pandas.DataFrame
        ``ghi``, ``dni``, ``dhi`` [W/m^2] on ``index``.
    """
    index = pd.DatetimeIndex(index)
    cc = np.asarray(cloud_cover_pct, dtype=float)
    if index.tz is None or cc.shape != (len(index),):
        raise ValueError("need a tz-aware index and one cloud cover [%] per label")
    if len(index) == 0:
        return pd.DataFrame(columns=list(_IRR), index=index, dtype=float)
    t = index.as_unit("ns").asi8
    location = (latitude_deg, longitude_deg, altitude_m)
    sun = interval_sun(t, _step_ns(index), location, clearsky=True)
    ghi = sun["clearsky_ghi"] * (
        offset_fraction + (1.0 - offset_fraction) * (1.0 - np.clip(cc, 0.0, 100.0) / 100.0)
    )
    dni, dhi = decompose_ghi(ghi, sun, t)
    return pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi}, index=index)


def read_weather(
    path: str | Path,
    fmt: str,
    *,
    latitude_deg: float | None = None,
    longitude_deg: float | None = None,
    altitude_m: float = 0.0,
    timezone: str | None = None,
    interval_label: str | None = None,
    max_gap_steps: int = 3,
    where: str = "site.weather",
) -> Weather:
    """Read, check and normalize a weather file (each format: see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        The weather file.
    fmt : {"epw", "tmy3", "pvgis", "psm3", "csv"}
        Its format.
    latitude_deg, longitude_deg : float, optional
        Site position [deg] for the extraterrestrial check, decomposition and cloud cover;
        when not given, the file's own location (all formats but csv state one).
    altitude_m : float
        Site altitude [m], used together with ``latitude_deg`` and ``longitude_deg``.
    timezone : str, optional
        IANA zone. csv: zone of naive timestamps (and of the result), or a check of their
        offsets; other formats: a check against the file's offset (see the module docstring).
    interval_label : {"start", "end", "instant"}, optional
        What csv timestamps label; "start" when not given. Not allowed for other formats.
    max_gap_steps : int
        Longest run of missing steps that is filled by linear interpolation [steps].
    where : str
        Scenario key path used in messages.

    Returns
    -------
    Weather

    Raises
    ------
    DataError
        With every problem found: unreadable file, missing columns, timestamps, time zone,
        non-physical values, gaps.
    """
    path, labels = Path(path), ("start", "end", "instant")
    ctx = ReadContext(path, where)
    if fmt not in FORMATS:
        raise ctx.fail(
            "unknown weather file format",
            key=f"{where}.format",
            value=f"'{fmt}'",
            allowed=", ".join(FORMATS),
            fix="set `format:` to one of these",
        )
    if interval_label is not None and (fmt != "csv" or interval_label not in labels):
        raise ctx.fail(
            "interval_label not allowed",
            key=f"{where}.interval_label",
            value=f"'{interval_label}' for a {fmt} file",
            allowed="start, end or instant, for csv files only",
            fix="correct or remove it",
        )
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
            raise ctx.fail(
                "unknown time zone",
                key=f"{where}.timezone",
                value=f"'{timezone}'",
                allowed="an IANA zone such as Asia/Shanghai",
                fix="correct `timezone:`",
            ) from None
    if not path.is_file():
        raise ctx.fail(
            "weather file does not exist",
            fix="check `file:` (relative paths are resolved against the scenario file's folder)",
        )
    if max_gap_steps < 0:
        raise ValueError(f"max_gap_steps must be >= 0, got {max_gap_steps}")
    try:
        raw = READERS[fmt](ctx, timezone, interval_label or "start")
    except DataError:
        raise
    except Exception as exc:  # any reader failure is the user's file
        raise ctx.fail(
            f"cannot be read as a {fmt} weather file ({type(exc).__name__}: {exc})",
            fix=f"check that the file is a complete {fmt} file as downloaded",
        ) from None
    if latitude_deg is not None and longitude_deg is not None:
        raw.location = (latitude_deg, longitude_deg, altitude_m)
    if timezone is not None and str(raw.tz) != timezone:
        raw.notes.append(f"data kept in the file's {raw.tz}: {timezone} has daylight saving")
    return _finish(ctx, raw, max_gap_steps)


def _finish(ctx: ReadContext, raw: RawWeather, max_gap: int) -> Weather:
    """Regular grid, checks, gaps, labels, decomposition: the checked :class:`Weather`."""
    ctx.tz, ctx.line0 = raw.tz, raw.line0
    if ctx.problems:
        raise DataError(ctx.problems)
    t, rows = raw.t, np.arange(len(raw.t))
    if raw.typical:
        t, rows = to_reference_year(t, raw.tz)
        if len(rows) < len(raw.t):
            raw.notes.append("Feb 29 dropped from the typical year (Feb 28 stands in for it)")
        order = np.argsort(t, kind="stable")
        t, rows = t[order], rows[order]
    ctx.rows, diffs = rows, np.diff(t)
    step = mode_step_ns(t)
    for bad, what in (
        (diffs == 0, "the same time twice" + " once put on one year" * raw.typical),
        (diffs < 0, "times going backwards"),
        (diffs % step != 0, f"times off the file's step of {step / 6e10:g} min"),
    ):
        if bad.any():
            i = int(np.argmax(bad)) + 1
            raise ctx.fail(
                f"the timestamps give {what}",
                timestamp=ctx.at(t[i], i),
                allowed="one row per step, in time order",
                fix="correct or sort the rows",
            )
    grid = np.arange(t[0], t[-1] + step, step, dtype=np.int64)
    pos = (t - t[0]) // step
    ctx.rows = np.full(len(grid), -1, dtype=np.int64)
    ctx.rows[pos] = rows
    values = raw.values.iloc[rows].set_axis(pos).reindex(np.arange(len(grid)))
    sun = interval_sun(grid, step, raw.location, instant=raw.instant) if raw.location else None
    if raw.location is None:
        raw.notes.append("no site location: the extraterrestrial-irradiance check was skipped")
    _check_values(ctx, grid, values, sun)
    _fill_gaps(ctx, grid, values, max_gap, raw.notes)
    if ctx.problems:
        raise DataError(ctx.problems)
    for col in _IRR:
        if col in values and (small := values[col] < 0).any():
            values.loc[small, col] = 0.0
            raw.notes.append(f"{col}: {int(small.sum())} small negative value(s) set to 0")
    if raw.instant:
        pairs = (values.iloc[:-1].to_numpy() + values.iloc[1:].to_numpy()) / 2.0
        values, grid = pd.DataFrame(pairs, columns=values.columns), grid[:-1]
        raw.notes.append(
            "csv instants averaged pairwise into intervals (from each row to the "
            "next); the last row starts no interval"
        )
        sun = interval_sun(grid, step, raw.location) if raw.location else None
    _complete(ctx, grid, values, sun, raw.location, raw.notes, step)
    start = pd.Timestamp(int(grid[0]), tz="UTC").tz_convert(raw.tz)
    index = pd.date_range(start, periods=len(grid), freq=pd.Timedelta(step))
    data = pd.DataFrame({c: values[c].to_numpy(dtype=float) for c in WEATHER_COLUMNS}, index=index)
    return Weather(data, raw.source, raw.typical, tuple(raw.notes))


def _check_values(
    ctx: ReadContext, t: np.ndarray, values: pd.DataFrame, sun: dict[str, np.ndarray] | None
) -> None:
    """One problem per column and kind of non-physical value (NaN ignored)."""
    checks = []  # column, limit array, sign (+1: at most, -1: at least), what, allowed, fix
    for col in _IRR:
        if col in values:
            checks.append(
                (
                    col,
                    -NEGATIVE_TOLERANCE_W_PER_M2,
                    -1,
                    "negative irradiance",
                    "{:g} W/m^2 or more (small negatives become 0)",
                    "correct the values: beyond a small sensor offset at night, negative "
                    "irradiance means a broken record or a wrong column",
                )
            )
            if sun is None or col not in ("ghi", "dni"):  # else the tighter caps below
                too_high = "irradiance above any on earth"
                fix = "correct the values or their units (W/m^2)"
                allowed = "at most {:.0f} W/m^2"
                checks.append((col, IRRADIANCE_MAX_W_PER_M2, 1, too_high, allowed, fix))
    if sun is not None:
        cap = ET_FACTOR * sun["et_horizontal"] + ET_MARGIN_W_PER_M2
        checks.append(
            (
                "ghi",
                cap,
                1,
                "ghi above extraterrestrial irradiance",
                "at most 1.1 x extraterrestrial horizontal + 50 W/m^2 = {:.0f} W/m^2",
                _FIX_SUN,
            )
        )
        checks.append(
            (
                "dni",
                ET_FACTOR * sun["dni_extra"],
                1,
                "dni above extraterrestrial irradiance",
                "at most 1.1 x extraterrestrial = {:.0f} W/m^2",
                _FIX_SUN,
            )
        )
    for col, (lo, hi) in RANGES.items():
        for limit, sign in ((lo, -1), (hi, 1)):
            checks.append(
                (
                    col,
                    limit,
                    sign,
                    f"{col} out of range",
                    f"{lo:g} to {hi:g} {_UNITS[col]}",
                    "correct the values or their units",
                )
            )
    for col, limit, sign, what, allowed, fix in checks:
        if col not in values:
            continue
        v = values[col].to_numpy()
        lim = np.broadcast_to(np.asarray(limit, dtype=float), v.shape)
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(sign * (v - lim) > 0)
        if len(bad):
            i = int(bad[0])
            ctx.add(
                f"{what}: {len(bad)} value(s), the first",
                col,
                timestamp=ctx.at(t[i], i),
                value=f"{v[i]:g} {_UNITS.get(col, 'W/m^2')}",
                allowed=allowed.format(lim[i]),
                fix=fix,
            )


def _fill_gaps(
    ctx: ReadContext, t: np.ndarray, values: pd.DataFrame, max_gap: int, notes: list[str]
) -> None:
    """Interpolate runs of at most ``max_gap`` missing steps (noted); refuse longer runs."""
    for col in values.columns:
        nan = values[col].isna().to_numpy()
        if not nan.any():
            continue
        edges = np.diff(np.concatenate([[0], nan.astype(np.int8), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        long = np.flatnonzero(stops - starts > max_gap)
        if len(long) or nan.all():
            a, b = (int(starts[long[0]]), int(stops[long[0]]) - 1) if len(long) else (0, len(t) - 1)
            ctx.add(
                f"{len(long) or 1} gap(s) longer than {max_gap} step(s) with no value (empty "
                f"cells, missing-data codes or missing rows); the first, of {b - a + 1} step(s), "
                f"starts",
                col,
                timestamp=ctx.at(t[a], a),
                value=f"nothing up to {ctx.at(t[b], b)}",
                allowed=f"gaps of at most {max_gap} step(s) (filled by linear interpolation)",
                fix="fill the gap from another source, or raise `max_gap_steps:`",
            )
            continue
        values[col] = values[col].interpolate(limit_direction="both")
        spans = [f"{ctx.at(t[a])} ({b - a} step(s))" for a, b in zip(starts[:5], stops[:5])]
        more = f" and {len(starts) - 5} more" if len(starts) > 5 else ""
        notes.append(
            f"{col}: {len(starts)} gap(s) filled by linear interpolation: {', '.join(spans)}{more}"
        )


def _complete(
    ctx: ReadContext,
    t: np.ndarray,
    values: pd.DataFrame,
    sun: dict[str, np.ndarray] | None,
    location: tuple[float, float, float] | None,
    notes: list[str],
    step: int,
) -> None:
    """Derive ghi from cloud cover, and dni/dhi from ghi, in place."""
    have = set(values.columns)
    if have >= set(_IRR):
        return
    if sun is None or location is None:
        raise ctx.fail(
            "the site location is needed to derive irradiance from "
            + ("cloud_cover" if "ghi" not in have else "ghi"),
            allowed="latitude_deg and longitude_deg with the file",
            fix="give the site's location, or dni and dhi in the file",
        )
    if "ghi" not in have:
        start = pd.Timestamp(int(t[0]), tz="UTC")
        index = pd.date_range(start, periods=len(t), freq=pd.Timedelta(step))
        sky = cloud_cover_to_irradiance(values["cloud_cover"].to_numpy(), index, *location)
        for col in _IRR:
            values[col] = sky[col].to_numpy()
        notes.append(
            f"ghi from cloud_cover: clear-sky ghi x ({CLOUD_OFFSET_FRACTION:g} + "
            f"{1 - CLOUD_OFFSET_FRACTION:g} x (1 - cloud_cover/100)); dni, dhi by Erbs"
        )
        return
    dni = values["dni"].to_numpy() if "dni" in have else None
    dhi = values["dhi"].to_numpy() if "dhi" in have else None
    values["dni"], values["dhi"] = decompose_ghi(values["ghi"].to_numpy(), sun, t, dni, dhi)
    how = "Erbs decomposition of ghi" if dni is None and dhi is None else "ghi = dhi + dni cos z"
    notes.append(f"{' and '.join(c for c in ('dni', 'dhi') if c not in have)} from {how}")


def weather_on_index(
    weather: Weather, index: pd.DatetimeIndex, *, where: str = "site.weather"
) -> pd.DataFrame:
    """:data:`WEATHER_COLUMNS` on exactly ``index``.

    Typical-year data are matched by local month, day and time of day in the zone of
    ``weather.data`` (Feb 29 takes Feb 28); other data by absolute time. Data finer than the
    index are averaged over each step; coarser data are held (repeated) over the steps inside
    each of their intervals.

    Parameters
    ----------
    weather : Weather
        From :func:`read_weather` or :func:`vpp.solar.typical_year.suzhou_typical_year`.
    index : pandas.DatetimeIndex
        Timezone-aware and regular (or with ``freq``); labels are interval starts.
    where : str
        Scenario key path used in messages.

    Returns
    -------
    pandas.DataFrame
        ghi, dni, dhi [W/m^2], temp_air [degC], wind_speed [m/s], indexed by ``index``.

    Raises
    ------
    DataError
        If one step is not a multiple of the other, or the weather does not cover ``index``
        (naming the first step without weather).
    """
    index = pd.DatetimeIndex(index)
    if index.tz is None:
        raise ValueError("the index must be timezone-aware (labels = interval starts)")
    if len(index) == 0:
        return pd.DataFrame(columns=list(WEATHER_COLUMNS), index=index, dtype=float)
    data = weather.data
    f = _step_ns(data.index)
    h = _step_ns(index) if len(index) > 1 or index.freq is not None else f
    t = index.as_unit("ns").asi8
    problem = {"key": where, "timestamp": index[0].isoformat()}
    if max(f, h) % min(f, h):
        raise DataError(
            Problem(
                f"weather step ({f / 6e10:g} min) and run step ({h / 6e10:g} min) are not multiples"
                " of each other",
                value=weather.source,
                allowed="one step a multiple of the other",
                fix="resample the weather file",
                **problem,
            )
        )
    if h >= f:  # mean of the h // f weather steps inside each step
        src = t[None, :] + (np.arange(h // f, dtype=np.int64) * f)[:, None]
    else:  # hold: the weather step holding each label
        phase = int(data.index[0].value) % f
        src = ((t - phase) // f * f + phase)[None, :]
    w_ns = data.index.as_unit("ns").asi8
    if weather.typical_year:
        keys = pd.Index(_day_keys(w_ns, data.index.tz))
        pos = keys.get_indexer(_day_keys(src.ravel(), data.index.tz)).reshape(src.shape)
    else:
        pos = pd.Index(w_ns).get_indexer(src.ravel()).reshape(src.shape)
    missing = (pos < 0).any(axis=0)
    if missing.any():
        problem["timestamp"] = index[int(np.argmax(missing))].isoformat()
        end = (data.index[-1] + pd.Timedelta(f)).isoformat()
        raise DataError(
            Problem(
                "the weather does not cover the run; first step without weather",
                value=f"{weather.source}: {data.index[0].isoformat()} to {end}",
                allowed="weather for every step of the run",
                fix="use a weather file that covers the run, or a typical year",
                **problem,
            )
        )
    values = data.to_numpy(dtype=float)[pos].mean(axis=0)
    return pd.DataFrame(values, index=index, columns=list(WEATHER_COLUMNS))


def _day_keys(t: np.ndarray, tz: Any) -> np.ndarray:
    """Local (month, day, second of day) in ``tz`` as one integer; Feb 29 becomes Feb 28."""
    local = pd.DatetimeIndex(t, tz="UTC").tz_convert(tz)
    month, day = local.month.to_numpy(np.int64), local.day.to_numpy(np.int64)
    day = np.where((month == 2) & (day == 29), 28, day)
    return (month * 32 + day) * 86400 + local.tz_localize(None).as_unit("s").asi8 % 86400
