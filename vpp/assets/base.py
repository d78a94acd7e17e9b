"""The asset-unit contract: everything one asset kind does, declared in one place.

An asset kind (grid, load, PV, battery, ...) is one *unit*: a small package
``vpp/assets/<kind>/`` whose ``__init__`` defines one subclass of :class:`AssetUnit`,
registered by one line in :mod:`vpp.assets`. The unit's files are split by concern:

``block.py``
    its Pyomo block: one builder whose capacities are numbers or sizing variables,
    its parameter updater and structure signature for model reuse, its sizing keys;
``money.py``
    its cost and bill terms computed from a schedule (used by the bill, by the
    objective check on every solve) and its carbon terms;
``rules.py``
    how its input series are built from the scenario, its idle and rule-based
    behaviour (baselines, the daily job's fallback);
``operation.py``
    what a rolling window gives it (forecasts, the state now), how its plan is read,
    its real-time rule (settlement of rolling runs), and how the settlement holds it.

Modes (build, bill, baselines, rolling, settlement, the park, the job, sizing, the
report) iterate over :func:`vpp.assets.registry.units` and call these capabilities;
they never compare a kind's name. Each section below is one concern; a unit provides
every capability (``tests/test_assets.py`` checks that).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from vpp.assets.idle import Idle, RuleResult, RuleStep
    from vpp.assets.inputs import InputContext
    from vpp.model import AssetInput

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from vpp.emissions import CarbonFlow


class AssetUnit:
    """One asset kind. Subclasses set the class attributes and provide every capability.

    Attributes
    ----------
    kind : str
        The kind's name (``AssetInput.kind``, the block registry key).
    site_key : str
        The ``Site`` field its scenario entries live under (``batteries``, ``grid``).
    spec_model : type
        Its scenario model (a frozen pydantic model with field descriptions and units).
    columns : dict of str to str
        Its schedule output columns, ``<name>_<suffix>`` -> "unit: meaning"
        (``{"charge_kw": "kW: charging power, bus side"}``); site-level columns (the
        grid's) are given in full.
    """

    kind: ClassVar[str]
    site_key: ClassVar[str]
    spec_model: ClassVar[type]
    columns: ClassVar[dict[str, str]]

    def entries(self, site: Any) -> list[Any]:
        """The site's scenario entries of this kind, in scenario order."""
        value = getattr(site, self.site_key)
        if value is None:
            return []
        return list(value) if isinstance(value, (list, tuple)) else [value]

    def claims(self, entry: Any) -> bool:
        """Whether an entry of ``site_key`` is of this kind (lists shared by kinds)."""
        return True

    # ----------------------------------------------------------------- block.py (model)
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

    # ----------------------------------------------------------------- money.py (money)
    # Every money capability takes the whole ``site`` (the unit reads its own entries,
    # ``self.entries(site)``) and a schedule: the solved one, or a baseline that lacks
    # the columns of batteries, flexibility, contracts and certificates (a missing
    # column counts as zero). Nothing here reads the optimization model.

    def bill_columns(self, site: Any) -> dict[str, str]:
        """The columns this kind puts in the site's bill, in order, with their part.

        Parameters
        ----------
        site : Site
            The scenario's site.

        Returns
        -------
        dict of str to str
            Bill column -> part, for every column the bill shows for this site (also at
            zero: a site without batteries still shows ``battery_cost_cny``). Parts:

            ``metered``
                a quantity billed on, not money (``import_kwh`` [kWh],
                ``peak_import_kw`` [kW]);
            ``charge``
                money the utility or a contract bills [CNY] (``energy_cost_cny``,
                ``demand_charge_cny``, ``green_contracts_cny``, ``carbon_cny``);
            ``credit``
                money credited, subtracted in the bill [CNY] (``export_revenue_cny``);
            ``own``
                the site's own cost, in the total but not in what the utility bills
                [CNY] (``battery_cost_cny``, ``curtailment_cost_cny``, ``ev_cost_cny``).

            ``bill_cny`` = charges - credits; ``total_cost_cny`` = ``bill_cny`` + own.
            Empty when the kind adds nothing to the bill.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare bill_columns")

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """What each step adds to the columns of :meth:`bill_columns`.

        Parameters
        ----------
        site : Site
            The scenario's site.
        schedule : pandas.DataFrame
            Inputs and dispatch, one row per step (the unit's own columns and the
            site's ``price_cny_per_kwh``, ``grid_import_kw``, ...).
        step_h : float
            Step length [h].

        Returns
        -------
        dict of str to numpy.ndarray
            Bill column -> its amount in each step, one value per row of ``schedule``
            [CNY per step for money, kWh per step for metered energy], summed over the
            kind's entries; a credit is given as a positive amount. The bill sums them
            by calendar month. Columns settled per month and not per step are in
            :meth:`monthly_costs`; a column may have a part in each.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare costs")

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """What the kind adds to bill columns per calendar month, not step by step.

        Parameters are those of :meth:`costs`.

        Returns
        -------
        dict
            Bill column -> {``YYYY-MM`` (local calendar month): amount} [CNY, or the
            metered unit: the grid's ``peak_import_kw`` is the month's largest import
            [kW] and its ``demand_charge_cny`` the basic charge on it; a green contract's
            take-or-pay penalty falls in the month its settlement period starts]. Added
            to the month's sum of :meth:`costs`; a month not given adds zero.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare monthly_costs")

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """The kind's terms of the LP objective that are not in the bill [CNY].

        The tie-breaks (a battery's tiny cost on charged energy, the green account's tiny
        reward on green energy used) steer the solver between equal-cost optima and are
        no money. The objective check of every solve
        (:func:`vpp.sim.solved_schedule.check_objective`) expects the LP objective to
        equal the bill's ``total_cost_cny`` plus the sum of these. Parameters are those
        of :meth:`costs`; 0.0 when the kind adds no such term.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare objective_extra")

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """The kind's activities in the site's carbon account, step by step.

        Parameters are those of :meth:`costs`.

        Returns
        -------
        dict of str to vpp.emissions.CarbonFlow
            Activity name, with its unit (``grid_import_kwh``, ``green_contract_kwh``,
            ``certificates_counted_kwh``; a generator set's diesel burnt in t) ->
            :class:`~vpp.emissions.CarbonFlow`: the amount in each step [the
            activity's unit] and the account lines it enters with their sign
            (``{"electricity_location_based": 1.0, "electricity_market_based": 1.0}``
            for grid import, ``{"electricity_market_based": -1.0}`` for green-contract
            energy, ``{"diesel": 1.0}`` for diesel [t]). Electricity lines are in kWh
            and take the schedule's grid factors per step; fuel lines (``natural_gas``
            [Nm3], ``diesel`` [t], ``heat`` [GJ]) take the site's fuel factors
            (:mod:`vpp.emissions.accounting`). The account reports the activity's sum;
            the carbon price falls on the priced lines. Empty when the kind has none.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare carbon_flows")

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """How the kind's columns enter the site's energy KPIs, per step [kW].

        Parameters
        ----------
        site : Site
            The scenario's site.
        schedule : pandas.DataFrame
            An optimized or a baseline schedule (missing columns count as zero).

        Returns
        -------
        dict of str to numpy.ndarray
            Flow -> power in each step [kW], summed over the kind's entries. Flows
            (:mod:`vpp.sim.kpis`): ``consumption_kw`` (what the site consumes: loads
            after shedding, vehicles charging), ``pv_kw`` (PV generated after
            curtailment), ``pv_available_kw``, ``storage_charge_kw`` and
            ``storage_discharge_kw`` (stationary storage, bus side), ``green_contract_kw``
            (green-contract energy taken), ``certificates_kw`` (grid energy covered by
            certificates bought). Empty when the kind enters none.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare energy_flows")

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """Each stationary store's equivalent full cycles in the schedule [-].

        Energy discharged [kWh] per usable capacity [kWh], by entry name (zero for a
        schedule without the entry's columns). Parameters are those of :meth:`costs`;
        empty for a kind that is no stationary store.
        """
        raise NotImplementedError(
            f"asset kind '{self.kind}' does not declare equivalent_full_cycles"
        )

    # ----------------------------------------------------------------- rules.py (inputs, idle)
    # Inputs: :func:`vpp.sim.inputs.build_inputs` makes one
    # :class:`~vpp.assets.inputs.InputContext` per site. It reads the site's entries
    # (:func:`vpp.assets.registry.site_entries`) in the order of their unit's
    # ``input_stage`` (ties in model order) with :meth:`inputs`, then calls every unit's
    # :meth:`site_inputs` in registration order. The block inputs are kept in model order:
    # each entry's where the entry stands, then the site-level ones. A unit reads its
    # series with ``ctx.read`` (problems are collected, zeros stand in) or raises a
    # :class:`~vpp.errors.VppError` with every problem of the entry (then the entry gets
    # no block input); the run raises all problems together, as the class of the first.
    # Idle and rule: the baselines (:mod:`vpp.sim.baseline`, :mod:`vpp.sim.baselines`,
    # :mod:`vpp.sim.rule_based`) and the daily job's fallback (:mod:`vpp.jobs.fallback`)
    # ask each block input (an :class:`~vpp.model.AssetInput` of ``SiteInputs.assets``)
    # what it does when nothing is optimized and whether it acts under the rule.

    input_stage: ClassVar[int]
    """When its entries are read, relative to other units' (lower first, ties in model
    order). The schedule's input columns come in reading order: the load (0) leads, the
    grid's tariff (1) follows, then the other entries (2)."""

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """Read and check one scenario entry's input series; its block inputs.

        Parameters
        ----------
        entry : object
            One of :meth:`entries` that this unit :meth:`claims`.
        ctx : InputContext
            The site's reading so far. Adds its schedule input columns to
            ``ctx.columns`` (``<pv>_available_kw`` [kW], ``<shiftable>_default_kw`` [kW],
            ...), reads series with ``ctx.read``, may record ``ctx.info`` for the summary
            and keep site-wide results in ``ctx.shared``.

        Returns
        -------
        list of AssetInput
            Its block inputs (``AssetInput(name, kind, spec, series)``, series on the
            horizon in the units their keys say); empty when the entry is read at site
            level (:meth:`site_inputs`).

        Raises
        ------
        VppError
            With every problem of the entry (collected by the caller).
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare inputs")

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """Inputs that belong to the site rather than to one entry, read after every entry.

        Called once per unit, in registration order, after every :meth:`inputs`: for
        series that are the site's (the grid's emission factors
        ``grid_factor_kg_per_kwh``, ``market_factor_kg_per_kwh`` [kg/kWh]) and for
        block inputs that couple to other assets (the green account, the carbon price;
        ``ctx.assets`` and ``ctx.columns`` hold everything read before).

        Returns
        -------
        list of AssetInput
            Its site-level block inputs (often empty).

        Raises
        ------
        VppError
            With every problem found (collected by the caller).
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare site_inputs")

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """What the asset does when nothing is optimized (the pv-only baseline).

        Parameters
        ----------
        asset : AssetInput
            One block input of this kind.
        series : pandas.DataFrame
            The site's input series (``SiteInputs.series``), one row per step.

        Returns
        -------
        Idle
            Its demand [kW], the columns of the power it can supply [kW], what it takes
            of the surplus [kW] and the schedule columns its idle behaviour fixes.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare idle")

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Its schedule columns once the site has used or exported ``share`` of the supply.

        Parameters
        ----------
        asset : AssetInput
            One block input of this kind.
        series : pandas.DataFrame
            The schedule being built (its ``Idle.supply_columns`` included).
        share : numpy.ndarray
            Per step, the share of all supply that is used or exported [-] (the rest
            is curtailed).

        Returns
        -------
        dict of str to numpy.ndarray
            Columns by full name (``<pv>_pv_kw``, ``<pv>_curtailed_kw`` [kW]); empty
            for an asset that supplies nothing.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare delivered")

    def rule_power_kw(self, asset: AssetInput) -> float:
        """Power by which it can lower the site's import under the rule [kW].

        The rule's default set point is the pv-only month peak minus a share of the sum
        of these (a battery's discharge power); 0 for an asset that does not act.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare rule_power_kw")

    def rule(self, asset: AssetInput, step: RuleStep) -> RuleResult | None:
        """Run the asset by the rule-based baseline's rule over the horizon.

        Parameters
        ----------
        asset : AssetInput
            One block input of this kind.
        step : RuleStep
            The site's net demand left by the assets before [kW] (updated in place with
            what this one draws or gives), the set points and the peak and valley steps.

        Returns
        -------
        RuleResult or None
            Its columns and final state; None for an asset that does not act under the
            rule (it stays as in the pv-only baseline).
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare rule")

    def fallback(self, asset: AssetInput) -> dict[str, float]:
        """Its explicit set points in the daily job's safe schedule (the pv-only baseline).

        Returns
        -------
        dict of str to float
            Columns by full name, constant over the day (a battery idle at the state it
            starts in: ``<b>_charge_kw`` 0, ``<b>_discharge_kw`` 0 [kW], ``<b>_soc_kwh``
            [kWh]); empty when the baseline's columns say all.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare fallback")

    def fallback_final_kwh(self, asset: AssetInput) -> float | None:
        """The state it ends a fallback day in [kWh], when its start was measured.

        A store whose start state comes from telemetry (``soc_initial_kwh`` in its
        series) ends an idle day where it started; None for everything else.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare fallback_final_kwh")

    # ----------------------------------------------------------------- operation.py (rolling)
    # What a rolling run (vpp.sim.rolling) and the daily job (vpp.jobs) ask of a unit. The
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

        The settlement (:func:`vpp.sim.settlement.settle`) builds the full-horizon model
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
        """How far the operated horizon ends below the unit's final-state rule.

        Parameters
        ----------
        asset : AssetInput
            The unit's input on the run's horizon.
        final_kwh : dict of str to float
            The run's final states by asset name (``summary["final_soc_kwh"]``) [kWh].
        price_cny_per_kwh : float
            The price of refilling: the lowest energy price of the last day [CNY/kWh].

        Returns
        -------
        dict or None
            ``final_kwh``, ``target_kwh``, ``shortfall_kwh`` [kWh] and ``value_cny``
            [CNY]; None for a unit without a final-state rule.
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

    # ----------------------------------------------------------------- __init__.py (report)
    # Output columns: ``columns`` (above), ``roles`` and ``on_site``, class attributes set in
    # each unit's ``__init__``. Modes read a column by its role, never by a kind's name.
    roles: ClassVar[dict[str, str]]
    """What modes read from its columns by meaning: role -> key of :attr:`columns`.

    Roles (:data:`vpp.assets.columns.ROLES`; a unit declares those its columns play):

    ``pv_available``, ``pv_forecast``, ``pv_output``, ``pv_curtailed``
        PV power available (actual), as forecast (rolling runs), used or exported, and
        curtailed [kW].
    ``storage_charge``, ``storage_discharge``, ``storage_soc``
        A stationary store's charging and discharging power, bus side [kW], and its
        state of charge [kWh]. Its scenario entry gives ``energy_kwh`` [kWh] and the
        usable window ``soc_min_fraction`` .. ``soc_max_fraction`` [-].
    ``flexible_demand``, ``shed``
        A flexible load's consumption before shedding, and the power shed [kW] (what it
        draws is ``flexible_demand - shed``).
    ``grid_import``, ``grid_export``
        The site's import from and export to the grid [kW].
    """

    on_site: ClassVar[bool]
    """Whether its entries are equipment the site dispatches (PV, storage, flexible
    loads, vehicles): the daily job's site schedule carries every column of its entries."""

    def column(self, entry: Any, key: str) -> str:
        """The schedule column of ``entry`` for ``key`` (a key of :attr:`columns`).

        Entries with a ``name`` prefix it (``bess`` and ``charge_kw`` give
        ``bess_charge_kw``); the site's single entries (grid, load, green account, carbon
        price) declare their columns in full.
        """
        name = getattr(entry, "name", None)
        return key if name is None else f"{name}_{key}"

    def role_column(self, entry: Any, role: str) -> str | None:
        """The schedule column of ``entry`` that plays ``role``; None if none does."""
        key = self.roles.get(role)
        return None if key is None else self.column(entry, key)


CAPABILITIES: tuple[str, ...] = (
    "build",
    "update",
    "signature",
    "sizing_series",
    "sizing_problems",
    "sized_values",
    "sized_entry",
    "investment",
    "sized_output_kw",
    "input_stage",
    "inputs",
    "site_inputs",
    "idle",
    "delivered",
    "rule_power_kw",
    "rule",
    "fallback",
    "fallback_final_kwh",
    "bill_columns",
    "costs",
    "monthly_costs",
    "objective_extra",
    "carbon_flows",
    "energy_flows",
    "equivalent_full_cycles",
    # operation.py
    "in_windows",
    "initial_state",
    "window_import_price_cny_per_kwh",
    "window",
    "plan_columns",
    "operated_columns",
    "controller",
    "carry",
    "hold",
    "final_shortfall",
    "measured_state",
    "with_forecasts",
)
