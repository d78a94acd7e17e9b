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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "ACCOUNT_LINES",
    "ECONOMIC_BASES",
    "ELECTRICITY_LINES",
    "FUEL_CARRIERS",
    "CarbonFlow",
    "electricity_kg",
    "flows_account",
    "line_activity",
    "line_kg_per_step",
    "fuel_kg",
    "intensity_t_per_10k_cny",
    "park_account",
    "pre_assessment",
    "reduction",
    "site_account",
]

#: Carriers whose emissions come from activity data in the scenario.
FUEL_CARRIERS = ("natural_gas", "diesel", "heat")
#: Account lines of grid electricity, each in kWh at its own factor per step.
ELECTRICITY_LINES = ("electricity_location_based", "electricity_market_based")
#: Every line of a site's account (the keys of ``by_carrier_t``).
ACCOUNT_LINES = ELECTRICITY_LINES + FUEL_CARRIERS
#: Economic figures an intensity can be taken over.
ECONOMIC_BASES = ("output_value", "value_added")
_KG_PER_T = 1000.0
_CNY_PER_10K = 1.0e4


@dataclass(frozen=True)
class CarbonFlow:
    """One activity of a site, step by step, and the account lines it enters.

    Attributes
    ----------
    amount : numpy.ndarray
        The activity in each step, in the unit of its lines: kWh for the
        :data:`ELECTRICITY_LINES`, Nm3 for ``natural_gas``, t for ``diesel``, GJ for
        ``heat``.
    lines : mapping of str to float
        Account line (one of :data:`ACCOUNT_LINES`) -> sign [-]: grid import enters both
        electricity lines with +1, green-contract energy and certificates enter the
        market-based line with -1 (they make part of the import zero-carbon), a
        generator set's diesel enters ``diesel`` with +1.
    """

    amount: np.ndarray
    lines: Mapping[str, float]


def line_activity(flows: Iterable[CarbonFlow], n_steps: int) -> dict[str, np.ndarray]:
    """The activity of each account line in each step: the signed sum of its flows.

    Parameters
    ----------
    flows : iterable of CarbonFlow
        The site's flows, each with ``n_steps`` amounts.
    n_steps : int
        Steps of the period.

    Returns
    -------
    dict of str to numpy.ndarray
        Line -> activity per step [the line's unit], for the lines some flow enters.

    Raises
    ------
    ValueError
        A flow enters a line that is not one of :data:`ACCOUNT_LINES`, or its amounts
        are not one per step.
    """
    out: dict[str, np.ndarray] = {}
    for flow in flows:
        amount = np.asarray(flow.amount, dtype=float)
        if amount.shape != (n_steps,):
            raise ValueError(f"a carbon flow has {amount.shape} amounts, expected ({n_steps},)")
        for line, sign in flow.lines.items():
            if line not in ACCOUNT_LINES:
                raise ValueError(
                    f"a carbon flow enters the line '{line}'; allowed: {', '.join(ACCOUNT_LINES)}"
                )
            out[line] = out.get(line, np.zeros(n_steps)) + float(sign) * amount
    return out


def line_kg_per_step(
    activity: Mapping[str, np.ndarray],
    factors_kg: Mapping[str, Any],
    lines: Iterable[str],
    n_steps: int,
) -> np.ndarray:
    """Emissions of some account lines in each step [kg]: activity x factor, summed.

    Parameters
    ----------
    activity : mapping
        :func:`line_activity` [the line's unit per step]; a line without activity adds
        zero.
    factors_kg : mapping
        Line -> its factor [kg per unit of activity]: a number, or one per step for the
        electricity lines [kgCO2/kWh].
    lines : iterable of str
        The lines to count (those the carbon price falls on, say).
    n_steps : int
        Steps of the period.

    Returns
    -------
    numpy.ndarray
        Per step [kg].
    """
    total = np.zeros(n_steps)
    for line in lines:
        if line in activity:
            total = total + activity[line] * np.asarray(factors_kg[line], dtype=float)
    return total


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
    """The carbon account of one site over a period, from its grid energy.

    :func:`flows_account` with three flows: the import (both electricity lines), the
    green-contract energy and the certificates (the market-based line, negative).

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
        As :func:`flows_account`.
    """
    imp = np.asarray(import_kwh, dtype=float)
    n = len(imp)
    market = "electricity_market_based"
    flows = [
        CarbonFlow(imp, dict.fromkeys(ELECTRICITY_LINES, 1.0)),
        CarbonFlow(np.broadcast_to(np.asarray(green_kwh, dtype=float), (n,)), {market: -1.0}),
        CarbonFlow(np.broadcast_to(np.asarray(certificate_kwh, dtype=float), (n,)), {market: -1.0}),
    ]
    return flows_account(
        flows=flows,
        n_steps=n,
        location_factor_kg_per_kwh=location_factor_kg_per_kwh,
        market_factor_kg_per_kwh=market_factor_kg_per_kwh,
        activity=activity,
        fuel_factors_kg=fuel_factors_kg,
        economics_cny=economics_cny,
    )


def flows_account(
    *,
    flows: Iterable[CarbonFlow],
    n_steps: int,
    location_factor_kg_per_kwh: Any,
    market_factor_kg_per_kwh: Any,
    activity: Mapping[str, float],
    fuel_factors_kg: Mapping[str, float],
    economics_cny: Mapping[str, float | None] | None = None,
) -> dict[str, Any]:
    """The carbon account of one site over a period, from its flows and declared fuels.

    Parameters
    ----------
    flows : iterable of CarbonFlow
        The site's activities step by step (grid import, green-contract energy,
        certificates, fuel burnt on site), ``n_steps`` amounts each.
    n_steps : int
        Steps of the period.
    location_factor_kg_per_kwh, market_factor_kg_per_kwh : float or array_like
        Grid factors of the two electricity lines [kgCO2/kWh].
    activity : mapping
        The declared ``natural_gas`` [Nm3], ``diesel`` [t], ``heat`` [GJ] of the period
        (missing = 0); a fuel line's flows add to it.
    fuel_factors_kg : mapping
        The factor of each fuel carrier [kgCO2 per activity unit].
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
    lines = line_activity(flows, n_steps)
    factors = {
        "electricity_location_based": location_factor_kg_per_kwh,
        "electricity_market_based": market_factor_kg_per_kwh,
    }
    by_carrier = {
        line: electricity_kg(lines.get(line, np.zeros(n_steps)), factors[line]) / _KG_PER_T
        for line in ELECTRICITY_LINES
    }
    for carrier in FUEL_CARRIERS:
        kg = fuel_kg(activity.get(carrier, 0.0), fuel_factors_kg[carrier])
        if carrier in lines:
            kg += electricity_kg(lines[carrier], fuel_factors_kg[carrier])
        by_carrier[carrier] = kg / _KG_PER_T
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
