"""The short human-readable summary printed after a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vpp.report.html_parts import currency
from vpp.runs.bill import extra_bill_rows
from vpp.runs.carbon import grid_factor_label
from vpp.sim.run import RunResult

#: Width of the bill table's label column [characters]: a demand charge's row
#: (``peak window charge``) fits.
LABEL_W = 24


def summary_text(result: RunResult) -> str:
    """A few lines: the bill against the baseline, peak shaving and energy."""
    s = result.summary
    b = s["baseline"]
    cur = currency(s)
    rows = [
        ("energy", "energy_cost_cny"),
        ("export credit", "export_revenue_cny"),
        ("basic charge", "demand_charge_cny"),
        ("green power*", "green_contracts_cny"),
        ("certificates", "certificates_cny"),
        ("carbon price", "carbon_cny"),
        ("battery wear", "battery_cost_cny"),
        ("load shedding", "curtailment_cost_cny"),
    ]
    rows = [(label, key, -1.0 if key == "export_revenue_cny" else 1.0) for label, key in rows]
    rows += extra_bill_rows(result.scenario.site, [key for _, key, _ in rows], s)
    rows.append(("total", "total_cost_cny", 1.0))
    rows = [(label, key, sign) for label, key, sign in rows if key in s and key in b]
    h = s["horizon"]
    lines = [
        f"{s['scenario']}: {h['start'][:16]} .. {h['end'][:16]}, {h['steps']} steps of "
        f"{h['step_h']:g} h, solver {s['status']}",
        "",
        f"  {f'bill [{cur}]':<{LABEL_W}}{'baseline':>16}{'optimized':>16}{'change':>16}",
    ]
    for label, key, sign in rows:
        lines.append(
            f"  {label:<{LABEL_W}}{b[key]:>16,.0f}{s[key]:>16,.0f}"
            f"{sign * (s[key] - b[key]):>+16,.0f}"
        )
    lines += savings_lines(s)
    versus = (s.get("kpis") or {}).get("vs_baseline") or {}
    if versus:
        lines.append(
            "  savings vs baselines: " + ", ".join(_versus(n, v, cur) for n, v in versus.items())
        )
    if "green_contracts_cny" in s and s["green_contracts_cny"]:
        lines.append(
            "  * green-power contracts net of the TOU energy they displace (the energy row "
            "prices all import at TOU)"
        )
    peaks = s["peak_import_kw"]
    base_peaks = b["peak_import_kw"]
    lines += [
        "",
        f"  peak import [kW]: largest month {max(base_peaks.values()):,.0f} -> "
        f"{max(peaks.values()):,.0f}; largest monthly shaving "
        f"{s['peak_shaving_max_kw']:,.0f} kW",
    ]
    e = s["energy_kwh"]
    lines.append(
        f"  energy [MWh]: load {e['load_kwh'] / 1e3:,.1f}, PV available "
        f"{e['pv_available_kwh'] / 1e3:,.1f} (curtailed {e['pv_curtailed_kwh'] / 1e3:,.1f}), "
        f"import {e['import_kwh'] / 1e3:,.1f}, export {e['export_kwh'] / 1e3:,.1f}"
    )
    flows = s.get("energy_flows_kwh")
    if flows:
        shown = [
            f"{key.removesuffix('_kwh').replace('_to_', '->').replace('pv', 'PV')} {kwh / 1e3:,.1f}"
            for key, kwh in flows.items()
            if kwh > 0.05
        ]
        lines.append("  flows [MWh]: " + (", ".join(shown) if shown else "none"))
    carbon = s.get("carbon")
    if carbon:
        cut = carbon["reduction_vs_baseline"]
        pre = carbon["pre_assessment"]
        lines.append(
            f"  CO2 [t]: location-based {carbon['location_based_t']:,.0f} "
            f"({-cut['location_based_t']:+,.0f} vs baseline), market-based "
            f"{carbon['market_based_t']:,.0f} ({-cut['market_based_t']:+,.0f})"
            + (
                f"; intensity {pre['intensity_t_per_10k_cny']:.3f} t per 10^4 {cur} "
                f"{pre['basis'].replace('_', ' ')}: {pre['result']} "
                f"(threshold {pre['threshold_t_per_10k_cny']:g})"
                if pre
                else ""
            )
        )
        lines.append(f"  {grid_factor_label(carbon)}")
        share = (carbon.get("annual") or {}).get("horizon_share_of_year")
        if share is not None and abs(share - 1.0) > 1e-9:
            lines.append(
                f"  note: gas, diesel, heat and the economic figures are annual; counted here "
                f"times {share:.4f}, the horizon's share of a year"
            )
    v = b["import_limit_violations"]
    if v["steps"]:
        lines.append(
            f"  note: without the site's storage, flexibility and generators (the pv-only "
            f"baseline) the import limit would be exceeded in {v['steps']} "
            f"step(s), by up to {v['max_excess_kw']:,.0f} kW (first {v['first']})"
        )
    lines += note_lines(s.get("notes") or [])
    t = s["timings_s"]
    if s.get("mode", "perfect") == "rolling":
        lines[1:1] = rolling_lines(s["rolling"], cur)
        lines.append(
            "  time [s]: "
            + ", ".join(f"{k} {v:.2f}" for k, v in t.items() if isinstance(v, (int, float)))
        )
    else:
        lines.append(
            f"  time [s]: build {t['build']:.2f}, compile {t['compile']:.2f}, "
            f"HiGHS {t['solve']:.2f}, total {t['total']:.2f}"
        )
    return "\n".join(lines)


#: Most of the run's notes printed; the rest are counted (all are in summary.json) [-].
MAX_NOTES_SHOWN = 5
#: Longest note printed [characters]; summary.json has the whole text.
NOTE_CHARS = 400


def note_lines(notes: list[str]) -> list[str]:
    """The run's notes (what the inputs dropped, clipped or defaulted, what a rule let
    through), one ``note:`` line each, at most :data:`MAX_NOTES_SHOWN`."""
    out = []
    for text in notes[:MAX_NOTES_SHOWN]:
        text = str(text)
        out.append("  note: " + (text if len(text) <= NOTE_CHARS else text[:NOTE_CHARS] + "..."))
    if len(notes) > MAX_NOTES_SHOWN:
        out.append(f"  note: and {len(notes) - MAX_NOTES_SHOWN} more in summary.json (notes)")
    return out


#: The parts of the savings (:func:`vpp.runs.kpis.savings_split`): label, summary key.
SAVINGS_PARTS = (
    ("dispatch", "savings_dispatch_cny"),
    ("green contracts", "savings_green_contracts_cny"),
    ("certificates", "savings_certificates_cny"),
    ("carbon price", "savings_carbon_cny"),
)


def savings_lines(s: dict[str, Any]) -> list[str]:
    """The savings against the baseline: by source when the summary has the split.

    The dispatch (batteries, flexibility, use of PV: energy, export, basic charge, wear,
    shedding) comes first; green contracts and certificates, which the baseline does not
    have, and the carbon price follow on lines of their own, then the total. A summary
    without the split (written before it existed), or whose savings are all dispatch,
    gets the one ``savings`` line.
    """
    base = max(abs(s["baseline"]["total_cost_cny"]), 1e-9)

    def line(label: str, cny: float) -> str:
        return f"  {label:<32}{cny:>16,.0f}{100 * cny / base:>15.1f}%"

    parts = [(label, s[key]) for label, key in SAVINGS_PARTS if key in s]
    if len(parts) < len(SAVINGS_PARTS) or not any(abs(v) > 0.5 for _, v in parts[1:]):
        return [f"  {'savings':<{LABEL_W}}{'':>16}" + line("", s["savings_cny"])[34:]]
    return [
        f"  savings vs baseline [{currency(s)}]",
        *(line(f"  {label}", cny) for label, cny in parts),
        line("  total savings", s["savings_cny"]),
        "  (dispatch: energy, export, basic charge, battery wear and shedding; the baseline "
        "has\n  no green contracts or certificates)",
    ]


def _versus(name: str, v: dict[str, Any], cur: str) -> str:
    """``name X <cur> (y%; dispatch Z)``: the savings against one baseline."""
    notes = [f"{100 * v['savings_fraction']:.1f}%"] if v.get("savings_fraction") else []
    if v.get("savings_split_cny"):
        notes.append(f"dispatch {v['savings_split_cny']['dispatch_cny']:,.0f}")
    return f"{name} {v['savings_cny']:,.0f} {cur}" + (f" ({'; '.join(notes)})" if notes else "")


def rolling_lines(r: dict[str, Any], cur: str = "CNY") -> list[str]:
    """The lines of a rolling run: how it was operated, the cost of imperfect forecasts
    [``cur``], the limit violations after settlement (``none`` when there are none) and,
    when there are any, the steps the peak guard could not hold.

    Parameters
    ----------
    r : dict
        ``summary["rolling"]`` of a rolling run.
    cur : str
        The run's currency (:func:`vpp.report.html_parts.currency`).
    """
    fraction = r.get("cost_of_imperfect_forecasts_fraction")
    perfect_cny = (r.get("perfect") or {}).get("total_cost_cny")
    violations = []
    for key, label in (("import_limit", "import"), ("export_limit", "export")):
        v = (r.get("violations") or {}).get(key) or {}
        violations.append(
            f"{label} {v['steps']} step(s), up to {v['max_kw']:,.1f} kW, "
            f"{v['energy_kwh']:,.1f} kWh (first {v['first']})"
            if v.get("steps")
            else f"{label} none"
        )
    share = ""
    if perfect_cny is not None and fraction is not None:
        share = f" ({100 * fraction:.2f}% of perfect foresight's {perfect_cny:,.0f} {cur})"
    elif perfect_cny is not None:
        share = f" (perfect foresight: {perfect_cny:,.0f} {cur})"
    guard = r.get("peak_guard") or {}
    missed = (
        [
            f"  peak guard: could not hold the import at its level in {guard['steps']} step(s), "
            f"by up to {guard['max_excess_kw']:,.1f} kW (first {guard['first']}; every step in "
            "summary.json rolling.peak_guard.misses)"
        ]
        if guard.get("steps")
        else []
    )
    return [
        f"  mode: rolling, re-optimized every {r['interval_h']:g} h from "
        f"{int(r['reoptimize_hour']):02d}:00 with {r['lookahead_h']:g} h look-ahead "
        f"({r['solves']} solves, {r['models_built']} model(s) built); forecasts: load "
        f"{r['load_forecast']}, PV {r['pv_forecast']}",
        f"  cost of imperfect forecasts: {r['cost_of_imperfect_forecasts_cny']:,.0f} {cur}{share}"
        if r.get("cost_of_imperfect_forecasts_cny") is not None
        else "  cost of imperfect forecasts: not defined (infeasible even with perfect "
        "foresight; see the violations)",
        "  limit violations after settlement: " + "; ".join(violations),
        *missed,
    ]


def print_summary(result: RunResult, files: list[Path]) -> None:
    """Print :func:`summary_text` and the files written."""
    print(summary_text(result))
    print("  wrote: " + ", ".join(str(f) for f in files))
