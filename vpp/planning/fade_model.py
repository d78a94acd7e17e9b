r"""Capacity fade of a battery cell from a year's state of charge and temperature.

A semi-empirical life model of calendar and cycle fade, each a power law in its own
clock (time, and equivalent full cycles), with rates that depend on the stressors
(temperature, state of charge, cycle depth, C-rate). The model's equations are the
published ones; their fitted parameters are data (``data/battery-fade-models.yaml``,
with the source of each model). The year simulated by the dispatch is taken as the
battery's typical year, repeated over the analysis period, as NREL's BLAST-Lite does
for a repeated input.

Symbols:

==================  ==========================================================  ==========
symbol              meaning                                                      unit
==================  ==========================================================  ==========
:math:`s_t`         state of charge at point :math:`t`, share of nameplate      [-]
:math:`T_t`         cell temperature                                             [K]
:math:`U_a(s)`      graphite anode potential at :math:`s` (``graphite_potential``) [V]
:math:`d`           the days of the simulated horizon, 24 h each (the last may   [-]
                    be shorter, :math:`\tau_d` [day])
:math:`i`           the rainflow cycles of :math:`s` (ASTM E1049-85), each with
                    depth :math:`\delta_i`, count :math:`n_i` (1 or 1/2) and the
                    day :math:`d(i)` in which it closes
:math:`Y`           length of the simulated horizon                             [year]
==================  ==========================================================  ==========

**Rates** (model ``lfp-gr-250ah``, Gasper et al. 2023, doi:10.1016/j.est.2023.109042):

.. math::

    k_{cal}(t) &= p_1\,e^{p_2/T_t}\,e^{p_3 U_a(s_t)/T_t}
        \quad [\mathrm{day}^{-\beta_{cal}}]

    k_{cyc,i} &= \big(p_4 + p_5 \delta_i + p_6 c_{d(i)}\big)
        \,\overline{\big(e^{p_7/T} + e^{-p_8/T}\big)}_{d(i)}
        \quad [\mathrm{EFC}^{-\beta_{cyc}}]

with :math:`c_d = \sum_{t \in d} |s_{t+1} - s_t| / (24\,\tau_d)` the day's mean
absolute C-rate [1/h] (rests included) and :math:`\overline{x}_d` a day's mean.
The calendar rate is averaged over each day, :math:`\bar k_{cal,d}`.

**Fade.** Each loss :math:`L = k\,x^{\beta}` grows along its clock :math:`x` (days, or
equivalent full cycles) with a rate that changes with the stressors; in its state
form :math:`dL/dx = \beta k^{1/\beta} L^{1-1/\beta}`, so :math:`L^{1/\beta}` grows by
:math:`k^{1/\beta} dx` and, the year repeated, after :math:`a` years

.. math::

    L_{cal}(a) &= (S_{cal}\,a)^{\beta_{cal}}, \qquad
        S_{cal} = \frac{1}{Y}\sum_d \bar k_{cal,d}^{1/\beta_{cal}}\,\tau_d

    L_{cyc}(a) &= (S_{cyc}\,a)^{\beta_{cyc}}, \qquad
        S_{cyc} = \frac{1}{Y}\sum_i k_{cyc,i}^{1/\beta_{cyc}}\,n_i \delta_i

    q(a) &= 1 - L_{cal}(a) - L_{cyc}(a)

:math:`q` is the capacity left, a share of nameplate. :math:`\sum_i n_i \delta_i =
\sum_t |s_{t+1} - s_t| / 2` are the year's equivalent full cycles of the cell.

Assumptions: the stressors are the simulated year's, every year (the kWh cycled per
year stay those of the dispatch, the depth is not deepened as the capacity fades);
per day, the rate is the day's mean (BLAST-Lite averages rates between its update
points, at most a day or one cycle apart); the C-rate of a cycle is its day's. For a
constant daily cycle this is BLAST-Lite's repeated-input result, to its own
integration error (``tests/test_battery_fade.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy.optimize import brentq

__all__ = [
    "FadeModel",
    "YearStress",
    "anode_potential_v",
    "capacity_fraction",
    "fade_data",
    "fade_model",
    "rainflow",
    "year_stress",
    "years_to_fraction",
]

#: Celsius to kelvin [K].
KELVIN = 273.15
#: Hours in a day of the stressor averaging [h].
HOURS_PER_DAY = 24.0


@functools.cache
def fade_data() -> dict[str, Any]:
    """The shipped fade models, graphite potential and defaults, with their sources."""
    path = resources.files("vpp.planning") / "data" / "battery-fade-models.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class FadeModel:
    """One cell's fade model: its name, parameters and tested range (data file)."""

    name: str
    calendar: dict[str, float]
    cycle: dict[str, float]
    tested_range: dict[str, Any]
    source: dict[str, str]


def fade_model(name: str) -> FadeModel:
    """The model ``name`` of ``battery-fade-models.yaml``; KeyError if unknown."""
    entry = fade_data()["models"][name]
    return FadeModel(
        name=name,
        calendar={k: float(v) for k, v in entry["calendar"].items()},
        cycle={k: float(v) for k, v in entry["cycle"].items()},
        tested_range=dict(entry["tested_range"]),
        source=dict(entry["source"]),
    )


def anode_potential_v(soc: np.ndarray) -> np.ndarray:
    r"""Graphite anode potential vs Li at a state of charge [V].

    :math:`U_a(x) = c_0 + c_1 e^{c_2 x} + \sum_k w_k \tanh((x - m_k)/s_k)` at the
    lithiation :math:`x = x_0 + s (x_1 - x_0)` (``graphite_potential`` of the data file).

    Parameters
    ----------
    soc : numpy.ndarray
        State of charge, share of nameplate [-].
    """
    g = fade_data()["graphite_potential"]
    x0, x1 = float(g["lithiation_at_empty"]), float(g["lithiation_at_full"])
    x = x0 + np.asarray(soc, dtype=float) * (x1 - x0)
    u = g["c0"] + g["c1"] * np.exp(g["c2"] * x)
    for w, m, s in g["tanh_terms"]:
        u = u + w * np.tanh((x - m) / s)
    return u


def _reversals(x: np.ndarray) -> np.ndarray:
    """Indices of the turning points of ``x``, its first and last point included."""
    step = np.diff(x)
    moving = np.flatnonzero(step != 0.0)
    if moving.size == 0:
        return np.array([0, x.size - 1]) if x.size > 1 else np.array([0])
    sign = np.sign(step[moving])
    turns = moving[1:][sign[1:] != sign[:-1]]
    return np.concatenate([[0], turns, [x.size - 1]])


def rainflow(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rainflow cycles of a series (ASTM E1049-85, three-point rule with the start).

    Parameters
    ----------
    x : numpy.ndarray
        The series (state of charge [-]).

    Returns
    -------
    (depth, mean, count, end)
        Per cycle: its range [-], its mean [-], 1.0 for a full cycle or 0.5 for a half
        (the residue) [-], and the index of ``x`` at which it closes. ``sum(count *
        depth) == sum(|diff(x)|) / 2``.
    """
    x = np.asarray(x, dtype=float)
    depth: list[float] = []
    mean: list[float] = []
    count: list[float] = []
    end: list[int] = []

    def record(a: int, b: int, n: float) -> None:
        depth.append(abs(x[b] - x[a]))
        mean.append(0.5 * (x[a] + x[b]))
        count.append(n)
        end.append(b)

    stack: list[int] = []
    for k in _reversals(x):
        stack.append(int(k))
        while len(stack) >= 3:
            newest = abs(x[stack[-1]] - x[stack[-2]])
            previous = abs(x[stack[-2]] - x[stack[-3]])
            if newest < previous:
                break
            if len(stack) == 3:  # the range holds the starting point: a half cycle
                record(stack[0], stack[1], 0.5)
                stack.pop(0)
            else:
                record(stack[-3], stack[-2], 1.0)
                del stack[-3:-1]
    for a, b in zip(stack[:-1], stack[1:], strict=True):
        record(a, b, 0.5)
    keep = np.array(depth) > 0.0 if depth else np.zeros(0, dtype=bool)
    return (
        np.array(depth, dtype=float)[keep],
        np.array(mean, dtype=float)[keep],
        np.array(count, dtype=float)[keep],
        np.array(end, dtype=int)[keep],
    )


@dataclass(frozen=True)
class YearStress:
    """The stressors of the simulated year, reduced to the two fade clocks' rates.

    Attributes
    ----------
    calendar_per_year : float
        :math:`S_{cal}` [day/year, in the rate's :math:`1/\\beta` units].
    cycle_per_year : float
        :math:`S_{cyc}` [EFC/year, likewise].
    cell_efc_per_year : float
        :math:`\\sum_t |\\Delta s_t| / 2 / Y`, the cell's equivalent full cycles on
        nameplate [1/year].
    mean_temperature_c : float
        Mean cell temperature [degC].
    outside : tuple of str
        Stressors outside the model's tested range, said in words (empty: none).
    """

    calendar_per_year: float
    cycle_per_year: float
    cell_efc_per_year: float
    mean_temperature_c: float
    outside: tuple[str, ...] = ()


def _day_means(values: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    return np.bincount(day, weights=values, minlength=days) / np.bincount(day, minlength=days)


def year_stress(
    model: FadeModel, soc: np.ndarray, temperature_c: np.ndarray, step_h: float
) -> YearStress:
    """The simulated year's fade rates :math:`S_{cal}`, :math:`S_{cyc}` (module docstring).

    Parameters
    ----------
    model : FadeModel
        The cell's model.
    soc : numpy.ndarray
        State of charge at the start of each step and after the last, ``n + 1`` points,
        share of nameplate [-].
    temperature_c : numpy.ndarray
        Cell temperature of each step, ``n`` values [degC].
    step_h : float
        The step [h].
    """
    soc = np.clip(np.asarray(soc, dtype=float), 0.0, 1.0)
    temp_k = np.asarray(temperature_c, dtype=float) + KELVIN
    n = temp_k.size
    if soc.size != n + 1:
        raise ValueError(f"the state of charge needs {n + 1} points for {n} steps, got {soc.size}")
    steps_per_day = max(1, round(HOURS_PER_DAY / step_h))
    day = np.arange(n) // steps_per_day
    days = int(day[-1]) + 1
    tau_day = np.bincount(day, minlength=days) * step_h / HOURS_PER_DAY
    years = n * step_h / (HOURS_PER_DAY * 365.0)
    c, k = model.calendar, model.cycle

    u_a = anode_potential_v(soc[:-1])
    k_cal = c["p1"] * np.exp(c["p2"] / temp_k) * np.exp(c["p3"] * u_a / temp_k)
    calendar = float(np.sum(_day_means(k_cal, day, days) ** (1.0 / c["exponent"]) * tau_day))

    moved = np.abs(np.diff(soc))
    c_rate = np.bincount(day, weights=moved, minlength=days) / (tau_day * HOURS_PER_DAY)
    heat = _day_means(np.exp(k["p7"] / temp_k) + np.exp(-k["p8"] / temp_k), day, days)
    depth, _mean, count, end = rainflow(soc)
    closes = np.minimum(np.maximum(end - 1, 0), n - 1) // steps_per_day
    k_cyc = (k["p4"] + k["p5"] * depth + k["p6"] * c_rate[closes]) * heat[closes]
    cycle = float(np.sum(k_cyc ** (1.0 / k["exponent"]) * count * depth))

    return YearStress(
        calendar_per_year=calendar / years,
        cycle_per_year=cycle / years,
        cell_efc_per_year=float(moved.sum()) / 2.0 / years,
        mean_temperature_c=float(np.mean(temp_k) - KELVIN),
        outside=_outside(model, depth, count, temp_k - KELVIN, moved, step_h),
    )


def _outside(
    model: FadeModel,
    depth: np.ndarray,
    count: np.ndarray,
    temperature_c: np.ndarray,
    moved: np.ndarray,
    step_h: float,
) -> tuple[str, ...]:
    """The stressors outside the model's tested range, in words."""
    rng = model.tested_range
    out = []
    lo, hi = rng.get("cycling_temperature_c", (-np.inf, np.inf))
    if moved.any():
        cycling_t = temperature_c[moved > 0.0]
        if cycling_t.min() < lo or cycling_t.max() > hi:
            out.append(
                f"cycling at {cycling_t.min():.1f}..{cycling_t.max():.1f} degC, tested "
                f"{lo:g}..{hi:g} degC"
            )
    dlo, dhi = rng.get("depth_of_discharge_fraction", (0.0, 1.0))
    if depth.size:
        weight = count * depth
        shallow = float(weight[depth < dlo].sum() / weight.sum())
        if shallow > 0.0:
            out.append(
                f"{shallow:.0%} of the cycled energy in cycles shallower than the tested "
                f"depth {dlo:g}"
            )
    step_rate = moved.max() / step_h if moved.size else 0.0
    top = max(
        rng.get("charge_c_rate_max_per_h", np.inf), rng.get("discharge_c_rate_max_per_h", np.inf)
    )
    if step_rate > top:
        out.append(f"C-rate up to {step_rate:.2f}/h, tested up to {top:g}/h")
    return tuple(out)


def capacity_fraction(
    model: FadeModel, stress: YearStress, age_years: np.ndarray | float
) -> np.ndarray:
    r"""Capacity left :math:`q(a)` after ``age_years`` of the repeated year [-].

    Not below 0 (the power laws extrapolated that far mean nothing left).
    """
    age = np.maximum(np.asarray(age_years, dtype=float), 0.0)
    loss_cal = (stress.calendar_per_year * age) ** model.calendar["exponent"]
    loss_cyc = (stress.cycle_per_year * age) ** model.cycle["exponent"]
    return np.maximum(1.0 - loss_cal - loss_cyc, 0.0)


def years_to_fraction(model: FadeModel, stress: YearStress, fraction: float) -> float | None:
    """Age at which the capacity falls to ``fraction`` of nameplate [year]; None if it
    never does within 1000 years (no fade)."""
    horizon = 1000.0
    if capacity_fraction(model, stress, horizon) > fraction:
        return None
    return float(
        brentq(lambda a: float(capacity_fraction(model, stress, a)) - fraction, 0.0, horizon)
    )
