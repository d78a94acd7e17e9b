"""Typical days as the units see them: which horizon day each typical day is, which
typical day stands for each day (:mod:`vpp.planning.typical` builds them with tsam).

A unit's ``typical_days`` capability (:mod:`vpp.assets.contract.model`) relinks its
block, built on the typical days laid end to end, so that it stands for every day of the
horizon (monthly peaks over the days stood for, storage state between days). A row
that sums over a period of many days (a monthly volume, a yearly target, the carbon
account) is rebuilt with :class:`PeriodSums`: each typical step counts once per horizon
step of the period it stands for (:math:`w_{k,P}` days, :func:`period_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pyomo.repn import generate_standard_repn

from vpp.model.blocks.contract import linear

__all__ = [
    "Aggregation",
    "PeriodSums",
    "period_weights",
    "stood_for",
    "typical_step_of",
    "weigh_whole_horizon_row",
]


@dataclass(frozen=True)
class Aggregation:
    """The typical days and the day sequence.

    Attributes
    ----------
    steps_per_day : int
        :math:`S` [-].
    day_of_typical : numpy.ndarray
        The horizon day (0..D-1) each typical day is, length :math:`K` [-].
    order : numpy.ndarray
        The typical day :math:`c(d)` of each horizon day, length :math:`D` [-].
    extreme_days : list of int
        The horizon days added as month-peak typical days [-].
    notes : tuple of str
        The units' notes of how they represent their blocks approximately on these
        days (their ``typical_days`` answers; filled once the model is linked).
    """

    steps_per_day: int
    day_of_typical: np.ndarray
    order: np.ndarray
    extreme_days: list[int]
    notes: tuple[str, ...] = ()

    @property
    def weights(self) -> np.ndarray:
        """:math:`w_k`, the days each typical day stands for [-]."""
        return np.bincount(self.order, minlength=len(self.day_of_typical)).astype(float)

    @property
    def steps(self) -> np.ndarray:
        """The horizon step of each step of the typical days laid end to end [-]."""
        s = self.steps_per_day
        return (self.day_of_typical[:, None] * s + np.arange(s)[None, :]).ravel()


def stood_for(agg: Aggregation, per_step: np.ndarray) -> list[tuple[int, int]]:
    """The distinct pairs (typical step, value of ``per_step`` on a day stood for) [-]."""
    full = np.asarray(per_step).ravel()
    pairs = np.unique(np.stack([typical_step_of(agg), full], axis=1), axis=0)
    return [(int(t), int(v)) for t, v in pairs]


def typical_step_of(agg: Aggregation) -> np.ndarray:
    """:math:`\\tau(t) = c(d(t))\\, S + j(t)`: the step of the typical days laid end to end
    that stands for each horizon step :math:`t` (day :math:`d(t)`, step :math:`j(t)` of
    its day), length :math:`D S` [-]."""
    s = agg.steps_per_day
    return (agg.order[:, None] * s + np.arange(s)[None, :]).ravel()


def period_weights(agg: Aggregation, period_of_step: np.ndarray, n_periods: int) -> np.ndarray:
    """:math:`w_{k,P}`, the days of period :math:`P` that typical day :math:`k` stands
    for, shape ``(K, n_periods)`` [days].

    ``period_of_step`` is the period (0..n_periods-1) of each horizon step; a day whose
    steps lie in two periods counts, for each, as the share of its steps in it
    (:math:`\\sum_P w_{k,P} = w_k`).
    """
    s = agg.steps_per_day
    period = np.asarray(period_of_step, np.int64)
    k_of_step = np.repeat(agg.order, s)
    w = np.zeros((len(agg.day_of_typical), n_periods))
    np.add.at(w, (k_of_step, period), 1.0 / s)
    return w


@dataclass(frozen=True)
class PeriodSums:
    r"""Period sums over the horizon folded onto the typical days.

    A row that sums a per-step quantity :math:`x_t` over the steps :math:`T_P` of a
    period :math:`P` of the full horizon (a month, the year, a clock hour) becomes, on
    typical days,

    .. math::

        \sum_{t \in T_P} a_{\tau(t)}\, x_{\tau(t)}
        = \sum_{\tau} n_{P,\tau}\, a_\tau\, x_\tau, \qquad
        n_{P,\tau} = |\{t \in T_P : \tau(t) = \tau\}|

    (:func:`typical_step_of`); for periods of whole days :math:`n_{P,kS+j} = w_{k,P}`
    (:func:`period_weights`): each typical day's steps count once per day of
    :math:`P` it stands for, with the typical day's own values :math:`a_\tau` (as the
    sizing weighs every step cost by :math:`w_k`). With every day its own typical day,
    :math:`n_{P,\tau} = 1` for :math:`\tau \in T_P`: the full model's row.

    Attributes
    ----------
    steps : list of numpy.ndarray
        Per period, the typical steps :math:`\tau` with :math:`n_{P,\tau} > 0` [-].
    counts : list of numpy.ndarray
        Per period, :math:`n_{P,\tau}` for those steps [horizon steps].
    """

    steps: list[np.ndarray]
    counts: list[np.ndarray]

    @classmethod
    def of(cls, agg: Aggregation, period_of_step: np.ndarray, n_periods: int) -> PeriodSums:
        """Fold the periods ``period_of_step`` (per horizon step, 0..n_periods-1) [-]."""
        period = np.asarray(period_of_step, np.int64)
        tau = typical_step_of(agg)
        if len(period) != len(tau):
            raise ValueError(f"{len(period)} period ids for {len(tau)} horizon steps")
        pairs, counts = np.unique(np.stack([period, tau], axis=1), axis=0, return_counts=True)
        bounds = np.searchsorted(pairs[:, 0], np.arange(n_periods + 1))
        return cls(
            [pairs[a:b, 1] for a, b in zip(bounds[:-1], bounds[1:])],
            [counts[a:b].astype(float) for a, b in zip(bounds[:-1], bounds[1:])],
        )

    @classmethod
    def whole(cls, agg: Aggregation) -> PeriodSums:
        """One period, the whole horizon: :math:`n_{\\tau} = w_k` for every step of
        typical day :math:`k`."""
        return cls.of(agg, np.zeros(len(agg.order) * agg.steps_per_day, np.int64), 1)

    def total(self, p: int, typical_values: np.ndarray) -> float:
        """:math:`\\sum_\\tau n_{P,\\tau} a_\\tau` of values on the typical steps [their
        unit times steps]."""
        return float(np.dot(self.counts[p], np.asarray(typical_values, float)[self.steps[p]]))

    def terms(
        self, p: int, terms: list[tuple[float | np.ndarray, Any]]
    ) -> tuple[list[float], list[Any]]:
        """The folded sum of period ``p`` as coefficients and variables, for
        :func:`vpp.model.blocks.contract.linear`: each ``(a, x)`` of ``terms`` is a
        coefficient (a number, or an array on the typical steps) and a variable indexed
        by the typical steps."""
        coefs: list[float] = []
        variables: list[Any] = []
        steps, counts = self.steps[p].tolist(), self.counts[p]
        for a, var in terms:
            if np.ndim(a) == 0:
                coefs.extend((counts * float(a)).tolist())
            else:
                coefs.extend((counts * np.asarray(a, float)[steps]).tolist())
            variables.extend(var[t] for t in steps)
        return coefs, variables


def weigh_whole_horizon_row(row: Any, agg: Aggregation, steps: Any, lower: Any, upper: Any) -> None:
    r"""Rewrite a row built on the typical days that sums over all of their steps (a
    yearly target, the carbon account) so that it sums over the whole horizon: the
    coefficient of each variable indexed by ``steps`` (the model's step set) at typical
    step :math:`\tau` of typical day :math:`k` is times :math:`w_k`
    (:meth:`PeriodSums.whole`); other variables and the body's constant are kept. The
    bounds ``lower`` and ``upper`` (None: none) are the caller's, folded the same way
    (:meth:`PeriodSums.total`).
    """
    weight = np.repeat(agg.weights, agg.steps_per_day)
    repn = generate_standard_repn(row.body, compute_values=True, quadratic=False)
    coefs = []
    for c, v in zip(repn.linear_coefs, repn.linear_vars):
        comp = v.parent_component()
        if comp.is_indexed() and comp.index_set() is steps:
            c *= weight[v.index()]
        coefs.append(float(c))
    row.set_value((lower, linear(coefs, list(repn.linear_vars), float(repn.constant)), upper))
