"""Typical days as the units see them: which horizon day each typical day is, which
typical day stands for each day (:mod:`vpp.planning.typical` builds them with tsam).

A unit's ``typical_days`` capability (:mod:`vpp.assets.contract.model`) relinks its
block, built on the typical days laid end to end, so that it stands for every day of the
horizon (monthly peaks over the days stood for, storage state between days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Aggregation", "stood_for"]


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
    """

    steps_per_day: int
    day_of_typical: np.ndarray
    order: np.ndarray
    extreme_days: list[int]

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
    s = agg.steps_per_day
    days = np.arange(len(agg.order))
    typical_step = (agg.order[:, None] * s + np.arange(s)[None, :]).ravel()
    full = np.asarray(per_step).reshape(len(days), s).ravel()
    pairs = np.unique(np.stack([typical_step, full], axis=1), axis=0)
    return [(int(t), int(v)) for t, v in pairs]
