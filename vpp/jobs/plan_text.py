"""The few lines ``vpp schedule`` prints: the revised rest of today and the target day."""

from __future__ import annotations

from typing import Any


def _row(name: str, figures: dict[str, Any], soc: dict[str, float] | None) -> str:
    end = ", ".join(f"{b} {v:,.0f} kWh" for b, v in (soc or {}).items()) or "-"
    return (
        f"    {name:<16}{figures.get('import_kwh', 0.0):>12,.0f}"
        f"{figures.get('peak_import_kw', 0.0):>11,.0f}"
        f"{figures.get('energy_cost_cny', 0.0):>12,.0f}   {end}"
    )


def plan_text(summary: dict[str, Any]) -> str:
    """The plan in a few lines: per site import [kWh], peak import [kW], energy cost
    [the park's currency] and the batteries' state at the end, for the revised rest of
    today and for the target day; the demand-response offers. Empty for a fallback."""
    if summary.get("status") != "ok":
        return ""
    cur = str(summary.get("currency") or "CNY")
    energy = f"energy {cur}"
    head = f"    {'site':<16}{'import kWh':>12}{'peak kW':>11}{energy:>12}   state at the end"
    lines = []
    today = summary.get("revised_today") or {}
    window = summary.get("window", {})
    if today:
        start = str(window.get("start", ""))[11:16]
        lines += [f"  revised today ({start}-24:00):", head]
        lines += [_row(n, f, f.get("final_soc_kwh")) for n, f in today.items()]
    kind = "the rest of today" if summary.get("kind") == "intraday" else "the target day"
    lines += [f"  {summary.get('date')} ({kind}):", head]
    for name, figures in (summary.get("sites") or {}).items():
        lines.append(_row(name, figures, figures.get("final_soc_kwh")))
    for ev in summary.get("demand_response") or []:
        paid = ev.get("settlement", {}).get("payment_cny", 0.0)
        lines.append(
            f"  event {ev['name']} {ev['start'][:16]}..{ev['end'][11:16]}: offer "
            f"{ev['offered_kw']:,.0f} of {ev['requested_kw']:,.0f} kW, expected payment "
            f"{paid:,.0f} {cur}"
        )
    return "\n".join(lines)
