"""The three baselines a run is measured against, and their headline figures.

- ``no-assets``: no PV, no batteries, no flexibility: the whole consumption comes
  from the grid (shiftable loads at their as-soon-as-possible default, nothing shed).
- ``pv-only``: PV but no batteries and no flexibility (:mod:`vpp.runs.baseline`); the
  baseline of ``summary["baseline"]``, ``savings_cny`` and ``peak_shaving_kw``.
- ``rule-based``: PV, and the batteries run by a commercial-controller rule
  (:mod:`vpp.runs.rule_based`).

All three have no green-power contracts and no certificates. Each is billed by
:func:`vpp.runs.bill.bill`, the same function as the optimized run (basic charge and,
when the scenario prices carbon in the objective, the carbon cost included), and
gets a carbon account from :func:`vpp.runs.carbon.carbon_summary`. Import above the
import limit is not hidden: it is counted in ``import_limit_violations``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from vpp.assets import unit
from vpp.inputs.site import SiteInputs
from vpp.runs.baseline import baseline_schedule, import_limit_violations
from vpp.runs.bill import bill
from vpp.runs.carbon import carbon_summary
from vpp.runs.flows import FlowClosureError, schedule_flows_kwh
from vpp.runs.kpis import energy_kpis
from vpp.runs.rule_based import rule_based_schedule
from vpp.runs.tariff_report import bill_report
from vpp.scenario.schema import Scenario

#: The baselines, in the order they are reported.
BASELINE_NAMES = ("no-assets", "pv-only", "rule-based")

DESCRIPTIONS = {
    "no-assets": "no PV, no batteries, no flexibility: the load from the grid",
    "pv-only": "PV but no batteries, flexibility, green contracts or certificates",
    "rule-based": "PV and batteries run by a self-consumption and peak-limit rule; "
    "no flexibility, green contracts or certificates",
}


def no_assets_schedule(inputs: SiteInputs, scenario: Scenario) -> pd.DataFrame:
    """The site without PV, batteries and flexibility (columns as the pv-only baseline):
    every asset's idle supply columns (a PV array's ``<pv>_available_kw``) set to zero."""
    series = inputs.series.copy()
    for asset in inputs.assets:
        for column in unit(asset.kind).idle(asset, series).supply_columns:
            series[column] = 0.0
    return baseline_schedule(replace(inputs, series=series), scenario)


def baseline_schedules(
    inputs: SiteInputs, scenario: Scenario, pv_only: pd.DataFrame | None = None
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The schedules of :data:`BASELINE_NAMES`, and the rule-based run's set points.

    Returns
    -------
    schedules : dict of str to pandas.DataFrame
        One per baseline, on the horizon's index.
    rule : dict
        ``info`` of :func:`vpp.runs.rule_based.rule_based_schedule`.
    """
    pv_only = baseline_schedule(inputs, scenario) if pv_only is None else pv_only
    rule_schedule, rule = rule_based_schedule(inputs, scenario, pv_only)
    schedules = {
        "no-assets": no_assets_schedule(inputs, scenario),
        "pv-only": pv_only,
        "rule-based": rule_schedule,
    }
    return schedules, rule


def baseline_entry(
    name: str, schedule: pd.DataFrame, scenario: Scenario, step_h: float
) -> dict[str, Any]:
    """The headline figures of one baseline schedule (plain JSON-able values).

    Returns
    -------
    dict
        ``description``; the bill parts of :func:`vpp.runs.bill.bill` [CNY] with
        ``peak_import_kw`` (per month) [kW]; ``bill_monthly`` (rows as in
        :func:`vpp.runs.tariff_report.bill_report`); ``energy_kwh``: ``import_kwh``,
        ``export_kwh``, ``pv_curtailed_kwh`` [kWh]; ``import_limit_violations``;
        ``emissions_t``: ``location_based_t`` and ``market_based_t`` [t CO2] (``None``
        when no account can be made); ``kpis``: :func:`vpp.runs.kpis.energy_kpis`;
        ``energy_flows_kwh``: each flow source -> sink over the run [kWh], by the same rule
        as the optimized run's (:func:`vpp.runs.flows.schedule_flows_kwh`).
    """
    parts = bill(schedule, scenario, step_h)
    kpis = energy_kpis(schedule, scenario, step_h)
    return {
        "description": DESCRIPTIONS.get(name, name),
        **parts,
        "bill_monthly": bill_report(scenario, schedule, step_h)["bill_monthly"],
        "energy_kwh": {
            "import_kwh": float(schedule["grid_import_kw"].sum() * step_h),
            "export_kwh": float(schedule["grid_export_kw"].sum() * step_h),
            "pv_curtailed_kwh": kpis["pv_curtailed_kwh"],
        },
        "import_limit_violations": import_limit_violations(schedule, scenario),
        "emissions_t": emissions_t(schedule, scenario, step_h),
        "kpis": kpis,
        "energy_flows_kwh": _flows_kwh(schedule, scenario, step_h),
    }


def _flows_kwh(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> dict[str, Any]:
    """A baseline's flows [kWh]; a schedule whose bus does not close gets ``error``
    instead (an internal error to report; the baseline's other figures stand)."""
    try:
        return schedule_flows_kwh(schedule, scenario.site, step_h)
    except FlowClosureError as exc:
        return {"error": f"the flows do not close: {exc}; please report this"}


def emissions_t(schedule: pd.DataFrame, scenario: Scenario, step_h: float) -> dict[str, float]:
    """Location- and market-based emissions of a schedule, all carriers [t CO2]."""
    account = carbon_summary(schedule, schedule, scenario, step_h)
    return {
        "location_based_t": float(account["location_based_t"]),
        "market_based_t": float(account["market_based_t"]),
    }


def baselines_summary(
    schedules: dict[str, pd.DataFrame], rule: dict[str, Any], scenario: Scenario, step_h: float
) -> dict[str, dict[str, Any]]:
    """``summary["baselines"]``: :func:`baseline_entry` of each schedule; ``rule`` added
    to ``rule-based``."""
    out = {name: baseline_entry(name, s, scenario, step_h) for name, s in schedules.items()}
    if "rule-based" in out:
        out["rule-based"]["rule"] = rule
    return out
