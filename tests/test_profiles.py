"""Synthetic factory loads and the synthetic Suzhou air temperature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from vpp.profiles import PROFILES, suzhou_temperature_c, synthetic_load_kw

TZ = "Asia/Shanghai"
PEAK_RTOL = 1e-9
PEAK_KW = 1200.0
# slices are bitwise equal in practice; the tolerance only guards against SIMD tail effects
SLICE_RTOL = 1e-12


def _range(start: str, end: str, freq: str = "1h") -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq=freq, tz=TZ, inclusive="left")


@pytest.fixture(scope="module")
def year_15min() -> pd.Series:
    index = _range("2026-01-01", "2027-01-01", "15min")
    return pd.Series(synthetic_load_kw(index, "two_shift", PEAK_KW, seed=7), index)


@pytest.mark.parametrize("profile", PROFILES)
def test_deterministic_and_positive(profile):
    index = _range("2026-03-01", "2026-03-15", "15min")
    first = synthetic_load_kw(index, profile, PEAK_KW, seed=3)
    second = synthetic_load_kw(index, profile, PEAK_KW, seed=3)
    np.testing.assert_array_equal(first, second)
    assert (first > 0).all()
    other_seed = synthetic_load_kw(index, profile, PEAK_KW, seed=4)
    assert not np.array_equal(first, other_seed)


@pytest.mark.parametrize("freq", ["15min", "1h"])
@pytest.mark.parametrize("profile", PROFILES)
def test_slice_equals_year_and_peak_is_peak_kw(profile, freq):
    year = _range("2026-01-01", "2027-01-01", freq)
    full = pd.Series(synthetic_load_kw(year, profile, PEAK_KW, seed=1), year)
    assert full.max() == pytest.approx(PEAK_KW, rel=PEAK_RTOL)
    assert (full > 0).all()
    week = _range("2026-08-03 06:00", "2026-08-10 06:00", freq)
    np.testing.assert_allclose(
        synthetic_load_kw(week, profile, PEAK_KW, seed=1), full[week].to_numpy(), rtol=SLICE_RTOL
    )


def test_span_over_new_year_uses_each_years_scale():
    index = _range("2025-12-31", "2026-01-02")
    values = synthetic_load_kw(index, "office", PEAK_KW)
    y2025 = synthetic_load_kw(_range("2025-12-31", "2026-01-01"), "office", PEAK_KW)
    y2026 = synthetic_load_kw(_range("2026-01-01", "2026-01-02"), "office", PEAK_KW)
    np.testing.assert_allclose(values, np.concatenate([y2025, y2026]), rtol=SLICE_RTOL)


def test_hourly_means_of_15min_close_to_1h():
    quarter = _range("2026-06-01", "2026-06-08", "15min")
    hour = _range("2026-06-01", "2026-06-08", "1h")
    q = synthetic_load_kw(quarter, "two_shift", PEAK_KW).reshape(-1, 4).mean(axis=1)
    h = synthetic_load_kw(hour, "two_shift", PEAK_KW)
    np.testing.assert_allclose(q, h, rtol=0.05)


def test_weekdays_above_weekends_above_holidays(year_15min):
    daily = year_15min.resample("D").mean()
    holidays = pd.to_datetime(
        [d for y in _holiday_file()["years"].values() for b in y["holidays"]
         for d in pd.date_range(b["first"], b["last"]).date]
    )  # fmt: skip
    makeup = pd.to_datetime([d for y in _holiday_file()["years"].values()
                             for d in y["makeup_workdays"]])  # fmt: skip
    dates = daily.index.tz_localize(None)
    is_holiday = dates.isin(holidays)
    is_makeup = dates.isin(makeup)
    weekend = (dates.day_of_week >= 5) & ~is_holiday & ~is_makeup
    weekday = ~weekend & ~is_holiday
    assert daily[weekday].mean() > daily[weekend].mean() > daily[is_holiday].mean()
    saturday = daily[weekend & (dates.day_of_week == 5)].mean()
    sunday = daily[weekend & (dates.day_of_week == 6)].mean()
    assert saturday > sunday


def test_spring_festival_2026_low_and_makeup_day_works(year_15min):
    daily = year_15min.resample("D").mean()
    festival = daily["2026-02-15":"2026-02-23"]
    working = daily["2026-02-09":"2026-02-13"].mean()
    assert festival.max() < 0.5 * working
    makeup = daily.loc[pd.Timestamp("2026-02-14", tz=TZ)]  # a Saturday worked (调休上班)
    ordinary_saturday = daily.loc[pd.Timestamp("2026-02-07", tz=TZ)]
    assert makeup == pytest.approx(working, rel=0.1)
    assert makeup > 1.2 * ordinary_saturday


def test_summer_above_spring(year_15min):
    monthly = year_15min.resample("MS").mean()
    summer = monthly.iloc[6:8].mean()  # July, August
    spring = monthly.iloc[3:5].mean()  # April, May
    assert summer > 1.05 * spring


def test_no_holidays_outside_covered_years():
    # 2030-10-01 is a Tuesday: outside the holiday file it is an ordinary working day
    day = synthetic_load_kw(_range("2030-10-01", "2030-10-02"), "two_shift", PEAK_KW).mean()
    other = synthetic_load_kw(_range("2030-10-08", "2030-10-09"), "two_shift", PEAK_KW).mean()
    assert day == pytest.approx(other, rel=0.1)


def test_utc_index_is_the_same_load():
    local = _range("2026-05-11", "2026-05-12", "15min")
    np.testing.assert_allclose(
        synthetic_load_kw(local.tz_convert("UTC"), "three_shift", PEAK_KW),
        synthetic_load_kw(local, "three_shift", PEAK_KW),
        rtol=SLICE_RTOL,
    )


def test_unknown_profile_and_bad_inputs():
    index = _range("2026-01-01", "2026-01-02")
    with pytest.raises(ValueError, match="unknown load profile"):
        synthetic_load_kw(index, "night_shift", PEAK_KW)
    with pytest.raises(ValueError, match="peak_kw"):
        synthetic_load_kw(index, "office", 0.0)
    with pytest.raises(ValueError, match="5-minute grid"):
        synthetic_load_kw(index + pd.Timedelta(minutes=2), "office", PEAK_KW)


def test_temperature_matches_monthly_means():
    index = _range("2026-01-01", "2027-01-01")
    monthly = pd.Series(suzhou_temperature_c(index), index).resample("MS").mean()
    expected = [3.0, 4.3, 8.7, 14.3, 19.6, 24.0, 28.2, 27.6, 23.3, 17.8, 11.7, 5.9]
    np.testing.assert_allclose(monthly.to_numpy(), expected, atol=0.3)
    july = pd.Series(suzhou_temperature_c(index), index)["2026-07-15"]
    assert july.idxmax().hour == 14
    assert july.max() - july.min() == pytest.approx(7.0, abs=0.1)


def _holiday_file() -> dict:
    from importlib import resources

    text = (resources.files("vpp.profiles") / "data" / "cn-holidays.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def test_holiday_file_has_sources_and_consistent_dates():
    data = _holiday_file()
    assert set(data["years"]) == {2024, 2025, 2026}
    for year, entry in data["years"].items():
        assert entry["source"]
        for block in entry["holidays"]:
            assert block["first"].year == year and block["first"] <= block["last"]
        holidays = {d for b in entry["holidays"] for d in pd.date_range(b["first"], b["last"])}
        for day in entry["makeup_workdays"]:
            assert pd.Timestamp(day).day_of_week >= 5  # make-up days fall on weekends
            assert pd.Timestamp(day) not in holidays
