"""The operation concern of an asset unit: its rolling-window inputs, how its plan is read,
its real-time controller, the state it carries between windows, how the settlement holds
it, and what the daily job injects.

Each unit implements these in ``vpp/assets/<kind>/operation.py`` (the methods here only
say what each capability means and raise when a unit lacks it).
"""

from __future__ import annotations

from typing import Any


class OperationCapabilities:
    """The operation capabilities every unit provides (:mod:`vpp.assets.base`)."""

    # What a rolling run (vpp.operation.rolling) and the daily job (vpp.jobs) ask of a unit. The
    # contexts (Window, Applied) and the real-time Controller are in vpp.assets.control.
    # ``asset`` is the unit's AssetInput on the run's horizon (vpp.model.AssetInput);
    # ``state`` is what the unit itself returned from initial_state / carry (any object).

    def in_windows(self, asset: Any) -> bool:
        """Whether the unit is planned in the rolling windows.

        Returns
        -------
        bool
            True: it gets a :meth:`window` input and a real-time :meth:`controller`.
            False: it is left out of the windows and settled over the whole horizon
            afterwards (green contracts, certificates, carbon).
        """
        raise NotImplementedError

    def initial_state(self, asset: Any, horizon: Any) -> Any:
        """The state carried between windows, at the horizon's start.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon.
        horizon : vpp.timeseries.Horizon
            The run's horizon.

        Returns
        -------
        object
            The unit's own state (a battery: its state of charge [kWh]; the grid: the
            month-to-date peak import per month [kW]; a shiftable load: energy served per
            window occurrence [kWh]); None for a unit without state.
        """
        raise NotImplementedError

    def window_import_price_cny_per_kwh(
        self, asset: Any, scenario: Any, start: int, stop: int
    ) -> Any:
        """What the unit adds to the grid's import price in the windows [CNY/kWh].

        A unit settled afterwards folds its price into the windows this way (the carbon
        account: :math:`\\lambda f_t / 1000`).

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon.
        scenario : Scenario
            The scenario.
        start, stop : int
            The window's steps ``start .. stop - 1`` [-].

        Returns
        -------
        numpy.ndarray or float
            Per window step, or 0.0 [CNY/kWh].
        """
        raise NotImplementedError

    def window(self, asset: Any, state: Any, window: Any) -> Any:
        """The unit's block input for one rolling window.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon (actual series).
        state : object
            Its carried state at ``window.start``.
        window : vpp.assets.control.Window
            The window's steps, forecasts and the import price adder.

        Returns
        -------
        AssetInput or None
            Its input on the window's steps (forecasts, the state now as the initial
            state); None when :meth:`in_windows` is False.
        """
        raise NotImplementedError

    def plan_columns(self, block: Any, asset: Any, values: Any) -> dict[str, Any]:
        """A window's plan for the unit, read from its solved block.

        Parameters
        ----------
        block : pyomo block
            Its block in the solved window model (``model.asset[asset.name]``).
        asset : AssetInput
            Its window input (:meth:`window`).
        values : callable
            ``values(indexed_var) -> numpy.ndarray``: a variable's values in index
            order.

        Returns
        -------
        dict of str to numpy.ndarray
            Planned values over the window by schedule column (``<name>_charge_kw``
            [kW], ``<name>_soc_kwh`` [kWh], ``grid_import_kw`` [kW]); empty when nothing
            of its plan is applied.
        """
        raise NotImplementedError

    def operated_columns(self, asset: Any, n: int) -> dict[str, Any]:
        """The columns its controller settles over the horizon, as zeros.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon.
        n : int
            Steps of the horizon [-].

        Returns
        -------
        dict of str to numpy.ndarray
            Column name -> ``numpy.zeros(n)`` [kW], in the order of the schedule.
        """
        raise NotImplementedError

    def controller(self, asset: Any, state: Any, applied: Any) -> Any:
        """Its real-time controller over one applied span (the real-time rule).

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon (actual series).
        state : object
            Its carried state at ``applied.start``.
        applied : vpp.assets.control.Applied
            The span, the window's plan and forecasts, the actuals, the rule.

        Returns
        -------
        vpp.assets.control.Controller
            Follows the plan within the unit's limits; a storage charges less and
            discharges more under the peak guard; PV produces all it can and is
            curtailed; the grid takes the rest.
        """
        raise NotImplementedError

    def carry(self, asset: Any, state: Any, controller: Any) -> Any:
        """The state carried into the next window after an applied span.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon.
        state : object
            Its state at the span's start.
        controller : vpp.assets.control.Controller
            Its controller after the span (:meth:`controller`), with the settled values.

        Returns
        -------
        object
            The state at the span's end (same kind of object as :meth:`initial_state`).
        """
        raise NotImplementedError

    def hold(self, block: Any, asset: Any, columns: dict[str, Any]) -> None:
        """Hold the unit at its operated values in the settlement model.

        The settlement (:func:`vpp.operation.settlement.settle`) builds the full-horizon model
        and optimizes only what is settled afterwards (green contracts, certificates,
        carbon); every physical quantity is held at what was operated.

        Parameters
        ----------
        block : pyomo block
            Its block in the full-horizon model.
        asset : AssetInput
            The unit's input on the run's horizon.
        columns : dict of str to numpy.ndarray
            The operated columns over the horizon (:meth:`operated_columns`) [kW].
        """
        raise NotImplementedError

    def final_shortfall(self, asset: Any, final_kwh: Any, price_cny_per_kwh: float) -> Any:
        """How far the operated horizon ends below what the unit owes: a store's
        final-state rule, or the energy EV sessions were due by departure.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon.
        final_kwh : dict of str to object
            By asset name: the run's final state of charge (``summary["final_soc_kwh"]``)
            [kWh], else the state the unit carried out of the last window (an EV fleet:
            the energy each session holds [kWh]).
        price_cny_per_kwh : float
            The price of refilling: the lowest energy price of the last day [CNY/kWh].

        Returns
        -------
        dict or None
            ``shortfall_kwh`` [kWh] and ``value_cny`` [CNY] (added to the rolling cost),
            with the unit's own detail (a store: ``final_kwh``, ``target_kwh``); None when
            it owes nothing at the end.
        """
        raise NotImplementedError

    def measured_state(self, entry: Any) -> Any:
        """What the daily job reads from telemetry for the unit (its state now).

        Parameters
        ----------
        entry : scenario entry
            The unit's scenario entry.

        Returns
        -------
        tuple of float or None
            ``(scenario_kwh, low_kwh, high_kwh)``: the scenario's initial state, used
            when no reading is found, and the bounds a reading is clipped to [kWh]; None
            for a unit without a measured state.
        """
        raise NotImplementedError

    def with_forecasts(self, asset: Any, forecasts: dict[str, Any], state: float | None) -> Any:
        """The unit's input with the job's forecasts and measured state put in.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the day.
        forecasts : dict of str to numpy.ndarray
            Forecasts by input-frame column (``load_kw``, ``<array>_available_kw``) [kW];
            a column missing keeps the input's own series.
        state : float or None
            Its measured state now (:meth:`measured_state`) [kWh], or None.

        Returns
        -------
        AssetInput
            The same input when it reads no forecast and has no state.
        """
        raise NotImplementedError
