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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets.carbon.block import CarbonPricing
from vpp.assets.certificates.block import GreenAccount
from vpp.emissions import FUEL_CARRIERS, Factor, factor, horizon_year_share
from vpp.errors import DataError, Problem, ScenarioError
from vpp.model import AssetInput
from vpp.scenario.green import GreenContract
from vpp.scenario.schema import Site
from vpp.sim.series import read_spec
from vpp.timeseries import Horizon

__all__ = [
    "GREEN_ASSET",
    "CARBON_ASSET",
    "VOLUME_RTOL",
    "CarbonFactors",
    "ContractPeriods",
    "carbon_factors",
    "certificates_lower_emissions",
    "contract_periods",
    "flat_delivery_kw",
    "fuel_activity",
    "green_inputs",
]

#: Asset names of the site's green account and carbon-price blocks.
GREEN_ASSET = "green"
CARBON_ASSET = "carbon"
#: Monthly volumes and a profile must agree to this share on whole months [-].
VOLUME_RTOL = 0.01
_KWH_PER_MWH = 1000.0
_NS_PER_H = 3_600_000_000_000
_ACTIVITY_FIELDS = {"natural_gas": "natural_gas_nm3", "diesel": "diesel_t", "heat": "heat_gj"}


@dataclass(frozen=True)
class CarbonFactors:
    """The site's resolved emission factors (see :mod:`vpp.emissions.factors`)."""

    electricity: Factor
    electricity_market_based: Factor
    fuels: dict[str, Factor]


@dataclass(frozen=True)
class ContractPeriods:
    """Settlement periods of a contract on the horizon.

    Attributes
    ----------
    period_id : numpy.ndarray
        Per step, the period (0..P-1).
    volume_kwh : numpy.ndarray
        Per period, the contracted volume inside the horizon [kWh].
    labels : list of str
        Per period, its start (``YYYY-MM-DDTHH:00`` for hours, ``YYYY-MM`` for months).
    month_of_period : list of str
        Per period, its calendar month ``YYYY-MM``.
    """

    period_id: np.ndarray
    volume_kwh: np.ndarray
    labels: list[str]
    month_of_period: list[str]


def carbon_factors(site: Site) -> CarbonFactors:
    """Resolve the site's factor choices; every unknown name is reported at once.

    Raises
    ------
    ScenarioError
        A factor name that is not built in (the message lists the known names).
    """
    choices = site.emissions.factors
    problems: list[Problem] = []
    resolved: dict[str, Factor] = {}
    for field, carrier in (
        ("electricity", "electricity"),
        ("electricity_market_based", "electricity"),
        *((c, c) for c in FUEL_CARRIERS),
    ):
        choice = getattr(choices, field)
        if field == "electricity_market_based" and choice is None:
            continue
        try:
            resolved[field] = factor(carrier, choice, key=f"site.emissions.factors.{field}")
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return CarbonFactors(
        electricity=resolved["electricity"],
        electricity_market_based=resolved.get("electricity_market_based", resolved["electricity"]),
        fuels={c: resolved[c] for c in FUEL_CARRIERS},
    )


def fuel_activity(site: Site) -> dict[str, float]:
    """Natural gas [Nm3], diesel [t] and heat [GJ] per year, as declared, by carrier."""
    activity = site.emissions.activity
    return {c: float(getattr(activity, f)) for c, f in _ACTIVITY_FIELDS.items()}


def _month_hours(key: str, tz: Any) -> float:
    start = pd.Timestamp(f"{key}-01").tz_localize(tz)
    end = (pd.Timestamp(f"{key}-01") + pd.offsets.MonthBegin(1)).tz_localize(tz)
    return (end - start).total_seconds() / 3600.0


def contract_periods(
    contract: GreenContract,
    index: pd.DatetimeIndex,
    step_h: float,
    available_kw: np.ndarray | None,
    where: str = "site.green_contracts",
) -> ContractPeriods:
    """Settlement periods of ``contract`` and its contracted volume in each [kWh].

    Hourly settlement: clock hours, volume = the profile's energy in the hour. Monthly:
    calendar months; volume = the profile's energy in the month when there is a
    profile, else ``monthly_mwh`` times the share of the month inside the horizon.
    With both a profile and ``monthly_mwh``, every whole month inside the horizon must
    agree to :data:`VOLUME_RTOL`.

    Raises
    ------
    ScenarioError
        A month of the horizon without a volume (no profile), or volumes that disagree
        with the profile.
    """
    months = np.asarray(index.strftime("%Y-%m"))
    month_keys, month_id = np.unique(months, return_inverse=True)
    steps_per_month = np.bincount(month_id, minlength=len(month_keys))
    volumes = contract.monthly_mwh or {}
    problems: list[Problem] = []
    profile_kwh = None
    if available_kw is not None:
        profile_kwh = np.bincount(
            month_id, weights=available_kw * step_h, minlength=len(month_keys)
        )
        for j, key in enumerate(month_keys.tolist()):
            whole = abs(steps_per_month[j] * step_h - _month_hours(key, index.tz)) < 1e-9
            if key not in volumes or not whole:
                continue
            given = volumes[key] * _KWH_PER_MWH
            if abs(profile_kwh[j] - given) > VOLUME_RTOL * max(given, profile_kwh[j]):
                problems.append(
                    Problem(
                        f"the monthly volume of {key} disagrees with the delivery profile, "
                        f"whose energy in that month is {profile_kwh[j] / _KWH_PER_MWH:.3f} MWh",
                        key=f"{where}.monthly_mwh.{key}",
                        value=f"{volumes[key]:g} MWh",
                        allowed=f"the profile's energy within {VOLUME_RTOL:.0%}",
                        fix="correct the volume or the profile (its unit is kW, its scale "
                        "factor 'scale'), or give only one of them",
                    )
                )
    else:
        missing = [k for k in month_keys.tolist() if k not in volumes]
        if missing:
            problems.append(
                Problem(
                    f"no contracted volume for month(s) {', '.join(missing)} of the horizon",
                    key=f"{where}.monthly_mwh",
                    allowed="a volume [MWh] for every month the horizon touches, keyed 'YYYY-MM'",
                    fix="add the missing months, or give a delivery 'profile'",
                )
            )
    if problems:
        raise ScenarioError(problems)
    if contract.settlement == "hourly":
        hours = index.as_unit("ns").asi8 // _NS_PER_H
        _, period_id = np.unique(hours, return_inverse=True)
        first = np.unique(period_id, return_index=True)[1]
        volume = np.bincount(period_id, weights=available_kw * step_h)
        labels = [index[i].strftime("%Y-%m-%dT%H:00") for i in first.tolist()]
        return ContractPeriods(period_id, volume, labels, [months[i] for i in first.tolist()])
    if profile_kwh is not None:
        volume = profile_kwh
    else:
        volume = np.array(
            [
                volumes[k] * _KWH_PER_MWH * steps_per_month[j] * step_h / _month_hours(k, index.tz)
                for j, k in enumerate(month_keys.tolist())
            ]
        )
    keys = month_keys.tolist()
    return ContractPeriods(month_id.astype(int), volume, keys, keys)


def flat_delivery_kw(contract: GreenContract, index: pd.DatetimeIndex) -> np.ndarray:
    """The flat delivery of monthly volumes: volume / hours of the month, per step [kW]."""
    months = np.asarray(index.strftime("%Y-%m"))
    keys, month_id = np.unique(months, return_inverse=True)
    rate = [
        contract.monthly_mwh[k] * _KWH_PER_MWH / _month_hours(k, index.tz) for k in keys.tolist()
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


def certificates_lower_emissions(site: Site) -> bool:
    """Whether the site has certificates and they lower market-based emissions."""
    target = site.renewable_target
    allowed = target is not None and target.certificates_allowed
    return allowed and site.emissions.market_based_certificates


def fuel_emissions_kg(
    site: Site, factors: CarbonFactors | None = None, *, year_share: float
) -> dict[str, float]:
    """Emissions of the declared natural gas, diesel and heat over a horizon [kg], by
    carrier: the annual activity times the horizon's ``year_share``
    (:mod:`vpp.emissions.period`) times the factor."""
    factors = factors or carbon_factors(site)
    activity = fuel_activity(site)
    return {c: activity[c] * year_share * factors.fuels[c].value for c in FUEL_CARRIERS}
