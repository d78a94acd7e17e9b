"""The price of each TOU period: explicit, by the price rule, derived, or overridden.

A calendar prices its periods in one of two ways:

- ``prices_cny_per_kwh: {period: price}``, explicit prices [CNY/kWh];
- ``price_rule: {purchase_cny_per_kwh, coefficients: {period: k}, fixed_adders_cny_per_kwh}``:
  ``price = purchase x k + adders`` (only the purchase part floats, as in the 2025
  Jiangsu notice).

and may add ``derived_prices``: periods priced from others, ``{period: {terms: {other:
factor, ...}, source}}``, ``price = sum(factor x price(other))``; for example a critical
peak at 1.2 x peak, or a deep valley at flat - 0.2 x peak. The terms name periods priced
directly (explicitly, by the rule or by the scenario), not other derived periods.

A scenario's ``prices_cny_per_kwh`` replaces the price of any period, derived ones
included; a derived period not overridden follows the (overridden) prices it is derived
from.
"""

from __future__ import annotations

import math
from typing import Any

from vpp.errors import Problem

__all__ = ["base_prices", "calendar_prices", "resolve_prices"]

#: Digits prices computed from a rule are rounded to (removes float noise) [-].
_ROUND = 10


def base_prices(calendar: dict[str, Any]) -> dict[str, float]:
    """The directly given prices of a calendar [CNY/kWh] (explicit or by the price rule).

    Explicit ``prices_cny_per_kwh`` if the calendar has them; otherwise computed from
    ``price_rule`` as ``purchase_cny_per_kwh * coefficients[period] +
    fixed_adders_cny_per_kwh`` (rounded to 1e-10); empty if it has neither.
    """
    explicit = calendar.get("prices_cny_per_kwh")
    if explicit:
        return {str(k): float(v) for k, v in explicit.items()}
    rule = calendar.get("price_rule")
    if not rule:
        return {}
    purchase = float(rule["purchase_cny_per_kwh"])
    adders = float(rule.get("fixed_adders_cny_per_kwh") or 0.0)
    return {
        str(period): round(purchase * float(coefficient) + adders, _ROUND)
        for period, coefficient in rule["coefficients"].items()
    }


def _derived(calendar: dict[str, Any]) -> dict[str, dict[str, float]]:
    out = {}
    for period, entry in (calendar.get("derived_prices") or {}).items():
        terms = entry.get("terms") if isinstance(entry, dict) else None
        out[str(period)] = {str(k): float(v) for k, v in (terms or {}).items()}
    return out


def calendar_prices(calendar: dict[str, Any]) -> dict[str, float]:
    """The calendar's own price of each period, derived periods included [CNY/kWh].

    Empty for a calendar without prices (an inline calendar priced by the scenario).
    """
    prices = base_prices(calendar)
    for period, terms in _derived(calendar).items():
        if terms and all(p in prices for p in terms):
            prices[period] = round(sum(f * prices[p] for p, f in terms.items()), _ROUND)
    return prices


def resolve_prices(
    calendar: dict[str, Any],
    names: list[str],
    override: dict[str, Any] | None,
    where: str,
    problems: list[Problem],
) -> dict[str, float]:
    """The price of every period of a calendar after the scenario's overrides [CNY/kWh].

    Parameters
    ----------
    calendar : dict
        The calendar.
    names : list of str
        Every period the calendar's seasons and day rules name.
    override : dict or None
        The scenario's ``prices_cny_per_kwh``.
    where : str
        Key of the energy price in messages (``site.grid.energy_price``).
    problems : list of Problem
        Problems go here: an override for a period the calendar does not have, a price
        that is not a finite number, a derived price whose terms lack a price, a period
        left without a price.
    """
    prices = base_prices(calendar)
    derived = _derived(calendar)
    overridden: set[str] = set()
    reported: set[str] = set()
    for period, value in (override or {}).items():
        if period not in names:
            problems.append(
                Problem(
                    f"price given for period '{period}', which the calendar does not have",
                    key=f"{where}.prices_cny_per_kwh.{period}",
                    allowed=f"the calendar's periods: {', '.join(names)}",
                    fix="rename the key to one of the calendar's periods or remove it",
                )
            )
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number):
            problems.append(
                Problem(
                    f"the price of period '{period}' is not a finite number",
                    key=f"{where}.prices_cny_per_kwh.{period}",
                    value=repr(value),
                    allowed="a number [CNY/kWh]",
                )
            )
            continue
        prices[period] = number
        overridden.add(period)
    for period, terms in derived.items():
        key = f"{where}.calendar.derived_prices.{period}"
        if period not in names:
            problems.append(
                Problem(
                    f"derived price for period '{period}', which the calendar does not have",
                    key=key,
                    allowed=f"the calendar's periods: {', '.join(names)}",
                )
            )
            continue
        if period in overridden:
            continue
        lacking = [p for p in terms if p not in prices or p in derived]
        if not terms or lacking:
            reported.add(period)
            problems.append(
                Problem(
                    f"the price of period '{period}' is derived from period(s) without a "
                    f"direct price: {', '.join(lacking) or 'none given'}",
                    key=f"{key}.terms",
                    value=repr(terms),
                    fix="derive it from periods priced explicitly or by the price rule, "
                    f"or give '{period}' a price in prices_cny_per_kwh",
                )
            )
            continue
        prices[period] = round(sum(f * prices[p] for p, f in terms.items()), _ROUND)
    missing = [name for name in names if name not in prices and name not in reported]
    if missing:
        problems.append(
            Problem(
                f"no price for period(s) {', '.join(missing)}",
                key=f"{where}.prices_cny_per_kwh",
                value=f"prices for {', '.join(sorted(prices)) or 'no period'}",
                allowed=f"the calendar's periods: {', '.join(names)}",
                fix="give 'prices_cny_per_kwh' with a price [CNY/kWh] for every period",
            )
        )
    return prices
