"""The green-contract unit: the contract's money and its green energy in the carbon account.

Per contract, with :math:`G_t` the energy taken [kW], :math:`\\pi^e`, :math:`\\pi^g` the
energy price and green premium [CNY/kWh], :math:`f` the grid fees [CNY/kWh] and
:math:`c_t` the TOU price the grid bills on all import [CNY/kWh]:

.. math::

    \\text{contract}_t = (\\pi^e + \\pi^g + f - c_t)\\, G_t \\Delta t

(the change against the TOU energy charge), plus per settlement period :math:`p` the
take-or-pay penalty :math:`\\pi^u \\max(0, \\phi V_p - \\sum_{t \\in p} G_t \\Delta t)`
in the month the period starts (:mod:`vpp.assets.green_contract.periods`). The energy
taken is zero-carbon in the market-based account.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.green_contract.periods import contract_periods
from vpp.assets.grid.limits import may_export
from vpp.emissions import CarbonFlow

__all__ = ["GreenContractMoney", "contract_settlement", "contracts_summary"]

_KWH_PER_MWH = 1000.0
#: Export below this counts as none, for ``taken_while_exporting_mwh`` [kW].
_EXPORT_TOL_KW = 1e-4


def contract_settlement(contract: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, Any]:
    """Per-step and per-period money of one contract taken in ``schedule``.

    Parameters
    ----------
    contract : GreenContract
        The contract (its ``<name>_take_kw`` column must be in ``schedule``).
    schedule : pandas.DataFrame
        With ``<name>_take_kw`` [kW], ``price_cny_per_kwh`` [CNY/kWh] and, with a
        profile, ``<name>_available_kw`` [kW].
    step_h : float
        Step length [h].

    Returns
    -------
    dict
        Per step: ``taken_kwh`` [kWh], ``energy_cny`` (energy and green premium),
        ``fees_cny``, ``displaced_cny`` (the TOU energy charge of the energy taken)
        [CNY]; ``periods`` (:class:`~vpp.assets.green_contract.periods.ContractPeriods`);
        per period: ``minimum_kwh``, ``untaken_kwh`` [kWh], ``penalty_cny`` [CNY].
    """
    take = schedule[f"{contract.name}_take_kw"].to_numpy(dtype=float)
    profile = f"{contract.name}_available_kw"
    available = schedule[profile].to_numpy(dtype=float) if profile in schedule else None
    periods = contract_periods(contract, schedule.index, step_h, available)
    taken_kwh = take * step_h
    taken_by_period = np.bincount(
        periods.period_id, weights=taken_kwh, minlength=len(periods.labels)
    )
    minimum = contract.take_or_pay_fraction * periods.volume_kwh
    untaken = np.maximum(0.0, minimum - taken_by_period)
    price = schedule["price_cny_per_kwh"].to_numpy(dtype=float)
    return {
        "taken_kwh": taken_kwh,
        "energy_cny": taken_kwh
        * (contract.energy_price_cny_per_mwh + contract.green_premium_cny_per_mwh)
        / _KWH_PER_MWH,
        "fees_cny": taken_kwh * contract.grid_fees_cny_per_kwh,
        "displaced_cny": taken_kwh * price,
        "periods": periods,
        "minimum_kwh": minimum,
        "untaken_kwh": untaken,
        "penalty_cny": untaken * contract.shortfall_penalty_cny_per_mwh / _KWH_PER_MWH,
    }


def contracts_summary(
    site: Any, schedule: pd.DataFrame, step_h: float
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each contract's settlement in ``schedule``, for the ``green`` summary.

    Parameters
    ----------
    site : Site
        The site (its ``green_contracts`` and ``grid.export_limit_kw``).
    schedule : pandas.DataFrame
        The optimized schedule (each contract's ``<name>_take_kw``, ``grid_export_kw``,
        ``export_price_cny_per_kwh``).
    step_h : float
        Step length [h].

    Returns
    -------
    tuple
        {contract name: ``settlement``, ``contracted_mwh``, ``minimum_mwh``,
        ``taken_mwh``, ``shortfall_mwh`` [MWh], ``energy_and_premium_cny``,
        ``grid_fees_cny``, ``displaced_tou_energy_cny``, ``penalty_cny``,
        ``net_cost_cny`` [CNY], ``taken_while_exporting_mwh`` [MWh]}, and notes (a
        contract whose energy can be taken to be exported at a gain).
    """
    contracts = {}
    notes: list[str] = []
    exporting = schedule["grid_export_kw"].to_numpy(dtype=float) > _EXPORT_TOL_KW
    top_export_price = float(schedule["export_price_cny_per_kwh"].max())
    for contract in site.green_contracts:
        p = contract_settlement(contract, schedule, step_h)
        price = (
            contract.energy_price_cny_per_mwh + contract.green_premium_cny_per_mwh
        ) / _KWH_PER_MWH + contract.grid_fees_cny_per_kwh
        penalty = contract.shortfall_penalty_cny_per_mwh / _KWH_PER_MWH
        if may_export(site.grid) and top_export_price + penalty >= price:
            notes.append(
                f"contract '{contract.name}': the export price plus the shortfall penalty "
                f"({top_export_price + penalty:.4f} CNY/kWh) reaches the contract's price "
                f"({price:.4f} CNY/kWh), so importing its energy to export it can beat the "
                "penalty; steps where that happened are in taken_while_exporting_mwh"
            )
        net = p["energy_cny"].sum() + p["fees_cny"].sum() - p["displaced_cny"].sum()
        contracts[contract.name] = {
            "settlement": contract.settlement,
            "contracted_mwh": float(p["periods"].volume_kwh.sum()) / _KWH_PER_MWH,
            "minimum_mwh": float(p["minimum_kwh"].sum()) / _KWH_PER_MWH,
            "taken_mwh": float(p["taken_kwh"].sum()) / _KWH_PER_MWH,
            "shortfall_mwh": float(p["untaken_kwh"].sum()) / _KWH_PER_MWH,
            "energy_and_premium_cny": float(p["energy_cny"].sum()),
            "grid_fees_cny": float(p["fees_cny"].sum()),
            "displaced_tou_energy_cny": float(p["displaced_cny"].sum()),
            "penalty_cny": float(p["penalty_cny"].sum()),
            "net_cost_cny": float(net + p["penalty_cny"].sum()),
            "taken_while_exporting_mwh": float(p["taken_kwh"][exporting].sum()) / _KWH_PER_MWH,
        }
    return contracts, notes


class GreenContractMoney:
    """Green-power contracts: their net cost, penalties and zero-carbon energy."""

    def _taken(self, site: Any, schedule: pd.DataFrame) -> list[Any]:
        """The contracts with a ``<name>_take_kw`` column (none in a baseline)."""
        return [c for c in self.entries(site) if f"{c.name}_take_kw" in schedule]

    def bill_columns(self, site: Any) -> dict[str, str]:
        """``green_contracts_cny`` (shown also without contracts)."""
        return {"green_contracts_cny": "charge"}

    def costs(self, site: Any, schedule: pd.DataFrame, step_h: float) -> dict[str, np.ndarray]:
        """Energy, premium and fees of the energy taken, less the TOU energy charge it
        displaces [CNY per step]."""
        per_step = np.zeros(len(schedule))
        for contract in self._taken(site, schedule):
            parts = contract_settlement(contract, schedule, step_h)
            per_step += parts["energy_cny"] + parts["fees_cny"] - parts["displaced_cny"]
        return {"green_contracts_cny": per_step}

    def monthly_costs(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, dict[str, float]]:
        """Take-or-pay penalties, in the month each settlement period starts [CNY]."""
        penalties: dict[str, float] = {}
        for contract in self._taken(site, schedule):
            parts = contract_settlement(contract, schedule, step_h)
            for month, cny in zip(parts["periods"].month_of_period, parts["penalty_cny"]):
                penalties[month] = penalties.get(month, 0.0) + float(cny)
        return {"green_contracts_cny": penalties}

    def objective_extra(self, site: Any, schedule: pd.DataFrame, step_h: float) -> float:
        """None: the block's cost is the bill's ``green_contracts_cny``."""
        return 0.0

    def carbon_flows(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, CarbonFlow]:
        """The energy taken [kWh per step]: zero-carbon in the market-based account."""
        taken = np.zeros(len(schedule))
        for contract in self._taken(site, schedule):
            taken += schedule[f"{contract.name}_take_kw"].to_numpy(dtype=float) * step_h
        return {"green_contract_kwh": CarbonFlow(taken, {"electricity_market_based": -1.0})}

    def energy_flows(self, site: Any, schedule: pd.DataFrame) -> dict[str, np.ndarray]:
        """The green-contract power taken, all contracts [kW]."""
        taken = np.zeros(len(schedule))
        for contract in self._taken(site, schedule):
            taken += schedule[f"{contract.name}_take_kw"].to_numpy(dtype=float)
        return {"green_contract_kw": taken}

    def equivalent_full_cycles(
        self, site: Any, schedule: pd.DataFrame, step_h: float
    ) -> dict[str, float]:
        """None: a contract is no store."""
        return {}
