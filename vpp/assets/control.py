"""What the operation capabilities are given, and the real-time controllers they give back.

A rolling run (:mod:`vpp.operation.rolling`) plans each look-ahead window and then applies
the plan until the next decision, settled on what actually happened. The units'
operation capabilities (:mod:`vpp.assets.base`, section ``operation.py``) see:

- a :class:`Window` when their window inputs are built (forecasts, the window's steps);
- an :class:`Applied` span when their real-time :class:`Controller` is made (the plan,
  the actuals, the rule).

A :class:`Controller` settles one unit over one applied span. The site-level loop
(``vpp.operation.real_time.apply_span``) drives every unit's controller through the same
phases, in the order of the power flow:

1. **before the steps** (vectorized): what the unit consumes (:meth:`Controller.demand_kw`)
   and what it could produce (:meth:`Controller.supply_kw`) whatever happens;
2. **step by step** (:func:`run_steps`, only controllers with ``steps = True``): each
   follows its set point within its limits (:meth:`~Controller.follow`); when a
   guard says the import is too high (:class:`Guards`: the lowest level of every
   controller's :meth:`~Controller.guard`, the grid's :class:`MonthGuard` and each
   demand charge's), they first consume less (:meth:`~Controller.charge_less`), then
   supply more (:meth:`~Controller.supply_more`); a step where they cannot is recorded
   with its excess (:attr:`Guards.misses`);
   when the site would export more than the balancing unit's export cap of the step
   (:meth:`~Controller.export_cap_kw`, the no-export rule of batteries), they supply
   less (:meth:`~Controller.supply_less`);
   then each advances its state (:meth:`~Controller.advance`);
3. **curtailment**: export above the export limit is cut from what can be curtailed
   (:meth:`~Controller.curtailable_kw`, :meth:`~Controller.curtail`), in proportion;
4. **the rest**: the unit that balances the site (the grid) takes the net
   (:meth:`~Controller.take_rest`).

Each controller then gives its settled columns (:meth:`~Controller.columns`) and the
state it ends in (:meth:`~Controller.end_state`). Its methods default to doing nothing,
so that a unit writes only what it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vpp.timeseries import Horizon


@dataclass(frozen=True)
class Window:
    """What a unit is given to build its input of one rolling window.

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    horizon : Horizon
        The run's horizon.
    start, stop : int
        The window's steps are ``start .. stop - 1`` of the horizon [-].
    forecasts : dict of str to numpy.ndarray
        The forecasts issued at ``start`` on the window, by the input-frame column they
        forecast (``load_kw``, ``<array>_available_kw``) [kW].
    import_price_adder_cny_per_kwh : numpy.ndarray or float
        Folded into the grid's import price on the window by units settled afterwards
        (the carbon price) [CNY/kWh].
    """

    scenario: Any
    horizon: Horizon
    start: int
    stop: int
    forecasts: dict[str, np.ndarray]
    import_price_adder_cny_per_kwh: np.ndarray | float = 0.0

    @property
    def steps(self) -> Horizon:
        """The window's own horizon."""
        return Horizon(self.horizon.index[self.start : self.stop], self.horizon.step_h)


@dataclass
class Applied:
    """One applied span of a window's plan: steps ``start .. until - 1`` on actuals.

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    horizon : Horizon
        The run's horizon.
    start, until : int
        The applied steps [-]; the plan starts at ``start`` too.
    plan : dict of str to numpy.ndarray
        The window's plan by column (:meth:`AssetUnit.plan_columns`), from ``start`` over
        the whole window.
    forecasts : dict of str to numpy.ndarray
        The window's forecasts (:attr:`Window.forecasts`), from ``start``.
    actual : pandas.DataFrame
        The actual input series over the horizon (``load_kw``, ``<array>_available_kw``,
        ...).
    rule : str
        The real-time rule, ``follow_schedule`` or ``peak_guard``.
    """

    scenario: Any
    horizon: Horizon
    start: int
    until: int
    plan: dict[str, np.ndarray]
    forecasts: dict[str, np.ndarray]
    actual: pd.DataFrame
    rule: str

    @property
    def k(self) -> int:
        """Number of applied steps [-]."""
        return self.until - self.start

    @property
    def span(self) -> slice:
        """The applied steps as a slice of the horizon."""
        return slice(self.start, self.until)

    @property
    def dt_h(self) -> float:
        """Step [h]."""
        return self.horizon.step_h

    def actual_kw(self, column: str) -> np.ndarray:
        """An actual input column over the applied steps (a copy) [kW]."""
        return self.actual[column].to_numpy()[self.span].copy()


class MonthGuard:
    """The import level the peak guard holds, per month (``peak_guard``).

    Parameters
    ----------
    level_kw : dict of int to float
        Level per month [kW]. A level the controllers could not hold rises to what was
        imported (:meth:`missed`): an already billed peak is not guarded below.
    month_of : numpy.ndarray
        The month of each applied step (keys of ``level_kw``).
    import_limit_kw : float or numpy.ndarray, optional
        Caps every level: the limit is held whatever the month's peak; a number, or one
        limit per applied step (:func:`vpp.assets.grid.limits.import_bounds_kw`;
        infinite: none) [kW].
    """

    def __init__(
        self,
        level_kw: dict[int, float],
        month_of: np.ndarray,
        import_limit_kw: float | np.ndarray | None = None,
    ) -> None:
        self.level = dict(level_kw)
        self.month_of = month_of
        self.import_limit_kw = (
            None
            if import_limit_kw is None
            else np.broadcast_to(np.asarray(import_limit_kw, float), (len(month_of),))
        )

    def level_kw(self, t: int) -> float:
        """The level at applied step ``t`` [kW]."""
        level = float(self.level[int(self.month_of[t])])
        if self.import_limit_kw is not None:
            level = min(level, float(self.import_limit_kw[t]))
        return level

    def missed(self, t: int, import_kw: float) -> None:
        """The import at step ``t`` stayed at ``import_kw`` above the level [kW]."""
        m = int(self.month_of[t])
        self.level[m] = max(self.level[m], import_kw)


class Guards:
    r"""Every guard of a span held together: at each step the lowest level.

    With guards :math:`g` of levels :math:`G^g_t` (:math:`+\infty` where a guard holds
    nothing, such as a demand charge outside its window), the step loop holds the import
    at :math:`G_t = \min_g G^g_t`. An import :math:`I_t > G_t` that no controller could
    remove is a miss: recorded as ``(t, I_t - G_t)`` [applied step, kW] and passed to
    every guard (:meth:`MonthGuard.missed`: each raises its own level to :math:`I_t`
    where it was below).

    Parameters
    ----------
    guards : sequence
        Objects with ``level_kw(t)`` [kW] and ``missed(t, import_kw)``.
    """

    def __init__(self, guards: Sequence[Any]) -> None:
        self.guards = list(guards)
        #: The steps the controllers could not hold: (applied step, import above the
        #: level [kW]).
        self.misses: list[tuple[int, float]] = []

    def level_kw(self, t: int) -> float:
        """The lowest level at applied step ``t`` [kW] (infinite: none)."""
        return min((float(g.level_kw(t)) for g in self.guards), default=float("inf"))

    def missed(self, t: int, import_kw: float) -> None:
        """The import at step ``t`` stayed at ``import_kw``, above the level [kW]."""
        self.misses.append((t, import_kw - self.level_kw(t)))
        for g in self.guards:
            g.missed(t, import_kw)


class Controller:
    """A unit's real-time controller over one applied span (module docstring).

    Step methods take ``t``, the applied step (0 is the span's first step). Powers are
    on the bus side [kW]; "consumption" is positive when the unit takes from the bus.
    """

    #: Whether it acts step by step (:func:`run_steps`).
    steps: bool = False

    def demand_kw(self) -> np.ndarray | None:
        """What it consumes over the span whatever happens [kW], or None."""
        return None

    def supply_kw(self) -> np.ndarray | None:
        """What it could produce over the span before curtailment [kW], or None."""
        return None

    def guard(self) -> Any:
        """The import level it asks the step loop to hold (an object with
        ``level_kw(t)`` and ``missed(t, import_kw)``, such as :class:`MonthGuard`), or
        None."""
        return None

    def follow(self, t: int) -> float:
        """Take its set point at step ``t`` within its limits; its consumption [kW]."""
        return 0.0

    def charge_less(self, t: int, kw: float) -> float:
        """Consume up to ``kw`` less at step ``t``; how much less it consumes [kW]."""
        return 0.0

    def supply_more(self, t: int, kw: float) -> float:
        """Supply up to ``kw`` more at step ``t``; how much more it supplies [kW]."""
        return 0.0

    def supply_less(self, t: int, kw: float) -> float:
        """Supply up to ``kw`` less at step ``t`` (export above the export cap); how much
        less it supplies [kW]."""
        return 0.0

    def export_cap_kw(self) -> np.ndarray | None:
        """The balancing unit: the export cap the step loop holds over the span (the
        no-export rule of batteries, ``export_cap_kw`` of the grid) [kW], or None."""
        return None

    def advance(self, t: int) -> None:
        """Step ``t`` is settled: move its state to the next step."""

    def consumed_kw(self) -> np.ndarray | None:
        """After the steps: its settled consumption over the span [kW], or None."""
        return None

    def curtailable_kw(self) -> np.ndarray | None:
        """What may be curtailed to keep export within its limit [kW], or None."""
        return None

    def curtail(self, kw: np.ndarray) -> None:
        """Curtail ``kw`` over the span (at most :meth:`curtailable_kw`) [kW]."""

    def export_excess_kw(self, net_kw: np.ndarray) -> np.ndarray | None:
        """The balancing unit: export above its limit at site net ``net_kw`` [kW]."""
        return None

    def take_rest(self, net_kw: np.ndarray, curtailed_kw: np.ndarray) -> None:
        """The balancing unit: take the site's net consumption ``net_kw`` (before
        curtailment) less the curtailment ``curtailed_kw`` its export excess caused [kW]."""

    def columns(self) -> dict[str, np.ndarray]:
        """Its settled and reported columns over the span."""
        return {}

    def end_state(self) -> Any:
        """Its state after the span (what :meth:`AssetUnit.carry` carries)."""
        return None


def run_steps(
    controllers: Sequence[Controller],
    net_kw: np.ndarray,
    guard: Guards | MonthGuard | None,
    export_cap_kw: np.ndarray | None = None,
) -> None:
    """Settle the step-by-step controllers in time order, knowing only the present step.

    At each step every controller follows its set point; when the site's import
    (``net_kw`` plus their consumption) is above the guard's level, they first consume
    less, in order, then supply more, in order; an excess none can remove raises the
    guard's levels (:meth:`Guards.missed`, which records it). When the site's export is above
    ``export_cap_kw`` they supply less, in order. Then every controller advances.

    Parameters
    ----------
    controllers : sequence of Controller
        In scenario order (the order they act in).
    net_kw : numpy.ndarray
        The site's net consumption without them over the span [kW] (positive imports).
    guard : Guards or MonthGuard or None
        The level to hold (``peak_guard``), or None to follow the schedule.
    export_cap_kw : numpy.ndarray, optional
        The largest export of each step that the controllers hold (the no-export rule
        of batteries); None: none (the export limit is kept by curtailment) [kW].
    """
    for t in range(len(net_kw)):
        net = float(net_kw[t])
        for c in controllers:
            net += c.follow(t)
        level = None if guard is None else guard.level_kw(t)
        if level is not None and net > level:
            excess = net - level
            for c in controllers:  # consume less first: it costs nothing stored
                excess -= c.charge_less(t, excess)
            for c in controllers:  # then supply more, within power and energy
                if excess <= 0.0:
                    break
                excess -= c.supply_more(t, excess)
            if excess > 0.0:  # not avoidable: the month's later steps guard above it
                guard.missed(t, level + excess)
        if export_cap_kw is not None and -net > export_cap_kw[t]:
            over = -net - float(export_cap_kw[t])
            for c in controllers:  # supply less: no stored energy to the grid
                if over <= 0.0:
                    break
                over -= c.supply_less(t, over)
        for c in controllers:
            c.advance(t)
