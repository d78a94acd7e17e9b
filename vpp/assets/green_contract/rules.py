"""The green-contract unit: its delivery and settlement periods (read at site level,
after the grid's emission factors), idle behaviour (no contract in the baselines)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.green_contract.periods import contract_periods, flat_delivery_kw
from vpp.assets.idle import Idle
from vpp.assets.inputs import InputContext, read_spec
from vpp.assets.opt_outs import PassiveInRules
from vpp.errors import DataError, Problem, ScenarioError
from vpp.model import AssetInput


class GreenContractRules(PassiveInRules):
    """Its input series, idle and rule-based behaviour."""

    input_stage = 2

    def inputs(self, entry: Any, ctx: InputContext) -> list[AssetInput]:
        """None here: contracts are read in :meth:`site_inputs`, after the grid's
        emission factors (their columns come first in the schedule)."""
        return []

    def site_inputs(self, ctx: InputContext) -> list[AssetInput]:
        """Every contract: ``<contract>_available_kw`` (its profile, or the flat delivery
        of monthly volumes) [kW]; the block gets the energy price [CNY/kWh], the
        settlement ``period_id`` per step and ``period_volume_kwh`` per period (a
        column, shape (P, 1)) [kWh]
        (:func:`vpp.assets.green_contract.periods.contract_periods`).

        Raises
        ------
        DataError, ScenarioError
            Profile problems (data) first, then volume problems; the class of the first.
        """
        horizon, cols = ctx.horizon, ctx.columns
        data_problems: list[Problem] = []
        problems: list[Problem] = []
        assets: list[AssetInput] = []
        for i, contract in enumerate(ctx.site.green_contracts):
            where = f"site.green_contracts[{i}]"
            available = None
            if contract.profile is not None:
                available = read_spec(
                    contract.profile,
                    horizon,
                    f"{where}.profile",
                    data_problems,
                    nonnegative="give the values as positive numbers",
                    unit="kW",
                )
                if available is None:
                    continue
                cols[f"{contract.name}_available_kw"] = available
            try:
                periods = contract_periods(
                    contract, horizon.index, horizon.step_h, available, where
                )
            except ScenarioError as exc:
                problems.extend(exc.problems)
                continue
            if available is None and contract.volume_shape == "flat":
                available = flat_delivery_kw(contract, horizon.index)
                cols[f"{contract.name}_available_kw"] = available
            series = {
                "price_cny_per_kwh": cols["price_cny_per_kwh"],
                "period_id": periods.period_id,
                # a column per period, never read as a per-step series (an hourly
                # settlement at 1 h has as many periods as steps)
                "period_volume_kwh": periods.volume_kwh[:, None],
            }
            if available is not None:
                series["available_kw"] = available
            assets.append(AssetInput(contract.name, "green_contract", contract, series))
        if data_problems:
            raise DataError(data_problems + problems)
        if problems:
            raise ScenarioError(problems)
        return assets

    def idle(self, asset: AssetInput, series: pd.DataFrame) -> Idle:
        """Nothing: the baselines have no green-power contracts."""
        return Idle()

    def delivered(
        self, asset: AssetInput, series: pd.DataFrame, share: np.ndarray
    ) -> dict[str, np.ndarray]:
        """None: the baselines have no green-power contracts."""
        return {}
