"""Load forecasts (vpp.operation.load_forecast): same-day-type persistence, the profile model,
their evaluation, and bad input.

Known answers on hand-made histories whose value is constant over each day and encodes the
day (so the day a forecast copies can be read off the number): exact up to float rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vpp.errors import DataError
from vpp.operation.load_forecast import (
    METHODS,
    evaluate_load_forecasts,
    profile_forecast,
    same_weekday_persistence,
)
from vpp.profiles.synthetic import synthetic_load_kw

TZ = "Asia/Shanghai"
#: Hand-computed numbers against the code: only float rounding differs [kW].
FLOAT_TOL = 1e-9
#: Measured skill of the profile model on the synthetic two-shift load, and its tolerance [-].
SYNTHETIC_SKILL = 0.064
SYNTHETIC_SKILL_TOL = 0.01


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def daily_history(first: str, last: str, value, freq: str = "1h") -> pd.Series:
    """A history constant over each local day: ``value(date)`` [kW], from ``first`` to the end
    of ``last``."""
    index = pd.date_range(ts(first), ts(last) + pd.Timedelta(days=1), freq=freq, inclusive="left")
    days = index.normalize()
    return pd.Series([float(value(d)) for d in days], index=index, name="load_kw")


def march_value(day: pd.Timestamp) -> float:
    """Day of month; +100 on Saturdays, +200 on Sundays (no holiday in Feb-Mar 2025 used)."""
    return day.day + {5: 100, 6: 200}.get(day.weekday(), 0)


def n(date: str) -> int:
    """Day number in 2025 (1 January = 1)."""
    return (pd.Timestamp(date) - pd.Timestamp("2025-01-01")).days + 1


def per_day(values: np.ndarray, index: pd.DatetimeIndex) -> dict[str, float]:
    """The forecast's single value on each local day (checks it is constant over the day)."""
    out = {}
    for day in sorted(set(index.strftime("%Y-%m-%d"))):
        v = values[index.strftime("%Y-%m-%d") == day]
        assert np.ptp(v) == 0.0
        out[day] = float(v[0])
    return out


def test_weekly_pattern_is_forecast_exactly_by_both_methods():
    def pattern(times: pd.DatetimeIndex) -> np.ndarray:
        hour = times.hour + times.minute / 60.0
        wd = times.day_of_week
        return np.where(wd == 5, 50.0 + hour, np.where(wd == 6, 20.0 + hour, 100.0 + 2 * hour))

    index = pd.date_range(ts("2025-02-10"), ts("2025-03-24"), freq="15min", inclusive="left")
    history = pd.Series(pattern(index), index=index, name="load_kw")
    issue = ts("2025-03-12 14:00")
    target = pd.date_range(issue, periods=4 * 96, freq="15min")
    truth = pattern(target)
    np.testing.assert_allclose(same_weekday_persistence(history, issue, target), truth,
                               rtol=0, atol=FLOAT_TOL)  # fmt: skip
    for weeks in (1, 4):
        for scaled in (False, True):
            got = profile_forecast(history, issue, target, weeks=weeks, scale_to_last_day=scaled)
            np.testing.assert_allclose(got, truth, rtol=0, atol=FLOAT_TOL)
    table = evaluate_load_forecasts(history, [issue, issue + pd.Timedelta(days=1)], 24, "1h")
    assert (table["rmse_kw"] < FLOAT_TOL).all()
    assert table["skill_fraction"].isna().all()  # persistence exact: skill undefined


def test_persistence_and_profile_numbers_on_a_day_coded_history():
    history = daily_history("2025-02-17", "2025-03-20", march_value)
    issue = ts("2025-03-12 14:00")  # Wednesday; last full day Tuesday 11 March
    target = pd.date_range(issue, ts("2025-03-17"), freq="1h", inclusive="left")
    assert per_day(same_weekday_persistence(history, issue, target), target) == {
        "2025-03-12": 11, "2025-03-13": 11, "2025-03-14": 11,  # last working day
        "2025-03-15": 108, "2025-03-16": 209,  # last Saturday, last Sunday
    }  # fmt: skip
    one = per_day(profile_forecast(history, issue, target, weeks=1), target)
    # window 5..11 March: working days 5, 6, 7, 10, 11
    assert one == pytest.approx({"2025-03-12": 7.8, "2025-03-13": 7.8, "2025-03-14": 7.8,
                                 "2025-03-15": 108, "2025-03-16": 209}, abs=FLOAT_TOL)  # fmt: skip
    two = per_day(profile_forecast(history, issue, target, weeks=2), target)
    # window 26 Feb..11 March: working 26, 27, 28 Feb, 3-7, 10, 11 March -> 127 / 10
    assert two == pytest.approx({
        "2025-03-12": 12.7, "2025-03-13": 12.7, "2025-03-14": 12.7,
        "2025-03-15": 104.5, "2025-03-16": 205.5,
    }, abs=FLOAT_TOL)  # fmt: skip
    scaled = profile_forecast(history, issue, target, weeks=1, scale_to_last_day=True)
    # last day (11 March, 11 kW) over its profile (7.8 kW): ratio 11 / 7.8
    np.testing.assert_allclose(scaled, profile_forecast(history, issue, target, weeks=1)
                               * 11 / 7.8, rtol=0, atol=FLOAT_TOL)  # fmt: skip


def test_holidays_and_makeup_day_follow_the_calendar():
    # Labour Day 2025: holidays Thu 1 to Mon 5 May; Sunday 27 April is a make-up working day.
    history = daily_history("2025-04-01", "2025-05-20", lambda d: n(d.strftime("%Y-%m-%d")))
    # Issue Wed 30 April: no holiday in 23..29 April and no Sunday either (27 April is a
    # make-up working day) -> 1 May falls back to Saturday 26 April.
    issue = ts("2025-04-30 14:00")
    target = pd.date_range(issue, ts("2025-05-02"), freq="1h", inclusive="left")
    assert per_day(same_weekday_persistence(history, issue, target), target) == {
        "2025-04-30": n("2025-04-29"), "2025-05-01": n("2025-04-26"),
    }  # fmt: skip
    # Issue Fri 2 May (a holiday): Sat 3 and Sun 4 May are holidays -> 1 May; Tue 6 May is a
    # working day -> the last working day, Wed 30 April (not Tue 29 April: same weekday).
    issue = ts("2025-05-02 14:00")
    target = pd.date_range(issue, ts("2025-05-07"), freq="1h", inclusive="left")
    assert per_day(same_weekday_persistence(history, issue, target), target) == {
        "2025-05-02": n("2025-05-01"), "2025-05-03": n("2025-05-01"),
        "2025-05-04": n("2025-05-01"), "2025-05-05": n("2025-05-01"),
        "2025-05-06": n("2025-04-30"),
    }  # fmt: skip
    # Profile, window 25 April..1 May: holiday 1 May; working 25, 27 (make-up), 28, 29, 30 April.
    got = per_day(profile_forecast(history, issue, target, weeks=1), target)
    assert got["2025-05-03"] == n("2025-05-01")
    assert got["2025-05-06"] == pytest.approx(n("2025-04-25") + 14 / 5, abs=FLOAT_TOL)
    # The make-up Sunday 27 April is forecast from Friday 25 April, not from Sunday 20 April.
    issue = ts("2025-04-26 14:00")
    target = pd.date_range(ts("2025-04-27"), periods=24, freq="1h")
    assert per_day(same_weekday_persistence(history, issue, target), target) == {
        "2025-04-27": n("2025-04-25")
    }


@pytest.fixture(scope="module")
def synthetic_history() -> pd.Series:
    index = pd.date_range(ts("2025-02-01"), ts("2025-04-05"), freq="15min", inclusive="left")
    return pd.Series(synthetic_load_kw(index, "two_shift", 1000.0, seed=1), index=index,
                     name="load_kw")  # fmt: skip


def test_no_lookahead(synthetic_history):
    issue = ts("2025-03-10 14:30")
    target = pd.date_range(issue, periods=2 * 96, freq="15min")
    methods = {
        "persistence": lambda h: same_weekday_persistence(h, issue, target),
        "profile": lambda h: profile_forecast(h, issue, target),
        "profile_scaled": lambda h: profile_forecast(h, issue, target, scale_to_last_day=True),
    }
    before = {name: f(synthetic_history) for name, f in methods.items()}
    changed = synthetic_history.copy()
    after_issue = changed.index >= issue
    rng = np.random.default_rng(7)
    changed[after_issue] = rng.uniform(0.0, 5000.0, after_issue.sum())
    changed[changed.index >= issue + pd.Timedelta(days=3)] = np.nan  # gaps after: allowed
    changed[issue - pd.Timedelta(minutes=15)] = 1e6  # today, not yet a full day: unused
    for name, f in methods.items():
        assert np.array_equal(f(changed), before[name]), name
    # The test is sensitive: the last working day before the issue (Friday 7 March) is read.
    changed[ts("2025-03-07 03:00")] = 1e6
    for name, f in methods.items():
        assert not np.array_equal(f(changed), before[name]), name


def test_evaluation_on_the_synthetic_load(synthetic_history):
    issues = [ts("2025-03-17 14:00") + pd.Timedelta(days=i) for i in range(14)]
    table = evaluate_load_forecasts(synthetic_history, issues, 34, "1h")
    assert list(table.columns) == ["method", "lead_h", "n", "mae_kw", "rmse_kw", "bias_kw",
                                   "nrmse_fraction", "skill_fraction"]  # fmt: skip
    assert len(table) == len(METHODS) * (34 + 1)
    overall = table[table["lead_h"].isna()].set_index("method")
    assert (overall["n"] == 14 * 34).all()
    # Measured: persistence RMSE 18.1 kW, profile 16.9 kW (4 weeks), skill +0.064.
    assert overall.loc["profile", "rmse_kw"] < overall.loc["persistence", "rmse_kw"]
    assert overall.loc["profile", "skill_fraction"] == pytest.approx(
        SYNTHETIC_SKILL, abs=SYNTHETIC_SKILL_TOL
    )
    assert overall.loc["persistence", "skill_fraction"] == 0.0


def test_gap_in_the_needed_days_names_the_first_missing_timestamp():
    history = daily_history("2025-02-17", "2025-03-20", march_value)
    issue = ts("2025-03-12 14:00")
    target = pd.date_range(ts("2025-03-13"), periods=24, freq="1h")
    dropped = history.drop([ts("2025-03-07 05:00"), ts("2025-03-08 01:00")])
    with pytest.raises(DataError) as err:
        same_weekday_persistence(dropped, issue, target)
    text = str(err.value)
    assert "2 value(s)" in text and "at 2025-03-07T05:00:00+08:00" in text
    assert "7 full local days" in text and "2025-03-05T00:00:00+08:00" in text
    holed = history.copy()
    holed[ts("2025-02-20 10:00")] = np.nan
    with pytest.raises(DataError, match=r"at 2025-02-20T10:00:00\+08:00"):
        profile_forecast(holed, issue, target, weeks=3)
    profile_forecast(holed, issue, target, weeks=2)  # the hole is outside two weeks


def test_too_short_history_names_what_is_needed():
    history = daily_history("2025-03-08", "2025-03-20", march_value)
    issue = ts("2025-03-12 14:00")
    target = pd.date_range(ts("2025-03-13"), periods=24, freq="1h")
    with pytest.raises(DataError, match=r"at 2025-03-05T00:00:00\+08:00") as err:
        same_weekday_persistence(history, issue, target)
    assert "the 7 full local days before the issue time" in str(err.value)
    with pytest.raises(DataError, match=r"28 full local days.*2025-02-12T00:00:00\+08:00"):
        profile_forecast(history, issue, target)


def test_bad_arguments_are_data_errors():
    history = daily_history("2025-02-17", "2025-03-20", march_value)
    target = pd.date_range(ts("2025-03-13"), periods=24, freq="1h")
    with pytest.raises(DataError, match="no time zone"):
        same_weekday_persistence(history, pd.Timestamp("2025-03-12 14:00"), target)
    with pytest.raises(DataError, match="before the issue time"):
        same_weekday_persistence(history, ts("2025-03-13 14:00"), target)
    with pytest.raises(DataError, match="whole number of weeks"):
        profile_forecast(history, ts("2025-03-12"), target, weeks=0)
    with pytest.raises(DataError, match=r"measured load is missing.*2025-03-21T00:00:00"):
        evaluate_load_forecasts(history, [ts("2025-03-20 12:00")], 24, "1h")
    with pytest.raises(DataError, match="multiple of the history's step"):
        evaluate_load_forecasts(history, [ts("2025-03-12")], 24, "30min")
