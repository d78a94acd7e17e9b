"""The model concern of an asset unit: its Pyomo block (one builder whether its capacities
are numbers or sizing variables), its updater and structure signature for model reuse,
its sizing answers, and how its elastic slacks are explained.

Each unit implements these in ``vpp/assets/<kind>/block.py`` (the methods here only
say what each capability means and raise when a unit lacks it).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from vpp.model import AssetInput


class ModelCapabilities:
    """The model capabilities every unit provides (:mod:`vpp.assets.base`)."""

    def build(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> None:
        """Fill an empty Pyomo block with this kind's variables, rows, port and cost.

        The block contract is :mod:`vpp.model.blocks.contract`: the block gives
        ``net_kw`` (a :class:`~vpp.model.blocks.contract.LinearPort`, power into the bus
        [kW]) and ``cost_cny`` (its cost over the horizon [CNY]). The equations are in
        each unit's docstring. Capacities are numbers, or sizing variables when
        ``series`` carries the unit's sizing keys (:meth:`sizing_series`).

        Parameters
        ----------
        block : pyomo.core.base.block.BlockData
            The empty block ``model.asset[name]``; the step sets ``T`` (steps
            ``0..n-1``) and ``T0`` (state points ``0..n``) live on ``block.model()``.
        asset : object
            The scenario entry (``AssetInput.spec``).
        horizon : vpp.timeseries.Horizon
            The steps (``n``, ``step_h`` [h], ``month_index``).
        series : dict of str to numpy.ndarray
            The entry's series on the horizon, in the units their names say.
        elastic : bool
            Soften hard requirements with penalised ``shortfall_*`` slacks (diagnosis).
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide build")

    def update(
        self,
        block: Any,
        asset: Any,
        horizon: Any,
        series: dict[str, np.ndarray],
        *,
        elastic: bool = False,
    ) -> list[Any] | None:
        """The numbers :meth:`build` would use on a new window of the same structure.

        Parameters
        ----------
        block : pyomo.core.base.block.BlockData
            The block :meth:`build` filled for an earlier window.
        asset, horizon, series, elastic
            As :meth:`build`, for the new window.

        Returns
        -------
        list or None
            Changes of :mod:`vpp.model.blocks.updates` (``ColBounds``, ``ColCost``,
            ``RowBounds``, ``BusConstant``); None when this kind cannot be updated in
            place (a window holding it is rebuilt).
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide update")

    def signature(self, asset: Any, horizon: Any, series: dict[str, np.ndarray]) -> Hashable:
        """What two windows must share for this block to be updated rather than rebuilt.

        Parameters
        ----------
        asset, horizon, series
            As :meth:`build`.

        Returns
        -------
        hashable or None
            Equal for windows whose blocks have the same variables and rows (``()`` when
            the structure depends only on the number of steps); None when this kind
            cannot be updated in place (as :meth:`update`).
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide signature")

    # sizing: capacities as decisions (vpp.planning.size; vpp.assets.sizing.NotSized
    # gives the explicit answers of a kind that is never sized)
    def sizing_series(
        self, entry: Any, costs: Any, horizon: Any, series: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray] | None:
        """The sizing keys that make :meth:`build` size this entry.

        Parameters
        ----------
        entry : object
            The scenario entry (a candidate has a ``sizing`` entry).
        costs : vpp.assets.sizing.SizingCosts
            The discount rate [-/year], the horizon in years [year] and the capital
            recovery factor.
        horizon : vpp.timeseries.Horizon
            The steps.
        series : dict of str to numpy.ndarray
            The entry's series at its scenario size (``AssetInput.series``).

        Returns
        -------
        dict of str to numpy.ndarray or None
            Keys to add to ``series`` (one-element arrays for sizes [kW, kWh] and costs
            over the horizon [CNY per kW or kWh], or series); None when the entry is not
            sized (no ``sizing`` entry, or a kind that cannot be sized).
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide sizing_series")

    def sizing_problems(self, entry: Any, site: Any) -> list[Any]:
        """What keeps this entry from being sized at this site.

        Parameters
        ----------
        entry : object
            A candidate scenario entry.
        site : vpp.scenario.schema.Site
            Its site.

        Returns
        -------
        list of vpp.errors.Problem
            Empty when the entry can be sized.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide sizing_problems")

    def sized_values(
        self, block: Any, series: dict[str, np.ndarray], value: Callable[[Any], float]
    ) -> tuple[dict[str, Any], float]:
        """The sizes chosen in a solved sizing model.

        Parameters
        ----------
        block : pyomo block
            The entry's block, built with the sizing keys.
        series : dict of str to numpy.ndarray
            Its series with the sizing keys.
        value : callable
            The solved value of a Pyomo variable (``SolveResult.value``).

        Returns
        -------
        chosen : dict
            ``kind`` and the chosen sizes in the entry's units (``capacity_kw`` [kWp];
            ``energy_kwh`` [kWh], ``power_kw`` [kW], ``units`` [-]).
        investment_cny : float
            The capacity part of the objective [CNY over the horizon].
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide sized_values")

    def size_limit_keys(self, entry: Any) -> dict[str, tuple[str | None, str | None]]:
        """The ``sizing`` keys that bound each chosen size (the report's limit flags).

        Parameters
        ----------
        entry : object
            A candidate scenario entry.

        Returns
        -------
        dict
            Per chosen size of :meth:`sized_values` that is a variable of the block of
            the same name (``capacity_kw``, ``energy_kwh``, ...): the keys of
            ``entry.sizing`` that set its lower and upper bound (None: a bound no key
            sets, such as a power's zero).
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide size_limit_keys")

    def typical_days(self, block: Any, asset: Any, horizon: Any, days: Any) -> str | None:
        """Relink this kind's block, built on typical days laid end to end, so that it
        stands for every day of the horizon (``planning.representative_periods``).

        Parameters
        ----------
        block : pyomo block
            Its block, built on the typical days' steps.
        asset : AssetInput
            Its inputs on the full horizon.
        horizon : Horizon
            The full horizon.
        days : vpp.assets.typical_days.Aggregation
            The typical days and the typical day standing for each day.

        Returns
        -------
        str or None
            A note, in the user's words, of how it represents its block approximately
            on typical days beyond the days' own representation (the sizing's summary
            lists them); None when it relinks its rows exactly.

        Raises
        ------
        ScenarioError
            The kind's rows span days in a way typical days cannot stand for (exit 2).
        """
        ...

    def given_sizes(self, entry: Any) -> dict[str, Any] | None:
        """The sizes a candidate entry gives as written, in the form of :meth:`sized_values`'
        chosen sizes (a finance sweep values an entry at these sizes, no sizing solve).

        Parameters
        ----------
        entry : object
            A scenario entry with a ``sizing`` entry.

        Returns
        -------
        dict or None
            ``kind`` and the sizes (PV: ``capacity_kw`` [kWp]; battery: ``energy_kwh``
            [kWh], ``power_kw`` [kW], ``units``); None for a kind that is never sized.
        """
        ...

    def sized_entry(self, entry: dict[str, Any], chosen: dict[str, Any]) -> dict[str, Any] | None:
        """The scenario entry (as a dict) with the chosen sizes written in.

        Parameters
        ----------
        entry : dict
            The entry as ``model_dump`` gives it.
        chosen : dict
            Its chosen sizes (:meth:`sized_values`).

        Returns
        -------
        dict or None
            The entry of the sized scenario; None when it is sized to nothing (below
            :data:`vpp.assets.sizing.MIN_SIZE`) and is left out.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide sized_entry")

    def investment(
        self, entry: Any, chosen: dict[str, Any], schedule: pd.DataFrame, dt_h: float, years: float
    ) -> dict[str, Any] | None:
        """The new component as the finance sees it.

        Parameters
        ----------
        entry : object
            The candidate scenario entry.
        chosen : dict
            Its chosen sizes (:meth:`sized_values`).
        schedule : pandas.DataFrame
            The sized site's dispatch.
        dt_h : float
            The step [h].
        years : float
            The horizon in years [year].

        Returns
        -------
        dict or None
            The fields of :class:`vpp.planning.investment.Investment` (capital cost
            [CNY], O&M [CNY/year], lifetime [year], year-1 energy [kWh/year], ...);
            None when sized to nothing.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide investment")

    def sized_output_kw(self, entry: Any, schedule: pd.DataFrame) -> np.ndarray | None:
        """The new output a sized entry delivers, whose value fades with its degradation.

        Parameters
        ----------
        entry : object
            The sized scenario entry.
        schedule : pandas.DataFrame
            The sized site's dispatch.

        Returns
        -------
        numpy.ndarray or None
            Power delivered per step [kW]; None when the entry adds no output of its
            own (storage) or is not in the schedule.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide sized_output_kw")

    def explain_shortfall(
        self, block: Any, asset: AssetInput, values: Callable[[Any], np.ndarray], horizon: Any
    ) -> list[Any]:
        """Explain, in the user's words, the elastic slacks its block had to use.

        :func:`vpp.runs.diagnosis.diagnose` solves an infeasible site's elastic model and
        asks every block input's unit, in model order.

        Parameters
        ----------
        block : pyomo.core.base.block.BlockData
            Its block in the solved elastic model (built with ``elastic=True``).
        asset : AssetInput
            Its block input.
        values : callable
            Reads an indexed variable's solved values as an array (in index order).
        horizon : vpp.timeseries.Horizon
            The model's steps (for the times named in the problems).

        Returns
        -------
        list of vpp.errors.Problem
            One problem per requirement that cannot be met (which limit, which hours);
            empty when its slacks are unused or it has none.
        """
        raise NotImplementedError(f"{type(self).__name__} does not provide explain_shortfall")
