r"""Capacity fade of a battery cell from a year's state of charge and temperature.

A semi-empirical life model of calendar and cycle fade (:mod:`vpp.planning.fade_cells`:
each model's equations, with the paper they come from), driven by the stressors of
the year the dispatch simulated (:mod:`vpp.planning.fade_stressors`: days and rainflow
cycles). The fitted parameters are data (``data/battery-fade-models.yaml``, with each
model's source). The simulated year is the battery's typical year, repeated over the
analysis period, as NREL's BLAST-Lite does for a repeated input; each fade term then
has a closed form in the battery's age :math:`a` [year], and :math:`q(a)` is the
capacity left, a share of nameplate.

Assumptions: the stressors are the simulated year's, every year (the kWh cycled per
year stay those of the dispatch, the depth is not deepened as the capacity fades);
per day, a rate is the day's mean (BLAST-Lite averages rates between its update
points, at most a day or one cycle apart); a cycle's C-rate and temperature are its
day's. For a constant daily cycle this is BLAST-Lite's repeated-input result, to its
own integration error (``tests/test_battery_fade.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq

from vpp.planning.fade_cells import CELLS
from vpp.planning.fade_stressors import KELVIN, fade_data, year_of

__all__ = [
    "FadeModel",
    "YearStress",
    "capacity_fraction",
    "fade_model",
    "year_stress",
    "years_to_fraction",
]


@dataclass(frozen=True)
class FadeModel:
    """One cell's fade model: its name, parameters by section and tested range (data)."""

    name: str
    params: dict[str, dict[str, float]]
    tested_range: dict[str, Any]
    source: dict[str, str]


def fade_model(name: str) -> FadeModel:
    """The model ``name`` of ``battery-fade-models.yaml``; KeyError if unknown."""
    entry = fade_data()["models"][name]
    skip = {"description", "chemistry", "tested_range", "source"}
    return FadeModel(
        name=name,
        params={
            key: {k: float(v) for k, v in section.items()}
            for key, section in entry.items()
            if key not in skip
        },
        tested_range=dict(entry["tested_range"]),
        source=dict(entry["source"]),
    )


@dataclass(frozen=True)
class YearStress:
    r"""The simulated year, reduced to the model's clocks per year.

    Attributes
    ----------
    clocks : dict of str to float
        Each fade term's clock per year (:mod:`vpp.planning.fade_cells`) [its unit/year].
    cell_efc_per_year : float
        :math:`\sum_t |s_{t+1} - s_t| / 2 / Y`, the cell's equivalent full cycles on
        nameplate [1/year].
    mean_temperature_c : float
        Mean cell temperature [degC].
    outside : tuple of str
        Stressors outside the model's tested range, said in words (empty: none).
    """

    clocks: dict[str, float]
    cell_efc_per_year: float
    mean_temperature_c: float
    outside: tuple[str, ...] = ()


def year_stress(
    model: FadeModel, soc: np.ndarray, temperature_c: np.ndarray, step_h: float
) -> YearStress:
    """The simulated year's fade clocks (module docstring).

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
    year = year_of(soc, temperature_c, step_h)
    clocks, _capacity = CELLS[model.name]
    return YearStress(
        clocks=clocks(model.params, year),
        cell_efc_per_year=float(year.moved.sum()) / 2.0 / year.years,
        mean_temperature_c=float(np.mean(year.temp_k) - KELVIN),
        outside=_outside(model, year.depth, year.count, year.temp_k - KELVIN, np.diff(soc), step_h),
    )


def _outside(
    model: FadeModel,
    depth: np.ndarray,
    count: np.ndarray,
    temperature_c: np.ndarray,
    delta: np.ndarray,
    step_h: float,
) -> tuple[str, ...]:
    """The stressors outside the model's tested range, in words. ``delta`` is each
    step's change of state of charge (share of nameplate, charging positive) [-]: the
    charging steps are held against the tested charge rate, the discharging steps
    against the discharge rate."""
    rng = model.tested_range
    delta = np.asarray(delta, dtype=float)
    moved = np.abs(delta)
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
    for side, steps in (("charge", delta[delta > 0.0]), ("discharge", -delta[delta < 0.0])):
        rate = float(steps.max()) / step_h if steps.size else 0.0
        top = rng.get(f"{side}_c_rate_max_per_h", np.inf)
        if rate > top:
            out.append(f"{side} C-rate up to {rate:.2f}/h, tested up to {top:g}/h")
    return tuple(out)


def capacity_fraction(
    model: FadeModel, stress: YearStress, age_years: np.ndarray | float
) -> np.ndarray:
    """Capacity left :math:`q(a)` after ``age_years`` of the repeated year [-].

    Not below 0 (the power laws extrapolated that far mean nothing left).
    """
    age = np.maximum(np.asarray(age_years, dtype=float), 0.0)
    _clocks, capacity = CELLS[model.name]
    return np.clip(capacity(model.params, stress.clocks, age), 0.0, 1.0)


def years_to_fraction(model: FadeModel, stress: YearStress, fraction: float) -> float | None:
    """First age at which the capacity falls to ``fraction`` of nameplate [year]; None
    if it does not within 1000 years. The capacity falls with age (every term grows)."""
    horizon = 1000.0
    if capacity_fraction(model, stress, horizon) > fraction:
        return None
    return float(
        brentq(lambda a: float(capacity_fraction(model, stress, a)) - fraction, 0.0, horizon)
    )
