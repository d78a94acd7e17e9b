"""The run's time axis (:class:`Horizon`) and reading checked series onto it.

Every series in a run lives on one :class:`Horizon`: a timezone-aware, regular
index whose labels are the starts of their intervals. :func:`read_series` reads
one column of a CSV or Parquet file, checks it, brings it to the horizon's step
(only when asked to) and returns a plain array aligned to ``horizon.index``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from vpp.csv_delimiter import delimiter_problem
from vpp.errors import DataError, Problem, clip
from vpp.series_bounds import Bound, row_problems

__all__ = ["SERIES_LIMIT", "Horizon", "read_series"]

#: Largest absolute value of a series, after its scale, in its unit [kW, CNY/kWh, ...]:
#: no physical series of a scenario comes near, and larger numbers break the solver.
SERIES_LIMIT = 1e9

_NS_PER_H = 3_600_000_000_000
_NS_PER_MIN = 60_000_000_000
_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_RESAMPLE = ("none", "mean", "hold")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True, eq=False)
class Horizon:
    """The time axis of a run: one step size, labels at the start of each interval.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timezone-aware, regular in absolute time, ``freq`` set; each label is the
        start of its interval.
    step_h : float
        Length of one step [h], e.g. 0.25 or 1.0.
    """

    index: pd.DatetimeIndex
    step_h: float

    def __post_init__(self) -> None:
        idx = self.index
        if not isinstance(idx, pd.DatetimeIndex) or idx.tz is None:
            raise ValueError("Horizon.index must be a timezone-aware pandas.DatetimeIndex")
        if len(idx) == 0 or idx.freq is None:
            raise ValueError("Horizon.index must hold at least one step and have its freq set")
        if not self.step_h > 0:
            raise ValueError(f"Horizon.step_h must be positive, got {self.step_h}")
        step_ns = _step_ns(self.step_h)
        diffs = np.diff(idx.as_unit("ns").asi8)
        if (diffs != step_ns).any() or (len(idx) == 1 and pd.Timedelta(idx.freq).value != step_ns):
            raise ValueError(
                f"Horizon.index is not regular at step_h={self.step_h} h in absolute time"
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Horizon):
            return NotImplemented
        return (
            self.step_h == other.step_h
            and str(self.index.tz) == str(other.index.tz)
            and self.index.equals(other.index)
        )

    def __hash__(self) -> int:
        return hash((self.index[0], len(self.index), self.step_h))

    @property
    def n(self) -> int:
        """Number of steps [-]."""
        return len(self.index)

    @property
    def month_index(self) -> np.ndarray:
        """Position (0..M-1) of each step's local calendar month, in time order [-]."""
        return np.unique(self._month_keys(), return_inverse=True)[1].astype(np.int64)

    @property
    def months(self) -> list[pd.Period]:
        """The local calendar months the horizon touches, in order (freq ``"M"``)."""
        keys = np.unique(self._month_keys())
        return [pd.Period(year=int(k) // 12, month=int(k) % 12 + 1, freq="M") for k in keys]

    def _month_keys(self) -> np.ndarray:
        return self.index.year.to_numpy(np.int64) * 12 + self.index.month.to_numpy(np.int64) - 1

    @classmethod
    def from_bounds(
        cls,
        start: dt.datetime,
        *,
        end: dt.datetime | None = None,
        days: int | None = None,
        step_minutes: int = 60,
        timezone: str = "Asia/Shanghai",
    ) -> Horizon:
        """Build the horizon from ``start`` to ``end`` (exclusive) or for ``days`` days.

        Parameters
        ----------
        start : datetime.datetime
            First label. Naive: local wall-clock time in ``timezone``; aware: converted.
        end : datetime.datetime, optional
            End of the last interval (exclusive), same rules as ``start``.
        days : int, optional
            Length in local calendar days [d] (a DST-change day is 23 h or 25 h).
        step_minutes : int
            Step length [min].
        timezone : str
            IANA time zone of the index.

        Returns
        -------
        Horizon

        Raises
        ------
        ValueError
            On misuse: both or neither of ``end``/``days``, unknown time zone,
            non-positive step or length, a span that is not a whole number of steps,
            or a naive time that does not exist or is ambiguous in ``timezone``.
        """
        if (end is None) == (days is None):
            raise ValueError("give exactly one of end= or days=")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
            raise ValueError(f"unknown time zone {timezone!r}; use e.g. 'Asia/Shanghai'") from None
        if int(step_minutes) != step_minutes or step_minutes <= 0:
            raise ValueError(f"step_minutes must be a positive integer, got {step_minutes!r}")
        t0 = _localize(start, timezone)
        if days is not None:
            if int(days) != days or days <= 0:
                raise ValueError(f"days must be a positive integer, got {days!r}")
            t1 = t0 + pd.DateOffset(days=int(days))
        else:
            t1 = _localize(end, timezone)
        step = pd.Timedelta(minutes=int(step_minutes))
        span = t1 - t0
        if span <= pd.Timedelta(0):
            raise ValueError(f"end {t1.isoformat()} is not after start {t0.isoformat()}")
        if span % step != pd.Timedelta(0):
            raise ValueError(f"span {span} from {t0.isoformat()} is not a whole number of {step}")
        index = pd.date_range(t0, periods=span // step, freq=f"{int(step_minutes)}min")
        return cls(index=index.as_unit("ns"), step_h=step_minutes / 60.0)


def local_time(moment: Any, tz: Any) -> pd.Timestamp:
    """``moment`` as a time of ``tz``: a naive time is read as wall-clock time there, an
    aware one converted."""
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize(tz) if stamp.tz is None else stamp.tz_convert(tz)


def _localize(value: dt.datetime, timezone: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        return ts.tz_convert(timezone).as_unit("ns")
    try:
        return ts.tz_localize(timezone).as_unit("ns")
    except ValueError as exc:
        raise ValueError(f"{ts} is not a single valid local time in {timezone}: {exc}") from None


def _step_ns(step_h: float) -> int:
    return round(step_h * _NS_PER_H)


def _fmt_step(ns: int) -> str:
    if ns % _NS_PER_H == 0:
        return f"{ns // _NS_PER_H} h"
    if ns % _NS_PER_MIN == 0:
        return f"{ns // _NS_PER_MIN} min"
    return f"{ns / 1e9:g} s"


class _Reader:
    """State of one :func:`read_series` call, so that messages share their context."""

    def __init__(self, path: Path, column: str, horizon: Horizon, where: str):
        self.path, self.column, self.horizon = path, column, horizon
        self.tz = horizon.index.tz
        self.key = f"{where} column '{column}'".strip()
        self.csv = path.suffix.lower() == ".csv"
        self.problems: list[Problem] = []
        self.raw: pd.Series = pd.Series(dtype=object)  # the value column as read
        self.values: np.ndarray = np.empty(0)  # as float64, NaN where unusable
        self.non_numeric: np.ndarray = np.empty(0, dtype=bool)  # text that is not a number
        self.used: np.ndarray = np.empty(0, dtype=bool)  # the rows the horizon uses

    def add(self, message: str, **kw: str | None) -> None:
        self.problems.append(Problem(message, file=str(self.path), key=self.key, **kw))

    def fail(self, message: str, **kw: str | None) -> DataError:
        self.add(message, **kw)
        return DataError(self.problems)

    def ts(self, ns: int) -> str:
        return pd.Timestamp(int(ns), unit="ns", tz="UTC").tz_convert(self.tz).isoformat()

    def row(self, i: int) -> str:
        return f"data row {i + 1}" + (f", line {i + 2} of the file" if self.csv else "")


def read_series(
    path: Path,
    column: str,
    horizon: Horizon,
    *,
    timestamp_column: str | None = None,
    timezone: str | None = None,
    resample: str = "none",
    scale: float = 1.0,
    where: str = "",
    limit: float = SERIES_LIMIT,
    bounds: Sequence[Bound] = (),
) -> np.ndarray:
    """Read one column of a CSV or Parquet file, check it and align it to ``horizon``.

    Parameters
    ----------
    path : pathlib.Path
        ``.csv``, ``.parquet`` or ``.pq`` file.
    column : str
        Name of the value column; its values must be numeric [unit of the column].
    horizon : Horizon
        The run's time axis; the result has one value per step.
    timestamp_column : str, optional
        Column of interval-start timestamps; the first column when not given.
    timezone : str, optional
        IANA zone of naive timestamps; naive timestamps without it are an error.
        Timestamps with offsets (or tz-aware Parquet columns) ignore it.
    resample : {"none", "mean", "hold"}
        ``"none"``: the file's step must equal the horizon's; ``"mean"``: average
        finer data over each horizon step; ``"hold"``: repeat coarser data over the
        horizon steps inside each of its intervals.
    scale : float
        Factor applied to the values [-]; finite.
    where : str
        YAML key path of the spec asking for the series, used in messages.
    limit : float
        Largest absolute value allowed after ``scale`` [unit of the column].
    bounds : sequence of vpp.series_bounds.Bound
        The series' own bounds after ``scale`` (a limit is not negative); they and
        ``limit`` are checked on every row the horizon uses, before ``resample: mean``
        averages rows, so a bad row cannot hide in a mean (:mod:`vpp.series_bounds`).

    Returns
    -------
    numpy.ndarray
        float64, length ``horizon.n``, aligned to ``horizon.index``, times ``scale``:
        finite, at most ``limit`` in absolute value, inside ``bounds``. Rows outside the
        horizon are ignored.

    Raises
    ------
    DataError
        With every problem found: file, columns (a file written with another delimiter
        than a comma is named as such), timestamps (unparsable, naive, duplicated, out
        of order, gaps), values (missing, non-numeric, infinite, beyond ``limit`` or
        ``bounds`` after ``scale``, row by row), step and coverage of the horizon.
    ValueError
        If ``resample`` is not one of the allowed names.
    """
    if resample not in _RESAMPLE:
        raise ValueError(f"resample must be one of {_RESAMPLE}, got {resample!r}")
    path = Path(path)
    r = _Reader(path, column, horizon, where)
    if not math.isfinite(scale) or abs(scale) > limit:
        raise r.fail(
            "scale is not a finite number in range",
            value=f"scale {scale!r}",
            allowed=f"a finite number, at most {limit:g} in absolute value",
            fix="correct `scale:` in the series spec",
        )
    frame = _read_frame(r)
    ts_col = timestamp_column if timestamp_column is not None else str(frame.columns[0])
    columns = _shown_columns(frame.columns)
    if ts_col not in frame.columns:
        r.add(
            f"timestamp column '{ts_col}' is missing",
            value=f"columns {columns}",
            allowed="one of the columns",
            fix="set `timestamp_column:` to the column holding the timestamps",
        )
    if column not in frame.columns or column == ts_col:
        r.add(
            "value column is missing" if column != ts_col else "value column is the timestamps",
            value=f"columns {columns}",
            allowed="a numeric column other than the timestamps",
            fix="set `column:` to one of the existing columns or rename the column in the file",
        )
    if r.problems:
        raise DataError(r.problems)
    if len(frame) == 0:
        raise r.fail("file has no data rows", value="0 rows", fix="fill the file with the series")
    t = _parse_times(r, frame[ts_col], timezone, ts_col)
    r.raw = frame[column]
    r.values = pd.to_numeric(r.raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    r.non_numeric = np.isnan(r.values) & r.raw.notna().to_numpy()
    with np.errstate(over="ignore", invalid="ignore"):
        values = _align(r, t, resample) * float(scale)
    _check_scaled(r, values, float(scale), limit)
    r.problems += row_problems(
        r.values,
        r.used,
        bounds,
        lambda i: (r.ts(t[i]), r.row(i)),
        r.path,
        r.key,
        scale,
        limit,
    )
    if r.problems:
        raise DataError(r.problems)
    return values


def _shown_columns(columns: pd.Index, most: int = 12) -> str:
    """The column names for a message: the first ``most``, each cut to 40 characters."""
    names = [f"'{clip(str(c), 40)}'" for c in columns[:most]]
    more = len(columns) - most
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _check_scaled(r: _Reader, values: np.ndarray, scale: float, limit: float) -> None:
    """Refuse values that are not finite or beyond ``limit`` once scaled."""
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~np.isfinite(values) | (np.abs(values) > limit))
    if len(bad):
        i = int(bad[0])
        raise r.fail(
            f"{len(bad)} value(s) are out of range{' once scaled' * (scale != 1.0)}, the first",
            timestamp=r.horizon.index[i].isoformat(),
            value=f"{values[i]:g}" + (f" (after scale {scale:g})" if scale != 1.0 else ""),
            allowed=f"finite values, at most {limit:g} in absolute value after the scale",
            fix="check the values and their unit, and `scale:`",
        )


def _read_frame(r: _Reader) -> pd.DataFrame:
    kind = _SUFFIXES.get(r.path.suffix.lower())
    if kind is None:
        raise r.fail(
            "series file has an unsupported extension",
            value=f"'{r.path.suffix}'",
            allowed=", ".join(_SUFFIXES),
            fix="save the series as CSV or Parquet",
        )
    if not r.path.is_file():
        raise r.fail(
            "series file does not exist",
            fix="check `file:`; relative paths are resolved against the scenario file's folder",
        )
    try:
        if kind == "csv":
            frame = pd.read_csv(r.path)
            if len(frame.columns) == 1:
                found = delimiter_problem(str(frame.columns[0]), file=str(r.path), key=r.key)
                if found is not None:
                    r.problems.append(found)
                    raise DataError(r.problems)
            return frame
        frame = pd.read_parquet(r.path)
    except DataError:
        raise
    except Exception as exc:  # any reader failure is the user's file
        raise r.fail(
            f"series file cannot be read as {kind.upper()}: {clip(str(exc), 200)}".rstrip(),
            fix=f"check that the file is a valid {kind.upper()} file with a header row",
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    return frame


def _parse_times(r: _Reader, raw: pd.Series, timezone: str | None, ts_col: str) -> np.ndarray:
    """Return the timestamps as UTC int64 [ns]; raise on unusable timestamps."""
    fix_tz = (
        f"add `timezone: {r.tz}` to the series spec, or write the timestamps with their "
        "offset, e.g. 2026-01-01T00:00:00+08:00"
    )
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(raw).tz_convert("UTC").as_unit("ns").asi8
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        naive = pd.DatetimeIndex(raw)
    elif pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        raise r.fail(
            f"timestamp column '{ts_col}' holds numbers, not timestamps",
            timestamp=r.row(0),
            value=f"'{clip(str(raw.iloc[0]), 80)}'",
            allowed="ISO 8601 timestamps, e.g. 2026-01-01T00:00:00+08:00",
            fix="set `timestamp_column:` to the timestamp column (the first column by default)",
        )
    else:
        text = raw.astype("string").str.strip()
        aware = text.str.contains(_OFFSET, regex=True, na=False).to_numpy(dtype=bool)
        parsed = pd.to_datetime(text, errors="coerce", utc=bool(aware.any()))
        bad = parsed.isna().to_numpy()
        if aware.any() and not aware.all():
            naive_rows = pd.to_datetime(text.where(~aware), errors="coerce").notna().to_numpy()
            bad = bad & ~naive_rows
            if naive_rows.any():
                i = int(np.argmax(naive_rows))
                r.add(
                    f"timestamps in '{ts_col}' mix rows with and without a UTC offset; the "
                    "first without",
                    timestamp=r.row(i),
                    value=f"'{clip(str(raw.iloc[i]), 80)}'",
                    allowed="all timestamps with an offset, or all without and `timezone:` set",
                    fix=fix_tz,
                )
        if bad.any():
            i = int(np.argmax(bad))
            r.add(
                f"{int(bad.sum())} timestamp(s) in '{ts_col}' cannot be read, the first",
                timestamp=r.row(i),
                value="an empty cell"
                if pd.isna(raw.iloc[i])
                else f"'{clip(str(raw.iloc[i]), 80)}'",
                allowed="ISO 8601 in one format for all rows, e.g. 2026-01-01T00:00:00+08:00",
                fix="correct or remove these rows",
            )
        if r.problems:
            raise DataError(r.problems)
        if aware.all():
            return pd.DatetimeIndex(parsed).as_unit("ns").asi8
        naive = pd.DatetimeIndex(parsed)
    if timezone is None:
        raise r.fail(
            f"timestamps in '{ts_col}' have no time zone (naive), first",
            timestamp=str(naive[0]),
            value=f"'{clip(str(raw.iloc[0]), 80)}'",
            allowed="timestamps with a UTC offset, or naive ones with `timezone:` in the spec",
            fix=fix_tz,
        )
    try:
        local = naive.tz_localize(timezone, ambiguous="infer", nonexistent="NaT")
    except ValueError:
        local = naive.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    bad = np.flatnonzero(local.isna())
    if len(bad):
        i = int(bad[0])
        raise r.fail(
            f"{len(bad)} local time(s) in '{ts_col}' do not exist or are ambiguous in "
            f"{timezone} (daylight saving change), the first",
            timestamp=f"{naive[i]} ({r.row(i)})",
            allowed=f"local times that occur exactly once in {timezone}",
            fix="write the timestamps with their UTC offset, or use a zone without DST",
        )
    return local.tz_convert("UTC").as_unit("ns").asi8


def _mode(diffs: np.ndarray) -> int:
    uniq, counts = np.unique(diffs, return_counts=True)
    return int(uniq[np.argmax(counts)])


def _align(r: _Reader, t: np.ndarray, resample: str) -> np.ndarray:
    """Check timestamps and values against the horizon and bring them onto it."""
    h = _step_ns(r.horizon.step_h)
    s = int(r.horizon.index[0].as_unit("ns").value)
    e = s + r.horizon.n * h
    diffs = np.diff(t)
    dup = np.flatnonzero(pd.Index(t).duplicated())
    back = np.flatnonzero(diffs < 0)
    if len(dup):
        i = int(dup[0])
        r.add(
            f"{len(dup)} duplicated timestamp(s), the first",
            timestamp=f"{r.ts(t[i])} ({r.row(i)})",
            allowed="each timestamp once",
            fix="remove the duplicated rows",
        )
    if len(back):
        i = int(back[0])
        r.add(
            f"timestamps go backwards: {r.ts(t[i])} is followed by",
            timestamp=f"{r.ts(t[i + 1])} ({r.row(i + 1)})",
            allowed="timestamps in increasing order",
            fix="sort the file by time",
        )
    if len(dup) or len(back):
        _check_values(r, (t >= s) & (t < e), t)
        raise DataError(r.problems)

    f_all = _mode(diffs) if len(diffs) else h
    nxt = np.append(t[1:], t[-1] + f_all)
    relevant = (t < e) & (nxt > s)
    r.used = relevant
    rel_diffs = relevant[:-1]
    f = _mode(diffs[rel_diffs]) if rel_diffs.any() else f_all
    irregular = np.flatnonzero(rel_diffs & (diffs != f))
    if len(irregular):
        i = int(irregular[0])
        gap = int(diffs[i])
        what = f"{gap // f - 1} missing step(s)" if gap % f == 0 else "irregular spacing"
        r.add(
            f"gap in the timestamps ({what}; {len(irregular)} place(s) in the horizon's span): "
            f"after {r.ts(t[i])} expected",
            timestamp=r.ts(t[i] + f),
            value=f"next timestamp {r.ts(t[i + 1])} ({r.row(i + 1)})",
            allowed=f"one row every {_fmt_step(f)}",
            fix="fill the missing rows (or fix their timestamps)",
        )
    _check_step(r, f, h, resample, int(t[np.argmax(relevant)]), s)
    first_ok = t[0] <= s
    last_end = int(t[-1]) + f
    if not first_ok or last_end < e:
        missing = s if not first_ok else s + -(-(last_end - s) // h) * h
        r.add(
            f"series does not cover the horizon ({r.ts(s)} to {r.ts(e - h)}, step "
            f"{_fmt_step(h)}); first horizon step without data",
            timestamp=r.ts(missing),
            value=f"{len(t)} rows from {r.ts(t[0])} to {r.ts(t[-1])}",
            allowed=f"a series covering {r.ts(s)} up to {r.ts(e)} (exclusive)",
            fix="extend the file to cover the horizon, or change `horizon:` start/days/end",
        )
    _check_values(r, relevant, t)
    if r.problems:
        raise DataError(r.problems)

    values = r.values
    first = int(np.searchsorted(t, s, side="right")) - 1
    if f == h:
        return values[first : first + r.horizon.n]
    if f < h:  # mean: H/F consecutive rows per horizon step
        k = h // f
        return values[first : first + r.horizon.n * k].reshape(r.horizon.n, k).mean(axis=1)
    k = f // h  # hold: each row repeated over the K horizon steps of its interval
    offset = (s - int(t[first])) // h
    rows = math.ceil((offset + r.horizon.n) / k)
    return np.repeat(values[first : first + rows], k)[offset : offset + r.horizon.n]


def _check_step(r: _Reader, f: int, h: int, resample: str, t0: int, s: int) -> None:
    fs, hs = _fmt_step(f), _fmt_step(h)
    finer = f < h
    if f != h and resample == "none":
        how = "mean` to average the finer data" if finer else "hold` to repeat the coarser data"
        msg = f"series step {fs} differs from the horizon step {hs}"
        allowed = f"step {hs}, or `resample:` mean (finer data) / hold (coarser data)"
        fix = f"add `resample: {how} to the series spec"
    elif f != h and (resample == "mean") != finer:
        msg = f"`resample: {resample}` does not fit a {fs} series and a {hs} horizon"
        allowed = "mean for finer data, hold for coarser data"
        fix = f"use `resample: {'mean' if finer else 'hold'}`"
    elif max(f, h) % min(f, h):
        msg = f"series step {fs} and horizon step {hs} do not divide evenly"
        allowed = f"a series step that divides or is a multiple of {hs}"
        fix = f"resample the file to a step such as {hs} before using it"
    elif (t0 - s) % min(f, h):
        msg = f"series timestamps are not on the grid of the horizon's {hs} steps; first"
        allowed = f"timestamps at {r.ts(s)} plus multiples of {_fmt_step(min(f, h))}"
        fix = "label each row with the start of its interval on the horizon's grid"
    else:
        return
    r.add(msg, timestamp=r.ts(t0), value=f"step {fs}", allowed=allowed, fix=fix)


def _check_values(r: _Reader, relevant: np.ndarray, t: np.ndarray) -> None:
    missing = ~np.isfinite(r.values) & ~r.non_numeric
    for mask, what, allowed, fix in (
        (r.non_numeric, "are not numbers", "numbers with a '.' decimal point", "correct them"),
        (
            missing,
            "are missing (NaN) or infinite",
            "finite numbers",
            "fill them or shorten the horizon",
        ),
    ):
        rows = np.flatnonzero(mask & relevant)
        if len(rows):
            i, raw = int(rows[0]), r.raw.iloc[int(rows[0])]
            r.add(
                f"{len(rows)} value(s) in the horizon's span {what}, the first",
                timestamp=r.ts(t[i]),
                value=("an empty cell" if pd.isna(raw) else f"'{clip(str(raw), 80)}'")
                + f" ({r.row(i)})",
                allowed=allowed,
                fix=fix,
            )
