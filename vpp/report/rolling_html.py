"""The report section of a rolling run: "Operation on forecasts" (:mod:`vpp.operation.rolling`).

How the run was operated, the cost of imperfect forecasts against perfect foresight, the
forecast errors (and both load methods), the limit violations after settlement (stated,
never hidden), a battery left below its final rule, and the forecasts-against-actuals week.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpp.assets.columns import role_columns
from vpp.assets.grid.limits import limit_text
from vpp.report.html_parts import currency, escape, html_figure, html_table, number
from vpp.sim.run import RunResult


def _violation_cells(v: Mapping[str, Any]) -> list[str]:
    """Steps, largest excess [kW], energy above the limit [kWh] and first time; "none"
    when no step exceeded the limit."""
    if not v.get("steps"):
        return ["none", "–", "–", "–"]
    first = str(v.get("first") or "–")[:16].replace("T", " ")
    return [
        f"<b>{v['steps']:,d}</b>",
        number(v["max_kw"], 1),
        number(v["energy_kwh"], 1),
        escape(first),
    ]


def rolling_section(result: RunResult, figures: Mapping[str, str]) -> str:
    """Operation on forecasts: settings, cost against perfect foresight, forecast errors,
    limit violations after settlement and the week of forecasts against actuals."""
    s = result.summary
    r = s["rolling"]
    grid = result.scenario.site.grid
    settings = [
        ("re-optimization hour (local time)", f"{int(r['reoptimize_hour']):02d}:00"),
        ("re-optimization interval [h]", f"{r['interval_h']:g}"),
        ("look-ahead [h]", f"{r['lookahead_h']:g}"),
        ("load forecast", escape(r["load_forecast"])),
        ("PV forecast", escape(r["pv_forecast"])),
        (
            "solves / models built",
            f"{r['solves']:,d} / {r['models_built']:,d}"
            + (" (model re-used between solves)" if r.get("model_reuse") else ""),
        ),
    ]
    perfect = r.get("perfect") or {}
    peaks = perfect.get("peak_import_kw") or {}
    cur = currency(s)
    compared = [
        (f"total cost [{cur}]", perfect.get("total_cost_cny"), s["total_cost_cny"]),
        (f"savings vs baseline [{cur}]", perfect.get("savings_cny"), s["savings_cny"]),
        (
            f"of which dispatch [{cur}]",
            perfect.get("savings_dispatch_cny"),
            s.get("savings_dispatch_cny"),
        ),
        (
            "largest monthly peak import [kW]",
            max(peaks.values()) if peaks else None,
            max(s["peak_import_kw"].values()),
        ),
    ]
    cost_rows = [
        [
            escape(label),
            number(p) if p is not None else "–",
            number(q),
            f"{q - p:+,.0f}" if p is not None else "–",
        ]
        for label, p, q in compared
        if q is not None
    ]
    extra = r["cost_of_imperfect_forecasts_cny"]
    fraction = r.get("cost_of_imperfect_forecasts_fraction")
    share = "" if fraction is None else f" ({100 * fraction:.2f} % of the perfect-foresight cost)"
    errors = r.get("forecast_error") or {}
    error_rows = [
        [
            escape(label),
            *(number(errors[key][k], 1) for k in ("mae_kw", "rmse_kw", "bias_kw")),
            number(100 * errors[key]["nrmse_fraction"], 1),
        ]
        for key, label in (("load", "site load"), ("pv", "PV available"))
        if key in errors
    ]
    limits = (
        ("import_limit", "import limit", grid.import_limit_kw),
        ("export_limit", "export limit", grid.export_limit_kw),
    )
    violations = r.get("violations") or {}
    violation_rows = [
        [
            escape(f"{label} ({limit_text(limit)})"),
            *_violation_cells(violations.get(key) or {}),
        ]
        for key, label, limit in limits
    ]
    exceeded = [
        f"{label} exceeded in {v['steps']:,d} step(s), by up to {v['max_kw']:,.1f} kW "
        f"({v['energy_kwh']:,.1f} kWh above it in all)"
        for key, label, _ in limits
        if (v := violations.get(key) or {}).get("steps")
    ]
    verdict = "Limit violations after settlement: " + (
        "<b>" + escape("; ".join(exceeded)) + "</b>." if exceeded else "none."
    )
    caption = (
        "The week around the baseline's largest import. Top: site load, actual against the "
        "forecast the applied plan used; "
        + (
            "middle: PV available, actual against forecast; "
            if role_columns(result.scenario.site, "pv_available")
            else ""
        )
        + "bottom: the grid import the plans expected (dashed) against the settled import, "
        "with the import limit and the steps above it marked [kW]."
    )
    return "".join(
        [
            "<h2 id='rolling'>Operation on forecasts</h2>",
            "<p>This run was operated as the daily job would be: re-optimized on forecasts, "
            "each plan applied until the next, then settled against the actual load and PV. "
            "The bill, peaks and emissions in this report are the settled ones.</p>",
            f"<p><b>Cost of imperfect forecasts: {number(extra)} {cur}{escape(share)}.</b></p>"
            if extra is not None
            else "<p><b>Cost of imperfect forecasts: not defined</b>: no dispatch meets every "
            "limit even with perfect foresight ("
            + escape(perfect.get("infeasible", ""))
            + ").</p>",
            html_table(
                ["cost against perfect foresight", "perfect foresight", "rolling", "change"],
                cost_rows,
            ),
            html_table(["operation", "value"], ([escape(k), v] for k, v in settings)),
            "<p class='note'>Real time: " + escape(r.get("real_time_rule", "")) + "</p>",
            html_table(
                ["forecast error", "MAE [kW]", "RMSE [kW]", "bias [kW]", "nRMSE [%]"], error_rows
            )
            if error_rows
            else "",
            _load_methods_table(r.get("load_forecast_evaluation") or {}),
            f"<p>{verdict}</p>",
            _shortfall_note(r.get("final_soc_shortfall") or {}, cur),
            html_table(
                ["limit", "steps", "largest excess [kW]", "energy above [kWh]", "first"],
                violation_rows,
            ),
            html_figure(figures["rolling_week.png"], "Forecasts against actuals", caption)
            if "rolling_week.png" in figures
            else "",
        ]
    )


def _shortfall_note(final: Mapping[str, Mapping[str, Any]], cur: str) -> str:
    """Stores that ended below their final-state rule (the peak guard spent energy), and
    EV sessions that left short of their energy."""
    short = {k: v for k, v in final.items() if v["shortfall_kwh"] > 1e-6}
    stores = {k: v for k, v in short.items() if "target_kwh" in v}
    fleets = {k: v for k, v in short.items() if "sessions_short" in v}
    notes = []
    if stores:
        parts = ", ".join(
            f"{name} {v['shortfall_kwh']:,.1f} kWh below {v['target_kwh']:,.0f} kWh "
            f"(refill {v['value_cny']:,.0f} {cur})"
            for name, v in stores.items()
        )
        notes.append(
            "<p class='note'>At the end of the horizon the batteries were below their "
            f"final-state rule: {escape(parts)}; the refill is included in the cost of "
            "imperfect forecasts.</p>"
        )
    if fleets:
        parts = ", ".join(
            f"{name}: {v['sessions_short']} session(s) {v['shortfall_kwh']:,.1f} kWh short "
            f"(first: vehicle {v['first_vehicle']} departing {v['first_departure']}, "
            f"{v['first_shortfall_kwh']:,.1f} kWh)"
            for name, v in fleets.items()
        )
        notes.append(
            "<p class='note'>EV sessions left without all their energy in operation: "
            f"{escape(parts)}.</p>"
        )
    return "".join(notes)


def _load_methods_table(evaluation: Mapping[str, Mapping[str, float]]) -> str:
    """Both load forecast methods over the run's decisions (each applied interval)."""
    if not evaluation:
        return ""
    names = {
        "persistence": "same-weekday persistence",
        "profile": "same-day-type profile",
        "profile_scaled": "profile scaled to the last day",
    }
    rows = [
        [
            escape(names.get(method, method)),
            number(m["mae_kw"], 1),
            number(m["rmse_kw"], 1),
            number(m["bias_kw"], 1),
            number(100 * m["nrmse_fraction"], 1),
            number(100 * m["skill_fraction"], 1),
        ]
        for method, m in evaluation.items()
    ]
    header = [
        "load forecast method",
        "MAE [kW]",
        "RMSE [kW]",
        "bias [kW]",
        "nRMSE [%]",
        "skill vs persistence [%]",
    ]
    return html_table(header, rows)
