"""The built-in Suzhou typical year: shape, determinism, calibration, physical bounds, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pvlib
import pytest
import yaml

from vpp.profiles.synthetic import suzhou_temperature_c
from vpp.solar.typical_year import SUZHOU, suzhou_typical_year, typical_year_config
from vpp.solar.weather import TYPICAL_REFERENCE_YEAR, WEATHER_COLUMNS, Weather, weather_on_index

pytestmark = pytest.mark.filterwarnings("ignore:.*dayofyear is deprecated")

TZ = "Asia/Shanghai"
#: Monthly and annual GHI against the file's targets [relative].
GHI_RTOL = 1e-3
#: Monthly mean air temperature against the climate file [K] (its own fit is within 0.2 K).
TEMP_ATOL_K = 0.3
#: Slack on the clear-sky cap for pvlib's nrel_numpy sun position vs ephemeris [W/m^2].
CLEAR_SKY_ATOL = 2.0
#: Generation time budget, uncached [s].
MAX_SECONDS = 0.3
ANNUAL_GHI_KWH_PER_M2 = 1446.0


@pytest.fixture(scope="module")
def year() -> Weather:
    return suzhou_typical_year()


def _monthly_ghi_kwh(data: pd.DataFrame) -> np.ndarray:
    return data["ghi"].groupby(data.index.month).sum().to_numpy() / 1000.0


def test_shape_and_labels(year):
    d = year.data
    assert year.typical_year and list(d.columns) == list(WEATHER_COLUMNS)
    assert len(d) == 8760 and str(d.index.tz) == TZ and d.index.freq == pd.Timedelta(hours=1)
    assert d.index[0] == pd.Timestamp(f"{TYPICAL_REFERENCE_YEAR}-01-01 00:00", tz=TZ)
    assert np.isfinite(d.to_numpy()).all()
    assert "seed 20260101" in year.source and "bankable" in " ".join(year.notes)
    site = typical_year_config()["site"]
    assert SUZHOU == {k: site[k] for k in ("latitude_deg", "longitude_deg", "altitude_m")}


def test_deterministic():
    first = suzhou_typical_year()
    assert suzhou_typical_year() is first  # cached
    suzhou_typical_year.cache_clear()
    again = suzhou_typical_year()
    assert again is not first
    pd.testing.assert_frame_equal(again.data, first.data, check_exact=True)


def test_monthly_and_annual_ghi_equal_the_stated_targets(year):
    cfg = typical_year_config()
    targets = np.asarray(cfg["monthly_ghi_kwh_per_m2"]["values"], dtype=float)
    assert cfg["annual_ghi_kwh_per_m2"]["value"] == ANNUAL_GHI_KWH_PER_M2
    assert targets.sum() == pytest.approx(ANNUAL_GHI_KWH_PER_M2, abs=1e-6)
    np.testing.assert_allclose(_monthly_ghi_kwh(year.data), targets, rtol=GHI_RTOL)
    assert year.data["ghi"].sum() / 1000.0 == pytest.approx(ANNUAL_GHI_KWH_PER_M2, rel=GHI_RTOL)
    # the Meiyu month is darker than the clear months on either side of the summer
    monthly = _monthly_ghi_kwh(year.data)
    assert monthly[5] < monthly[4] and monthly[5] < monthly[7]


def test_ghi_within_clear_sky_and_components_close(year):
    d = year.data
    loc = pvlib.location.Location(SUZHOU["latitude_deg"], SUZHOU["longitude_deg"], TZ,
                                  SUZHOU["altitude_m"])  # fmt: skip
    quarter = [d.index + pd.Timedelta(minutes=7.5 + 15 * j) for j in range(4)]
    clear = np.mean([loc.get_clearsky(q)["ghi"].to_numpy() for q in quarter], axis=0)
    assert (d["ghi"] <= 1.05 * clear + CLEAR_SKY_ATOL).all()
    assert (d[["ghi", "dni", "dhi"]] >= 0).all().all() and (d["dhi"] <= d["ghi"] + 1e-9).all()
    cos_z = np.mean(
        [np.maximum(np.cos(np.radians(loc.get_solarposition(q)["zenith"])), 0) for q in quarter],
        axis=0,
    )
    closure = d["dhi"] + d["dni"] * cos_z
    np.testing.assert_allclose(closure, d["ghi"], atol=5.0)
    daily = d["ghi"].resample("D").sum() / 1000.0
    assert daily.min() < 1.0 and daily.max() > 6.0  # overcast and clear days both occur
    assert d["ghi"].between_time("20:00", "04:00").eq(0).all()


def test_temperature_monthly_means_match_the_climate_file(year):
    from importlib import resources

    text = (resources.files("vpp.profiles") / "data" / "suzhou-climate.yaml").read_text()
    means = yaml.safe_load(text)["monthly_mean_temp_air_c"]["values"]
    d = year.data
    monthly = d["temp_air"].groupby(d.index.month).mean().to_numpy()
    np.testing.assert_allclose(monthly, means, atol=TEMP_ATOL_K)
    smooth = suzhou_temperature_c(d.index + pd.Timedelta(minutes=30))
    assert np.std(d["temp_air"] - smooth) > 0.5  # weather on top of the smooth climate
    assert d["wind_speed"].between(1.0, 4.0).all()


def test_fast():
    suzhou_typical_year.cache_clear()
    suzhou_typical_year()  # warm imports and pvlib's turbidity file
    suzhou_typical_year.cache_clear()
    start = time.perf_counter()
    suzhou_typical_year()
    assert time.perf_counter() - start < MAX_SECONDS


def test_remapped_onto_a_run(year):
    index = pd.date_range("2026-03-01", periods=96, freq="15min", tz=TZ)
    on = weather_on_index(year, index)
    hourly = year.data.loc[f"{TYPICAL_REFERENCE_YEAR}-03-01"].to_numpy()
    np.testing.assert_array_equal(on.to_numpy(), np.repeat(hourly, 4, axis=0))
