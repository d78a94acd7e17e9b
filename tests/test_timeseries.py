"""Tests of vpp.timeseries: the Horizon and reading checked series onto it."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vpp.errors import DataError
from vpp.timeseries import Horizon, read_series

SH = "Asia/Shanghai"
HOURS_PER_MONTH_2026 = [744, 672, 744, 720, 744, 720, 744, 744, 720, 744, 720, 744]


def hourly(day: str, hours: int, tz: str = SH, step: str = "1h") -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(day, tz=tz), periods=hours, freq=step)


def write_csv(
    folder: Path, stamps: list[str] | pd.Index, values: list | np.ndarray, name: str = "s.csv"
) -> Path:
    path = folder / name
    text = [s if isinstance(s, str) else s.isoformat() for s in stamps]
    pd.DataFrame({"timestamp": text, "load_kw": values}).to_csv(path, index=False)
    return path


def day_horizon(step_minutes: int = 60, days: int = 1, start: str = "2026-01-01") -> Horizon:
    return Horizon.from_bounds(
        dt.datetime.fromisoformat(start), days=days, step_minutes=step_minutes
    )


def data_error(path: Path, horizon: Horizon, **kw) -> str:
    kw.setdefault("where", "site.load.series")
    with pytest.raises(DataError) as info:
        read_series(path, kw.pop("column", "load_kw"), horizon, **kw)
    text = str(info.value)
    assert path.name in text
    assert "Fix:" in text
    assert info.value.exit_code == 2
    return text


# ---------------------------------------------------------------- Horizon


def test_horizon_year_hourly():
    h = Horizon.from_bounds(dt.datetime(2026, 1, 1), days=365)
    assert h.n == 8760
    assert h.step_h == 1.0
    assert str(h.index.tz) == SH
    assert h.index[0] == pd.Timestamp("2026-01-01T00:00:00+08:00")
    assert h.index[-1] == pd.Timestamp("2026-12-31T23:00:00+08:00")
    assert h.index.freq == pd.Timedelta(hours=1)
    assert np.bincount(h.month_index).tolist() == HOURS_PER_MONTH_2026
    assert h.month_index.dtype.kind == "i"
    assert (np.diff(h.month_index) >= 0).all()
    assert h.months == [pd.Period(f"2026-{m:02d}", freq="M") for m in range(1, 13)]


def test_horizon_year_quarter_hourly():
    h = Horizon.from_bounds(dt.datetime(2026, 1, 1), days=365, step_minutes=15)
    assert h.n == 35040
    assert h.step_h == 0.25
    assert np.bincount(h.month_index).tolist() == [4 * x for x in HOURS_PER_MONTH_2026]
    assert len(h.months) == 12


def test_horizon_end_equals_days_and_is_exclusive():
    start = dt.datetime(2026, 3, 1, 6)
    a = Horizon.from_bounds(start, days=7, step_minutes=15)
    b = Horizon.from_bounds(start, end=dt.datetime(2026, 3, 8, 6), step_minutes=15)
    assert a == b
    assert a.n == 7 * 96
    assert a.index[-1] == pd.Timestamp("2026-03-08T05:45:00+08:00")


def test_horizon_months_across_new_year():
    h = Horizon.from_bounds(dt.datetime(2025, 12, 31), days=2)
    assert h.months == [pd.Period("2025-12", freq="M"), pd.Period("2026-01", freq="M")]
    assert h.month_index.tolist() == [0] * 24 + [1] * 24


def test_horizon_aware_start_is_converted():
    start = dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC)
    h = Horizon.from_bounds(start, end=dt.datetime(2026, 1, 1, 2), step_minutes=30)
    assert h.index[0] == pd.Timestamp("2026-01-01T00:00:00+08:00")
    assert h.n == 4
    assert h.month_index.tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(("day", "steps"), [("2026-03-29", 23), ("2026-10-25", 25)])
def test_horizon_dst_day_is_regular_in_absolute_time(day, steps):
    h = Horizon.from_bounds(dt.datetime.fromisoformat(day), days=1, timezone="Europe/Berlin")
    assert h.n == steps
    assert (np.diff(h.index.asi8) == 3_600 * 10**9).all()
    assert str(h.index.tz) == "Europe/Berlin"


def test_horizon_berlin_year_and_local_months():
    h = Horizon.from_bounds(dt.datetime(2026, 1, 1), days=365, timezone="Europe/Berlin")
    assert h.n == 8760
    assert (np.diff(h.index.asi8) == 3_600 * 10**9).all()
    counts = np.bincount(h.month_index).tolist()
    assert counts[2] == 743 and counts[9] == 745  # March loses an hour, October gains one
    assert h.index[0] == pd.Timestamp("2026-01-01T00:00:00+01:00")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"days": 1, "end": dt.datetime(2026, 1, 2)},
        {"days": 0},
        {"end": dt.datetime(2025, 12, 31)},
        {"days": 1, "timezone": "Mars/Olympus"},
        {"days": 1, "step_minutes": 0},
        {"end": dt.datetime(2026, 1, 1, 1, 10), "step_minutes": 15},
    ],
)
def test_horizon_misuse_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        Horizon.from_bounds(dt.datetime(2026, 1, 1), **kwargs)


def test_horizon_rejects_naive_or_irregular_index():
    with pytest.raises(ValueError):
        Horizon(index=pd.date_range("2026-01-01", periods=3, freq="h"), step_h=1.0)
    with pytest.raises(ValueError):
        Horizon(index=hourly("2026-01-01", 3), step_h=0.25)


# ---------------------------------------------------------------- read_series: happy paths


def test_csv_aware_exact_values(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), np.arange(24) * 1.5)
    out = read_series(path, "load_kw", day_horizon())
    assert out.dtype == np.float64
    assert out.tolist() == (np.arange(24) * 1.5).tolist()


def test_csv_offsets_in_another_zone_are_converted(tmp_path):
    stamps = [f"2025-12-31T{16 + i:02d}:00:00Z" for i in range(3)]
    path = write_csv(tmp_path, stamps, [1.0, 2.0, 3.0])
    h = Horizon.from_bounds(dt.datetime(2026, 1, 1), days=None, end=dt.datetime(2026, 1, 1, 2))
    assert read_series(path, "load_kw", h).tolist() == [1.0, 2.0]


def test_csv_naive_with_timezone_and_scale(tmp_path):
    stamps = [f"2026-01-01 {i:02d}:00" for i in range(24)]
    path = write_csv(tmp_path, stamps, np.arange(24.0))
    out = read_series(path, "load_kw", day_horizon(), timezone=SH, scale=2.0)
    assert out.tolist() == (2.0 * np.arange(24.0)).tolist()


def test_named_timestamp_column_not_first(tmp_path):
    path = tmp_path / "s.csv"
    pd.DataFrame(
        {"load_kw": [5.0, 6.0], "when": [t.isoformat() for t in hourly("2026-01-01", 2)]}
    ).to_csv(path, index=False)
    h = Horizon.from_bounds(dt.datetime(2026, 1, 1), end=dt.datetime(2026, 1, 1, 2))
    assert read_series(path, "load_kw", h, timestamp_column="when").tolist() == [5.0, 6.0]


def test_parquet_aware_column_and_datetime_index(tmp_path):
    idx = hourly("2026-01-01", 24, tz="UTC") - pd.Timedelta(hours=8)
    frame = pd.DataFrame({"timestamp": idx, "pv_kw": np.arange(24.0)})
    frame.to_parquet(tmp_path / "a.parquet")
    frame.set_index("timestamp").to_parquet(tmp_path / "b.pq")
    for name in ("a.parquet", "b.pq"):
        assert read_series(tmp_path / name, "pv_kw", day_horizon()).tolist() == list(range(24))


def test_parquet_naive_with_timezone(tmp_path):
    frame = pd.DataFrame({"t": hourly("2026-01-01", 24).tz_localize(None), "v": np.ones(24)})
    frame.to_parquet(tmp_path / "n.parquet")
    out = read_series(tmp_path / "n.parquet", "v", day_horizon(), timezone=SH)
    assert out.tolist() == [1.0] * 24


def test_longer_series_is_sliced_and_nan_outside_is_ignored(tmp_path):
    values = np.arange(72.0)
    values[5] = np.nan  # day one: outside the horizon
    path = write_csv(tmp_path, hourly("2026-01-01", 72), values)
    out = read_series(path, "load_kw", day_horizon(start="2026-01-02"))
    assert out.tolist() == list(range(24, 48))


def test_resample_mean_averages_onto_interval_start(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 8, step="15min"), np.arange(8.0))
    h = Horizon.from_bounds(dt.datetime(2026, 1, 1), end=dt.datetime(2026, 1, 1, 2))
    assert read_series(path, "load_kw", h, resample="mean").tolist() == [1.5, 5.5]


def test_resample_hold_repeats_and_holds_last_interval(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01 10:00", 2), [10.0, 20.0])
    h = Horizon.from_bounds(
        dt.datetime(2026, 1, 1, 10), end=dt.datetime(2026, 1, 1, 12), step_minutes=15
    )
    assert read_series(path, "load_kw", h, resample="hold").tolist() == [10.0] * 4 + [20.0] * 4
    mid = Horizon.from_bounds(
        dt.datetime(2026, 1, 1, 10, 30), end=dt.datetime(2026, 1, 1, 11, 30), step_minutes=15
    )
    assert read_series(path, "load_kw", mid, resample="hold").tolist() == [10, 10, 20, 20]


def test_naive_local_times_across_dst_fall_back(tmp_path):
    local = hourly("2026-10-25", 25, tz="Europe/Berlin")
    path = write_csv(tmp_path, [str(t.tz_localize(None)) for t in local], np.arange(25.0))
    h = Horizon.from_bounds(dt.datetime(2026, 10, 25), days=1, timezone="Europe/Berlin")
    out = read_series(path, "load_kw", h, timezone="Europe/Berlin")
    assert out.tolist() == list(range(25))


def test_offsets_changing_across_dst_spring_forward(tmp_path):
    local = hourly("2026-03-29", 23, tz="Europe/Berlin")
    path = write_csv(tmp_path, local, np.arange(23.0))  # +01:00 then +02:00
    h = Horizon.from_bounds(dt.datetime(2026, 3, 29), days=1, timezone="Europe/Berlin")
    assert read_series(path, "load_kw", h).tolist() == list(range(23))


@pytest.mark.parametrize(("rows", "step", "minutes"), [(8760, "1h", 60), (35040, "15min", 15)])
def test_reading_a_year_is_fast(tmp_path, rows, step, minutes):
    path = write_csv(tmp_path, hourly("2026-01-01", rows, step=step), np.ones(rows))
    h = day_horizon(step_minutes=minutes, days=365)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        out = read_series(path, "load_kw", h)
        best = min(best, time.perf_counter() - t0)
    assert out.shape == (rows,)
    assert best < 0.2


# ---------------------------------------------------------------- read_series: bad input


def test_missing_file(tmp_path):
    text = data_error(tmp_path / "nope.csv", day_horizon())
    assert "does not exist" in text and "site.load.series column 'load_kw'" in text


def test_unsupported_extension(tmp_path):
    path = tmp_path / "load.xlsx"
    path.write_text("x")
    text = data_error(path, day_horizon())
    assert "'.xlsx'" in text and "load_kw" in text and "CSV or Parquet" in text


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_text("this is not parquet")
    text = data_error(path, day_horizon())
    assert "cannot be read as PARQUET" in text and "load_kw" in text


def test_missing_value_column_lists_columns(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), np.ones(24))
    text = data_error(path, day_horizon(), column="load_kW")
    assert "'load_kW'" in text and "value column is missing" in text
    assert "columns 'timestamp', 'load_kw'" in text


def test_missing_timestamp_column(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), np.ones(24))
    text = data_error(path, day_horizon(), timestamp_column="time")
    assert "timestamp column 'time' is missing" in text and "load_kw" in text
    assert "timestamp_column:" in text


def test_unparsable_timestamp(tmp_path):
    stamps = [t.isoformat() for t in hourly("2026-01-01", 24)]
    stamps[3] = "yesterday noon"
    text = data_error(write_csv(tmp_path, stamps, np.ones(24)), day_horizon())
    assert "1 timestamp(s)" in text and "'yesterday noon'" in text
    assert "data row 4, line 5 of the file" in text and "load_kw" in text


def test_naive_without_timezone(tmp_path):
    stamps = [f"2026-01-01 {i:02d}:00:00" for i in range(24)]
    text = data_error(write_csv(tmp_path, stamps, np.ones(24)), day_horizon())
    assert "no time zone" in text and "2026-01-01 00:00:00" in text and "load_kw" in text
    assert "`timezone: Asia/Shanghai`" in text


def test_mixed_offsets_and_naive(tmp_path):
    stamps = [t.isoformat() for t in hourly("2026-01-01", 24)]
    stamps[2] = "2026-01-01 02:00:00"
    text = data_error(write_csv(tmp_path, stamps, np.ones(24)), day_horizon())
    assert "mix rows" in text and "data row 3" in text and "`timezone: Asia/Shanghai`" in text


def test_nonexistent_local_time(tmp_path):
    stamps = [f"2026-03-29 {i:02d}:00" for i in range(24)]  # 02:00 does not exist in Berlin
    h = Horizon.from_bounds(dt.datetime(2026, 3, 29), days=1, timezone="Europe/Berlin")
    text = data_error(write_csv(tmp_path, stamps, np.ones(24)), h, timezone="Europe/Berlin")
    assert "do not exist or are ambiguous" in text and "2026-03-29 02:00:00" in text


def test_duplicated_timestamp(tmp_path):
    idx = list(hourly("2026-01-01", 24))
    idx[6] = idx[5]
    text = data_error(write_csv(tmp_path, idx, np.ones(24)), day_horizon())
    assert "1 duplicated timestamp(s)" in text
    assert "2026-01-01T05:00:00+08:00 (data row 7" in text and "load_kw" in text


def test_time_goes_backwards(tmp_path):
    idx = list(hourly("2026-01-01", 24))
    idx[9], idx[10] = idx[10], idx[9]
    text = data_error(write_csv(tmp_path, idx, np.ones(24)), day_horizon())
    assert "timestamps go backwards: 2026-01-01T10:00:00+08:00 is followed by" in text
    assert "at 2026-01-01T09:00:00+08:00 (data row 11" in text and "sort the file" in text


def test_nan_values_count_and_first_timestamp(tmp_path):
    values = np.ones(24)
    values[[7, 8, 20]] = np.nan
    text = data_error(write_csv(tmp_path, hourly("2026-01-01", 24), values), day_horizon())
    assert "3 value(s)" in text and "missing (NaN)" in text
    assert "at 2026-01-01T07:00:00+08:00" in text and "load_kw" in text


def test_non_numeric_values(tmp_path):
    values = ["1.0"] * 24
    values[4] = "1,5"
    text = data_error(write_csv(tmp_path, hourly("2026-01-01", 24), values), day_horizon())
    assert "1 value(s) in the horizon's span are not numbers" in text
    assert "at 2026-01-01T04:00:00+08:00" in text and "'1,5'" in text and "load_kw" in text


def test_gap(tmp_path):
    idx = hourly("2026-01-01", 26).delete([3, 4])
    text = data_error(write_csv(tmp_path, idx, np.ones(24)), day_horizon())
    assert "2 missing step(s)" in text
    assert "after 2026-01-01T02:00:00+08:00 expected at 2026-01-01T03:00:00+08:00" in text
    assert "next timestamp 2026-01-01T05:00:00+08:00" in text and "load_kw" in text


def test_irregular_spacing(tmp_path):
    idx = list(hourly("2026-01-01", 25))
    idx[12] = idx[12] + pd.Timedelta(minutes=20)
    text = data_error(write_csv(tmp_path, idx, np.ones(25)), day_horizon())
    assert "irregular spacing" in text and "expected at 2026-01-01T12:00:00+08:00" in text


@pytest.mark.parametrize(
    ("step", "rows", "minutes", "hint"),
    [
        ("15min", 96, 60, "resample: mean"),
        ("1h", 24, 15, "resample: hold"),
    ],
)
def test_step_mismatch_without_resample(tmp_path, step, rows, minutes, hint):
    path = write_csv(tmp_path, hourly("2026-01-01", rows, step=step), np.ones(rows))
    text = data_error(path, day_horizon(step_minutes=minutes))
    assert "differs from the horizon step" in text and f"`{hint}" in text
    assert "2026-01-01T00:00:00+08:00" in text and "load_kw" in text


def test_wrong_resample_mode(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 96, step="15min"), np.ones(96))
    text = data_error(path, day_horizon(), resample="hold")
    assert (
        "`resample: hold` does not fit a 15 min series" in text and "use `resample: mean`" in text
    )


def test_uneven_steps(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 36, step="40min"), np.ones(36))
    text = data_error(path, day_horizon(), resample="mean")
    assert "40 min and horizon step 1 h do not divide evenly" in text
    assert "2026-01-01T00:00:00+08:00" in text and "load_kw" in text


def test_misaligned_timestamps(tmp_path):
    idx = hourly("2026-01-01", 100, step="15min") - pd.Timedelta(minutes=5)
    text = data_error(write_csv(tmp_path, idx, np.ones(100)), day_horizon(), resample="mean")
    assert "not on the grid" in text and "2025-12-31T23:55:00+08:00" in text


def test_series_shorter_than_horizon(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 20), np.ones(20))
    text = data_error(path, day_horizon())
    assert "does not cover the horizon" in text
    assert "first horizon step without data at 2026-01-01T20:00:00+08:00" in text
    assert "20 rows from 2026-01-01T00:00:00+08:00 to 2026-01-01T19:00:00+08:00" in text
    assert "load_kw" in text


def test_series_starting_after_horizon(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01 02:00", 30), np.ones(30))
    text = data_error(path, day_horizon())
    assert "without data at 2026-01-01T00:00:00+08:00" in text


def test_independent_problems_are_collected(tmp_path):
    values = np.ones(24)
    values[1] = np.nan
    idx = hourly("2026-01-01", 25).delete([10])
    with pytest.raises(DataError) as info:
        read_series(write_csv(tmp_path, idx, values), "load_kw", day_horizon())
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2
    assert "gap in the timestamps" in messages[0] and "missing (NaN)" in messages[1]
    assert all(p.file == str(tmp_path / "s.csv") for p in info.value.problems)
    assert str(info.value).startswith("2 problems:")


def test_bad_resample_name_is_a_programming_error(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), np.ones(24))
    with pytest.raises(ValueError, match="resample"):
        read_series(path, "load_kw", day_horizon(), resample="linear")


# ---------------------------------------------------------------- poisoned values, delimiters


@pytest.mark.parametrize(("delimiter", "named"), [(";", "';' (semicolon)"), ("\t", "a tab")])
def test_a_file_with_another_delimiter_is_named_with_its_header(tmp_path, delimiter, named):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), [1.0] * 24)
    path.write_text(path.read_text().replace(",", delimiter))
    text = data_error(path, day_horizon())
    assert f"seems to use {named} as delimiter" in text
    assert f"header {'timestamp' + delimiter + 'load_kw'!r}" in text
    assert "comma-separated" in text


@pytest.mark.parametrize("scale", [float("nan"), float("inf"), -float("inf"), 1e12])
def test_scale_must_be_finite_and_in_range(tmp_path, scale):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), [1.0] * 24)
    assert "scale" in data_error(path, day_horizon(), scale=scale)


@pytest.mark.parametrize(
    ("cell", "words"),
    [("inf", "infinite"), ("-inf", "infinite"), ("1e300", "out of range"), ("1e999", "infinite")],
)
def test_values_must_be_finite_and_bounded(tmp_path, cell, words):
    values: list = [1.0] * 24
    values[7] = cell
    path = write_csv(tmp_path, hourly("2026-01-01", 24), values)
    text = data_error(path, day_horizon())
    assert words in text and "2026-01-01T07:00:00+08:00" in text


def test_values_out_of_range_once_scaled(tmp_path):
    path = write_csv(tmp_path, hourly("2026-01-01", 24), [1e4] * 24)
    assert read_series(path, "load_kw", day_horizon(), scale=1e5).max() == 1e9
    text = data_error(path, day_horizon(), scale=-1e6)
    assert "out of range once scaled" in text and "after scale -1e+06" in text


def test_a_long_header_is_shown_cut(tmp_path):
    path = tmp_path / "wide.csv"
    names = [f"column_{'x' * 200}_{i}" for i in range(100)]
    path.write_text(",".join(["timestamp", *names]) + "\n2026-01-01T00:00+08:00" + ",1" * 100)
    text = data_error(path, day_horizon())
    assert len(text) < 1000
    with pytest.raises(DataError) as info:
        read_series(path, "load_kw", day_horizon())
    (problem,) = info.value.problems
    assert problem.value.endswith("and 89 more") and len(problem.value) < 700
