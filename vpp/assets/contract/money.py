"""The money concern of an asset unit: its bill columns, costs per step and per month,
objective terms outside the bill, carbon flows, energy flows for the KPIs and equivalent
full cycles.

Each unit implements these in ``vpp/assets/<kind>/money.py`` (the methods here only
say what each capability means and raise when a unit lacks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from vpp.emissions import CarbonFlow


class MoneyCapabilities:
    """The money capabilities every unit provides (:mod:`vpp.assets.base`)."""

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
        (:func:`vpp.runs.solved_schedule.check_objective`) expects the LP objective to
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
            (:mod:`vpp.runs.kpis`): ``consumption_kw`` (what the site consumes: loads
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
