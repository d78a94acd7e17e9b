"""Inputs of green contracts, the green account, emission factors and the carbon price.

:func:`green_inputs` reads and checks every green-power and carbon input of a site,
adds its series to the inputs (``grid_factor_kg_per_kwh``,
``market_factor_kg_per_kwh``, ``<contract>_available_kw``: the profile, or the flat
delivery of monthly volumes) and returns the block
inputs: one ``green_contract`` per contract, then the site's green account (asset
``green``, kind ``certificates``) when there are contracts or a renewable target, then
the carbon price (asset ``carbon``) when it is in the objective. Problems are collected
and raised together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.certificates.names import GREEN_ASSET
from vpp.assets.green_contract.periods import contract_periods, month_hours
from vpp.emissions import horizon_year_share
from vpp.emissions.site import carbon_factors, certificates_lower_emissions, fuel_emissions_kg
from vpp.errors import DataError, Problem, ScenarioError
from vpp.model import AssetInput
from vpp.model.blocks.carbon import CarbonPricing
from vpp.model.blocks.certificates import GreenAccount
from vpp.scenario.green import GreenContract
from vpp.scenario.schema import Site
from vpp.sim.series import read_spec
from vpp.timeseries import Horizon

__all__ = ["CARBON_ASSET", "GREEN_ASSET", "flat_delivery_kw", "green_inputs"]

#: Asset name of the site's carbon-price block.
CARBON_ASSET = "carbon"
_KWH_PER_MWH = 1000.0


def flat_delivery_kw(contract: GreenContract, index: pd.DatetimeIndex) -> np.ndarray:
    """The flat delivery of monthly volumes: volume / hours of the month, per step [kW]."""
    months = np.asarray(index.strftime("%Y-%m"))
    keys, month_id = np.unique(months, return_inverse=True)
    rate = [
        contract.monthly_mwh[k] * _KWH_PER_MWH / month_hours(k, index.tz) for k in keys.tolist()
    ]
    return np.asarray(rate, dtype=float)[month_id]


def _read(
    spec: Any, horizon: Horizon, where: str, unit: str, problems: list[Problem]
) -> np.ndarray | None:
    """Read one series; None (and problems recorded) when it cannot be used."""
    return read_spec(
        spec, horizon, where, problems, nonnegative="give the values as positive numbers", unit=unit
    )


def green_inputs(site: Site, horizon: Horizon, cols: dict[str, np.ndarray]) -> list[AssetInput]:
    """Block inputs of the site's green contracts, green account and carbon price.

    Adds ``grid_factor_kg_per_kwh``, ``market_factor_kg_per_kwh`` and each contract's
    ``<name>_available_kw`` to ``cols`` (which must hold ``price_cny_per_kwh``).

    Raises
    ------
    DataError, ScenarioError
        With every problem found (the type of the first).
    """
    data_problems: list[Problem] = []
    problems: list[Problem] = []
    try:
        factors = carbon_factors(site)
    except ScenarioError as exc:
        problems.extend(exc.problems)
        factors = None
    n = horizon.n
    location = np.full(n, factors.electricity.value if factors else 0.0)
    series_spec = site.emissions.grid_factor_series
    if series_spec is not None:
        read = _read(
            series_spec, horizon, "site.emissions.grid_factor_series", "kgCO2/kWh", data_problems
        )
        location = read if read is not None else location
    cols["grid_factor_kg_per_kwh"] = location
    given_market = site.emissions.factors.electricity_market_based is not None
    cols["market_factor_kg_per_kwh"] = (
        np.full(n, factors.electricity_market_based.value) if factors and given_market else location
    )

    assets: list[AssetInput] = []
    for i, contract in enumerate(site.green_contracts):
        where = f"site.green_contracts[{i}]"
        available = None
        if contract.profile is not None:
            available = _read(contract.profile, horizon, f"{where}.profile", "kW", data_problems)
            if available is None:
                continue
            cols[f"{contract.name}_available_kw"] = available
        try:
            periods = contract_periods(contract, horizon.index, horizon.step_h, available, where)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        if available is None and contract.volume_shape == "flat":
            available = flat_delivery_kw(contract, horizon.index)
            cols[f"{contract.name}_available_kw"] = available
        series = {
            "price_cny_per_kwh": cols["price_cny_per_kwh"],
            "period_id": periods.period_id,
            "period_volume_kwh": periods.volume_kwh,
        }
        if available is not None:
            series["available_kw"] = available
        assets.append(AssetInput(contract.name, "green_contract", contract, series))

    target = site.renewable_target
    batteries = {b.name: b for b in site.batteries}
    names = {a.name for a in site.pv} | set(batteries) | {f.name for f in site.flexible_loads}
    storage = []
    for name in target.green_storage if target else []:
        if name not in batteries:
            problems.append(
                Problem(
                    f"green_storage names '{name}', which is not a battery of the site",
                    key="site.renewable_target.green_storage",
                    value=repr(name),
                    allowed=", ".join(sorted(batteries)) or "no batteries at this site",
                )
            )
        elif f"{GREEN_ASSET}_{name}" in names:
            problems.append(
                Problem(
                    f"an asset is named '{GREEN_ASSET}_{name}', which clashes with the result "
                    f"columns of the green state of battery '{name}'",
                    key="site.renewable_target.green_storage",
                    fix=f"rename the asset '{GREEN_ASSET}_{name}'",
                )
            )
        else:
            storage.append((name, batteries[name]))
    if data_problems:
        raise DataError(data_problems + problems)
    if problems:
        raise ScenarioError(problems)

    contracts = tuple(c.name for c in site.green_contracts)
    if contracts or target is not None:
        account = GreenAccount(
            grid="grid",
            contracts=contracts,
            pv=tuple(a.name for a in site.pv),
            consumers=("load", *(f.name for f in site.flexible_loads)),
            storage=tuple(storage),
            target=target,
        )
        assets.append(AssetInput(GREEN_ASSET, "certificates", account, {}))
    price = site.carbon_price
    if price is not None and price.in_objective:
        fuel_kg = fuel_emissions_kg(
            site, factors, year_share=horizon_year_share(horizon.index, horizon.step_h)
        )
        pricing = CarbonPricing(
            grid="grid",
            contracts=contracts,
            certificates=GREEN_ASSET if certificates_lower_emissions(site) else None,
            price_cny_per_t=float(price.cny_per_t),
            price_electricity="electricity" in price.carriers,
            fuel_kg=sum(fuel_kg.values()),
            priced_fuel_kg=sum(v for c, v in fuel_kg.items() if c in price.carriers),
        )
        assets.append(
            AssetInput(
                CARBON_ASSET,
                "carbon",
                pricing,
                {"market_factor_kg_per_kwh": cols["market_factor_kg_per_kwh"]},
            )
        )
    return assets
