"""The rules concern of an asset unit: how its inputs are read from the scenario, its idle
behaviour (baselines), its rule (the rule-based baseline and the daily job's fallback)
and the state it ends the fallback in.

Each unit implements these in ``vpp/assets/<kind>/rules.py`` (the methods here only
say what each capability means and raise when a unit lacks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from vpp.assets.idle import Idle, RuleResult, RuleStep
    from vpp.assets.inputs import InputContext
    from vpp.model import AssetInput


class RulesCapabilities:
    """The rules capabilities every unit provides (:mod:`vpp.assets.base`)."""

    # Inputs: :func:`vpp.inputs.site.build_inputs` makes one
    # :class:`~vpp.assets.inputs.InputContext` per site. It reads the site's entries
    # (:func:`vpp.assets.registry.site_entries`) in the order of their unit's
    # ``input_stage`` (ties in model order) with :meth:`inputs`, then calls every unit's
    # :meth:`site_inputs` in registration order. The block inputs are kept in model order:
    # each entry's where the entry stands, then the site-level ones. A unit reads its
    # series with ``ctx.read`` (problems are collected, zeros stand in) or raises a
    # :class:`~vpp.errors.VppError` with every problem of the entry (then the entry gets
    # no block input); the run raises all problems together, as the class of the first.
    # Idle and rule: the baselines (:mod:`vpp.runs.baseline`, :mod:`vpp.runs.baselines`,
    # :mod:`vpp.runs.rule_based`) and the daily job's fallback (:mod:`vpp.jobs.fallback`)
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

    def fallback_final_kwh(
        self, asset: AssetInput, schedule: pd.DataFrame, dt_h: float
    ) -> float | None:
        """The state it ends the daily job's fallback schedule in [kWh].

        Parameters
        ----------
        asset : AssetInput
            One block input of this kind.
        schedule : pandas.DataFrame
            The site's fallback schedule (:func:`vpp.jobs.fallback.site_fallback`), with
            this asset's columns under the rule (a battery's ``<b>_soc_kwh`` at the start
            of each step, ``<b>_charge_kw``, ``<b>_discharge_kw``).
        dt_h : float
            Step [h].

        Returns
        -------
        float or None
            A store's state after the last step [kWh]; None for an asset without one.
        """
        raise NotImplementedError(f"asset kind '{self.kind}' does not declare fallback_final_kwh")
