"""Weather-driven PV arrays (rooftop and carport): AC power of many arrays in one pass.

The default chain follows NREL's PVWatts v8 (SAM ``cmod_pvwattsv8``) for a plain
fixed array; each step names the pvlib function that does it. Every step is computed for
all arrays at once on ``(array, time)`` grids; the sun and the sky are computed once.

1. Sun position at the middle of each interval (labels are interval starts):
   ``pvlib.solarposition.get_solarposition`` (NREL SPA, numpy), refraction from the
   weather's air temperature and the site's pressure; apparent zenith from then on.
2. Plane of array: Perez 1990 transposition (``allsitescomposite1990``) with
   extraterrestrial DNI and Kasten-Young relative air mass; isotropic ground reflection
   with the array's ``albedo``. Beam ``E_b``, sky diffuse ``E_s``, ground ``E_g`` [W/m^2].
3. Cover (PVWatts v8, standard module with anti-reflective glass): Fresnel-Bouguer
   transmission ``pvlib.iam.physical`` (n = 1.526, K = 4 /m, L = 2 mm, AR coating
   n = 1.3), relative to normal incidence, for the beam at its incidence angle and for
   the sky and ground diffuse at the Brandemuehl-Beckman effective angles
   ``theta_s = 59.7 - 0.1388 b + 0.001497 b^2`` and ``theta_g = 90 - 0.5788 b + 0.002693 b^2``
   (``b`` = tilt [deg]). PVWatts v8 (SAM 2025, PySAM 7.1) divides the coated beam
   transmission by that of plain glass, so its beam modifier reaches 1.02 at normal
   incidence, and gives the diffuse plain glass; vpp keeps every modifier <= 1 (a
   module's STC rating already includes its glass), which yields about 0.5 % less.
4. Spectrum: the De Soto air-mass modifier of PVWatts v8,
   ``f_AM = sum_i a_i AM_a^i`` with a = (0.918093, 0.086257, -0.024459, 0.002816,
   -0.000126) and ``AM_a`` the pressure-corrected air mass.
   Effective irradiance ``E_e = f_AM (E_b IAM_b + E_s IAM_s + E_g IAM_g + E_r)``, where
   ``E_r`` is the rear irradiance of bifacial carports (step 5) and 0 otherwise.
5. Bifacial carports: ``pvlib.bifacial.infinite_sheds.get_irradiance`` (Hay-Davies sky)
   with the carport's ``gcr``, ``height_m``, pitch ``module_width_m / gcr``, albedo and
   bifaciality; ``E_r`` is its rear contribution (rear irradiance x bifaciality x
   (1 - 2 % rear shading by the structure)). The front keeps steps 2-4, so a bifacial
   carport differs from a monofacial one by ``E_r`` alone.
6. Cell temperature: SAPM ``pvlib.temperature.sapm_cell`` from ``E_b + E_s + E_g + E_r``,
   air temperature and wind speed, with the array's ``temperature_model`` parameters.
   Defaults by mounting: ``close_mount_glass_glass`` on roofs (modules close to a
   colour-steel roof); on carports ``open_rack_glass_polymer`` (a glass-backsheet module
   on an open rack: PVWatts' standard module, and the set SAM's PVWatts v8 source names
   as the Sandia equivalent of its open-rack thermal model) or, for bifacial carports,
   ``open_rack_glass_glass``.
7. DC: ``pvlib.pvsystem.pvwatts_dc``,
   ``P_dc = P_stc E_e / 1000 (1 + gamma (T_cell - 25))`` with gamma = -0.0037 /K (PVWatts
   v8 standard module), or, with ``module``, the CEC single-diode model of that module
   (``calcparams_cec`` + ``singlediode``) times ``P_stc / STC`` modules. Then
   ``P_dc *= (1 - losses_fraction) D``, with the degradation factor
   ``D = (1 - degradation_fraction_per_year)^max(0, y - commissioning_year)`` and ``y``
   the calendar year of the interval's start label (whole years: the factor steps on
   1 January; the commissioning year itself and earlier years are not degraded; without
   ``commissioning_year`` D = 1). Degradation acts on DC as in PVWatts, so a degraded
   array clips less; its AC output is exactly that of the new array with
   ``1 - losses_fraction`` multiplied by D.
8. AC: ``pvlib.inverter.pvwatts`` with nominal efficiency 0.96 and
   ``pdc0 = ac_kw / 0.96`` (PVWatts v8), which clips at ``ac_kw``; or, with ``inverter``,
   ``pvlib.inverter.sandia`` of that CEC inverter at its nominal DC voltage ``Vdco``,
   scaled by ``ac_kw / Paco`` inverters. Output is held in ``[0, ac_kw]`` (a Sandia
   inverter's night consumption is not reported).

Not modelled: row-to-row self-shading of the front (PVWatts applies it to open-rack
arrays: 0.9 % at gcr 0.4 in the reference case), snow, soiling beyond
``losses_fraction``, night consumption.

Agreement (``tests/test_arrays.py``, reference ``tests/data/pvwatts/reference.json``):
on pvlib's Greensboro TMY3 file, a 100 kW DC, 20 deg, south, DC/AC 1.2, 14 % loss
monofacial carport gives -0.4 % annual AC energy against PVWatts v8 open rack at gcr 0.4
(-1.3 % against PVWatts without self-shading: the cover, -0.5 %, and SAPM cells about
3 degC warmer than PVWatts' Fuentes model, POA-weighted). A rooftop on the close-roof
default gives -5 % against PVWatts' roof mount (INOCT 49 degC), which assumes a stand-off.
"""

from __future__ import annotations

import difflib
import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pvlib

from vpp.errors import DataError, Problem, ScenarioError

__all__ = ["UnknownEquipmentError", "arrays_ac_kw"]

_WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
_GAMMA_PDC_PER_K = -0.0037
_ETA_INV_NOM = 0.96
_N_GLASS, _K_GLASS_PER_M, _L_GLASS_M, _N_AR = 1.526, 4.0, 0.002, 1.3
_AM_COEFFICIENTS = (0.918093, 0.086257, -0.024459, 0.002816, -0.000126)
_REAR_SHADE_FRACTION = -0.02


class UnknownEquipmentError(ScenarioError, ValueError):
    """An array names a module or inverter, or a temperature model, that pvlib does not have."""


@dataclass(frozen=True)
class _Spec:
    """What the chain needs of one array (read from a RooftopPV or CarportPV)."""

    name: str
    dc_kw: float
    ac_kw: float
    tilt_deg: float
    azimuth_deg: float
    albedo: float
    losses_fraction: float
    degradation_fraction: float
    commissioning_year: int | None
    sapm: tuple[float, float, float]
    module: pd.Series | None
    inverter: pd.Series | None
    bifacial: Any


def arrays_ac_kw(
    arrays: Sequence[Any],
    weather: pd.DataFrame,
    *,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float = 0.0,
) -> dict[str, np.ndarray]:
    """AC power of each PV array, the mean of each interval [kW].

    Parameters
    ----------
    arrays : sequence of RooftopPV or CarportPV
        Arrays with the attributes of :class:`vpp.scenario.solar.RooftopPV` /
        ``CarportPV`` (``kind``, ``name``, ``dc_capacity_kw``, ``tilt_deg``,
        ``azimuth_deg``, ``ac_kw``, ``losses_fraction``, ``degradation_fraction_per_year``,
        ``commissioning_year``, ``module``, ``inverter``, ``temperature_model``,
        ``albedo`` and, on carports, ``bifacial``). Names must be unique.
    weather : pandas.DataFrame
        Columns ``ghi``, ``dni``, ``dhi`` [W/m^2], ``temp_air`` [degC] and ``wind_speed``
        [m/s], interval averages on a regular, timezone-aware index whose labels are the
        start of each interval. Other columns are ignored.
    latitude_deg, longitude_deg : float
        Site position [deg], north and east positive.
    altitude_m : float, default 0
        Site altitude [m]; sets the air pressure for refraction and air mass.

    Returns
    -------
    dict of str to numpy.ndarray
        AC power [kW] per array name, one value per weather row, within
        ``[0, array.ac_kw]``.

    Raises
    ------
    DataError
        The weather lacks a column, holds NaN, or its index is naive or irregular.
    UnknownEquipmentError
        A module, inverter or temperature model name is unknown (a ``ValueError`` and a
        ``ScenarioError``; the message lists close matches), or two arrays share a name.
    """
    index = _check_weather(weather)
    specs = _specs(arrays)
    if not specs:
        return {}
    n = len(index)
    if n == 0:
        return {s.name: np.zeros(0) for s in specs}
    values = {c: weather[c].to_numpy(dtype=float) for c in _WEATHER_COLUMNS}
    ghi, dni, dhi = (np.maximum(values[c], 0.0) for c in ("ghi", "dni", "dhi"))
    temp_air, wind = values["temp_air"], np.maximum(values["wind_speed"], 0.0)
    col = np.newaxis
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # pvlib 0.16 still calls DatetimeIndex.dayofyear, deprecated in pandas 3.1
        warnings.filterwarnings("ignore", message=r".*dayofyear is deprecated")
        sun = _sun(index, latitude_deg, longitude_deg, altitude_m, temp_air)
        front, poa = _front(specs, sun, ghi, dni, dhi)
        rear = _rear(specs, sun, ghi, dni, dhi)
        effective = sun["f_am"] * (front + rear)
        p = {f: np.array([s.sapm[i] for s in specs])[:, col] for i, f in enumerate("abd")}
        temp_cell = pvlib.temperature.sapm_cell(poa + rear, temp_air, wind, p["a"], p["b"], p["d"])
        dc_kw = _dc_kw(specs, effective, temp_cell)
        years = index.year.to_numpy()
        derate = np.array([1.0 - s.losses_fraction for s in specs])[:, col] * np.stack(
            [_degradation(s, years) for s in specs]
        )
        dc_kw = np.nan_to_num(dc_kw) * derate
        ac_kw = _ac_kw(specs, dc_kw)
    ac_rating = np.array([s.ac_kw for s in specs])[:, col]
    ac_kw = np.clip(np.nan_to_num(ac_kw), 0.0, ac_rating)
    return {s.name: ac_kw[i].copy() for i, s in enumerate(specs)}


def _check_weather(weather: pd.DataFrame) -> pd.DatetimeIndex:
    """The weather's index, after checking columns, NaN, time zone and step."""
    problems: list[Problem] = []
    missing = [c for c in _WEATHER_COLUMNS if c not in weather.columns]
    if missing:
        problems.append(
            Problem(
                "the weather lacks columns",
                key=", ".join(missing),
                value=f"columns {list(weather.columns)}",
                allowed=", ".join(_WEATHER_COLUMNS),
                fix="read weather with vpp.solar.weather, which names columns as pvlib does",
            )
        )
    for c in (c for c in _WEATHER_COLUMNS if c in weather.columns):
        bad = weather[c].isna().to_numpy()
        if bad.any():
            problems.append(
                Problem(
                    f"the weather holds {int(bad.sum())} missing values",
                    key=c,
                    timestamp=str(weather.index[int(np.argmax(bad))]),
                    value="NaN",
                    fix="fill the gaps before computing PV "
                    "(weather readers interpolate short ones)",
                )
            )
    index = weather.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        problems.append(
            Problem(
                "the weather index must be timezone-aware timestamps",
                key="index",
                value=f"{type(index).__name__} tz={getattr(index, 'tz', None)}",
                fix="localize it (e.g. Asia/Shanghai): pvlib would read naive times as UTC",
            )
        )
    elif len(index) >= 2:
        steps = np.unique(np.diff(index.as_unit("ns").asi8))
        if len(steps) != 1 or steps[0] <= 0:
            problems.append(
                Problem(
                    "the weather index must increase by one step size",
                    key="index",
                    value=f"steps {sorted({str(pd.Timedelta(int(s))) for s in steps[:5]})}",
                    fix="resample the weather to one step (15 min or 1 h) explicitly",
                )
            )
    elif len(index) == 1 and index.freq is None:
        problems.append(
            Problem(
                "cannot tell the step of a one-row weather frame",
                key="index",
                value="1 row, no freq",
                fix="give the index a freq",
            )
        )
    if problems:
        raise DataError(problems)
    return pd.DatetimeIndex(index)


def _specs(arrays: Sequence[Any]) -> list[_Spec]:
    """Read each array's fields; collect every unknown name and raise them together."""
    problems: list[Problem] = []
    specs: list[_Spec] = []
    seen: set[str] = set()
    for array in arrays:
        name = str(array.name)
        if name in seen:
            problems.append(
                Problem(
                    "two arrays share a name",
                    key=f"{name}.name",
                    value=name,
                    fix="give each array its own name",
                )
            )
        seen.add(name)
        model = getattr(array, "temperature_model", None) or _default_temperature_model(array)
        sapm_sets = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]
        if model not in sapm_sets:
            problems.append(_unknown(name, "temperature_model", model, list(sapm_sets)))
            model = "open_rack_glass_glass"
        module = _lookup(name, "module", getattr(array, "module", None), problems)
        inverter = _lookup(name, "inverter", getattr(array, "inverter", None), problems)
        params = sapm_sets[model]
        specs.append(
            _Spec(
                name=name,
                dc_kw=float(array.dc_capacity_kw),
                ac_kw=float(array.ac_kw),
                tilt_deg=float(array.tilt_deg),
                azimuth_deg=float(array.azimuth_deg),
                albedo=float(getattr(array, "albedo", 0.2)),
                losses_fraction=float(array.losses_fraction),
                degradation_fraction=float(getattr(array, "degradation_fraction_per_year", 0.0)),
                commissioning_year=getattr(array, "commissioning_year", None),
                sapm=(params["a"], params["b"], params["deltaT"]),
                module=module,
                inverter=inverter,
                bifacial=getattr(array, "bifacial", None),
            )
        )
    if problems:
        raise UnknownEquipmentError(problems)
    return specs


def _default_temperature_model(array: Any) -> str:
    """SAPM parameter set that fits the mounting (step 6 of the module docstring)."""
    if getattr(array, "kind", None) == "rooftop":
        return "close_mount_glass_glass"
    if getattr(array, "bifacial", None) is not None:
        return "open_rack_glass_glass"
    return "open_rack_glass_polymer"


@functools.cache
def _database(which: str) -> pd.DataFrame:
    """pvlib's bundled CEC module ("CECMod") or inverter ("CECInverter") table."""
    return pvlib.pvsystem.retrieve_sam(which)


def _lookup(array: str, field: str, value: str | None, problems: list[Problem]) -> Any:
    """The CEC database entry named ``value`` (column), or None; unknown names are problems."""
    if value is None:
        return None
    table = _database("CECMod" if field == "module" else "CECInverter")
    if value in table.columns:
        return table[value]
    problems.append(_unknown(array, field, value, list(table.columns)))
    return None


def _unknown(array: str, field: str, value: str, names: list[str]) -> Problem:
    close = difflib.get_close_matches(value, names, n=5, cutoff=0.5)
    return Problem(
        f"unknown {field}",
        key=f"{array}.{field}",
        value=repr(value),
        allowed=f"close matches: {close}" if close else f"one of {len(names)} names in pvlib",
        fix="use a name exactly as pvlib spells it (pvlib.pvsystem.retrieve_sam for "
        "modules and inverters, pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS['sapm'])",
    )


def _step(index: pd.DatetimeIndex) -> pd.Timedelta:
    if len(index) >= 2:
        return pd.Timedelta(index[1] - index[0])
    return pd.Timedelta(pd.tseries.frequencies.to_offset(index.freq))


#: Sun positions kept per process (a park's sites share their location, and a job reads
#: each site's history per event): at most this many horizons [-].
SUN_CACHE_SIZE = 32
_SUN_CACHE: dict[tuple, dict[str, np.ndarray]] = {}


def _sun(
    index: pd.DatetimeIndex,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float,
    temp_air: np.ndarray,
) -> dict[str, np.ndarray]:
    """Sun position, extraterrestrial DNI, air masses and spectral factor at mid-interval.

    The same inputs (index, location, air temperature) give the values computed before
    (read-only arrays, :data:`SUN_CACHE_SIZE` horizons kept).
    """
    temp = np.ascontiguousarray(temp_air, dtype=float)
    key = (
        index.asi8.tobytes(),
        str(index.tz),
        str(index.freq),
        float(latitude_deg),
        float(longitude_deg),
        float(altitude_m),
        temp.tobytes(),
    )
    found = _SUN_CACHE.get(key)
    if found is None:
        found = _sun_uncached(index, latitude_deg, longitude_deg, altitude_m, temp_air)
        for values in found.values():
            values.flags.writeable = False
        if len(_SUN_CACHE) >= SUN_CACHE_SIZE:
            _SUN_CACHE.pop(next(iter(_SUN_CACHE)))
        _SUN_CACHE[key] = found
    return dict(found)


def _sun_uncached(
    index: pd.DatetimeIndex,
    latitude_deg: float,
    longitude_deg: float,
    altitude_m: float,
    temp_air: np.ndarray,
) -> dict[str, np.ndarray]:
    times = index + _step(index) / 2
    pressure = float(pvlib.atmosphere.alt2pres(altitude_m))
    pos = pvlib.solarposition.get_solarposition(
        times,
        latitude_deg,
        longitude_deg,
        altitude=altitude_m,
        pressure=pressure,
        temperature=temp_air,
    )
    zenith = pos["apparent_zenith"].to_numpy()
    airmass = pvlib.atmosphere.get_relative_airmass(zenith, model="kastenyoung1989")
    airmass_abs = pvlib.atmosphere.get_absolute_airmass(airmass, pressure)
    f_am = np.polynomial.polynomial.polyval(np.nan_to_num(airmass_abs), _AM_COEFFICIENTS)
    return {
        "zenith": zenith,
        "azimuth": pos["azimuth"].to_numpy(),
        "dni_extra": np.asarray(pvlib.irradiance.get_extra_radiation(times), dtype=float),
        "airmass": airmass,
        "f_am": np.where(np.isnan(airmass_abs), 0.0, np.maximum(f_am, 0.0)),
    }


def _front(
    specs: list[_Spec],
    sun: dict[str, np.ndarray],
    ghi: np.ndarray,
    dni: np.ndarray,
    dhi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Front irradiance through the cover and incident on the plane [W/m^2], (array, time).

    Computed once per distinct (tilt, azimuth, albedo) and broadcast to the arrays.
    """
    keys = [(s.tilt_deg, s.azimuth_deg, s.albedo) for s in specs]
    unique = sorted(set(keys))
    which = np.array([unique.index(k) for k in keys])
    tilt, azimuth, albedo = (np.array(v, dtype=float)[:, np.newaxis] for v in zip(*unique))
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        sun["zenith"],
        sun["azimuth"],
        dni,
        ghi,
        dhi,
        dni_extra=sun["dni_extra"],
        airmass=sun["airmass"],
        albedo=albedo,
        model="perez",
    )
    aoi = pvlib.irradiance.aoi(tilt, azimuth, sun["zenith"], sun["azimuth"])
    iam_beam = pvlib.iam.physical(aoi, _N_GLASS, _K_GLASS_PER_M, _L_GLASS_M, n_ar=_N_AR)
    theta_sky = 59.7 - 0.1388 * tilt + 0.001497 * tilt**2
    theta_ground = 90.0 - 0.5788 * tilt + 0.002693 * tilt**2
    iam_sky, iam_ground = (
        pvlib.iam.physical(t, _N_GLASS, _K_GLASS_PER_M, _L_GLASS_M, n_ar=_N_AR)
        for t in (theta_sky, theta_ground)
    )
    beam = np.nan_to_num(poa["poa_direct"])
    sky = np.nan_to_num(poa["poa_sky_diffuse"])
    ground = np.nan_to_num(poa["poa_ground_diffuse"]) * np.ones_like(beam)
    through = beam * np.nan_to_num(iam_beam) + sky * iam_sky + ground * iam_ground
    incident = np.maximum(beam + sky + ground, 0.0)
    return np.maximum(through, 0.0)[which], incident[which]


def _rear(
    specs: list[_Spec],
    sun: dict[str, np.ndarray],
    ghi: np.ndarray,
    dni: np.ndarray,
    dhi: np.ndarray,
) -> np.ndarray:
    """Effective rear irradiance of bifacial carports [W/m^2], (array, time); 0 elsewhere."""
    rear = np.zeros((len(specs), len(ghi)))
    for i, s in enumerate(specs):
        b = s.bifacial
        if b is None:
            continue
        out = pvlib.bifacial.infinite_sheds.get_irradiance(
            s.tilt_deg,
            s.azimuth_deg,
            sun["zenith"],
            sun["azimuth"],
            b.gcr,
            b.height_m,
            b.module_width_m / b.gcr,
            ghi,
            dhi,
            dni,
            s.albedo,
            model="haydavies",
            dni_extra=sun["dni_extra"],
            bifaciality=b.bifaciality,
            shade_factor=_REAR_SHADE_FRACTION,
        )
        rear[i] = np.nan_to_num(np.asarray(out["poa_global"]) - np.asarray(out["poa_front"]))
    return np.maximum(rear, 0.0)


def _dc_kw(specs: list[_Spec], effective: np.ndarray, temp_cell: np.ndarray) -> np.ndarray:
    """DC power before losses [kW], (array, time): PVWatts, or CEC where a module is named."""
    dc_stc = np.array([s.dc_kw for s in specs])[:, np.newaxis]
    dc = pvlib.pvsystem.pvwatts_dc(effective, temp_cell, dc_stc, _GAMMA_PDC_PER_K)
    for i, s in enumerate(specs):
        m = s.module
        if m is None:
            continue
        keys = ("alpha_sc", "a_ref", "I_L_ref", "I_o_ref", "R_sh_ref", "R_s", "Adjust")
        params = pvlib.pvsystem.calcparams_cec(
            effective[i], temp_cell[i], *(float(m[k]) for k in keys)
        )
        p_mp_w = np.asarray(pvlib.pvsystem.singlediode(*params)["p_mp"], dtype=float)
        modules = s.dc_kw * 1000.0 / float(m["STC"])  # fractional count: nameplate = dc_kw
        dc[i] = np.where(effective[i] > 0, np.nan_to_num(p_mp_w), 0.0) * modules / 1000.0
    return np.maximum(dc, 0.0)


def _degradation(spec: _Spec, years: np.ndarray) -> np.ndarray:
    """Degradation factor per interval [-]: whole years since commissioning (step 7)."""
    if spec.commissioning_year is None or spec.degradation_fraction == 0.0:
        return np.ones(len(years))
    age = np.maximum(years - int(spec.commissioning_year), 0)
    return (1.0 - spec.degradation_fraction) ** age


def _ac_kw(specs: list[_Spec], dc_kw: np.ndarray) -> np.ndarray:
    """AC power [kW], (array, time): PVWatts inverter, or a CEC inverter where named."""
    ac_rating = np.array([s.ac_kw for s in specs])[:, np.newaxis]
    ac = pvlib.inverter.pvwatts(dc_kw, ac_rating / _ETA_INV_NOM, _ETA_INV_NOM)
    for i, s in enumerate(specs):
        inv = s.inverter
        if inv is None:
            continue
        count = s.ac_kw * 1000.0 / float(inv["Paco"])
        p_dc_w = dc_kw[i] * 1000.0 / count
        ac[i] = np.asarray(pvlib.inverter.sandia(float(inv["Vdco"]), p_dc_w, inv)) * count / 1000.0
    return ac
