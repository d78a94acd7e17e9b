"""Clear-sky PV output scaled by a clearness factor: a stand-in for weather-driven arrays.

Until arrays are driven by a weather file or a forecast, a ``kind: clearsky`` array is
modelled from pvlib's clear sky at the site, every day alike except for the sun's path and
the turbidity of the month. It has no clouds, so its day-to-day variability and its energy in
any one week are not those of a real array: use it for examples, sizing sketches and tests.

Method (all with pvlib, at the middle of each sub-interval of at most 15 minutes; a step's
value is the mean AC power of its sub-intervals, so a 1-hour step is the mean of its four
15-minute steps):

1. Sun position: ``pvlib.solarposition.get_solarposition(method="ephemeris")``.
2. Clear sky: Ineichen-Perez with the Linke turbidity of pvlib's bundled monthly climatology
   (``lookup_linke_turbidity``, interpolated by day), sea-level pressure, Kasten-Young
   relative air mass.
3. GHI, DNI and DHI all multiplied by ``clearness_fraction``.
4. Plane of array: Perez transposition (``allsitescomposite1990``), ground albedo 0.2; the
   beam component is multiplied by the physical (Fresnel) incidence-angle modifier; the
   diffuse components are not.
5. Cell temperature: SAPM, close-roof-mount glass-glass parameters, wind 1 m/s, air
   temperature ``temp_air_c`` (a constant 20 degC if not given).
6. DC: PVWatts, temperature coefficient -0.0037 1/K, times ``1 - losses_fraction``.
7. AC: PVWatts inverter with nominal efficiency 0.96 and AC rating
   ``dc_capacity_kw / dc_ac_ratio``; clipped to [0, AC rating].

With the schema defaults (tilt 5 deg, south, DC/AC 1.2, losses 0.14) and clearness 0.62 at
Xushuguan (31.38 N, 120.48 E) a year (2026) gives about 1050 kWh per kWp (DC), inside the
900-1400 kWh/kWp range expected of Suzhou rooftops.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pvlib

__all__ = ["clearsky_pv_kw"]

_SUB_STEP = pd.Timedelta(minutes=15)
_ALBEDO = 0.2
_WIND_SPEED_M_PER_S = 1.0
_DEFAULT_TEMP_AIR_C = 20.0
_GAMMA_PDC_PER_K = -0.0037
_ETA_INV_NOM = 0.96
_SAPM = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["close_mount_glass_glass"]


def _step(index: pd.DatetimeIndex) -> pd.Timedelta:
    if index.freq is not None:
        return pd.Timedelta(index.freq)
    if len(index) >= 2:
        diffs = np.unique(np.diff(index.as_unit("s").asi8))
        if len(diffs) == 1 and diffs[0] > 0:
            return pd.Timedelta(seconds=int(diffs[0]))
        raise ValueError("the index must have one positive step size; got several")
    raise ValueError("cannot tell the step of a one-label index without a freq")


def clearsky_pv_kw(
    index: pd.DatetimeIndex,
    *,
    latitude_deg: float,
    longitude_deg: float,
    dc_capacity_kw: float,
    tilt_deg: float,
    azimuth_deg: float,
    dc_ac_ratio: float,
    losses_fraction: float,
    clearness_fraction: float,
    temp_air_c: np.ndarray | float | None = None,
) -> np.ndarray:
    """AC output of a clear-sky PV array, the mean power of each step [kW].

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timezone-aware labels at the start of each interval, one step size.
    latitude_deg, longitude_deg : float
        Site position [deg] (north and east positive).
    dc_capacity_kw : float
        DC nameplate at standard test conditions [kW].
    tilt_deg : float
        Module tilt from horizontal [deg].
    azimuth_deg : float
        Direction the modules face [deg], clockwise from north (180 = south).
    dc_ac_ratio : float
        DC nameplate over the inverter's AC rating [-].
    losses_fraction : float
        DC losses (soiling, wiring, mismatch, availability) [0-1].
    clearness_fraction : float
        Factor on the clear-sky GHI, DNI and DHI [0-1].
    temp_air_c : numpy.ndarray or float, optional
        Air temperature per step [degC]; a constant 20 degC if not given.

    Returns
    -------
    numpy.ndarray
        AC power [kW], one per step, between 0 and ``dc_capacity_kw / dc_ac_ratio``.

    Raises
    ------
    ValueError
        A naive index, an index without a single step, or ``temp_air_c`` of the wrong length.
    """
    index = pd.DatetimeIndex(index)
    if index.tz is None:
        raise ValueError(
            "the index must be timezone-aware (e.g. Asia/Shanghai): "
            "pvlib would read naive times as UTC"
        )
    n = len(index)
    if n == 0:
        return np.zeros(0)
    if dc_capacity_kw <= 0 or dc_ac_ratio <= 0:
        raise ValueError("dc_capacity_kw and dc_ac_ratio must be positive")
    step = _step(index)
    n_sub = max(1, int(np.ceil(step / _SUB_STEP)))
    offsets = [step * (j + 0.5) / n_sub for j in range(n_sub)]
    # time-major: every step at its first sub-interval's middle, then at the second, ...
    utc = index.tz_convert(None)
    times = pd.DatetimeIndex(np.concatenate([(utc + off).to_numpy() for off in offsets]))
    times = times.tz_localize("UTC")

    if temp_air_c is None:
        temp = np.full(n, _DEFAULT_TEMP_AIR_C)
    else:
        temp = np.asarray(temp_air_c, dtype=float)
        if temp.ndim == 0:
            temp = np.full(n, float(temp))
        elif temp.shape != (n,):
            raise ValueError(
                f"temp_air_c must hold one air temperature [degC] per step: "
                f"{n} values, got shape {temp.shape}"
            )
    temp = np.tile(temp, n_sub)

    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated")
        dc_kw = _dc_kw(
            times,
            temp,
            latitude_deg,
            longitude_deg,
            dc_capacity_kw,
            tilt_deg,
            azimuth_deg,
            clearness_fraction,
        )
        dc_kw = dc_kw * (1.0 - losses_fraction)
        ac_rating_kw = dc_capacity_kw / dc_ac_ratio
        ac_kw = pvlib.inverter.pvwatts(dc_kw, ac_rating_kw / _ETA_INV_NOM, _ETA_INV_NOM)
    ac_kw = np.clip(np.nan_to_num(np.asarray(ac_kw, dtype=float)), 0.0, ac_rating_kw)
    return ac_kw.reshape(n_sub, n).mean(axis=0)


def _dc_kw(
    times: pd.DatetimeIndex,
    temp: np.ndarray,
    latitude_deg: float,
    longitude_deg: float,
    dc_capacity_kw: float,
    tilt_deg: float,
    azimuth_deg: float,
    clearness_fraction: float,
) -> np.ndarray:
    """DC power before losses at each time [kW] (steps 1-6 of the module docstring)."""
    solpos = pvlib.solarposition.get_solarposition(
        times, latitude_deg, longitude_deg, method="ephemeris"
    )
    zenith = solpos["apparent_zenith"].to_numpy()
    azimuth = solpos["azimuth"].to_numpy()
    airmass_rel = pvlib.atmosphere.get_relative_airmass(zenith)
    airmass_abs = pvlib.atmosphere.get_absolute_airmass(airmass_rel, 101325.0)
    linke = pvlib.clearsky.lookup_linke_turbidity(times, latitude_deg, longitude_deg)
    dni_extra = pvlib.irradiance.get_extra_radiation(times).to_numpy()
    clear = pvlib.clearsky.ineichen(zenith, airmass_abs, linke.to_numpy(), dni_extra=dni_extra)
    ghi = np.nan_to_num(clear["ghi"]) * clearness_fraction
    dni = np.nan_to_num(clear["dni"]) * clearness_fraction
    dhi = np.nan_to_num(clear["dhi"]) * clearness_fraction

    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg,
        azimuth_deg,
        zenith,
        azimuth,
        dni,
        ghi,
        dhi,
        dni_extra=dni_extra,
        airmass=airmass_rel,
        albedo=_ALBEDO,
        model="perez",
    )
    aoi = pvlib.irradiance.aoi(tilt_deg, azimuth_deg, zenith, azimuth)
    iam = pvlib.iam.physical(aoi)
    beam = np.nan_to_num(poa["poa_direct"]) * np.nan_to_num(iam)
    diffuse = np.nan_to_num(poa["poa_diffuse"])
    effective = np.maximum(0.0, beam + diffuse)
    poa_global = np.maximum(0.0, np.nan_to_num(poa["poa_global"]))

    temp_cell = pvlib.temperature.sapm_cell(
        poa_global, temp, _WIND_SPEED_M_PER_S, _SAPM["a"], _SAPM["b"], _SAPM["deltaT"]
    )
    dc_kw = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, dc_capacity_kw, _GAMMA_PDC_PER_K)
    return np.maximum(0.0, np.nan_to_num(np.asarray(dc_kw, dtype=float)))
