r"""Carbon accounting on plain data: emissions by carrier, totals, intensity, checks.

Electricity (from the dispatch, per step :math:`t` of length :math:`\Delta t`):

.. math::

    E^{loc} = \sum_t f^{loc}_t \, P^{imp}_t \, \Delta t

    E^{mkt} = \sum_t f^{mkt}_t \left(P^{imp}_t - G_t - K_t\right) \Delta t

with :math:`P^{imp}` the metered grid import [kW] (green-contract energy included),
:math:`G` the green-contract energy taken [kW], :math:`K` the grid energy covered by
green certificates [kW], :math:`f^{loc}` the location-based grid factor and
:math:`f^{mkt}` the factor of the remaining (grey) grid energy [kgCO2/kWh]. Exports are
not netted: the account covers what the site buys. On-site PV has no emissions.

Natural gas, diesel and purchased heat (activity data over the same period):
:math:`E_c = a_c \, f_c` [kg]. Location-based total = electricity location-based + the
three others; market-based total = electricity market-based + the three others.
Intensity = total [t] / (economic output [CNY] / 10^4), per 10^4 CNY of gross output
value or of value added, as the zone's carbon pre-assessment uses.

Every function here takes and returns plain numbers, arrays and dicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ECONOMIC_BASES",
    "FUEL_CARRIERS",
    "electricity_kg",
    "fuel_kg",
    "intensity_t_per_10k_cny",
    "park_account",
    "pre_assessment",
    "reduction",
    "site_account",
]

#: Carriers whose emissions come from activity data in the scenario.
FUEL_CARRIERS = ("natural_gas", "diesel", "heat")
#: Economic figures an intensity can be taken over.
ECONOMIC_BASES = ("output_value", "value_added")
_KG_PER_T = 1000.0
_CNY_PER_10K = 1.0e4


def electricity_kg(energy_kwh: Any, factor_kg_per_kwh: Any) -> float:
    """Emissions of grid energy per step [kg]: ``sum(energy_kwh * factor_kg_per_kwh)``.

    Parameters
    ----------
    energy_kwh : array_like
        Energy per step [kWh].
    factor_kg_per_kwh : float or array_like
        A constant factor or one per step [kgCO2/kWh].
    """
    energy = np.asarray(energy_kwh, dtype=float)
    factor = np.broadcast_to(np.asarray(factor_kg_per_kwh, dtype=float), energy.shape)
    return float(np.dot(energy, factor))


def fuel_kg(activity: float, factor_kg_per_unit: float) -> float:
    """Emissions of a fuel or heat activity [kg]: activity x factor."""
    return float(activity) * float(factor_kg_per_unit)


def intensity_t_per_10k_cny(emissions_t: float, economic_cny: float) -> float:
    """Carbon intensity [tCO2 per 10^4 CNY]."""
    return emissions_t / (economic_cny / _CNY_PER_10K)


def site_account(
    *,
    import_kwh: Any,
    green_kwh: Any,
    certificate_kwh: Any,
    location_factor_kg_per_kwh: Any,
    market_factor_kg_per_kwh: Any,
    activity: Mapping[str, float],
    fuel_factors_kg: Mapping[str, float],
    economics_cny: Mapping[str, float | None] | None = None,
) -> dict[str, Any]:
    """The carbon account of one site over a period.

    Parameters
    ----------
    import_kwh, green_kwh, certificate_kwh : array_like
        Per step: metered grid import, green-contract energy taken, grid energy covered
        by certificates [kWh].
    location_factor_kg_per_kwh, market_factor_kg_per_kwh : float or array_like
        Grid factors [kgCO2/kWh].
    activity : mapping
        ``natural_gas`` [Nm3], ``diesel`` [t], ``heat`` [GJ] (missing = 0).
    fuel_factors_kg : mapping
        The factor of each of those carriers [kgCO2 per activity unit].
    economics_cny : mapping, optional
        ``output_value`` and ``value_added`` over the period [CNY] (None = not given).

    Returns
    -------
    dict
        ``by_carrier_t`` (``electricity_location_based``, ``electricity_market_based``,
        ``natural_gas``, ``diesel``, ``heat``), ``location_based_t``,
        ``market_based_t``, ``economics_cny`` and ``intensity_t_per_10k_cny``
        (``{basis: {"location_based", "market_based"}}`` for each basis given).
    """
    imp = np.asarray(import_kwh, dtype=float)
    grey = imp - np.asarray(green_kwh, dtype=float) - np.asarray(certificate_kwh, dtype=float)
    by_carrier = {
        "electricity_location_based": electricity_kg(imp, location_factor_kg_per_kwh) / _KG_PER_T,
        "electricity_market_based": electricity_kg(grey, market_factor_kg_per_kwh) / _KG_PER_T,
    }
    for carrier in FUEL_CARRIERS:
        by_carrier[carrier] = (
            fuel_kg(activity.get(carrier, 0.0), fuel_factors_kg[carrier]) / _KG_PER_T
        )
    fuels = sum(by_carrier[c] for c in FUEL_CARRIERS)
    account: dict[str, Any] = {
        "by_carrier_t": by_carrier,
        "location_based_t": by_carrier["electricity_location_based"] + fuels,
        "market_based_t": by_carrier["electricity_market_based"] + fuels,
    }
    return _with_intensity(account, economics_cny)


def _with_intensity(
    account: dict[str, Any], economics_cny: Mapping[str, float | None] | None
) -> dict[str, Any]:
    given = {k: float(v) for k, v in (economics_cny or {}).items() if v is not None}
    account["economics_cny"] = given
    account["intensity_t_per_10k_cny"] = {
        basis: {
            "location_based": intensity_t_per_10k_cny(account["location_based_t"], value),
            "market_based": intensity_t_per_10k_cny(account["market_based_t"], value),
        }
        for basis, value in given.items()
    }
    return account


def park_account(accounts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The park's account: the sum of its sites' accounts.

    Intensities are taken over the sum of the sites' economic figures, for each basis
    that every site gives.
    """
    if not accounts:
        raise ValueError("a park account needs at least one site account")
    carriers = list(accounts[0]["by_carrier_t"])
    by_carrier = {c: sum(a["by_carrier_t"][c] for a in accounts) for c in carriers}
    total: dict[str, Any] = {
        "by_carrier_t": by_carrier,
        "location_based_t": sum(a["location_based_t"] for a in accounts),
        "market_based_t": sum(a["market_based_t"] for a in accounts),
    }
    bases = [b for b in ECONOMIC_BASES if all(b in a["economics_cny"] for a in accounts)]
    economics = {b: sum(a["economics_cny"][b] for a in accounts) for b in bases}
    return _with_intensity(total, economics)


def reduction(account: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, float | None]:
    """Emissions avoided against a baseline account [t] and as a share of it [-].

    Positive = fewer emissions than the baseline. The share is None where the
    baseline's total is zero.
    """
    out: dict[str, float | None] = {}
    for basis in ("location_based", "market_based"):
        base = baseline[f"{basis}_t"]
        avoided = base - account[f"{basis}_t"]
        out[f"{basis}_t"] = avoided
        out[f"{basis}_fraction"] = avoided / base if base > 0.0 else None
    return out


def pre_assessment(
    account: Mapping[str, Any], *, threshold_t_per_10k_cny: float, basis: str, accounting: str
) -> dict[str, Any]:
    """Compare a site's carbon intensity with a pre-assessment threshold.

    Parameters
    ----------
    account : mapping
        From :func:`site_account`, with the economic figure ``basis``.
    threshold_t_per_10k_cny : float
        The largest intensity that passes [tCO2 per 10^4 CNY].
    basis : str
        ``output_value`` or ``value_added``.
    accounting : str
        ``location_based`` or ``market_based``.

    Returns
    -------
    dict
        ``basis``, ``accounting``, ``intensity_t_per_10k_cny``,
        ``threshold_t_per_10k_cny``, ``passed`` (intensity <= threshold) and
        ``result`` (``pass`` or ``fail``).
    """
    value = account["intensity_t_per_10k_cny"][basis][accounting]
    passed = value <= threshold_t_per_10k_cny
    return {
        "basis": basis,
        "accounting": accounting,
        "intensity_t_per_10k_cny": value,
        "threshold_t_per_10k_cny": float(threshold_t_per_10k_cny),
        "passed": bool(passed),
        "result": "pass" if passed else "fail",
    }
