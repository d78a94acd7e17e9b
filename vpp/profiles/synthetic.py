"""Synthetic industrial loads for a Xushuguan (Suzhou) factory, and a synthetic air temperature.

A stand-in for measured load data: deterministic, plausible in shape and season, and
reproducible from ``(profile, peak_kw, seed)``. Replace it with a metered series for any
study whose answer depends on the load's detail.

Method
------
The load is built on a grid of 5-minute slots in local time (Asia/Shanghai; a timezone-aware
index is converted, a naive index is read as local wall-clock time). The value of a step is
the mean of the slots it covers, so the mean of four 15-minute steps equals the 1-hour step
before scaling. Each slot's load, in units of the working-day production level, is

``(base * base_day + production * activity + hvac) * (1 + daily_noise) * (1 + slot_noise)``

with ``activity`` the production (or occupancy) level of the slot, 0 to 1, from the profile's
daily shape for the kind of day (levels are evaluated at the slot's middle; ramps are linear):

============  =====  ==========  ==================================================================
profile       base   production  working-day shape (local clock)
============  =====  ==========  ==================================================================
two_shift     0.30   0.70        electronics, shifts 08:00-16:00 and 16:00-24:00: ramp up
                                 07:00-08:00, 1.0 to 23:30 then ramp to 0 at 24:00; meal breaks
                                 11:30-12:30 and 17:30-18:30 at 0.8; shift change 15:45-16:15 at 0.9
three_shift   0.40   0.60        continuous, 1.0 all day; shift changes at 00:00, 08:00 and 16:00
                                 dip to 0.92 for 15 min either side
office        0.25   0.75        R&D offices 08:00-18:00: ramp up 07:30-08:30, lunch 12:00-13:00
                                 at 0.85, ramp down 17:30-18:30 to 0.1, 0.1 until 22:00
============  =====  ==========  ==================================================================

Kinds of day: a working day (Monday to Friday, and any official make-up working day,
调休上班); Saturday; Sunday; a public holiday (whatever its weekday). Public holidays and make-up
days come from ``vpp/profiles/data/cn-holidays.yaml`` (State Council arrangements for 2024,
2025 and 2026); **outside the covered years there are no holidays, only weekends.** On other
days the activity is the working-day shape times a factor, and the base times ``base_day``:

============  ==========================================  ==========  =========  ===============
profile       Saturday                                    Sunday      holiday    base on holiday
============  ==========================================  ==========  =========  ===============
two_shift     day shift only: as a working day to 16:00,  0.15        0.03       0.85
              ramp to 0 at 16:30
three_shift   0.95                                        0.85        0.60       0.95
office        0.20                                        0.08        0.03       0.90
============  ==========================================  ==========  =========  ===============

Heating, ventilation and air conditioning:
``hvac = (k_cool * max(0, T - 22) + k_heat * max(0, 12 - T)) * (h + (1 - h) * activity)``
with ``T`` the synthetic air temperature [degC] below, cooling from 22 degC and heating below
12 degC; ``k_cool`` / ``k_heat`` [1/K] and the share ``h`` that runs whatever the activity are
0.022 / 0.006 / 0.5 (two_shift, clean rooms), 0.015 / 0.004 / 0.8 (three_shift) and
0.045 / 0.015 / 0.2 (office).

Noise: a daily factor (normal, standard deviation 0.02) and a slot factor (normal, 0.04 per
5-min slot, about 0.023 on 15 min and 0.012 on 1 h), both clipped at three standard
deviations, drawn from a generator seeded by ``(seed, local date)``: the value at a timestamp
does not depend on the span of the index.

Scale: the profile is multiplied so that its maximum over the whole calendar year of each
step, at the index's step and phase, equals ``peak_kw``. The factor is computed from that
year's full profile whatever the index's span, so a one-week run equals the same week of a
one-year run. A 15-minute and a 1-hour profile each reach ``peak_kw``; their hourly means
differ by the ratio of their maxima (a few per cent).

Air temperature (:func:`suzhou_temperature_c`): a four-harmonic Fourier series of the time of
year whose means over the twelve months match (least squares, within 0.2 K) the monthly means
of ``vpp/profiles/data/suzhou-climate.yaml``, plus a diurnal cosine of the file's daily range
(7 K) peaking at 14:00 local time. The monthly means are a split derived to match
published seasonal means, not station normals.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = ["PROFILES", "suzhou_temperature_c", "synthetic_load_kw"]

_TZ = "Asia/Shanghai"
_SLOT_S = 300
_SLOTS_PER_DAY = 86400 // _SLOT_S
_HARMONICS = 4
_T_COOL_C = 22.0
_T_HEAT_C = 12.0
_DAILY_NOISE = 0.02
_SLOT_NOISE = 0.04
_CLIP_SIGMAS = 3.0
_WORKING, _SATURDAY, _SUNDAY, _HOLIDAY = 0, 1, 2, 3

# Shapes: (start_h, end_h, level_at_start, level_at_end); zero outside the segments.
_TWO_SHIFT_WORKING = [
    (7.0, 8.0, 0.0, 1.0),
    (8.0, 11.5, 1.0, 1.0),
    (11.5, 12.5, 0.8, 0.8),
    (12.5, 15.75, 1.0, 1.0),
    (15.75, 16.25, 0.9, 0.9),
    (16.25, 17.5, 1.0, 1.0),
    (17.5, 18.5, 0.8, 0.8),
    (18.5, 23.5, 1.0, 1.0),
    (23.5, 24.0, 1.0, 0.0),
]
_TWO_SHIFT_SATURDAY = [
    (7.0, 8.0, 0.0, 1.0),
    (8.0, 11.5, 1.0, 1.0),
    (11.5, 12.5, 0.8, 0.8),
    (12.5, 16.0, 1.0, 1.0),
    (16.0, 16.5, 1.0, 0.0),
]
_THREE_SHIFT_WORKING = [
    (0.0, 0.25, 0.92, 0.92),
    (0.25, 7.75, 1.0, 1.0),
    (7.75, 8.25, 0.92, 0.92),
    (8.25, 15.75, 1.0, 1.0),
    (15.75, 16.25, 0.92, 0.92),
    (16.25, 23.75, 1.0, 1.0),
    (23.75, 24.0, 0.92, 0.92),
]
_OFFICE_WORKING = [
    (7.5, 8.5, 0.0, 1.0),
    (8.5, 12.0, 1.0, 1.0),
    (12.0, 13.0, 0.85, 0.85),
    (13.0, 17.5, 1.0, 1.0),
    (17.5, 18.5, 1.0, 0.1),
    (18.5, 22.0, 0.1, 0.1),
]

_PARAMS: dict[str, dict[str, Any]] = {
    "two_shift": {
        "base": 0.30,
        "production": 0.70,
        "working": _TWO_SHIFT_WORKING,
        "saturday": _TWO_SHIFT_SATURDAY,
        "factors": (1.0, 1.0, 0.15, 0.03),
        "base_day": (1.0, 1.0, 1.0, 0.85),
        "k_cool": 0.022,
        "k_heat": 0.006,
        "hvac_min": 0.5,
    },
    "three_shift": {
        "base": 0.40,
        "production": 0.60,
        "working": _THREE_SHIFT_WORKING,
        "saturday": None,
        "factors": (1.0, 0.95, 0.85, 0.60),
        "base_day": (1.0, 1.0, 1.0, 0.95),
        "k_cool": 0.015,
        "k_heat": 0.004,
        "hvac_min": 0.8,
    },
    "office": {
        "base": 0.25,
        "production": 0.75,
        "working": _OFFICE_WORKING,
        "saturday": None,
        "factors": (1.0, 0.20, 0.08, 0.03),
        "base_day": (1.0, 1.0, 1.0, 0.90),
        "k_cool": 0.045,
        "k_heat": 0.015,
        "hvac_min": 0.2,
    },
}

PROFILES: tuple[str, ...] = tuple(_PARAMS)
"""Names of the synthetic load profiles."""


def _read_data(name: str) -> dict[str, Any]:
    path = resources.files("vpp.profiles") / "data" / name
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _climate() -> tuple[np.ndarray, float, float]:
    """Fourier coefficients of the seasonal temperature, daily range [K], warmest hour [h]."""
    data = _read_data("suzhou-climate.yaml")
    means = np.asarray(data["monthly_mean_temp_air_c"]["values"], dtype=float)
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    hours = (np.arange(365 * 24) + 0.5) / (365 * 24)
    month = np.repeat(np.arange(12), month_days * 24)
    basis = _fourier(hours)
    month_basis = np.stack([basis[month == m].mean(axis=0) for m in range(12)])
    coefficients, *_ = np.linalg.lstsq(month_basis, means, rcond=None)
    diurnal = data["diurnal"]
    return coefficients, float(diurnal["range_temp_air_c"]), float(diurnal["warmest_hour_local"])


def _fourier(year_fraction: np.ndarray) -> np.ndarray:
    columns = [np.ones_like(year_fraction)]
    for k in range(1, _HARMONICS + 1):
        angle = 2.0 * np.pi * k * year_fraction
        columns += [np.cos(angle), np.sin(angle)]
    return np.stack(columns, axis=-1)


@functools.lru_cache(maxsize=1)
def _holidays() -> tuple[frozenset[int], frozenset[int]]:
    """Day numbers (days since 1970-01-01) of public holidays and of make-up working days."""
    data = _read_data("cn-holidays.yaml")
    epoch = dt.date(1970, 1, 1)
    holidays: set[int] = set()
    makeup: set[int] = set()
    for year in data["years"].values():
        for block in year["holidays"]:
            first = (_as_date(block["first"]) - epoch).days
            last = (_as_date(block["last"]) - epoch).days
            holidays.update(range(first, last + 1))
        makeup.update((_as_date(day) - epoch).days for day in year["makeup_workdays"])
    return frozenset(holidays), frozenset(makeup)


def _as_date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _local_seconds(times: pd.DatetimeIndex) -> np.ndarray:
    """Local wall-clock seconds since 1970-01-01 00:00 (Asia/Shanghai)."""
    if times.tz is not None:
        times = times.tz_convert(_TZ).tz_localize(None)
    return times.as_unit("s").asi8.astype(np.int64)


def _temperature_at_seconds(seconds: np.ndarray) -> np.ndarray:
    """Synthetic air temperature at local wall-clock seconds since 1970 [degC]."""
    coefficients, daily_range, warmest = _climate()
    days = seconds // 86400
    second_of_day = seconds - days * 86400
    dates = days.astype("datetime64[D]")
    year_start = dates.astype("datetime64[Y]").astype("datetime64[D]")
    next_start = (dates.astype("datetime64[Y]") + 1).astype("datetime64[D]")
    year_days = (next_start - year_start).astype(np.int64)
    day_of_year = (dates - year_start).astype(np.int64)
    year_fraction = (day_of_year + second_of_day / 86400.0) / year_days
    seasonal = _fourier(year_fraction) @ coefficients
    hour = second_of_day / 3600.0
    return seasonal + 0.5 * daily_range * np.cos(2.0 * np.pi * (hour - warmest) / 24.0)


def suzhou_temperature_c(index: pd.DatetimeIndex) -> np.ndarray:
    """Synthetic Suzhou air temperature at each timestamp [degC].

    Smooth seasonal curve through the monthly means of ``suzhou-climate.yaml`` plus a
    diurnal swing (see the module docstring). Values are instantaneous, at the
    timestamps given: pass ``index + step / 2`` for interval midpoints.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Timezone-aware (converted to Asia/Shanghai) or naive (read as local time).

    Returns
    -------
    numpy.ndarray
        Air temperature [degC], one per timestamp.
    """
    return _temperature_at_seconds(_local_seconds(pd.DatetimeIndex(index)))


@functools.cache
def _activity_table(profile: str) -> np.ndarray:
    """Activity [0-1] of each kind of day (rows) and 5-min slot of the day (columns)."""
    params = _PARAMS[profile]
    hours = (np.arange(_SLOTS_PER_DAY) + 0.5) * _SLOT_S / 3600.0

    def shape(segments: list[tuple[float, float, float, float]]) -> np.ndarray:
        level = np.zeros_like(hours)
        for start, end, a, b in segments:
            inside = (hours >= start) & (hours < end)
            level[inside] = a + (b - a) * (hours[inside] - start) / (end - start)
        return level

    working = shape(params["working"])
    table = np.stack([working * factor for factor in params["factors"]])
    if params["saturday"] is not None:
        table[_SATURDAY] = shape(params["saturday"]) * params["factors"][_SATURDAY]
    return table


def _day_kinds(days: np.ndarray) -> np.ndarray:
    holidays, makeup = _holidays()
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    kinds = np.full(days.shape, _WORKING, dtype=np.int8)
    kinds[weekday == 5] = _SATURDAY
    kinds[weekday == 6] = _SUNDAY
    kinds[np.isin(days, np.fromiter(makeup, dtype=np.int64))] = _WORKING
    kinds[np.isin(days, np.fromiter(holidays, dtype=np.int64))] = _HOLIDAY
    return kinds


def _noise(days: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Daily factor per day and slot factors (days x slots), seeded by (seed, day)."""
    daily = np.empty(len(days))
    slots = np.empty((len(days), _SLOTS_PER_DAY))
    for i, day in enumerate(days.tolist()):
        rng = np.random.default_rng([seed % 2**63, day % 2**63])
        draws = rng.standard_normal(1 + _SLOTS_PER_DAY)
        daily[i] = draws[0]
        slots[i] = draws[1:]
    limit = _CLIP_SIGMAS
    return (
        _DAILY_NOISE * np.clip(daily, -limit, limit),
        _SLOT_NOISE * np.clip(slots, -limit, limit),
    )


def _slot_base(
    first_slot: int, n_slots: int, profile: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The seed-free part of :func:`_slot_load`: the unscaled load before noise, the days,
    each slot's day position and its slot of the day."""
    params = _PARAMS[profile]
    slot = first_slot + np.arange(n_slots, dtype=np.int64)
    day = slot // _SLOTS_PER_DAY
    in_day = slot - day * _SLOTS_PER_DAY
    days, day_pos = np.unique(day, return_inverse=True)
    kind = _day_kinds(days)[day_pos]
    activity = _activity_table(profile)[kind, in_day]
    base_day = np.asarray(params["base_day"])[kind]
    temp = _temperature_at_seconds(slot * _SLOT_S + _SLOT_S // 2)
    cooling = params["k_cool"] * np.maximum(0.0, temp - _T_COOL_C)
    heating = params["k_heat"] * np.maximum(0.0, _T_HEAT_C - temp)
    hvac = (cooling + heating) * (params["hvac_min"] + (1.0 - params["hvac_min"]) * activity)
    load = params["base"] * base_day + params["production"] * activity + hvac
    return load, days, day_pos, in_day


def _with_noise(
    base: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], seed: int
) -> np.ndarray:
    load, days, day_pos, in_day = base
    daily, slot_noise = _noise(days, seed)
    return load * (1.0 + daily[day_pos]) * (1.0 + slot_noise[day_pos, in_day])


def _slot_load(first_slot: int, n_slots: int, profile: str, seed: int) -> np.ndarray:
    """Unscaled load of consecutive 5-min slots from local slot number ``first_slot``."""
    return _with_noise(_slot_base(first_slot, n_slots, profile), seed)


def _interval_means(first_slot: int, n_steps: int, k: int, profile: str, seed: int) -> np.ndarray:
    return _slot_load(first_slot, n_steps * k, profile, seed).reshape(n_steps, k).mean(axis=1)


def _year_slots(year: int, k: int, phase: int) -> tuple[int, int]:
    """First slot and number of steps of a calendar year's step means (step k, phase)."""
    start = (dt.date(year, 1, 1) - dt.date(1970, 1, 1)).days * _SLOTS_PER_DAY + phase
    end = (dt.date(year + 1, 1, 1) - dt.date(1970, 1, 1)).days * _SLOTS_PER_DAY
    return start, -(-(end - start) // k)


@functools.lru_cache(maxsize=8)
def _year_base(
    year: int, k: int, phase: int, profile: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_slot_base` of a calendar year (shared by every seed; read-only arrays)."""
    start, n_steps = _year_slots(year, k, phase)
    base = _slot_base(start, n_steps * k, profile)
    for array in base:
        array.flags.writeable = False
    return base


#: Seeds x years x steps x profiles whose yearly maximum is kept (a float each): a large
#: park's sites each have their own seed [-].
YEAR_MAX_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=YEAR_MAX_CACHE_SIZE)
def _year_max(year: int, k: int, phase: int, profile: str, seed: int) -> float:
    """Maximum over a calendar year of the unscaled step means (step k slots, phase)."""
    _start, n_steps = _year_slots(year, k, phase)
    values = _with_noise(_year_base(year, k, phase, profile), seed)
    return float(values.reshape(n_steps, k).mean(axis=1).max())


def _step_seconds(index: pd.DatetimeIndex) -> int:
    if index.freq is not None:
        step = pd.Timedelta(index.freq)
    elif len(index) >= 2:
        diffs = np.unique(np.diff(index.as_unit("s").asi8))
        if len(diffs) != 1:
            raise ValueError("the index must have one step size; got several")
        step = pd.Timedelta(seconds=int(diffs[0]))
    else:
        raise ValueError("cannot tell the step of a one-label index without a freq")
    seconds = int(step.total_seconds())
    if seconds <= 0 or seconds % _SLOT_S:
        raise ValueError(f"the step must be a positive multiple of 5 min; got {step}")
    return seconds


def synthetic_load_kw(
    index: pd.DatetimeIndex, profile: str, peak_kw: float, seed: int = 0
) -> np.ndarray:
    """A deterministic synthetic factory load, the mean power of each step [kW].

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Labels at the start of each interval, one step size (a multiple of 5 min), labels
        on the 5-minute grid. Timezone-aware (converted to Asia/Shanghai) or naive (local).
    profile : str
        ``two_shift``, ``three_shift`` or ``office`` (see the module docstring).
    peak_kw : float
        The maximum of the profile over each full calendar year at this step [kW].
    seed : int, optional
        Seed of the noise; the same seed gives the same load.

    Returns
    -------
    numpy.ndarray
        Load [kW], one per step, all positive.

    Raises
    ------
    ValueError
        Unknown profile, non-positive peak, or an index without a single 5-min-multiple step.
    """
    if profile not in _PARAMS:
        raise ValueError(f"unknown load profile '{profile}'; use one of {', '.join(PROFILES)}")
    if not np.isfinite(peak_kw) or peak_kw <= 0:
        raise ValueError(f"peak_kw must be a positive number of kW; got {peak_kw}")
    index = pd.DatetimeIndex(index)
    if len(index) == 0:
        return np.zeros(0)
    k = _step_seconds(index) // _SLOT_S
    seconds = _local_seconds(index)
    if np.any(seconds % _SLOT_S):
        raise ValueError("labels must fall on the 5-minute grid (e.g. 00:00, 00:15, ...)")
    first = int(seconds[0] // _SLOT_S)
    values = _interval_means(first, len(index), k, profile, int(seed))
    years = seconds.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    phase = (first % _SLOTS_PER_DAY) % k
    scale = np.empty(len(index))
    for year in np.unique(years).tolist():
        scale[years == year] = peak_kw / _year_max(year, k, phase, profile, int(seed))
    return values * scale


#: Public name of the day classifier (holiday / working day incl. make-up days / weekend),
#: for other modules such as :mod:`vpp.operation.load_forecast`; its codes follow.
day_kinds = _day_kinds
WORKING_DAY, SATURDAY, SUNDAY, HOLIDAY = _WORKING, _SATURDAY, _SUNDAY, _HOLIDAY


def working_days(dates: object) -> np.ndarray:
    """Whether each date is a Chinese working day [bool].

    Monday to Friday except public holidays, plus the make-up working days (调休上班)
    on a Saturday or Sunday, from ``vpp/profiles/data/cn-holidays.yaml``; outside the
    years it covers, Monday to Friday. The same classification as the synthetic
    profiles' working days.

    Parameters
    ----------
    dates : sequence of datetime.date, pandas.DatetimeIndex or str
        Calendar dates (a timestamp's local date; its time of day is ignored).
    """
    index = pd.DatetimeIndex(pd.to_datetime(list(dates) if not isinstance(dates, str) else [dates]))
    if index.tz is not None:
        index = index.tz_localize(None)
    epoch = np.datetime64("1970-01-01", "D")
    days = (index.normalize().to_numpy().astype("datetime64[D]") - epoch).astype(np.int64)
    return _day_kinds(days) == _WORKING


def is_working_day(date: object) -> bool:
    """Whether one date is a Chinese working day (:func:`working_days`)."""
    return bool(working_days([date])[0])
