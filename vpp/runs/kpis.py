"""Key performance indicators of a dispatch: pure functions of schedules and summaries.

Energy flows at each step ``t`` [kW], each the sum of what the asset units give
(:meth:`vpp.assets.base.AssetUnit.energy_flows`, :func:`vpp.runs.carbon.energy_flows_kw`):
``P`` PV generated (after curtailment, ``pv_kw``), ``A`` PV available, ``D``
consumption (``consumption_kw``: fixed load plus flexible loads after shedding, EV
charging), ``C``/``B`` stationary storage charge/discharge, ``E`` export. PV is
attributed to the consumption first, then to the batteries, and the rest is exported:

- PV used directly :math:`P^{dir}_t = \\min(P_t, D_t)`;
- PV into the batteries :math:`P^{bat}_t = \\min(P_t - P^{dir}_t, C_t)`;
- battery energy reaching the consumption :math:`B^{D}_t = \\min(B_t, D_t - P^{dir}_t)`;
- the PV share of what the batteries hold, pooled over the run:
  :math:`\\phi = \\sum P^{bat} / \\sum C` (0 without charge).

Then, with sums over the run times the step :math:`\\Delta t` [kWh]:

- **self-consumption** :math:`= (\\sum P^{dir} + \\sum P^{bat}) / \\sum P` (PV used on
  site, directly or through storage, per PV generated);
- **self-sufficiency** :math:`= (\\sum P^{dir} + \\phi \\sum B^D) / \\sum D` (consumption
  met by PV directly and by batteries from PV, per consumption);
- **PV curtailment** :math:`\\sum (A - P)` [kWh] and its share of :math:`\\sum A`;
- **equivalent full cycles** of a battery: discharged energy per usable capacity
  :math:`(\\bar s - \\underline s) E^{nom}`;
- **renewable share** of consumption :math:`= (\\sum P^{dir} + \\phi \\sum B^D + \\sum G)
  / \\sum D` with ``G`` the green-contract energy taken; ``..._with_certificates``
  adds the certificates bought (the grid mix's own renewables are not counted). Both
  are capped at 1: contracts and certificates may also cover import that charges
  storage or is lost in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from vpp.assets import units
from vpp.runs.bill import EXTRA_COLUMNS
from vpp.runs.carbon import energy_flows_kw
from vpp.scenario.schema import Scenario


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0.0 else None


def energy_kpis(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> dict[str, Any]:
    """Energy KPIs of one schedule (definitions in the module docstring).

    Parameters
    ----------
    schedule : pandas.DataFrame
        An optimized or a baseline schedule; missing battery, contract or certificate
        columns count as zero.
    scenario : Scenario
        For the names of the arrays, batteries, flexible loads and contracts.
    step_h : float
        Step length [h].

    Returns
    -------
    dict
        ``consumption_kwh``, ``pv_available_kwh``, ``pv_generated_kwh``,
        ``pv_used_directly_kwh``, ``pv_to_battery_kwh``, ``battery_to_consumption_kwh``,
        ``pv_curtailed_kwh`` [kWh]; ``pv_curtailed_fraction``, ``self_consumption_fraction``,
        ``self_sufficiency_fraction``, ``renewable_share_fraction``,
        ``renewable_share_with_certificates_fraction`` [-] (``None`` when the
        denominator is zero); ``equivalent_full_cycles`` {battery: [-]} (zero for a
        schedule without that battery).
    """
    flows = energy_flows_kw(schedule, scenario)
    pv, available = flows["pv_kw"], flows["pv_available_kw"]
    charge, discharge = flows["storage_charge_kw"], flows["storage_discharge_kw"]
    demand = flows["consumption_kw"]
    direct = np.minimum(pv, demand)
    to_battery = np.minimum(pv - direct, charge)
    battery_to_load = np.minimum(discharge, np.maximum(demand - direct, 0.0))
    charged = float(charge.sum())
    pv_share = float(to_battery.sum()) / charged if charged > 0.0 else 0.0
    green, certificates = flows["green_contract_kw"], flows["certificates_kw"]
    consumed = float(demand.sum()) * step_h
    from_pv = (float(direct.sum()) + pv_share * float(battery_to_load.sum())) * step_h
    generated = float(pv.sum()) * step_h
    offered = float(available.sum()) * step_h
    cycles: dict[str, float] = {}
    for unit in units():
        cycles.update(unit.equivalent_full_cycles(scenario.site, schedule, step_h))
    green_kwh = float(green.sum()) * step_h
    return {
        "consumption_kwh": consumed,
        "pv_available_kwh": offered,
        "pv_generated_kwh": generated,
        "pv_used_directly_kwh": float(direct.sum()) * step_h,
        "pv_to_battery_kwh": float(to_battery.sum()) * step_h,
        "battery_to_consumption_kwh": float(battery_to_load.sum()) * step_h,
        "pv_curtailed_kwh": max(0.0, offered - generated),
        "pv_curtailed_fraction": _ratio(max(0.0, offered - generated), offered),
        "self_consumption_fraction": _ratio(
            float(direct.sum() + to_battery.sum()) * step_h, generated
        ),
        "self_sufficiency_fraction": _ratio(from_pv, consumed),
        "renewable_share_fraction": _ratio(min(consumed, from_pv + green_kwh), consumed),
        "renewable_share_with_certificates_fraction": _ratio(
            min(consumed, from_pv + green_kwh + float(certificates.sum()) * step_h), consumed
        ),
        "equivalent_full_cycles": cycles,
    }


def peak_shaving(
    peaks_kw: Mapping[str, float], base_peaks_kw: Mapping[str, float]
) -> dict[str, dict[str, float | None]]:
    """Monthly peak shaving against a baseline.

    Parameters
    ----------
    peaks_kw, base_peaks_kw : mapping of str to float
        The largest import of each month ``YYYY-MM`` [kW] of the run and the baseline.

    Returns
    -------
    dict
        ``kw`` {month: baseline peak - run peak [kW]} and ``fraction`` {month: that
        per baseline peak [-], ``None`` for a zero baseline peak}.
    """
    kw = {m: float(base_peaks_kw[m] - p) for m, p in peaks_kw.items()}
    return {"kw": kw, "fraction": {m: _ratio(kw[m], float(base_peaks_kw[m])) for m in kw}}


#: Bill terms (summary keys) that are not the dispatch: the baselines have no green
#: contracts and no certificates, and the carbon price falls on fuels too. The savings
#: against a baseline are split into these and the rest (:func:`savings_split`).
NON_DISPATCH_TERMS = EXTRA_COLUMNS


def savings_split(run: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, float]:
    """The savings against a baseline, split by where they come from [CNY].

    With :math:`B` and :math:`R` the baseline's and the run's bill parts, each term
    :math:`k` of :data:`NON_DISPATCH_TERMS` gives :math:`B_k - R_k` (green-power
    contracts net of the TOU energy they displace, certificates, carbon price), and the
    **dispatch** part is the rest: :math:`(B_{total} - \\sum_k B_k) - (R_{total} -
    \\sum_k R_k)`, the energy, export, basic charge, battery wear and load shedding that
    the batteries, flexibility and PV use change. The parts sum to the total savings.

    Parameters
    ----------
    run, baseline : mapping
        Bill parts with ``total_cost_cny`` and (when they apply) the keys of
        :data:`NON_DISPATCH_TERMS` [CNY]; a missing term counts as zero.

    Returns
    -------
    dict
        ``dispatch_cny`` and one entry per term of :data:`NON_DISPATCH_TERMS` [CNY].
    """
    terms = {
        k: float(baseline.get(k) or 0.0) - float(run.get(k) or 0.0) for k in NON_DISPATCH_TERMS
    }
    total = float(baseline["total_cost_cny"]) - float(run["total_cost_cny"])
    return {"dispatch_cny": total - sum(terms.values()), **terms}


def comparison_kpis(
    total_cost_cny: float,
    peaks_kw: Mapping[str, float],
    emissions_t: Mapping[str, float] | None,
    baseline: Mapping[str, Any],
    bill_parts: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A run against one baseline entry (:func:`vpp.runs.baselines.baseline_entry`).

    Parameters
    ----------
    total_cost_cny : float
        The run's total cost [CNY].
    peaks_kw : mapping of str to float
        The run's monthly peak import [kW].
    emissions_t : mapping, optional
        The run's ``location_based_t`` and ``market_based_t`` [t CO2].
    baseline : mapping
        ``total_cost_cny``, ``peak_import_kw`` and ``emissions_t`` of the baseline (and
        its bill parts, for the split).
    bill_parts : mapping, optional
        The run's bill: ``total_cost_cny`` (the same as above) and the terms of
        :data:`NON_DISPATCH_TERMS` (the run's summary holds both); given, the result
        also holds ``savings_split_cny``.

    Returns
    -------
    dict
        ``savings_cny`` [CNY], ``savings_fraction`` [-] (of the baseline's total cost),
        ``savings_split_cny`` (:func:`savings_split`, with ``bill_parts``),
        ``peak_shaving_kw`` {month: kW}, ``peak_shaving_fraction`` {month: -},
        ``peak_shaving_max_kw`` [kW], ``emission_reduction_t``: ``location_based_t`` and
        ``market_based_t`` [t CO2] (``None`` without both accounts).
    """
    base_cost = float(baseline["total_cost_cny"])
    savings = base_cost - float(total_cost_cny)
    shaving = peak_shaving(peaks_kw, baseline["peak_import_kw"])
    base_t = baseline.get("emissions_t")
    reduction = None
    if emissions_t is not None and base_t is not None:
        reduction = {k: float(base_t[k] - emissions_t[k]) for k in emissions_t}
    split = {}
    if bill_parts is not None:
        split["savings_split_cny"] = savings_split(bill_parts, baseline)
    return {
        "savings_cny": savings,
        "savings_fraction": _ratio(savings, abs(base_cost)),
        **split,
        "peak_shaving_kw": shaving["kw"],
        "peak_shaving_fraction": shaving["fraction"],
        "peak_shaving_max_kw": max(shaving["kw"].values()) if shaving["kw"] else 0.0,
        "emission_reduction_t": reduction,
    }


def run_kpis(
    schedule: pd.DataFrame,
    scenario: Scenario,
    step_h: float,
    summary: Mapping[str, Any],
    baselines: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """``summary["kpis"]``: the run's energy KPIs and its comparison with each baseline.

    Parameters
    ----------
    schedule : pandas.DataFrame
        The optimized schedule.
    scenario : Scenario
        The run's scenario.
    step_h : float
        Step length [h].
    summary : mapping
        The run's summary: ``total_cost_cny`` and its parts, ``peak_import_kw`` and
        ``carbon`` (``location_based_t``, ``market_based_t``; may be ``None``).
    baselines : mapping
        ``summary["baselines"]``.

    Returns
    -------
    dict
        ``total_cost_cny`` [CNY], ``emissions_t`` (or ``None``), the entries of
        :func:`energy_kpis`, and ``vs_baseline``: {baseline name: :func:`comparison_kpis`,
        with the savings split (the pv-only one is also the summary's
        ``savings_<part>_cny``)}.
    """
    carbon = summary.get("carbon")
    emissions = (
        {k: float(carbon[k]) for k in ("location_based_t", "market_based_t")} if carbon else None
    )
    return {
        "total_cost_cny": float(summary["total_cost_cny"]),
        "emissions_t": emissions,
        **energy_kpis(schedule, scenario, step_h),
        "vs_baseline": {
            name: comparison_kpis(
                summary["total_cost_cny"], summary["peak_import_kw"], emissions, entry, summary
            )
            for name, entry in baselines.items()
        },
    }
