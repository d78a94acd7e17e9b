"""The short human-readable summary printed after a run."""

from __future__ import annotations

from pathlib import Path

from vpp.sim.run import RunResult


def summary_text(result: RunResult) -> str:
    """A few lines: the bill against the baseline, peak shaving and energy."""
    s = result.summary
    b = s["baseline"]
    rows = [
        ("energy", "energy_cost_cny"),
        ("export credit", "export_revenue_cny"),
        ("demand charge", "demand_charge_cny"),
        ("battery wear", "battery_cost_cny"),
        ("load shedding", "curtailment_cost_cny"),
        ("total", "total_cost_cny"),
    ]
    h = s["horizon"]
    lines = [
        f"{s['scenario']}: {h['start'][:16]} .. {h['end'][:16]}, {h['steps']} steps of "
        f"{h['step_h']:g} h, solver {s['status']}",
        "",
        f"  {'bill [CNY]':<16}{'baseline':>16}{'optimized':>16}{'change':>16}",
    ]
    for label, key in rows:
        sign = -1.0 if key == "export_revenue_cny" else 1.0
        lines.append(
            f"  {label:<16}{b[key]:>16,.0f}{s[key]:>16,.0f}{sign * (s[key] - b[key]):>+16,.0f}"
        )
    lines.append(
        f"  {'savings':<16}{'':>16}{s['savings_cny']:>16,.0f}"
        f"{100 * s['savings_cny'] / max(abs(b['total_cost_cny']), 1e-9):>15.1f}%"
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
    v = b["import_limit_violations"]
    if v["steps"]:
        lines.append(
            f"  note: without the battery the import limit would be exceeded in {v['steps']} "
            f"step(s), by up to {v['max_excess_kw']:,.0f} kW (first {v['first']})"
        )
    t = s["timings_s"]
    lines.append(
        f"  time [s]: build {t['build']:.2f}, compile {t['compile']:.2f}, "
        f"HiGHS {t['solve']:.2f}, total {t['total']:.2f}"
    )
    return "\n".join(lines)


def print_summary(result: RunResult, files: list[Path]) -> None:
    """Print :func:`summary_text` and the files written."""
    print(summary_text(result))
    print("  wrote: " + ", ".join(str(f) for f in files))
