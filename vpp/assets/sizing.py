"""What sizing asks of a unit: the costs it is given, and the answers of units never sized.

Sizing (:mod:`vpp.planning.size`) makes an entry's capacities decisions: the unit's
:meth:`~vpp.assets.base.AssetUnit.sizing_series` adds its sizing keys to the entry's
series, and its ``build`` then declares the capacities as variables with their cost.
The costs are over the horizon: the annualized capital cost plus fixed O&M per unit of
capacity, times the horizon's share of a year (:class:`SizingCosts`).

Units whose capacities are never decisions (grid, loads, contracts, accounts) use
:class:`NotSized`, which says so for every sizing capability.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vpp.errors import Problem

#: Sizes below this are "build nothing" [kWp, kWh or kW].
MIN_SIZE = 1e-3


@dataclass(frozen=True)
class SizingCosts:
    """How capital and O&M costs become costs over the sizing horizon.

    Parameters
    ----------
    discount_rate : float
        The finance's discount rate :math:`r` [-/year].
    horizon_years : float
        The horizon's length in years :math:`y` [year].
    capital_recovery : callable
        ``capital_recovery(rate, years)``: the capital recovery factor
        :math:`\\mathrm{CRF}(r, L)` [1/year] (:func:`vpp.planning.finance.crf`).
    """

    discount_rate: float
    horizon_years: float
    capital_recovery: Callable[[float, int], float]

    def crf(self, lifetime_years: int) -> float:
        """:math:`\\mathrm{CRF}(r, L)` for a lifetime :math:`L` [year] at the discount rate
        [1/year]."""
        return self.capital_recovery(self.discount_rate, lifetime_years)


def one(value: float) -> np.ndarray:
    """A sizing key's value as the one-element array ``series`` carries."""
    return np.array([float(value)])


def key_value(series: dict[str, np.ndarray], key: str) -> float:
    """The value of a one-element sizing key of ``series``."""
    return float(np.asarray(series[key], float).reshape(-1)[0])


def snap(var: Any, value: float, tolerance: float) -> float:
    """``value`` moved onto a bound of ``var`` when within ``tolerance`` of it, else >= 0.

    The interior point stops within its tolerance of a vertex; a size that close to a
    bound is that bound [the variable's unit].
    """
    for bound in (var.lb, var.ub):
        if bound is not None and abs(value - float(bound)) <= tolerance:
            return float(bound)
    return max(0.0, float(value))


class NotSized:
    """The sizing capabilities of a unit whose capacities are never decisions."""

    def sizing_series(
        self, entry: Any, costs: SizingCosts, horizon: Any, series: dict[str, np.ndarray]
    ) -> None:
        """None: this kind cannot be sized."""
        return None

    def sizing_problems(self, entry: Any, site: Any) -> list[Problem]:
        """Empty: this kind cannot be sized, so nothing of it clashes with sizing."""
        return []

    def sized_values(
        self, block: Any, series: dict[str, np.ndarray], value: Callable[[Any], float]
    ) -> tuple[dict[str, Any], float]:
        """Nothing chosen and nothing invested: this kind cannot be sized."""
        return {}, 0.0

    def size_limit_keys(self, entry: Any) -> dict[str, tuple[str | None, str | None]]:
        """Empty: this kind cannot be sized, so no size of it has a limit."""
        return {}

    def given_sizes(self, entry: Any) -> None:
        """None: this kind cannot be sized, so it has no sizes to value."""
        return None

    def sized_entry(self, entry: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any]:
        """The entry unchanged: this kind cannot be sized."""
        return entry

    def investment(
        self, entry: Any, chosen: dict[str, Any], schedule: pd.DataFrame, dt_h: float, years: float
    ) -> None:
        """None: this kind cannot be sized, so it is never a new investment."""
        return None

    def sized_output_kw(self, entry: Any, schedule: pd.DataFrame) -> None:
        """None: this kind cannot be sized, so it adds no new output."""
        return None
