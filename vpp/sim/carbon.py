"""Green contracts, certificates and carbon of a dispatch, recomputed from its schedule.

- :func:`green_extra_cny`: the monthly costs the bill adds (``extra_cny`` of
  :func:`vpp.sim.bill.bill`): ``green_contracts_cny``, ``certificates_cny`` and
  ``carbon_cny`` (only when the carbon price is in the objective). The same money is
  in the LP objective, so the objective check of :func:`vpp.sim.run.run` covers it.
- :func:`carbon_summary` and :func:`green_summary`: the ``carbon`` and ``green``
  entries of ``summary.json``.
- :func:`diagnose_green`: why a renewable target makes a scenario infeasible.

Like the bill, everything here reads the schedule's columns, never the model (except
the diagnosis, which reads the elastic model's slacks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.certificates.block import GREEN_TIE_BREAK_CNY_PER_KWH
from vpp.assets.certificates.rules import GREEN_ASSET
from vpp.assets.emission_factors import (
    CarbonFactors,
    carbon_factors,
    certificates_lower_emissions,
    fuel_activity,
    fuel_emissions_kg,
)
from vpp.assets.green_contract.periods import contract_periods
from vpp.emissions import (
    ANNUAL_RULE,
    FUEL_CARRIERS,
    horizon_year_share,
    pre_assessment,
    prorate,
    reduction,
    site_account,
)
from vpp.errors import Problem
from vpp.scenario.schema import CurtailableLoad, Scenario, ShiftableLoad

__all__ = [
    "carbon_summary",
    "consumption_kw",
    "diagnose_green",
    "green_extra_cny",
    "green_summary",
    "green_tie_break_cny",
]

_KWH_PER_MWH = 1000.0
_KG_PER_T = 1000.0
#: Slack below which an elastic target slack counts as zero [kW or kWh].
_DIAGNOSIS_TOL = 1e-4


def _months(index: pd.DatetimeIndex) -> np.ndarray:
    local = index.tz_localize(None) if index.tz is not None else index
    return np.asarray(local.strftime("%Y-%m"), dtype=object)


def _by_month(values: np.ndarray, months: np.ndarray) -> dict[str, float]:
    sums = pd.Series(values).groupby(months, sort=False).sum()
    return {str(k): float(v) for k, v in sums.items()}


def _column(schedule: pd.DataFrame, name: str) -> np.ndarray:
    if name in schedule:
        return schedule[name].to_numpy(dtype=float)
    return np.zeros(len(schedule))


def _contract_parts(schedule: pd.DataFrame, contract: Any, step_h: float) -> dict[str, Any]:
    """Per-step and per-period money of one contract taken in ``schedule``."""
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


def _grey_kwh(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> np.ndarray:
    """Grid energy that is neither green-contract energy nor covered by certificates [kWh]."""
    grey = schedule["grid_import_kw"].to_numpy(dtype=float).copy()
    for contract in scenario.site.green_contracts:
        grey -= _column(schedule, f"{contract.name}_take_kw")
    if certificates_lower_emissions(scenario.site):
        grey -= _column(schedule, f"{GREEN_ASSET}_certificates_kw")
    return grey * step_h


def _carbon_cost_cny(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float, months: np.ndarray
) -> dict[str, float]:
    """Monthly carbon cost of priced carriers [CNY]; the fuels of the horizon (annual
    activity times its share of a year) spread evenly over its steps."""
    price = scenario.site.carbon_price
    rate = price.cny_per_t / _KG_PER_T
    per_step = np.zeros(len(schedule))
    if "electricity" in price.carriers:
        factor = schedule["market_factor_kg_per_kwh"].to_numpy(dtype=float)
        per_step += rate * factor * _grey_kwh(schedule, scenario, step_h)
    fuel = fuel_emissions_kg(scenario.site, year_share=horizon_year_share(schedule.index, step_h))
    priced = sum(v for c, v in fuel.items() if c in price.carriers) * rate
    per_step += priced / len(schedule)
    return _by_month(per_step, months)


def green_extra_cny(
    schedule: pd.DataFrame, scenario: Scenario, step_h: float
) -> dict[str, dict[str, float]]:
    """The monthly costs of contracts, certificates and carbon in ``schedule`` [CNY].

    A schedule without a contract's ``<name>_take_kw`` column (the baseline) has no
    contract and no certificates; the carbon cost then falls on all of its import.

    Returns
    -------
    dict
        ``{"green_contracts_cny": {YYYY-MM: CNY}, "certificates_cny": ...,
        "carbon_cny": ...}``, only the entries that apply. A contract's month holds
        :math:`\\sum_t (\\pi^e + \\pi^g + f - c_t) G_t \\Delta t` (the change against the
        TOU energy charge the grid bills on all import) plus the penalties of the
        periods that start in it.
    """
    site = scenario.site
    months = _months(schedule.index)
    extra: dict[str, dict[str, float]] = {}
    taken = [c for c in site.green_contracts if f"{c.name}_take_kw" in schedule]
    if taken:
        per_step = np.zeros(len(schedule))
        penalties: dict[str, float] = {}
        for contract in taken:
            parts = _contract_parts(schedule, contract, step_h)
            per_step += parts["energy_cny"] + parts["fees_cny"] - parts["displaced_cny"]
            for month, cny in zip(parts["periods"].month_of_period, parts["penalty_cny"]):
                penalties[month] = penalties.get(month, 0.0) + float(cny)
        monthly = _by_month(per_step, months)
        extra["green_contracts_cny"] = {m: v + penalties.get(m, 0.0) for m, v in monthly.items()}
    target = site.renewable_target
    column = f"{GREEN_ASSET}_certificates_kw"
    if target is not None and column in schedule:
        rate = target.certificate_price_cny_per_mwh / _KWH_PER_MWH
        extra["certificates_cny"] = _by_month(rate * _column(schedule, column) * step_h, months)
    if site.carbon_price is not None and site.carbon_price.in_objective:
        extra["carbon_cny"] = _carbon_cost_cny(schedule, scenario, step_h, months)
    return extra


def green_tie_break_cny(schedule: pd.DataFrame, step_h: float) -> float:
    """The green account's tie-break term of the objective [CNY] (a small reward)."""
    used = _column(schedule, f"{GREEN_ASSET}_used_kw")
    return -GREEN_TIE_BREAK_CNY_PER_KWH * float(used.sum()) * step_h


def consumption_kw(schedule: pd.DataFrame, scenario: Scenario) -> np.ndarray:
    """The site's consumption per step: fixed load plus flexible loads after shedding,
    plus EV charging [kW]."""
    demand = schedule["load_kw"].to_numpy(dtype=float).copy()
    for flex in scenario.site.flexible_loads:
        if isinstance(flex, ShiftableLoad):
            demand += _column(schedule, f"{flex.name}_power_kw")
        elif isinstance(flex, CurtailableLoad):
            demand += _column(schedule, f"{flex.name}_power_kw")
            demand -= _column(schedule, f"{flex.name}_shed_kw")
    for fleet in scenario.site.ev_fleets:  # charging only: V2G discharge is a supply
        demand += _column(schedule, f"{fleet.name}_charge_kw")
    return demand


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
    """The carbon account over the schedule's horizon: the ``annual`` fuels and economic
    figures (:func:`_annual`) counted by the horizon's ``share`` of a year
    (:mod:`vpp.emissions.period`), with the site's resolved ``factors``."""
    site = scenario.site
    imp = schedule["grid_import_kw"].to_numpy(dtype=float) * step_h
    green = np.zeros(len(schedule))
    for contract in site.green_contracts:
        green += _column(schedule, f"{contract.name}_take_kw") * step_h
    certificates = _column(schedule, f"{GREEN_ASSET}_certificates_kw") * step_h
    if not certificates_lower_emissions(site):
        certificates = np.zeros(len(schedule))
    account = site_account(
        import_kwh=imp,
        green_kwh=green,
        certificate_kwh=certificates,
        location_factor_kg_per_kwh=schedule["grid_factor_kg_per_kwh"].to_numpy(dtype=float),
        market_factor_kg_per_kwh=schedule["market_factor_kg_per_kwh"].to_numpy(dtype=float),
        activity=prorate(fuel_activity(site), share),
        fuel_factors_kg={c: factors.fuels[c].value for c in FUEL_CARRIERS},
        economics_cny=prorate(annual["economics_cny"], share),
    )
    account["activity"] = {
        "grid_import_kwh": float(imp.sum()),
        "green_contract_kwh": float(green.sum()),
        "certificates_counted_kwh": float(certificates.sum()),
        **prorate(annual["activity"], share),
    }
    return account


def _price_cost(account: dict[str, Any], scenario: Scenario) -> float:
    price = scenario.site.carbon_price
    t = account["by_carrier_t"]
    carriers = ["electricity_market_based" if c == "electricity" else c for c in price.carriers]
    return price.cny_per_t * sum(t[c] for c in carriers)


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
        p = _contract_parts(schedule, contract, step_h)
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
        used = _column(schedule, f"{GREEN_ASSET}_used_kw")
        certificates = _column(schedule, f"{GREEN_ASSET}_certificates_kw")
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
