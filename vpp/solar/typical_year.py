"""vpp's built-in typical weather year for Suzhou (Xushuguan, 31.38 N, 120.48 E, 5 m).

**This year is synthetic.** It is deterministic, plausible in season, day-to-day and hour-to-hour
variability, and calibrated to a stated monthly and annual irradiation, which makes it a fair
stand-in for examples, tests and sizing sketches. It is not a record of any real weather. For
bankable studies, replace it with a measured or satellite file (EPW, TMY3, PVGIS TMY, NSRDB
PSM3 or a CSV; ``site.weather.source: file``, read by :func:`vpp.solar.weather.read_weather`).

Annual GHI: **1446 kWh/m^2**, the low end of the Yangtze River Delta range 1446-1658 kWh/m^2
(MDPI Energies 2021, 14(1):143). No monthly GHI table for Suzhou was found, so the monthly
targets are vpp's: clear-sky monthly totals times an assumed monthly clearness (spring rains,
the June-July Meiyu the cloudiest, August and autumn the clearest), scaled to the annual value.
Targets, sources and every model parameter are in ``vpp/solar/data/suzhou-typical-year.yaml``.

How it is made (hourly, 8760 steps of the non-leap reference year in Asia/Shanghai, labels at
the start of each hour, values hourly means):

1. Clear sky: pvlib Ineichen-Perez with pvlib's bundled Linke turbidity for the site, sun
   position by ``pvlib.solarposition.ephemeris``, hourly means of four 15-minute values
   (the same clear sky as :func:`vpp.solar.weather.cloud_cover_to_irradiance`).
2. Clearness: per day, ``c_d = logistic(logit(k_m) + spread * z_d)``, ``z_d`` a seeded
   standard-normal AR(1) over days, ``k_m`` the month's target over its clear-sky total; per
   hour, a seeded log-normal AR(1) factor whose spread peaks for half-cloudy days.
   ``ghi = clear sky * c_d * hourly factor``, capped at ``min(1.05 * clear sky,
   extraterrestrial horizontal)``.
3. Calibration: each month is scaled to its target and the cap re-applied until every month
   matches (to 1e-9 relative): monthly and annual GHI equal the file's values.
4. ``dni`` and ``dhi``: Erbs decomposition on the hourly mean of ``cos(zenith)``, so that
   ``ghi = dhi + dni * cos(zenith)``.
5. ``temp_air``: :func:`vpp.profiles.synthetic.suzhou_temperature_c` at the middle of each hour
   (monthly means of ``vpp/profiles/data/suzhou-climate.yaml`` and its diurnal range), plus a
   seeded AR(1) day anomaly and a diurnal swing larger on clear and smaller on cloudy days; the
   anomaly's monthly mean is removed, so monthly means stay those of the climate file.
6. ``wind_speed``: seeded daily log-normal AR(1) level around 2.4 m/s, an afternoon peak and
   hourly noise, clipped to 1-4 m/s.

All random numbers come from ``numpy.random.default_rng(seed)`` in a fixed order; the result is
cached (call :func:`suzhou_typical_year` freely, and do not modify its frame in place).
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from vpp.profiles.synthetic import suzhou_temperature_c
from vpp.solar.irradiance import decompose_ghi, interval_sun
from vpp.solar.weather import WEATHER_COLUMNS, Weather

__all__ = ["SUZHOU", "suzhou_typical_year", "typical_year_config"]

SUZHOU = dict(latitude_deg=31.38, longitude_deg=120.48, altitude_m=5.0)
"""Site of the built-in typical year (Xushuguan, Suzhou) [deg, deg, m]."""

_HOUR_NS = 3_600_000_000_000
_DATA_FILE = "suzhou-typical-year.yaml"


@functools.lru_cache(maxsize=1)
def typical_year_config() -> dict[str, Any]:
    """The calibration targets and parameters of ``vpp/solar/data/suzhou-typical-year.yaml``."""
    path = resources.files("vpp.solar") / "data" / _DATA_FILE
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _climate_diurnal() -> tuple[float, float]:
    """Daily range [K] and warmest local hour [h] of the Suzhou climate file."""
    path = resources.files("vpp.profiles") / "data" / "suzhou-climate.yaml"
    diurnal = yaml.safe_load(path.read_text(encoding="utf-8"))["diurnal"]
    return float(diurnal["range_temp_air_c"]), float(diurnal["warmest_hour_local"])


def _ar1(noise: np.ndarray, phi: float) -> np.ndarray:
    """Standard-normal AR(1) series with lag-one correlation ``phi`` from i.i.d. ``noise``."""
    out = np.empty_like(noise)
    out[0] = noise[0]
    scale = np.sqrt(1.0 - phi * phi)
    for i in range(1, len(noise)):
        out[i] = phi * out[i - 1] + scale * noise[i]
    return out


def _by_month(values: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Sum of ``values`` in each of the 12 months."""
    return np.bincount(month, weights=values, minlength=12)


@functools.lru_cache(maxsize=1)
def suzhou_typical_year() -> Weather:
    """The built-in hourly typical year for Suzhou (see the module docstring).

    Returns
    -------
    Weather
        8760 hourly steps of the reference year (non-leap) in Asia/Shanghai, labels at the
        start of each hour; ghi, dni, dhi [W/m^2], temp_air [degC], wind_speed [m/s];
        ``typical_year=True``. Deterministic and cached.

    Raises
    ------
    RuntimeError
        If the monthly calibration does not converge (a broken data file).
    """
    cfg = typical_year_config()
    site, cm, tc, wc = cfg["site"], cfg["clearness_model"], cfg["temperature"], cfg["wind"]
    index = pd.date_range(
        f"{int(cfg['reference_year'])}-01-01", periods=8760, freq="h", tz=site["timezone"]
    )
    if len(np.unique(index.month)) != 12 or index[-1].month != 12 or index[-1].day != 31:
        raise RuntimeError("reference_year in the typical-year file must be a non-leap year")
    t = index.as_unit("ns").asi8
    location = (site["latitude_deg"], site["longitude_deg"], site["altitude_m"])
    sun = interval_sun(t, _HOUR_NS, location, clearsky=True)
    clear = sun["clearsky_ghi"]
    month = index.month.to_numpy() - 1
    day = np.repeat(np.arange(365), 24)
    hour = index.hour.to_numpy() + 0.5  # middle of the hour, local time
    rng = np.random.default_rng(int(cfg["seed"]))
    z_day = _ar1(rng.standard_normal(365), float(cm["day_ar1"]))
    x_hour = _ar1(rng.standard_normal(8760), float(cm["hour_ar1"]))
    t_day = _ar1(rng.standard_normal(365), float(tc["day_ar1"]))
    w_day = _ar1(rng.standard_normal(365), float(wc["day_ar1"]))
    w_hour = rng.standard_normal(8760)

    # 1-3: clearness, cap, calibration to the monthly targets [Wh/m^2]
    target = np.asarray(cfg["monthly_ghi_kwh_per_m2"]["values"], dtype=float) * 1000.0
    k_month = target / _by_month(clear, month)
    logit = np.log(k_month / (1.0 - k_month))[month[::24]]
    c_day = 1.0 / (1.0 + np.exp(-(logit + float(cm["day_spread_logit"]) * z_day)))
    sigma = float(cm["hour_sigma_log"]) * 4.0 * c_day[day] * (1.0 - c_day[day])
    factor = np.exp(sigma * x_hour - 0.5 * sigma**2)
    cap = np.minimum(float(cm["max_over_clear_sky"]) * clear, sun["et_horizontal"])
    ghi = np.minimum(clear * c_day[day] * factor, cap)
    for _ in range(200):
        scale = target / _by_month(ghi, month)
        if np.max(np.abs(scale - 1.0)) < 1e-9:
            break
        ghi = np.minimum(ghi * scale[month], cap)
    else:
        raise RuntimeError("typical-year GHI did not converge to the monthly targets")

    # 4: decomposition
    dni, dhi = decompose_ghi(ghi, sun, t)

    # 5: air temperature, monthly means kept
    daily_range, warmest = _climate_diurnal()
    base = suzhou_temperature_c(index + pd.Timedelta(minutes=30))
    c_month = _by_month(c_day, month[::24]) / np.bincount(month[::24], minlength=12)
    relative = np.clip(c_day / c_month[month[::24]], 0.3, 1.6)
    swing = 0.5 * daily_range * np.cos(2.0 * np.pi * (hour - warmest) / 24.0)
    anomaly = (
        float(tc["day_sigma_c"]) * t_day[day]
        + float(tc["diurnal_clearness_gain"]) * (relative[day] - 1.0) * swing
    )
    anomaly -= (_by_month(anomaly, month) / np.bincount(month, minlength=12))[month]
    temp_air = base + anomaly

    # 6: wind
    s_w = float(wc["day_sigma_log"])
    level = float(wc["mean_m_per_s"]) * np.exp(s_w * w_day - 0.5 * s_w**2)
    diurnal = 1.0 + float(wc["diurnal_amplitude_fraction"]) * np.cos(
        2.0 * np.pi * (hour - float(wc["peak_hour_local"])) / 24.0
    )
    wind = level[day] * diurnal * (1.0 + float(wc["hour_sigma_fraction"]) * w_hour)
    wind = np.clip(wind, float(wc["min_m_per_s"]), float(wc["max_m_per_s"]))

    data = pd.DataFrame(
        dict(zip(WEATHER_COLUMNS, (ghi, dni, dhi, temp_air, wind), strict=True)), index=index
    )
    annual = float(cfg["annual_ghi_kwh_per_m2"]["value"])
    notes = (
        f"synthetic typical year calibrated to {annual:g} kWh/m^2 GHI per year (monthly "
        "targets in vpp/solar/data/suzhou-typical-year.yaml); a stand-in: use a measured or "
        "satellite weather file (EPW, TMY3, PVGIS, PSM3) for bankable studies",
    )
    source = f"built-in Suzhou typical year (vpp, seed {int(cfg['seed'])})"
    return Weather(data=data, source=source, typical_year=True, notes=notes)
