"""The carbon account and the green summary of a dispatch, recomputed from its schedule.

- :func:`carbon_summary` and :func:`green_summary`: the ``carbon`` and ``green``
  entries of ``summary.json``; the account adds every unit's carbon flows
  (:meth:`~vpp.assets.base.AssetUnit.carbon_flows`) and the site's declared fuels.
- :func:`consumption_kw`: the site's consumption, from every unit's energy flows
  (:meth:`~vpp.assets.base.AssetUnit.energy_flows`).
- :func:`diagnose_green`: why a renewable target makes a scenario infeasible.

The money of contracts, certificates and the carbon price is in their units' bill
columns (:mod:`vpp.sim.bill`). Like the bill, everything here reads the schedule's
columns, never the model (except the diagnosis, which reads the elastic model's slacks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import units
from vpp.assets.carbon.flows import site_carbon_flows
from vpp.assets.carbon.money import priced_lines
from vpp.assets.certificates.names import GREEN_ASSET
from vpp.assets.green_contract.money import contract_settlement
from vpp.assets.schedule_values import column_or_zero
from vpp.emissions import (
    ANNUAL_RULE,
    FUEL_CARRIERS,
    flows_account,
    horizon_year_share,
    pre_assessment,
    prorate,
    reduction,
)
from vpp.emissions.site import CarbonFactors, carbon_factors, fuel_activity
from vpp.errors import Problem
from vpp.scenario.schema import Scenario

__all__ = [
    "carbon_summary",
    "consumption_kw",
    "diagnose_green",
    "energy_flows_kw",
    "green_summary",
]

_KWH_PER_MWH = 1000.0
#: Slack below which an elastic target slack counts as zero [kW or kWh].
_DIAGNOSIS_TOL = 1e-4


def energy_flows_kw(schedule: pd.DataFrame, scenario: Scenario) -> dict[str, np.ndarray]:
    """Every unit's :meth:`~vpp.assets.base.AssetUnit.energy_flows`, summed by flow [kW].

    Parameters
    ----------
    schedule : pandas.DataFrame
        An optimized or a baseline schedule.
    scenario : Scenario
        The run's scenario.

    Returns
    -------
    dict of str to numpy.ndarray
        Flow (``consumption_kw``, ``pv_kw``, ``pv_available_kw``, ``storage_charge_kw``,
        ``storage_discharge_kw``, ``green_contract_kw``, ``certificates_kw``) -> power
        per step [kW]; a flow no unit gives is zeros.
    """
    flows = {
        name: np.zeros(len(schedule))
        for name in (
            "consumption_kw",
            "pv_kw",
            "pv_available_kw",
            "storage_charge_kw",
            "storage_discharge_kw",
            "green_contract_kw",
            "certificates_kw",
        )
    }
    for unit in units():
        for name, values in unit.energy_flows(scenario.site, schedule).items():
            if name not in flows:
                raise ValueError(
                    f"kind '{unit.kind}' gives the energy flow '{name}'; allowed: "
                    f"{', '.join(flows)}"
                )
            flows[name] = flows[name] + values
    return flows


def consumption_kw(schedule: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """The site's consumption per step: fixed load plus flexible loads after shedding,
    plus EV charging [kW] (the units' ``consumption_kw`` flows)."""
    return energy_flows_kw(schedule, scenario)["consumption_kw"]


def _annual(scenario: Scenario) -> dict[str, Any]:
    """The annual activity and economic figures as the scenario declares them."""
    economics = scenario.site.emissions.economics
    return {
        "activity": scenario.site.emissions.activity.model_dump(),
        "economics_cny": {
            "output_value": economics.output_value_cny,
            "value_added": economics.value_added_cny,
        },
    }


def _account(
    schedule: pd.DataFrame,
    scenario: Scenario,
    step_h: float,
    share: float,
    annual: dict[str, Any],
    factors: CarbonFactors,
) -> dict[str, Any]:
    """The carbon account over the schedule's horizon: every unit's carbon flows, and the
    ``annual`` fuels and economic figures (:func:`_annual`) counted by the horizon's
    ``share`` of a year (:mod:`vpp.emissions.period`), with the site's resolved
    ``factors``."""
    site = scenario.site
    flows = site_carbon_flows(site, schedule, step_h)
    account = flows_account(
        flows=flows.values(),
        n_steps=len(schedule),
        location_factor_kg_per_kwh=schedule["grid_factor_kg_per_kwh"].to_numpy(dtype=float),
        market_factor_kg_per_kwh=schedule["market_factor_kg_per_kwh"].to_numpy(dtype=float),
        activity=prorate(fuel_activity(site), share),
        fuel_factors_kg={c: factors.fuels[c].value for c in FUEL_CARRIERS},
        economics_cny=prorate(annual["economics_cny"], share),
    )
    account["activity"] = {
        **{name: float(flow.amount.sum()) for name, flow in flows.items()},
        **prorate(annual["activity"], share),
    }
    return account


def _price_cost(account: dict[str, Any], scenario: Scenario) -> float:
    price = scenario.site.carbon_price
    t = account["by_carrier_t"]
    return price.cny_per_t * sum(t[line] for line in priced_lines(price))


def carbon_summary(
    schedule: pd.DataFrame, baseline: pd.DataFrame, scenario: Scenario, step_h: float
) -> dict[str, Any]:
    """The ``carbon`` entry of the summary: the site's account against the baseline's.

    Location-based electricity counts all metered import at the grid factor;
    market-based counts only grey import (not green-contract energy, not energy
    covered by certificates) at the market-based factor. Totals add natural gas,
    diesel and heat from the scenario's activity data, which is annual: it counts
    over the horizon times the horizon's share of a year, as do the economic figures of
    the intensity (:mod:`vpp.emissions.period`; ``annual`` states the figures, the
    share and the rule). The baseline (no batteries, no flexibility, no contracts, no
    certificates) has the same activity data.
    """
    site = scenario.site
    factors = carbon_factors(site)
    share = horizon_year_share(schedule.index, step_h)  # the baseline's horizon is the same
    annual = _annual(scenario)
    account = _account(schedule, scenario, step_h, share, annual, factors)
    base = _account(baseline, scenario, step_h, share, annual, factors)
    out: dict[str, Any] = {
        "annual": {
            **annual,
            "horizon_share_of_year": share,
            "note": ANNUAL_RULE,
        },
        "factors": {
            "electricity": factors.electricity.as_dict(),
            "electricity_market_based": factors.electricity_market_based.as_dict(),
            **{c: factors.fuels[c].as_dict() for c in FUEL_CARRIERS},
        },
        "grid_factor_series": site.emissions.grid_factor_series is not None,
        **account,
        "baseline": base,
        "reduction_vs_baseline": reduction(account, base),
        "carbon_price": None,
        "pre_assessment": None,
    }
    price = site.carbon_price
    if price is not None:
        out["carbon_price"] = {
            "cny_per_t": price.cny_per_t,
            "in_objective": price.in_objective,
            "carriers": list(price.carriers),
            "cost_cny": _price_cost(account, scenario),
            "baseline_cost_cny": _price_cost(base, scenario),
        }
    check = site.emissions.pre_assessment
    if check is not None:
        out["pre_assessment"] = pre_assessment(
            account,
            threshold_t_per_10k_cny=check.threshold_t_per_10k_cny,
            basis=check.basis,
            accounting=check.accounting,
        )
    return out


def green_summary(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> dict[str, Any]:
    """The ``green`` entry of the summary: contracts taken and the renewable target."""
    site = scenario.site
    contracts = {}
    notes: list[str] = []
    exporting = schedule["grid_export_kw"].to_numpy(dtype=float) > _DIAGNOSIS_TOL
    top_export_price = float(schedule["export_price_cny_per_kwh"].max())
    for contract in site.green_contracts:
        p = contract_settlement(schedule=schedule, contract=contract, step_h=step_h)
        price = (
            contract.energy_price_cny_per_mwh + contract.green_premium_cny_per_mwh
        ) / _KWH_PER_MWH + contract.grid_fees_cny_per_kwh
        penalty = contract.shortfall_penalty_cny_per_mwh / _KWH_PER_MWH
        if site.grid.export_limit_kw > 0.0 and top_export_price + penalty >= price:
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
    out: dict[str, Any] = {"contracts": contracts, "target": None, "notes": notes}
    target = site.renewable_target
    if target is not None:
        demand = consumption_kw(schedule, scenario)
        used = column_or_zero(schedule, f"{GREEN_ASSET}_used_kw")
        certificates = column_or_zero(schedule, f"{GREEN_ASSET}_certificates_kw")
        consumed = float(demand.sum()) * step_h
        covered = used + certificates
        share = np.divide(covered, demand, out=np.ones_like(demand), where=demand > 0.0)
        out["target"] = {
            "basis": target.basis,
            "fraction": target.fraction,
            "certificates_count": target.certificates_allowed,
            "green_storage": list(target.green_storage),
            "consumption_mwh": consumed / _KWH_PER_MWH,
            "green_used_mwh": float(used.sum()) * step_h / _KWH_PER_MWH,
            "certificates_mwh": float(certificates.sum()) * step_h / _KWH_PER_MWH,
            "certificate_cost_cny": target.certificate_price_cny_per_mwh
            * float(certificates.sum())
            * step_h
            / _KWH_PER_MWH,
            "achieved_fraction": float(covered.sum()) * step_h / consumed if consumed else 1.0,
            "lowest_step_fraction": float(share.min()) if target.basis == "hourly" else None,
        }
    return out


def diagnose_green(model: Any, result: Any, inputs: Any) -> list[Problem]:
    """The renewable target's part of an infeasibility diagnosis (elastic model)."""
    if GREEN_ASSET not in model.asset:
        return []
    block = model.asset[GREEN_ASSET]
    spec = next(a.spec for a in inputs.assets if a.name == GREEN_ASSET)
    target = spec.target
    if target is None:
        return []
    index = inputs.horizon.index
    fix = (
        "lower the fraction, let certificates count (certificates_count: true), add a "
        "green contract whose profile covers these hours, or list a battery in green_storage"
    )
    if hasattr(block, "shortfall_kw"):
        short = result.values(block.shortfall_kw)
        bad = np.flatnonzero(short > _DIAGNOSIS_TOL)
        if not bad.size:
            return []
        first = ", ".join(index[i].isoformat() for i in bad[:5])
        return [
            Problem(
                f"the hourly renewable target of {target.fraction:.0%} cannot be met in "
                f"{bad.size} step(s) (first: {first}): green supply falls short by up to "
                f"{short[bad].max():.1f} kW",
                key="site.renewable_target.fraction",
                timestamp=index[bad[0]].isoformat(),
                value=f"{target.fraction:g}",
                fix=fix,
            )
        ]
    if hasattr(block, "shortfall_kwh"):
        short = result.value(block.shortfall_kwh)
        if short > _DIAGNOSIS_TOL:
            return [
                Problem(
                    f"the annual renewable target of {target.fraction:.0%} cannot be met: "
                    f"green energy falls short by {short / _KWH_PER_MWH:.3f} MWh",
                    key="site.renewable_target.fraction",
                    value=f"{target.fraction:g}",
                    fix=fix,
                )
            ]
    return []
