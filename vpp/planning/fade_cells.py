r"""The cells' fade equations: each model's rates and its capacity from its clocks.

Every fade term :math:`L` grows along its own clock :math:`x` (days, or equivalent full
cycles :math:`n_i \delta_i`) at a rate :math:`k` set by the stressors. A power law
:math:`L = k\,x^{\beta}` has the state form :math:`dL/dx = \beta k^{1/\beta}
L^{1-1/\beta}`: :math:`L^{1/\beta}` grows by :math:`k^{1/\beta} dx`. A sigmoid
:math:`L = \tanh\!\big((x/q)^{p}/2\big)` (BLAST-Lite's :math:`2(1/2 - 1/(1 + e^{(x/q)^p}))`)
has :math:`(x/q)` growing by :math:`dx/q`. With the year repeated, each term's clock
after :math:`a` years is :math:`a` times the year's sum, a closed form:

.. math::

    L^{pow}(a) = (S\,a)^{\beta}, \quad S = \frac{1}{Y}\sum k^{1/\beta}\,dx; \qquad
    L^{sig}(a) = \tanh\!\big((\theta_0 + \Theta\,a)^{p}/2\big), \quad
    \Theta = \frac{1}{Y}\sum \frac{dx}{q}

with the stressors of :mod:`vpp.planning.fade_stressors` (days :math:`d`, cycles
:math:`i`; :math:`\bar x_d` a day's mean). Parameters: ``data/battery-fade-models.yaml``.

**lfp-gr-250ah** (P. Gasper et al., J. Energy Storage 73 (2023) 109042,
doi:10.1016/j.est.2023.109042):

.. math::

    k_{cal} &= p_1 e^{p_2/T} e^{p_3 U_a(s)/T}, \qquad
    k_{cyc,i} = (p_4 + p_5 \delta_i + p_6 c_{d(i)})
        \,\overline{(e^{p_7/T} + e^{-p_8/T})}_{d(i)}

    q(a) &= 1 - (S_{cal} a)^{\beta_{cal}} - (S_{cyc} a)^{\beta_{cyc}}, \quad
    S_{cal} = \tfrac{1}{Y}\textstyle\sum_d \bar k_{cal,d}^{1/\beta_{cal}} \tau_d, \quad
    S_{cyc} = \tfrac{1}{Y}\textstyle\sum_i k_{cyc,i}^{1/\beta_{cyc}} n_i \delta_i

**nmc111-gr-75ah** (K. Smith et al., 2017 American Control Conference,
doi:10.23919/ACC.2017.7963578): lithium lost with time and with cycles (power laws) and
active material lost with cycles (a sigmoid), the capacity the lesser of the two, with
:math:`\hat T = T / T_{ref}`, :math:`\hat U = U_a(s) / U_{ref}`:

.. math::

    q_1 &= q_{1,0} e^{q_{1,1}/\hat T} e^{q_{1,2} \hat U / \hat T}, \qquad
    q_{3,i} = q_{3,0}\,\overline{e^{q_{3,1}/\hat T}}_{d(i)}\,e^{q_{3,2} e^{\delta_i^2}},
    \qquad q_{5,i} = q_{5,0} + q_{5,1} (\bar T^{C}_{d(i)} - T_5)\,\delta_i\,
        \bar s_{d(i)} / s_5

    q(a) &= \min\big(1 - (S_1 a)^{q_2} - (S_3 a)^{q_4},\;
        q_{LAM,0} - \tanh((\theta_0 + \Theta_5 a)^{p}/2)\big)

with :math:`S_1 = \frac1Y\sum_d \bar q_{1,d}^{1/q_2} \tau_d`, :math:`S_3 = \frac1Y\sum_i
q_{3,i}^{1/q_4} n_i \delta_i`, :math:`\Theta_5 = \frac1Y\sum_i n_i\delta_i / q_{5,i}`
(:math:`q_{5,i}` at least 1 EFC), and :math:`\theta_0 = (2\,\mathrm{artanh}\,y_0)^{1/p}` the
clock of the initial loss :math:`y_0` (as the model starts, ``initial_loss``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from vpp.planning.fade_stressors import KELVIN, Year, anode_potential_v

__all__ = ["CELLS"]

Params = Mapping[str, Mapping[str, float]]
Clocks = dict[str, float]


def _power_sum(rate: np.ndarray, exponent: float, dx: np.ndarray, years: float) -> float:
    """:math:`\\frac{1}{Y}\\sum k^{1/\\beta}\\,dx` of a power-law term [its clock per year]."""
    return float(np.sum(rate ** (1.0 / exponent) * dx)) / years


def _power(clock_per_year: float, exponent: float, age: np.ndarray) -> np.ndarray:
    return (clock_per_year * age) ** exponent


def lfp_clocks(p: Params, year: Year) -> Clocks:
    """The LFP-Gr 250 Ah cell's calendar and cycle clocks per year (module docstring)."""
    c, k = p["calendar"], p["cycle"]
    t = year.temp_k
    u_a = anode_potential_v(year.soc[:-1])
    k_cal = year.day_mean(c["p1"] * np.exp(c["p2"] / t) * np.exp(c["p3"] * u_a / t))
    heat = year.day_mean(np.exp(k["p7"] / t) + np.exp(-k["p8"] / t))[year.cycle_day]
    rate = year.c_rate_per_h[year.cycle_day]
    k_cyc = (k["p4"] + k["p5"] * year.depth + k["p6"] * rate) * heat
    return {
        "calendar": _power_sum(k_cal, c["exponent"], year.tau_day, year.years),
        "cycle": _power_sum(k_cyc, k["exponent"], year.count * year.depth, year.years),
    }


def lfp_capacity(p: Params, clocks: Clocks, age: np.ndarray) -> np.ndarray:
    """:math:`q(a)` of the LFP-Gr 250 Ah cell [-]."""
    loss = _power(clocks["calendar"], p["calendar"]["exponent"], age)
    return 1.0 - loss - _power(clocks["cycle"], p["cycle"]["exponent"], age)


def nmc_clocks(p: Params, year: Year) -> Clocks:
    """The NMC111-Gr 75 Ah cell's calendar, lithium and active-material clocks per year."""
    c, k, m, ref = p["calendar"], p["cycle"], p["active_material"], p["reference"]
    t_hat = year.temp_k / ref["temperature_k"]
    u_hat = anode_potential_v(year.soc[:-1]) / ref["anode_potential_v"]
    q1 = year.day_mean(c["q1_0"] * np.exp(c["q1_1"] / t_hat) * np.exp(c["q1_2"] * u_hat / t_hat))
    d = year.cycle_day
    q3 = (
        k["q3_0"]
        * year.day_mean(np.exp(k["q3_1"] / t_hat))[d]
        * np.exp(k["q3_2"] * np.exp(year.depth**2))
    )
    temp_c = year.day_mean(year.temp_k - KELVIN)[d]
    soc = year.day_mean(year.soc[:-1])[d]
    q5 = m["q5_0"] + m["q5_1"] * (temp_c - m["reference_temperature_c"]) * year.depth * (
        soc / m["reference_soc"]
    )
    efc = year.count * year.depth
    return {
        "calendar": _power_sum(q1, c["exponent"], year.tau_day, year.years),
        "cycle": _power_sum(q3, k["exponent"], efc, year.years),
        "active_material": float(np.sum(efc / np.maximum(q5, 1.0))) / year.years,
    }


def nmc_capacity(p: Params, clocks: Clocks, age: np.ndarray) -> np.ndarray:
    """:math:`q(a)` of the NMC111-Gr 75 Ah cell [-]."""
    m = p["active_material"]
    lithium = (
        1.0
        - _power(clocks["calendar"], p["calendar"]["exponent"], age)
        - _power(clocks["cycle"], p["cycle"]["exponent"], age)
    )
    start = (2.0 * np.arctanh(m["initial_loss"])) ** (1.0 / m["exponent"])
    lost = np.tanh((start + clocks["active_material"] * age) ** m["exponent"] / 2.0)
    return np.minimum(lithium, m["capacity_at_start"] - lost)


#: Per model of the data file: its clocks per year and its capacity from them.
CELLS: dict[
    str,
    tuple[Callable[[Params, Year], Clocks], Callable[[Params, Clocks, np.ndarray], Any]],
] = {
    "lfp-gr-250ah": (lfp_clocks, lfp_capacity),
    "nmc111-gr-75ah": (nmc_clocks, nmc_capacity),
}
