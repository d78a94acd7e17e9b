"""The ``rolling`` entry of a rolling run's summary: forecasts, violations, the cost of
imperfect forecasts (see :mod:`vpp.operation.rolling`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vpp.assets import unit
from vpp.assets.pv.forecast import pv_forecast_error
from vpp.errors import InfeasibleError
from vpp.inputs.site import SiteInputs
from vpp.operation.real_time import REAL_TIME_RULE
from vpp.operation.windows import Operated
from vpp.runs.result import RunResult
from vpp.scenario.operation import RollingSpec
from vpp.scenario.schema import Scenario
from vpp.solar.forecast_skill import error_metrics

#: Excess above a grid limit below which a step does not count as a violation [kW].
VIOLATION_TOL_KW = 1e-6


def rolling_summary(
    scenario: Scenario,
    spec: RollingSpec,
    inputs: SiteInputs,
    ops: Operated,
    perfect: RunResult | InfeasibleError,
    out: RunResult,
) -> dict[str, Any]:
    """The ``rolling`` entry of the summary (see the report's contract).

    When no dispatch meets every limit even with perfect foresight, ``perfect`` holds
    the explanation instead of costs and the cost of imperfect forecasts is None.
    """
    cols = ops.columns
    index = inputs.horizon.index
    dt_h = inputs.horizon.step_h
    load = inputs.series["load_kw"].to_numpy()
    errors = {
        "load": error_metrics(
            cols["load_forecast_kw"], load, capacity_kw=max(float(load.mean()), 1e-9)
        )
    }
    site = scenario.site
    pv_error = pv_forecast_error(site, inputs.series, cols)
    if pv_error is not None:
        errors["pv"] = pv_error

    def violation(column: str) -> dict[str, Any]:
        kw = cols[column]
        bad = np.flatnonzero(kw > VIOLATION_TOL_KW)
        return {
            "steps": int(bad.size),
            "max_kw": float(kw.max(initial=0.0)),
            "energy_kwh": float(kw[bad].sum() * dt_h),
            "first": index[bad[0]].isoformat() if bad.size else None,
        }

    final = final_soc_shortfall(
        scenario, inputs, {**ops.final_states, **(out.summary.get("final_soc_kwh") or {})}
    )
    shortfall_cny = sum(v["value_cny"] for v in final.values())
    rolling_total = float(out.summary["total_cost_cny"]) + shortfall_cny
    if isinstance(perfect, InfeasibleError):
        reference: dict[str, Any] = {"infeasible": str(perfect)}
        extra = None
    else:
        perfect_total = float(perfect.summary["total_cost_cny"])
        reference = {
            "total_cost_cny": perfect_total,
            "savings_cny": float(perfect.summary["savings_cny"]),
            "savings_dispatch_cny": perfect.summary.get("savings_dispatch_cny"),
            "peak_import_kw": dict(perfect.summary["peak_import_kw"]),
        }
        extra = rolling_total - perfect_total
    return {
        "reoptimize_hour": spec.reoptimize_hour,
        "interval_h": float(spec.interval_h),
        "lookahead_h": float(spec.lookahead_h),
        "load_forecast": spec.load_forecast,
        "pv_forecast": spec.pv_forecast if pv_error is not None else None,
        "pv_error": spec.pv_error.model_dump() if spec.pv_forecast == "synthetic" else None,
        "real_time": spec.real_time_rule,
        "real_time_rule": REAL_TIME_RULE[spec.real_time_rule],
        "solves": ops.solves,
        "models_built": ops.builds,
        "model_reuse": spec.reuse_model,
        "windows_infeasible_on_forecast": {
            "count": len(ops.elastic_windows),
            "first": ops.elastic_windows[0] if ops.elastic_windows else None,
            "note": "planned with penalised slacks (the elastic model)",
        },
        "forecast_error": errors,
        "load_forecast_evaluation": ops.load_evaluation,
        "perfect": reference,
        "final_soc_shortfall": final,
        "cost_of_imperfect_forecasts_cny": extra,
        "cost_of_imperfect_forecasts_fraction": extra / reference["total_cost_cny"]
        if extra is not None and reference["total_cost_cny"]
        else None,
        "violations": {
            "import_limit": violation("grid_import_violation_kw"),
            "export_limit": violation("grid_export_violation_kw"),
        },
        "peak_guard": peak_guard_misses(ops, index, spec.real_time_rule),
    }


def peak_guard_misses(ops: Operated, index: Any, rule: str) -> dict[str, Any] | None:
    """Every step where the peak guard could not hold the import at its level (the
    batteries' power or energy was short; :func:`vpp.operation.real_time.apply_span`):
    ``steps``, ``max_excess_kw``, ``first`` and ``misses`` (each ``at`` and
    ``excess_kw``, the import above the level [kW]); None under ``follow_schedule``."""
    if rule != "peak_guard":
        return None
    misses = [(t, kw) for t, kw in ops.guard_misses if kw > VIOLATION_TOL_KW]
    return {
        "steps": len(misses),
        "max_excess_kw": max((kw for _, kw in misses), default=0.0),
        "first": index[misses[0][0]].isoformat() if misses else None,
        "misses": [{"at": index[t].isoformat(), "excess_kw": kw} for t, kw in misses],
    }


def final_soc_shortfall(
    scenario: Scenario, inputs: SiteInputs, final_soc_kwh: dict[str, float]
) -> dict[str, dict[str, float]]:
    """How far each battery ends below its final-state rule, and what refilling costs;
    the energy EV sessions did not get by departure.

    The plans meet the rule; the peak guard may spend stored energy after the last
    plan, so the operated horizon can end lower. The shortfall [kWh] is priced at the
    lowest energy price of the horizon's last day divided by the charge efficiency: what
    refilling in the next valley would cost [CNY]. It is added to the rolling cost for
    the cost of imperfect forecasts, so that a run does not look cheaper by ending
    emptier than perfect foresight may. An EV fleet reports the energy its sessions
    lacked at departure (``final_kwh`` carries the energy each session holds).
    """
    out: dict[str, dict[str, float]] = {}
    prices = inputs.series["price_cny_per_kwh"].to_numpy()
    last_day = max(1, int(round(24 / inputs.horizon.step_h)))
    price = float(prices[-last_day:].min())
    for a in inputs.assets:
        short = unit(a.kind).final_shortfall(a, final_soc_kwh, price)
        if short is not None:
            out[a.name] = short
    return out
