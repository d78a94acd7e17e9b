"""The grid tariff of a scenario on the horizon: prices, TOU periods, export price, basic charge.

:func:`tariff_inputs` is what the grid unit's ``inputs`` (:mod:`vpp.assets.grid.rules`)
calls for the grid connection; :func:`basic_charge_terms` is shared with the bill
(:mod:`vpp.runs.bill`), so the model and the bill apply one definition of the basic charge.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vpp.errors import Problem, ScenarioError
from vpp.scenario.schema import Grid, SeriesSpec
from vpp.tariffs.basic import (
    BasicChargeTerms,
    basic_charge_rules,
    capacity_terms,
    contracted_terms,
    demand_terms,
)
from vpp.tariffs.calendars import apply_calendar, load_calendar, validity_notes
from vpp.timeseries import Horizon

#: The TOU period of every step of a run priced by a series.
SERIES_PERIOD = "series"

Getter = Callable[..., np.ndarray]


@dataclass(frozen=True)
class TariffInputs:
    """The grid tariff on the horizon.

    Attributes
    ----------
    price_cny_per_kwh : numpy.ndarray
        Energy price of each step [CNY/kWh].
    tou_period : numpy.ndarray
        Object array: the TOU period of each step (``series`` for a price series).
    export_price_cny_per_kwh : numpy.ndarray
        Export price of each step [CNY/kWh].
    grid_series : dict of str to numpy.ndarray
        The monthly basic-charge terms of the grid block (one value per month).
    info : dict
        For the run's summary: where the prices come from, their source and validity,
        the period prices, the day rules in force, the basic charge and notes.
    """

    price_cny_per_kwh: np.ndarray
    tou_period: np.ndarray
    export_price_cny_per_kwh: np.ndarray
    grid_series: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def empty(cls, n: int) -> TariffInputs:
        """Zeros, to carry on collecting problems after a tariff error."""
        return cls(np.zeros(n), np.full(n, SERIES_PERIOD, dtype=object), np.zeros(n))


def basic_charge_terms(grid: Grid) -> BasicChargeTerms:
    """The monthly basic charge the grid connection is billed under.

    ``basic_charge`` (or the shorthand ``demand_charge_cny_per_kw_month``): by capacity,
    by contracted demand when ``contracted_demand_kw`` is given, else by actual
    maximum demand; ``none`` without either.
    """
    spec = grid.basic_charge_spec()
    if spec is None:
        return BasicChargeTerms("none")
    if spec.method == "capacity":
        assert spec.capacity_cny_per_kva_month is not None and spec.transformer_kva is not None
        return capacity_terms(spec.capacity_cny_per_kva_month, spec.transformer_kva)
    assert spec.demand_cny_per_kw_month is not None
    if spec.contracted_demand_kw is not None:
        return contracted_terms(
            spec.demand_cny_per_kw_month, spec.contracted_demand_kw, spec.transformer_kva
        )
    return demand_terms(spec.demand_cny_per_kw_month)


def basic_charge_series(terms: BasicChargeTerms, n_months: int) -> dict[str, np.ndarray]:
    """The grid block's per-month basic-charge series (see :mod:`vpp.assets.grid.block`)."""
    return {
        "basic_fixed_cny": np.full(n_months, terms.fixed_cny),
        "demand_rate_cny_per_kw_month": np.full(n_months, terms.demand_rate_cny_per_kw),
        "excess_threshold_kw": np.full(n_months, terms.excess_threshold_kw),
        "excess_rate_cny_per_kw_month": np.full(n_months, terms.excess_rate_cny_per_kw),
    }


def _basic_info(grid: Grid, terms: BasicChargeTerms, horizon: Horizon) -> tuple[dict, list[str]]:
    spec = grid.basic_charge_spec()
    info: dict[str, Any] = {"method": terms.method}
    if spec is not None:
        info.update(spec.model_dump(exclude_none=True))
        info["method"] = terms.method
    if terms.billed_contract_kw is not None:
        info["billed_contract_kw"] = terms.billed_contract_kw
        info["excess_threshold_kw"] = terms.excess_threshold_kw
    notes = list(terms.notes)
    rules = basic_charge_rules()
    step_min = round(horizon.step_h * 60)
    if spec is not None and step_min != rules["interval_minutes"]:
        notes.append(
            f"the maximum demand is the largest import at the run's {step_min}-minute step; "
            f"the utility meters the largest {rules['interval_minutes']}-minute average, "
            "which a coarser step can only approximate (it stands in for it)"
        )
    return info, notes


def tariff_inputs(grid: Grid, horizon: Horizon, get: Getter) -> TariffInputs:
    """Energy and export prices, TOU periods and basic-charge terms on the horizon.

    Parameters
    ----------
    grid : Grid
        The site's grid connection.
    horizon : Horizon
        The run's steps.
    get : callable
        ``get(spec, where)``: reads a number or a series onto the horizon, collecting
        its own data problems (:meth:`vpp.assets.inputs.InputContext.read`).

    Raises
    ------
    ScenarioError
        Every calendar, price and export-price problem at once.
    """
    price = grid.energy_price
    problems: list[Problem] = []
    calendar: dict[str, Any] | None = None
    notes: list[str] = []
    info: dict[str, Any] = {}
    n = horizon.n
    prices = np.zeros(n)
    periods = np.full(n, SERIES_PERIOD, dtype=object)
    if price.series is not None:
        prices = get(price.series, "site.grid.energy_price.series")
        info["energy_price"] = "series"
        info["file"] = str(price.series.file)
    else:
        try:
            if isinstance(price.calendar, str):
                calendar = load_calendar(price.calendar)
                info["energy_price"] = f"calendar {price.calendar}"
                label = f"calendar '{price.calendar}'"
                info.update(
                    title=calendar.get("title"),
                    source=calendar.get("source"),
                )
            else:
                assert price.calendar is not None
                calendar = price.calendar.model_dump(exclude_none=True)
                info["energy_price"] = "inline calendar"
                label = "the scenario's calendar"
                if calendar.get("source"):
                    info["source"] = calendar["source"]
            info["valid_from"] = _text(calendar.get("valid_from"))
            info["valid_to"] = _text(calendar.get("valid_to"))
            tou = apply_calendar(horizon.index, calendar, price.prices_cny_per_kwh, price.day_rules)
            assert tou.prices_cny_per_kwh is not None
            prices, periods = tou.prices_cny_per_kwh, tou.periods
            info["period_prices_cny_per_kwh"] = tou.period_prices_cny_per_kwh
            info["day_rules_days"] = tou.rule_days
            notes += validity_notes(calendar, horizon.index, label) + tou.notes
        except ScenarioError as exc:
            problems.extend(exc.problems)
    export_spec = grid.export_price_cny_per_kwh
    if export_spec == "calendar":
        value = _calendar_export_price(price.calendar, calendar, problems)
        export = np.full(n, value)
        info["export_price"] = f"{value:g} CNY/kWh from the calendar's illustrative_charges"
    else:
        assert isinstance(export_spec, (float, int, SeriesSpec))
        export = get(export_spec, "site.grid.export_price_cny_per_kwh")
        info["export_price"] = "series" if isinstance(export_spec, SeriesSpec) else export_spec
    if grid.export_limit_kw == 0.0:
        info["export_price"] = "no export (export_limit_kw 0)"
    if problems:
        raise ScenarioError(problems)
    terms = basic_charge_terms(grid)
    info["basic_charge"], basic_notes = _basic_info(grid, terms, horizon)
    info["notes"] = notes + basic_notes
    n_months = int(horizon.month_index.max()) + 1
    series = basic_charge_series(terms, n_months)
    floor = month_to_date_peak_kw(grid)
    if floor > 0.0:
        series["peak_floor_kw"] = np.zeros(n_months)
        series["peak_floor_kw"][0] = floor
    return TariffInputs(prices, periods, export, series, info)


def month_to_date_peak_kw(grid: Grid) -> float:
    """The maximum demand already metered in the run's first month
    (``basic_charge.month_to_date_peak_kw``), 0 without it [kW]."""
    spec = grid.basic_charge_spec()
    floor = None if spec is None else spec.month_to_date_peak_kw
    return 0.0 if floor is None else float(floor)


def floored_peaks_kw(grid: Grid, peaks_kw: dict[str, float]) -> dict[str, float]:
    """Each month's maximum demand ``{YYYY-MM: kW}``, the first month's at least the
    month-to-date peak (:func:`month_to_date_peak_kw`): what the basic charge bills [kW]."""
    floor = month_to_date_peak_kw(grid)
    out = dict(peaks_kw)
    if out and floor > 0.0:
        first = next(iter(out))
        out[first] = max(out[first], floor)
    return out


def _calendar_export_price(
    name: object, calendar: dict[str, Any] | None, problems: list[Problem]
) -> float:
    charges = (calendar or {}).get("illustrative_charges") or {}
    entry = charges.get("export_price_cny_per_kwh")
    if isinstance(name, str) and isinstance(entry, dict) and "value" in entry:
        return float(entry["value"])
    if isinstance(name, str) and calendar is None:
        return 0.0  # the unknown calendar is reported already
    problems.append(
        Problem(
            "'calendar' takes the export price from a built-in calendar's "
            "illustrative_charges, and this energy price has none",
            key="site.grid.export_price_cny_per_kwh",
            value="calendar" + (f" (calendar {name!r})" if isinstance(name, str) else ""),
            allowed="a number [CNY/kWh], a series, or 'calendar' with a built-in calendar "
            "that lists an export price (see `vpp tariffs`)",
            fix="write the export price as a number, e.g. 0.391",
        )
    )
    return 0.0


def _text(value: object) -> str | None:
    return None if value is None else str(value)
