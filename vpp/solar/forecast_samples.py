"""Make the sample forecasts and measured PV shipped in ``forecasts/`` (deterministic).

Regenerate with::

    python -m vpp.solar.forecast_samples            # writes into forecasts/

The synthetic world
-------------------
- **Truth**: the built-in typical year (:func:`vpp.solar.typical_year.suzhou_typical_year`),
  mapped onto 2026 by :func:`vpp.solar.weather.weather_on_index`.
- **Measured PV** (``forecasts/measured/measured-pv-2026-MM.csv``): the demo arrays of
  ``scenarios/xushuguan-factory-next-day.yaml`` (``roof``, ``carport``) under that truth at
  15 min, through :func:`vpp.solar.arrays.arrays_ac_kw`; columns ``roof_pv_kw``,
  ``carport_pv_kw`` (rounded to 0.01 kW) and ``site_pv_kw`` (their sum).
- **Forecasts**: issued at 14:00 the day before the target day ``D``, covering
  ``D 00:00`` to ``D+2 00:00`` (48 h, lead times 10 h to 58 h).

Error model (hourly, ``L`` = lead time of the hour [h], ``z`` AR(1) series of unit variance
``z_t = phi z_{t-1} + sqrt(1 - phi^2) eps_t``, all drawn from ``numpy.random.default_rng``
seeded by ``(SEED, YYYYMMDD of the target day)``):

- True cloud cover ``c`` [%]: the cloud cover whose irradiance under
  :func:`vpp.solar.weather.cloud_cover_to_irradiance` equals the truth's GHI in that hour
  (inverted on a 0-100 % grid in 2.5 % steps, linear between grid points; clipped to
  0-100 %; hours with clear-sky GHI under 5 W/m^2 interpolated in time from their
  neighbours).
- Forecast cloud cover ``c_f = clip(c + b + s(L) z_t, 0, 100)`` with a forecast-wide bias
  ``b ~ N(0, 10 %)``, ``s(L) = 25 % + 10 % L / 24 h`` and ``phi = 0.9`` (constants
  ``CC_*`` below).
- Air temperature ``T_f = T + b_T + (0.5 + 0.3 L / 24 h) z_t`` [degC], ``b_T ~ N(0, 0.5)``,
  ``phi = 0.9``.
- Wind speed ``w_f = w exp(0.15 z_t)`` [m/s], ``phi = 0.7``.

Two file styles: **cloud cover** (the July samples: hourly ``cloud_cover``, ``temp_air``,
``wind_speed``) and **irradiance** (the January samples: 15-min ``ghi``, ``dni``, ``dhi``
from ``c_f`` held over each hour through ``cloud_cover_to_irradiance`` on the 15-min steps,
then ``temp_air`` and ``wind_speed`` held over the hour). Both hold the same error model.
The truth's own DNI/DHI split is also Erbs, so the conversion adds little error beyond the
clipping of hours darker than the cloud model's floor (35 % of clear sky).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from vpp.scenario.schema import Scenario
from vpp.solar.arrays import arrays_ac_kw
from vpp.solar.forecast import SITE_COLUMN, array_column, modelled_arrays
from vpp.solar.typical_year import suzhou_typical_year
from vpp.solar.weather import cloud_cover_to_irradiance, weather_on_index

__all__ = ["SAMPLES", "SEED", "Sample", "forecast_frame", "main", "make_samples"]

SEED = 20260714
TZ = "Asia/Shanghai"
ISSUE_HOUR = 14
LENGTH_H = 48
#: Cloud-cover error: forecast-wide bias sd, AR(1) sd at lead 0 and its growth per day [%],
#: and the AR(1) coefficient per hour [-].
CC_BIAS_PCT, CC_SD_PCT, CC_SD_PER_DAY_PCT, CC_PHI = 10.0, 25.0, 10.0, 0.9
#: Air-temperature error: bias sd, AR(1) sd at lead 0 and its growth per day [degC]; phi [-].
T_BIAS_C, T_SD_C, T_SD_PER_DAY_C, T_PHI = 0.5, 0.5, 0.3, 0.9
#: Wind-speed error: log-normal factor sd [-] and phi [-].
W_LOG_SD, W_PHI = 0.15, 0.7
_CC_GRID = np.arange(0.0, 100.0 + 1e-9, 2.5)
_MIN_CLEAR_GHI = 5.0
_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sample:
    """One sample forecast file: its target day, column style and step."""

    day: str
    style: str  # "cloud_cover" or "irradiance"
    step: str  # "1h" or "15min"

    @property
    def filename(self) -> str:
        """``xushuguan-<day>.csv``."""
        return f"xushuguan-{self.day}.csv"


SAMPLES = (
    Sample("2026-07-15", "cloud_cover", "1h"),
    Sample("2026-07-16", "cloud_cover", "1h"),
    Sample("2026-07-17", "cloud_cover", "1h"),
    Sample("2026-07-18", "cloud_cover", "1h"),
    Sample("2026-01-14", "irradiance", "15min"),
    Sample("2026-01-15", "irradiance", "15min"),
)
MEASURED_MONTHS = ("2026-07", "2026-01")


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """An AR(1) series of unit variance."""
    eps = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = eps[0]
    for i in range(1, n):
        z[i] = phi * z[i - 1] + np.sqrt(1.0 - phi * phi) * eps[i]
    return z


def true_cloud_cover_pct(
    ghi: np.ndarray,
    index: pd.DatetimeIndex,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float,
) -> np.ndarray:
    """The cloud cover [%] whose modelled GHI equals ``ghi`` [W/m^2] at each step."""
    curves = np.stack(
        [
            cloud_cover_to_irradiance(
                np.full(len(index), cc), index, latitude_deg, longitude_deg, altitude_m
            )["ghi"].to_numpy(dtype=float)
            for cc in _CC_GRID
        ]
    )
    cc = np.full(len(index), np.nan)
    for i in range(len(index)):
        curve = curves[:, i]
        if curve[0] < _MIN_CLEAR_GHI:
            continue
        # GHI falls with cloud cover: interpolate on the increasing reversed curve
        cc[i] = np.interp(ghi[i], curve[::-1], _CC_GRID[::-1])
    filled = pd.Series(cc, index=index).interpolate(limit_direction="both")
    return np.clip(filled.fillna(50.0).to_numpy(), 0.0, 100.0)


def forecast_frame(
    sample: Sample, location: tuple[float, float, float]
) -> tuple[pd.Timestamp, pd.DataFrame]:
    """The issue time and the forecast data of one sample (error model in the module doc).

    Parameters
    ----------
    sample : Sample
        Which day, style and step.
    location : tuple of float
        Latitude [deg], longitude [deg], altitude [m].

    Returns
    -------
    issued_at : pandas.Timestamp
    data : pandas.DataFrame
        Indexed by interval start; the columns of the sample's style.
    """
    lat, lon, alt = location
    day = pd.Timestamp(sample.day, tz=TZ)
    issued = day - pd.Timedelta(days=1) + pd.Timedelta(hours=ISSUE_HOUR)
    hours = pd.date_range(day, periods=LENGTH_H, freq="1h").as_unit("ns")
    truth = weather_on_index(suzhou_typical_year(), hours)
    cc = true_cloud_cover_pct(truth["ghi"].to_numpy(dtype=float), hours, lat, lon, alt)
    lead = np.asarray((hours - issued) / pd.Timedelta(hours=1), dtype=float)
    rng = np.random.default_rng([SEED, int(day.strftime("%Y%m%d"))])
    bias_cc, bias_t = rng.normal(0.0, CC_BIAS_PCT), rng.normal(0.0, T_BIAS_C)
    z_cc, z_t, z_w = (_ar1(rng, LENGTH_H, phi) for phi in (CC_PHI, T_PHI, W_PHI))
    cc_sd = CC_SD_PCT + CC_SD_PER_DAY_PCT * lead / 24.0
    cc_f = np.clip(cc + bias_cc + cc_sd * z_cc, 0.0, 100.0)
    t_sd = T_SD_C + T_SD_PER_DAY_C * lead / 24.0
    temp_f = truth["temp_air"].to_numpy(dtype=float) + bias_t + t_sd * z_t
    wind_f = truth["wind_speed"].to_numpy(dtype=float) * np.exp(W_LOG_SD * z_w)
    hourly = pd.DataFrame(
        {"cloud_cover": cc_f, "temp_air": temp_f, "wind_speed": wind_f}, index=hours
    )
    if sample.style == "cloud_cover":
        return issued, hourly.round(1)
    steps = pd.date_range(day, periods=LENGTH_H * 4, freq="15min").as_unit("ns")
    held = hourly.reindex(steps, method="ffill")
    irr = cloud_cover_to_irradiance(held["cloud_cover"].to_numpy(), steps, lat, lon, alt)
    data = pd.DataFrame(
        {
            "ghi": irr["ghi"].to_numpy(dtype=float),
            "dni": irr["dni"].to_numpy(dtype=float),
            "dhi": irr["dhi"].to_numpy(dtype=float),
            "temp_air": held["temp_air"].to_numpy(),
            "wind_speed": held["wind_speed"].to_numpy(),
        },
        index=steps,
    )
    return issued, data.round(1)


def _write_forecast(
    path: Path,
    sample: Sample,
    issued: pd.Timestamp,
    data: pd.DataFrame,
    location: tuple[float, float, float],
) -> None:
    lat, lon, alt = location
    units = {
        "cloud_cover": "%",
        "ghi": "W/m^2",
        "dni": "W/m^2",
        "dhi": "W/m^2",
        "temp_air": "degC",
        "wind_speed": "m/s",
    }
    header = [
        f"# issued_at: {issued.isoformat()}",
        f"# site: Xushuguan, Suzhou ({lat:.2f} N, {lon:.2f} E, {alt:g} m)",
        "# source: vpp synthetic forecast = built-in typical year + seeded error "
        f"(seed {SEED}); see forecasts/README.md",
        "# columns: "
        + ", ".join(f"{c} [{units[c]}]" for c in data.columns)
        + f"; timestamp = start of each {sample.step} interval",
    ]
    out = data.copy()
    out.index = pd.Index([t.isoformat() for t in data.index], name="timestamp")
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(header) + "\n")
        out.to_csv(handle, lineterminator="\n")


def measured_frame(scenario: Scenario, month: str) -> pd.DataFrame:
    """The synthetic world's measured PV for one month at 15 min [kW]."""
    start = pd.Timestamp(f"{month}-01", tz=TZ)
    index = pd.date_range(
        start, start + pd.DateOffset(months=1), freq="15min", inclusive="left"
    ).as_unit("ns")
    truth = weather_on_index(suzhou_typical_year(), index)
    loc = scenario.site.location
    arrays = modelled_arrays(scenario)
    ac = arrays_ac_kw(
        arrays,
        truth,
        latitude_deg=loc.latitude_deg,
        longitude_deg=loc.longitude_deg,
        altitude_m=loc.altitude_m,
    )
    frame = pd.DataFrame(
        {array_column(a.name): np.round(ac[a.name], 2) for a in arrays}, index=index
    )
    frame[SITE_COLUMN] = frame.sum(axis=1).round(2)
    return frame


def make_samples(
    out: str | Path,
    scenario: Scenario,
    samples: Sequence[Sample] = SAMPLES,
    months: Sequence[str] = MEASURED_MONTHS,
) -> list[Path]:
    """Write the sample forecasts and the measured PV files into ``out``.

    Parameters
    ----------
    out : str or pathlib.Path
        The folder (``forecasts/``); measured files go to its ``measured/`` sub-folder.
    scenario : Scenario
        Gives the site's location and arrays (the next-day demo scenario).
    samples : sequence of Sample
        The forecasts to make.
    months : sequence of str
        The months (``YYYY-MM``) of measured PV to make.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    (out / "measured").mkdir(parents=True, exist_ok=True)
    loc = scenario.site.location
    location = (loc.latitude_deg, loc.longitude_deg, loc.altitude_m)
    written = []
    for sample in samples:
        issued, data = forecast_frame(sample, location)
        path = out / sample.filename
        _write_forecast(path, sample, issued, data, location)
        written.append(path)
    for month in months:
        frame = measured_frame(scenario, month)
        path = out / "measured" / f"measured-pv-{month}.csv"
        text = frame.copy()
        text.index = pd.Index([t.isoformat() for t in frame.index], name="timestamp")
        text.to_csv(path, lineterminator="\n")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vpp.solar.forecast_samples [--out DIR] [--scenario YAML]``."""
    import vpp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(_ROOT / "forecasts"), help="output folder")
    parser.add_argument(
        "--scenario",
        default=str(_ROOT / "scenarios" / "xushuguan-factory-next-day.yaml"),
        help="scenario giving the site's location and arrays",
    )
    args = parser.parse_args(argv)
    for path in make_samples(args.out, vpp.load_scenario(args.scenario)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
