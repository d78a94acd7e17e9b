"""Bill tables and basic-charge options for a run's summary, ``summary.json`` and ``bill.csv``.

- ``bill_monthly``: the monthly bill table of :func:`vpp.runs.bill.monthly_bill` as a list
  of rows (``{"month": "YYYY-MM", column: value, ...}``);
- ``basic_charge_options``: what each way of billing the basic charge would cost for
  the same dispatch, so that a user can choose (:func:`basic_charge_options`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from vpp.assets.grid.tariff import basic_charge_terms
from vpp.runs.bill import ExtraCosts, monthly_bill
from vpp.scenario.schema import Grid, Scenario
from vpp.tariffs.basic import (
    capacity_terms,
    contracted_terms,
    demand_terms,
    hindsight_contract_kw,
)

#: The cases written to ``bill.csv``, and where their rows sit in the summary.
BILL_CASES = (("optimized", ()), ("baseline", ("baseline",)))


def bill_report(
    scenario: Scenario, schedule: pd.DataFrame, step_h: float, extra_cny: ExtraCosts | None = None
) -> dict[str, Any]:
    """``bill_monthly`` and ``basic_charge_options`` of a schedule (plain JSON-able values).

    Parameters
    ----------
    scenario : Scenario
        The run's scenario.
    schedule : pandas.DataFrame
        The optimized or the baseline schedule (with ``tou_period``).
    step_h : float
        Step length [h].
    extra_cny : mapping, optional
        Extra monthly costs, as for :func:`vpp.runs.bill.monthly_bill`.
    """
    table = monthly_bill(schedule, scenario, step_h, extra_cny)
    rows = [
        {"month": str(month), **{k: float(v) for k, v in row.items()}}
        for month, row in table.iterrows()
    ]
    peaks = {str(m): float(v) for m, v in table["peak_import_kw"].items()}
    return {
        "bill_monthly": rows,
        "basic_charge_options": basic_charge_options(scenario.site.grid, peaks),
    }


def _option(monthly: Mapping[str, float], **extra: Any) -> dict[str, Any]:
    return {"total_cny": float(sum(monthly.values())), "monthly_cny": dict(monthly), **extra}


def basic_charge_options(grid: Grid, peaks_kw: Mapping[str, float]) -> dict[str, Any]:
    """The basic charge of each billing method for the same monthly maximum demands.

    Parameters
    ----------
    grid : Grid
        The grid connection; its ``basic_charge`` gives the rates, the contract and the
        transformer capacity that the options need.
    peaks_kw : mapping of str to float
        The maximum demand of each month ``YYYY-MM`` [kW] of one dispatch.

    Returns
    -------
    dict
        ``in_force`` (the method billed), ``options``: ``demand`` (actual maximum
        demand), ``contracted_demand`` (the scenario's contract), ``contracted_demand_
        hindsight`` (each month's least-cost contract, peak / 1.05: a bound, since
        contracts are set ahead) and ``capacity``, each with ``total_cny`` and
        ``monthly_cny`` [CNY]; ``not_available`` (option -> the keys it needs);
        ``cheapest`` (of the options available, the hindsight bound excluded); ``note``.
    """
    spec = grid.basic_charge_spec()
    rate = spec.demand_cny_per_kw_month if spec else None
    contract = spec.contracted_demand_kw if spec else None
    kva = spec.transformer_kva if spec else None
    capacity_rate = spec.capacity_cny_per_kva_month if spec else None
    options: dict[str, Any] = {}
    missing: dict[str, str] = {}
    if rate is not None:
        options["demand"] = _option(demand_terms(rate).months_cny(peaks_kw))
        best = {m: hindsight_contract_kw(p, kva) for m, p in peaks_kw.items()}
        options["contracted_demand_hindsight"] = _option(
            {m: contracted_terms(rate, best[m], kva).month_cny(p) for m, p in peaks_kw.items()},
            contracted_demand_kw=best,
        )
        if contract is not None:
            terms = contracted_terms(rate, contract, kva)
            options["contracted_demand"] = _option(
                terms.months_cny(peaks_kw), contracted_demand_kw=terms.billed_contract_kw
            )
        else:
            missing["contracted_demand"] = "basic_charge.contracted_demand_kw"
    else:
        missing["demand"] = "basic_charge.demand_cny_per_kw_month"
        missing["contracted_demand"] = (
            "basic_charge.demand_cny_per_kw_month and basic_charge.contracted_demand_kw"
        )
    if capacity_rate is not None and kva is not None:
        options["capacity"] = _option(
            capacity_terms(capacity_rate, kva).months_cny(peaks_kw), transformer_kva=kva
        )
    else:
        missing["capacity"] = (
            "basic_charge.capacity_cny_per_kva_month and basic_charge.transformer_kva"
        )
    comparable = {k: v["total_cny"] for k, v in options.items() if not k.endswith("_hindsight")}
    return {
        "in_force": basic_charge_terms(grid).method,
        "options": options,
        "not_available": missing,
        "cheapest": min(comparable, key=comparable.__getitem__) if comparable else None,
        "note": "every option is billed on this dispatch, optimized under the method in "
        "force; under another method the optimizer would dispatch differently",
    }


def bill_csv_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``bill.csv``: the monthly bill of each case, ``case`` and ``month`` first.

    Parameters
    ----------
    summary : mapping
        A run's summary, with ``bill_monthly`` and ``baseline.bill_monthly``.
    """
    frames = []
    for case, path in BILL_CASES:
        node: Any = summary
        for key in path:
            node = node.get(key, {})
        rows = node.get("bill_monthly") or []
        if rows:
            frame = pd.DataFrame(rows)
            frame.insert(0, "case", case)
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["case", "month"])
    return pd.concat(frames, ignore_index=True).fillna(0.0)
