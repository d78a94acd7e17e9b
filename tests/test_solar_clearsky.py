"""Clear-sky PV stand-in: physical bounds, annual yield, step consistency, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from vpp.solar.clearsky import clearsky_pv_kw

TZ = "Asia/Shanghai"
DC_KW = 100.0
DAILY_ENERGY_RTOL = 0.02
ARRAY = {
    "latitude_deg": 31.38,
    "longitude_deg": 120.48,
    "dc_capacity_kw": DC_KW,
    "tilt_deg": 5.0,
    "azimuth_deg": 180.0,
    "dc_ac_ratio": 1.2,
    "losses_fraction": 0.14,
    "clearness_fraction": 0.62,
}


def _year(freq: str) -> pd.DatetimeIndex:
    return pd.date_range("2026-01-01", "2027-01-01", freq=freq, tz=TZ, inclusive="left")


@pytest.fixture(scope="module")
def hourly() -> pd.Series:
    index = _year("1h")
    return pd.Series(clearsky_pv_kw(index, **ARRAY), index)


def test_zero_at_night_positive_at_noon(hourly):
    assert (hourly.between_time("20:00", "04:00") == 0).all()
    noon = hourly.at_time("12:00")
    assert (noon > 0).all()
    assert noon.min() > 0.2 * DC_KW * ARRAY["clearness_fraction"]


def test_never_negative_never_above_ac_rating():
    index = _year("15min")
    array = {**ARRAY, "clearness_fraction": 1.0, "dc_ac_ratio": 1.6}
    power = clearsky_pv_kw(index, **array)
    ac_rating = DC_KW / array["dc_ac_ratio"]
    assert power.min() >= 0
    assert power.max() <= ac_rating + 1e-9
    assert power.max() == pytest.approx(ac_rating, rel=1e-6)  # clipping reached


def test_annual_yield_plausible(hourly):
    kwh_per_kwp = hourly.sum() / DC_KW
    assert 900 <= kwh_per_kwp <= 1400


def test_summer_above_winter(hourly):
    monthly = hourly.resample("MS").sum()
    assert monthly.iloc[5] > 1.4 * monthly.iloc[11]


def test_15min_and_1h_agree_on_daily_energy(hourly):
    quarter = pd.Series(clearsky_pv_kw(_year("15min"), **ARRAY), _year("15min"))
    daily_q = quarter.resample("D").sum() * 0.25
    daily_h = hourly.resample("D").sum()
    np.testing.assert_allclose(daily_q.to_numpy(), daily_h.to_numpy(), rtol=DAILY_ENERGY_RTOL)


def test_temperature_lowers_output():
    index = pd.date_range("2026-07-15", periods=24, freq="1h", tz=TZ)
    cool = clearsky_pv_kw(index, **ARRAY, temp_air_c=np.full(24, 10.0))
    hot = clearsky_pv_kw(index, **ARRAY, temp_air_c=np.full(24, 35.0))
    assert cool.sum() > hot.sum() > 0
    with pytest.raises(ValueError, match="one air temperature"):
        clearsky_pv_kw(index, **ARRAY, temp_air_c=np.zeros(5))


def test_utc_index_gives_the_same_power():
    index = pd.date_range("2026-04-01", periods=96, freq="15min", tz=TZ)
    np.testing.assert_allclose(
        clearsky_pv_kw(index.tz_convert("UTC"), **ARRAY), clearsky_pv_kw(index, **ARRAY)
    )


def test_naive_index_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        clearsky_pv_kw(pd.date_range("2026-01-01", periods=24, freq="1h"), **ARRAY)


@pytest.mark.parametrize("freq", ["1h", "15min"])
def test_fast(freq):
    index = _year(freq)
    clearsky_pv_kw(index, **ARRAY)
    start = time.perf_counter()
    clearsky_pv_kw(index, **ARRAY)
    assert time.perf_counter() - start < 0.3
