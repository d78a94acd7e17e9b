"""Write a sizing study's outputs atomically (see :func:`write_sizing`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from vpp.assets import site_entries
from vpp.model.strategies import Attempt
from vpp.planning.limits import frontier_limit_lines, limit_columns, limit_lines
from vpp.planning.size import SizingResult
from vpp.planning.typical import typical_days_line
from vpp.report.atomic import write_folder_atomically
from vpp.report.files import write_run
from vpp.report.finance_html import battery_fade_lines, finance_by_party_lines
from vpp.report.html_parts import currency
from vpp.report.jsonfile import jsonable, write_json


def write_sizing(result: SizingResult, out_dir: str | Path) -> list[Path]:
    """Write a sizing study into ``out_dir``, all files at once or none.

    - ``summary.json``: sizes, annual costs, the self-check, finance, frontier, timings;
    - ``sizes.csv``: one row per candidate (``at_limit``: its sizes at a limit);
    - ``cash_flows.csv`` and ``cash_flows.png``: the investment year by year;
    - ``sized-scenario.yaml``: the scenario with the chosen sizes (``vpp run`` it);
    - ``frontier.csv`` and ``frontier.png`` when the frontier was asked for;
    - ``dispatch/``: the sized site's perfect-foresight run (as ``vpp run`` writes it);
    - ``report.html``: the study on one self-contained page (figures embedded).
    """
    from vpp.report.sizing_figures import cash_flow_figure, frontier_figure

    summary = jsonable(result.summary)
    limits = {name: values.get("limits", {}) for name, values in result.summary["sizes"].items()}
    sizes = pd.DataFrame(
        [
            {"name": name, **values, "at_limit": limit_columns(limits.get(name, {}))}
            for name, values in result.sizes.items()
        ]
    )
    cash_png = cash_flow_figure(result.cash_flows, result.summary)
    frontier_png = (
        frontier_figure(result.frontier, currency(result.summary))
        if result.frontier is not None
        else None
    )

    def fill(tmp: Path) -> None:
        write_json(tmp / "summary.json", summary)
        sizes.to_csv(tmp / "sizes.csv", index=False)
        result.cash_flows.to_csv(tmp / "cash_flows.csv", index=False)
        (tmp / "cash_flows.png").write_bytes(cash_png)
        sized = result.sized.model_dump(mode="json", exclude_none=True)
        (tmp / "sized-scenario.yaml").write_text(
            "# written by vpp size: the planning scenario with the chosen sizes\n"
            + yaml.safe_dump(sized, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        if result.frontier is not None:
            result.frontier.to_csv(tmp / "frontier.csv", index=False)
            (tmp / "frontier.png").write_bytes(frontier_png)
        write_run(result.dispatch, tmp / "dispatch")
        from vpp.report.html_parts import data_uri
        from vpp.report.sizing_html import build_sizing_report

        sources = {"cash_flows.png": data_uri(cash_png)}
        if frontier_png is not None:
            sources["frontier.png"] = data_uri(frontier_png)
        (tmp / "report.html").write_text(build_sizing_report(result, sources), encoding="utf-8")

    names = [
        "summary.json",
        "sizes.csv",
        "cash_flows.csv",
        "cash_flows.png",
        "sized-scenario.yaml",
        "dispatch/report.html",
        "report.html",
    ]
    if result.frontier is not None:
        names += ["frontier.csv", "frontier.png"]
    return write_folder_atomically(out_dir, names, fill, kind="sizing")


def sizing_text(result: SizingResult) -> str:
    """A few lines for the terminal."""
    s = result.summary
    fin = s["finance"]
    cur = currency(s)
    lines = [f"{s['scenario']}: sizes that minimize annualized investment + the year's bill"]
    kept = {getattr(entry, "name", None) for _, entry in site_entries(result.sized.site)}
    for name, size in result.sizes.items():
        built = "" if name in kept else "  (not built)"  # sized to nothing: left out
        if "capacity_kw" in size:  # a rated power (PV); else an energy and a power
            lines.append(f"  {name:<12} PV       {size['capacity_kw']:>10,.0f} kWp{built}")
        else:
            units = f" ({size['units']} units)" if size.get("units") is not None else ""
            lines.append(
                f"  {name:<12} battery  {size['energy_kwh']:>10,.0f} kWh  "
                f"{size['power_kw']:>8,.0f} kW{units}{built}"
            )
    flags = limit_lines({n: v.get("limits", {}) for n, v in s["sizes"].items()})
    lines += [f"  at limit: {line}" for line in flags]
    lines += [f"  at limit: {line}" for line in frontier_limit_lines(s.get("frontier"))]
    irr = fin["irr_fraction"]
    pay = fin["simple_payback_years"]
    lines += [
        f"  capex {fin['capex_cny']:,.0f} {cur}; bill {s['as_is_total_cost_cny']:,.0f} -> "
        f"{s['sized_total_cost_cny']:,.0f} {cur} (saves {s['annual_savings_cny']:,.0f} {cur}/yr)",
        f"  NPV {fin['npv_cny']:,.0f} {cur}, IRR "
        + (f"{100 * irr:.1f} %" if irr is not None else "none")
        + ", payback "
        + (f"{pay:.1f} y" if pay is not None else "not reached")
        + (
            f" ({fin['discounted_payback_years']:.1f} y discounted)"
            if fin["discounted_payback_years"] is not None
            else ""
        ),
        f"  CO2 avoided {s['annual_co2_avoided_t']:,.0f} t/yr, {fin['co2_avoided_life_t']:,.0f} t "
        "over the analysis period"
        + (
            f", {fin['cny_per_t_avoided']:,.0f} {cur} per t"
            if fin["cny_per_t_avoided"] is not None
            else ""
        ),
    ]
    lines += finance_by_party_lines(fin, cur)
    lines += battery_fade_lines(fin)
    for key, label in (
        ("lcoe_pv_cny_per_kwh", "LCOE of the PV"),
        ("lcos_cny_per_kwh", "levelized cost of storage"),
    ):
        if fin.get(key) is not None:
            lines.append(f"  {label}: {fin[key]:.3f} {cur}/kWh")
    check = s["check"]
    if "allowed_cny" in check:  # a MIP: within what the two solves' gaps allow
        lo, hi = check["allowed_cny"]
        within = f", within [{lo:+,.2f}, {hi:+,.2f}] {cur} by the MIP gaps"
    else:
        within = ""
    lines += solver_lines(s.get("solver"))
    typical = typical_days_line(s.get("representative_periods"))
    if typical:
        lines.append(f"  {typical}; time {s['timings_s']['total']:.1f} s")
    else:
        lines.append(
            f"  check: sized dispatch bill equals the sizing objective's operating part "
            f"(gap {check['gap_cny']:+.4f} {cur}{within}); time {s['timings_s']['total']:.1f} s"
        )
    lines += [f"  note: {note}" for note in s.get("notes", [])]
    return "\n".join(lines)


def solver_lines(solver: dict[str, Any] | None) -> list[str]:
    """``solver: <strategy>, <status>, gap g, n iterations, t s``, and the failed attempts
    before it (one line each) when a fallback answered."""
    if not solver:
        return []
    gap = solver.get("gap")
    gap_text = "gap not reported" if gap is None else f"gap {gap:.2g}"
    lines = [
        f"  solver: {solver['strategy']}, {solver['status']}, {gap_text}, "
        f"{solver['iterations']} iterations, {solver['seconds']:.1f} s"
    ]
    for attempt in solver.get("attempts", [])[:-1]:
        fields = {k: attempt.get(k) for k in ("strategy", "status", "seconds", "budget_s")}
        extra = {k: attempt[k] for k in ("iterations", "gap", "nodes") if k in attempt}
        lines.append(f"    failed first: {Attempt(**fields, **extra).describe()}")
    return lines
