"""The genset's real-time controller in a rolling run (see :mod:`vpp.assets.control`).

Its output over an applied span is settled before the steps, by the real-time rule
(:func:`vpp.assets.genset.operation.real_time`: the plan within what the rule allows on
the actuals, plus the need a ``grid_limit`` forecast missed). It is a supply the site uses
first; it does not act step by step (no peak guard: it already gives what its rule
allows, and a plan that kept it off was the cheaper way) and is not curtailed (an export
above the limit is the grid's to report).
"""

from __future__ import annotations

import numpy as np

from vpp.assets.control import Controller

__all__ = ["GensetController"]


class GensetController(Controller):
    """One genset over one applied span.

    Parameters
    ----------
    name : str
        The genset's name (its columns' prefix).
    settled : dict of str to numpy.ndarray
        ``power_kw`` [kW] and ``running_fraction`` [-] over the applied steps.
    """

    def __init__(self, name: str, settled: dict[str, np.ndarray]) -> None:
        self.name = name
        self.power_kw = np.asarray(settled["power_kw"], float)
        self.running_fraction = np.asarray(settled["running_fraction"], float)

    def supply_kw(self) -> np.ndarray:
        """Its settled output [kW]."""
        return self.power_kw

    def columns(self) -> dict[str, np.ndarray]:
        """Its settled output [kW] and running [-]."""
        return {
            f"{self.name}_power_kw": self.power_kw,
            f"{self.name}_running_fraction": self.running_fraction,
        }
