"""The finance of one sweep combination at the sizes it gives: no sizing solve.

Mode ``finance`` of a sweep (:mod:`vpp.planning.sweep_definition`) values, for each
combination, the entries that carry a ``sizing`` entry (the investment, :func:`value_as_given`):

1. the combination's scenario is run as it is written, a perfect-foresight dispatch
   with every entry at the size the sweep gives (:func:`vpp.sim.run.run`);
2. the site as it is, without those entries, is run too
   (:func:`vpp.planning.size.bill_only` of :func:`vpp.planning.size.without_candidates`);
3. the year-1 savings are :math:`A = (B_0 - B_1) / y`, with :math:`B_0` and :math:`B_1`
   the bills without and with the investment over the horizon [CNY] and :math:`y` the
   horizon in years [-];
4. each entry's capital cost, O&M, lifetime and replacement come from its ``sizing``
   cost data, exactly as ``vpp size`` values a chosen size (the unit's ``investment``):
   a battery costs :math:`K = k_E E + k_P P` with :math:`P` the larger of its charge and
   discharge powers [kW], a PV array :math:`K = k_P P_{dc}`;
5. NPV, IRR and paybacks are :func:`vpp.planning.finance.finance_summary` of these.

The site as it is is often the same for every combination (a sweep over the battery's
size or price): a worker process computes it once per sweep (:data:`MAX_REFERENCES`).

The part of the savings and of the CO2 avoided due to PV (which fades with degradation)
is the new arrays' output valued at the energy price and the grid factor, capped at the
totals, as in :func:`vpp.planning.size.size`.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from vpp.planning.fade import with_fade
from vpp.planning.finance import finance_summary
from vpp.planning.investment import Investment
from vpp.planning.parties import party_cash_flows, sized_power_kw
from vpp.planning.size import bill_only, electricity_t, pv_share, without_candidates
from vpp.planning.sizing_model import horizon_years, sized_entries
from vpp.scenario.schema import Scenario
from vpp.sim.run import run

__all__ = ["MAX_REFERENCES", "given_sizes", "value_as_given"]

#: The sites as they are that one worker process keeps, per sweep [-].
MAX_REFERENCES = 16
#: (sweep token, the site as it is as JSON) -> (its bill [CNY], its location-based
#: electricity emissions [t]) over the horizon. The token keeps sweeps apart on a
#: long-lived Dask worker, whose input files may change between sweeps.
_REFERENCES: dict[tuple[str, str], tuple[float, float]] = {}


def given_sizes(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """The sizes of the entries with a ``sizing`` entry, as the scenario gives them.

    Returns
    -------
    dict
        Entry name -> ``kind`` and ``capacity_kw`` [kWp] (PV: its DC capacity) or
        ``energy_kwh`` [kWh], ``power_kw`` [kW] (the larger of the charge and discharge
        powers: the converter's rating) and ``units`` (None) (battery), the form of
        :func:`vpp.planning.sizing_model.chosen_sizes`.
    """
    sizes: dict[str, dict[str, Any]] = {}
    for unit, entry in sized_entries(scenario):
        given = unit.given_sizes(entry)
        if given is None:
            raise ValueError(f"a finance sweep cannot value a {unit.kind!r} entry")
        sizes[entry.name] = given
    return sizes


def value_as_given(scenario: Scenario, *, token: str | None = None) -> dict[str, Any]:
    """Run a scenario at its given sizes and value its ``sizing`` entries (module docstring).

    Parameters
    ----------
    scenario : Scenario
        With a ``finance`` entry and at least one entry with a ``sizing`` entry (checked
        when the sweep is loaded).
    token : str, optional
        The sweep's token: calls with the same token and the same site as it is share
        its run, in this process. None: run it.

    Returns
    -------
    dict
        ``sizes`` (:func:`given_sizes`), ``horizon_years`` [-], ``as_is_total_cost_cny``
        and ``total_cost_cny`` (the bills over the horizon without and with the
        investment) [CNY], ``annual_savings_cny`` [CNY/year], ``annual_co2_avoided_t``
        [t/year], ``kpis`` of the run, and ``finance``: the figures of
        :func:`~vpp.planning.finance.finance_summary` (NPV, IRR, paybacks, capital,
        levelized costs) without the cash-flow table.
    """
    dispatch = run(scenario, mode="perfect")  # as the site as it is (bill_only)
    as_is_cny, as_is_t = _as_is(scenario, token)
    years = horizon_years(dispatch.horizon)
    sizes = given_sizes(scenario)
    dt_h = dispatch.horizon.step_h
    investments = []
    for unit, entry in sized_entries(scenario):
        fields = unit.investment(entry, sizes[entry.name], dispatch.schedule, dt_h, years)
        if fields is not None:
            investments.append(Investment(**fields))
    investments = with_fade(investments, scenario, dispatch, years)  # sizing.fade, as vpp size
    total_cny = float(dispatch.summary["total_cost_cny"])
    savings = (as_is_cny - total_cny) / years
    co2 = (as_is_t - electricity_t(dispatch)) / years
    pv_value, pv_co2 = pv_share(sizes, dispatch, years)
    fin = finance_summary(
        investments,
        annual_savings_cny=savings,
        pv_savings_cny=min(pv_value, savings) if savings > 0 else 0.0,
        finance=scenario.finance,
        annual_co2_avoided_t=co2,
        pv_co2_avoided_t=min(pv_co2, co2) if co2 > 0 else 0.0,
    )
    cash = pd.DataFrame(fin.pop("cash_flows"))
    if scenario.finance.by_party:  # ownership emc, tax, subsidies or debt, as vpp size
        _, fin["by_party"] = party_cash_flows(
            cash, investments, scenario.finance, **sized_power_kw(sizes)
        )
    return {
        "scenario": scenario.name,
        "currency": scenario.currency,
        "sizes": sizes,
        "horizon_years": years,
        "as_is_total_cost_cny": as_is_cny,
        "total_cost_cny": total_cny,
        "annual_savings_cny": savings,
        "annual_co2_avoided_t": co2,
        "kpis": dispatch.summary.get("kpis", {}),
        "status": dispatch.summary.get("status"),
        "finance": fin,
    }


def _as_is(scenario: Scenario, token: str | None) -> tuple[float, float]:
    """Bill [CNY] and electricity emissions [t] of the site without the ``sizing`` entries."""
    reference = without_candidates(scenario)
    key = None
    if token is not None:
        key = (token, json.dumps(reference.model_dump(mode="json"), sort_keys=True, default=str))
        if key in _REFERENCES:
            return _REFERENCES[key]
    as_is = bill_only(reference)
    found = (float(as_is.summary["total_cost_cny"]), electricity_t(as_is))
    if key is not None:
        if len(_REFERENCES) >= MAX_REFERENCES:
            _REFERENCES.pop(next(iter(_REFERENCES)))  # the oldest
        _REFERENCES[key] = found
    return found
