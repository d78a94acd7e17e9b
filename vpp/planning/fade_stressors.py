r"""The stressors of a simulated year, by day and by rainflow cycle, for the fade models.

The year's state of charge :math:`s_t` (share of nameplate, ``n + 1`` points) and cell
temperature :math:`T_t` [K] (``n`` steps of :math:`\Delta t` [h]) are cut into days of 24 h
(:math:`d`, each :math:`\tau_d` days long, the last perhaps shorter) and into rainflow cycles
(:math:`i`: depth :math:`\delta_i`, count :math:`n_i` of 1 or 1/2, closing in day
:math:`d(i)`, ASTM E1049-85). The models (:mod:`vpp.planning.fade_cells`) average their
rates over each day, as NREL's BLAST-Lite averages them between its update points (at most a
day or one cycle apart). The day's mean absolute C-rate is
:math:`c_d = \sum_{t \in d} |s_{t+1} - s_t| / (24\,\tau_d)` [1/h], rests included.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import yaml

__all__ = ["KELVIN", "Year", "anode_potential_v", "fade_data", "rainflow", "year_of"]

#: Celsius to kelvin [K].
KELVIN = 273.15
#: Hours in a day of the stressor averaging [h].
HOURS_PER_DAY = 24.0


@functools.cache
def fade_data() -> dict[str, Any]:
    """The shipped fade models, graphite potential and defaults, with their sources."""
    path = resources.files("vpp.planning") / "data" / "battery-fade-models.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


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
class Year:
    """A simulated year cut into days and rainflow cycles (module docstring).

    Attributes
    ----------
    soc : numpy.ndarray
        :math:`s_t`, ``n + 1`` points [-].
    temp_k : numpy.ndarray
        :math:`T_t`, ``n`` steps [K].
    step_h : float
        :math:`\\Delta t` [h].
    day : numpy.ndarray
        The day of each step [-].
    tau_day : numpy.ndarray
        :math:`\tau_d` [day].
    years : float
        :math:`Y`, the horizon in years of 365 days [year].
    moved : numpy.ndarray
        :math:`|s_{t+1} - s_t|` per step [-].
    depth, count : numpy.ndarray
        :math:`\\delta_i` and :math:`n_i` per rainflow cycle [-].
    cycle_day : numpy.ndarray
        :math:`d(i)` [-].
    """

    soc: np.ndarray
    temp_k: np.ndarray
    step_h: float
    day: np.ndarray
    tau_day: np.ndarray
    years: float
    moved: np.ndarray
    depth: np.ndarray
    count: np.ndarray
    cycle_day: np.ndarray

    def day_mean(self, values: np.ndarray) -> np.ndarray:
        """Each day's mean of a value per step [its unit]."""
        days = self.tau_day.size
        return np.bincount(self.day, weights=values, minlength=days) / np.bincount(
            self.day, minlength=days
        )

    @property
    def c_rate_per_h(self) -> np.ndarray:
        """:math:`c_d`, each day's mean absolute C-rate [1/h]."""
        days = self.tau_day.size
        moved = np.bincount(self.day, weights=self.moved, minlength=days)
        return moved / (self.tau_day * HOURS_PER_DAY)


def year_of(soc: np.ndarray, temperature_c: np.ndarray, step_h: float) -> Year:
    """Cut a year into days and rainflow cycles (module docstring).

    Parameters
    ----------
    soc : numpy.ndarray
        State of charge at the start of each step and after the last, ``n + 1`` points,
        share of nameplate [-]; clipped to 0..1.
    temperature_c : numpy.ndarray
        Cell temperature of each step, ``n`` values [degC].
    step_h : float
        The step [h].
    """
    soc = np.clip(np.asarray(soc, dtype=float), 0.0, 1.0)
    temp_k = np.asarray(temperature_c, dtype=float) + KELVIN
    n = temp_k.size
    if n == 0 or soc.size != n + 1:
        raise ValueError(f"the state of charge needs {n + 1} points for {n} steps, got {soc.size}")
    steps_per_day = max(1, round(HOURS_PER_DAY / step_h))
    day = np.arange(n) // steps_per_day
    tau_day = np.bincount(day) * step_h / HOURS_PER_DAY
    depth, _mean, count, end = rainflow(soc)
    closes = np.minimum(np.maximum(end - 1, 0), n - 1) // steps_per_day
    return Year(
        soc=soc,
        temp_k=temp_k,
        step_h=float(step_h),
        day=day,
        tau_day=tau_day,
        years=n * step_h / (HOURS_PER_DAY * 365.0),
        moved=np.abs(np.diff(soc)),
        depth=depth,
        count=count,
        cycle_day=closes,
    )
