"""Sun geometry over intervals and the split of GHI into DNI and DHI.

Shared by the weather reader (:mod:`vpp.solar.weather`) and the built-in typical year
(:mod:`vpp.solar.typical_year`). Times are UTC [ns] labelling the start of each interval
(or instants). Sun geometry is ``pvlib.solarposition.ephemeris``; interval quantities are
means over sub-steps of at most 15 min, and decomposition uses the interval mean of
``max(cos zenith, 0)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pvlib

__all__ = ["decompose_ghi", "interval_sun"]

_SUB_STEP_MAX_NS = 900_000_000_000
"""Longest sub-step over which interval means are taken: 15 min [ns]."""


def interval_sun(
    t: np.ndarray,
    step: int,
    location: tuple[float, float, float],
    *,
    instant: bool = False,
    clearsky: bool = False,
) -> dict[str, np.ndarray]:
    """Interval means of the sun's geometry and extraterrestrial irradiance.

    Parameters
    ----------
    t : numpy.ndarray
        Interval starts (or instants), UTC [ns].
    step : int
        Length of each interval [ns].
    location : tuple of float
        Latitude and longitude [deg], north and east positive, and altitude [m].
    instant : bool
        Values at the times themselves, not means over their intervals.
    clearsky : bool
        Also the Ineichen clear-sky GHI (pvlib's Linke turbidity climatology, pressure
        from altitude).

    Returns
    -------
    dict of str to numpy.ndarray
        ``cos_zenith`` (>= 0) [-], ``et_horizontal`` and ``dni_extra`` [W/m^2] and, if
        asked, ``clearsky_ghi`` [W/m^2], one value per element of ``t``; means over
        sub-steps of at most 15 min.
    """
    lat, lon, alt = location
    n_sub = 1 if instant else max(1, -(-step // _SUB_STEP_MAX_NS))
    offsets = [0] if instant else [step * (2 * j + 1) // (2 * n_sub) for j in range(n_sub)]
    times = pd.DatetimeIndex(np.concatenate([t + o for o in offsets]), tz="UTC")
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated")
        sp = pvlib.solarposition.ephemeris(times, lat, lon)
        e0 = pvlib.irradiance.get_extra_radiation(times).to_numpy()
        cz = np.maximum(np.cos(np.radians(sp["zenith"].to_numpy())), 0.0)
        out = {"cos_zenith": cz, "et_horizontal": e0 * cz, "dni_extra": e0}
        if clearsky:
            app = sp["apparent_zenith"].to_numpy()
            am_rel = pvlib.atmosphere.get_relative_airmass(app)
            am = pvlib.atmosphere.get_absolute_airmass(am_rel, pvlib.atmosphere.alt2pres(alt))
            tl = pvlib.clearsky.lookup_linke_turbidity(times, lat, lon).to_numpy()
            cs = pvlib.clearsky.ineichen(app, am, tl, altitude=alt, dni_extra=e0)
            out["clearsky_ghi"] = np.nan_to_num(np.asarray(cs["ghi"], dtype=float))
    return {k: v.reshape(n_sub, len(t)).mean(axis=0) for k, v in out.items()}


def decompose_ghi(
    ghi: np.ndarray,
    sun: dict[str, np.ndarray],
    t: np.ndarray,
    dni: np.ndarray | None = None,
    dhi: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """DNI and DHI from GHI: Erbs et al. (1982) when neither is given, else closure.

    With one of ``dni`` or ``dhi`` given, the other closes ``ghi = dhi + dni cos z``
    (no beam below about 3.7 deg elevation, pvlib's ``min_cos_zenith``; DNI at most
    the extraterrestrial DNI).

    Parameters
    ----------
    ghi : numpy.ndarray
        Global horizontal irradiance [W/m^2].
    sun : dict of str to numpy.ndarray
        From :func:`interval_sun` on the same times: ``cos_zenith`` [-] and
        ``dni_extra`` [W/m^2].
    t : numpy.ndarray
        The times, UTC [ns] (for the day of year).
    dni, dhi : numpy.ndarray, optional
        Direct normal and diffuse horizontal irradiance, when known [W/m^2].

    Returns
    -------
    tuple of numpy.ndarray
        ``dni`` and ``dhi`` [W/m^2].
    """
    cz = sun["cos_zenith"]
    if dhi is not None and dni is None:
        ok = cz > 0.065  # pvlib's min_cos_zenith: no beam below about 3.7 deg elevation
        beam = np.clip(ghi - dhi, 0.0, None) / np.where(ok, cz, 1.0)
        return np.minimum(np.where(ok, beam, 0.0), sun["dni_extra"]), dhi
    if dni is not None:
        return dni, np.clip(ghi - dni * cz, 0.0, ghi)
    zenith = np.degrees(np.arccos(np.clip(cz, 0.0, 1.0)))
    doy = pd.DatetimeIndex(t, tz="UTC").day_of_year.to_numpy()
    out = pvlib.irradiance.erbs(ghi, zenith, doy)
    return np.asarray(out["dni"], dtype=float), np.asarray(out["dhi"], dtype=float)
