"""The carbon account and the green summary of a dispatch, recomputed from its schedule.

- :func:`carbon_summary` and :func:`green_summary`: the ``carbon`` and ``green``
  entries of ``summary.json``; the account adds every unit's carbon flows
  (:meth:`~vpp.assets.base.AssetUnit.carbon_flows`) and the site's declared fuels.
- :func:`consumption_kw`: the site's consumption, from every unit's energy flows
  (:meth:`~vpp.assets.base.AssetUnit.energy_flows`).
- :func:`diagnose_green`: why a renewable target makes a scenario infeasible.

The money of contracts, certificates and the carbon price is in their units' bill
columns (:mod:`vpp.runs.bill`). Like the bill, everything here reads the schedule's
columns, never the model (except the diagnosis, which reads the elastic model's slacks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import units
from vpp.assets.carbon.flows import site_carbon_flows
from vpp.assets.carbon.money import priced_lines
from vpp.assets.certificates.money import target_summary
from vpp.assets.certificates.rules import GREEN_ASSET
from vpp.assets.emission_factors import (
    CarbonFactors,
    carbon_factors,
    fuel_activity,
    grid_factor_info,
)
from vpp.assets.green_contract.money import contracts_summary
from vpp.emissions import (
    ANNUAL_RULE,
    FUEL_CARRIERS,
    flows_account,
    horizon_year_share,
    pre_assessment,
    prorate,
    reduction,
)
from vpp.errors import Problem
from vpp.scenario.schema import Scenario

__all__ = [
    "carbon_summary",
    "consumption_kw",
    "diagnose_green",
    "energy_flows_kw",
    "green_summary",
    "grid_factor_label",
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
    certificates) has the same activity data. ``grid_factor``
    (:func:`~vpp.assets.emission_factors.grid_factor_info`) says where the grid factor
    comes from (``annual``: ``factors.electricity``; ``series``: its file and column)
    and its ``kind``: with ``marginal`` factors the location-based reduction is a
    marginal-factor estimate of the emissions avoided, not a change of the
    average-factor inventory.
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
        "grid_factor": grid_factor_info(site),
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


def grid_factor_label(carbon: dict[str, Any]) -> str:
    """One line on the grid factor of a ``carbon`` summary entry, for reports: its source
    (the series' file and column, or the annual factor's name and document) and its kind;
    with marginal factors, the reductions are labelled marginal-factor-based."""
    info = carbon.get("grid_factor") or {}
    kind = info.get("kind", "average")
    if info.get("source") == "series":
        where = f"hourly series {info['file']} column '{info['column']}'"
        if not info.get("market_based_follows_series"):
            where += " (location-based only; market-based: the given constant factor)"
    else:
        factor = carbon["factors"]["electricity"]
        document = (factor.get("source") or {}).get("document")
        where = f"annual {factor['name']} ({factor['value']:g} {factor['unit']}" + (
            f"; {document})" if document else ")"
        )
    line = f"grid factor: {kind}, {where}"
    if kind == "marginal":
        line += "; the reductions are marginal-factor-based (emissions avoided at the margin)"
    return line


def green_summary(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> dict[str, Any]:
    """The ``green`` entry of the summary: contracts taken and the renewable target.

    ``contracts`` and ``notes`` from :func:`vpp.assets.green_contract.money.contracts_summary`,
    ``target`` from :func:`vpp.assets.certificates.money.target_summary` (on the site's
    consumption, :func:`consumption_kw`; ``None`` without a target).
    """
    site = scenario.site
    contracts, notes = contracts_summary(site, schedule, step_h)
    target = None
    if site.renewable_target is not None:
        target = target_summary(site, schedule, step_h, consumption_kw(schedule, scenario))
    return {"contracts": contracts, "target": target, "notes": notes}


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
