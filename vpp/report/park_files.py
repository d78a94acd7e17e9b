"""Write a park run's outputs atomically: the park's plan and summary, one folder per site."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from vpp.portfolio.run import ParkResult
from vpp.report.atomic import write_csv, write_folder_atomically
from vpp.report.figure_style import figure_style, png_bytes, thousands_ticks
from vpp.report.files import write_run
from vpp.report.html_parts import currency
from vpp.report.jsonfile import jsonable, write_json

#: A settled park net import above the shared limit by more than this is marked as a
#: violation [kW] (the backtest's own tolerance, vpp.operation.park_rolling.LIMIT_TOL_KW).
VIOLATION_TOL_KW = 1e-6
_COLORS = ["#2b6cb0", "#2f855a", "#b7791f", "#6b46c1", "#c53030", "#2c7a7b", "#975a16"]


def park_figure(result: ParkResult) -> bytes:
    """Each site's net import stacked, the park's total, the shared limit and the events."""
    s = result.schedule
    names = list(result.sites)
    with figure_style():
        fig, ax = plt.subplots(figsize=(10, 4.6), constrained_layout=True)
        x = s.index.tz_localize(None)
        values = np.vstack([s[f"{n}_net_import_kw"].clip(lower=0).to_numpy() for n in names])
        colors = [_COLORS[i % len(_COLORS)] for i in range(len(names))]
        ax.stackplot(x, values, labels=names, colors=colors, alpha=0.75, step="post")
        ax.step(
            x,
            s["park_net_import_kw"],
            where="post",
            color="#1a202c",
            lw=1.4,
            label="park net import",
        )
        ax.step(
            x, s["park_load_kw"], where="post", color="#718096", lw=1.0, ls="--", label="park load"
        )
        limit = result.park.spec.shared_limit_kw
        if limit is not None:
            ax.axhline(
                limit, color="#c53030", ls=":", lw=1.4, label=f"shared limit {limit:,.0f} kW"
            )
        rolling = result.summary.get("rolling")
        if rolling is not None and limit is not None:
            net = s["park_net_import_kw"].to_numpy()
            bad = np.flatnonzero(np.abs(net) > float(limit) + VIOLATION_TOL_KW)
            steps = rolling["shared_limit_violation"]["steps"]
            ax.scatter(
                x[bad],
                net[bad],
                s=14,
                color="#c53030",
                zorder=5,
                label=f"limit exceeded on actuals: {steps} step(s)",
            )
        for ev in result.summary["demand_response"]:
            label = f"event {ev['name']}: offered {ev['offered_kw']:,.0f} kW"
            ax.axvspan(
                np.datetime64(ev["start"]),
                np.datetime64(ev["end"]),
                color="#f6ad55",
                alpha=0.25,
                label=label,
            )
        ax.set_ylabel("kW")
        what = "settled on actuals" if "rolling" in result.summary else "as one virtual power plant"
        ax.set_title(f"{result.park.name}: the sites' net import, {what}")
        ax.legend(loc="upper left", ncols=3, fontsize=8)
        thousands_ticks(ax)
        return png_bytes(fig)


def write_park(result: ParkResult, out_dir: str | Path) -> list[Path]:
    """Write ``park_summary.json``, ``park_plan.csv``/``.parquet``, ``park.png`` and
    ``sites/<name>/`` (each as ``vpp run`` writes a site; for a large park, each site's
    schedule only) into ``out_dir``, atomically."""
    png = park_figure(result)

    def fill(tmp: Path) -> None:
        write_json(tmp / "park_summary.json", jsonable(result.summary))
        result.schedule.to_parquet(tmp / "park_plan.parquet")
        write_csv(result.schedule, tmp / "park_plan.csv")
        (tmp / "park.png").write_bytes(png)
        (tmp / "sites").mkdir()
        for name, site in result.sites.items():
            if detail:
                write_run(site, tmp / "sites" / name)
            else:
                (tmp / "sites" / name).mkdir()
                site.schedule.to_parquet(tmp / "sites" / name / "schedule.parquet")
                write_csv(site.schedule, tmp / "sites" / name / "schedule.csv")

    detail = all(r.summary.get("mode") != "park-site" for r in result.sites.values())
    leaf = "report.html" if detail else "schedule.csv"
    names = [
        "park_summary.json",
        "park_plan.csv",
        "park_plan.parquet",
        "park.png",
        *(f"sites/{n}/{leaf}" for n in result.sites),
    ]
    return write_folder_atomically(out_dir, names, fill, kind="park")


def park_text(result: ParkResult) -> str:
    """A few lines for the terminal."""
    s = result.summary
    lim = s["shared_limit"]
    cur = currency(s)
    lines = [
        f"{s['park']}: {len(result.sites)} site(s) as one virtual power plant "
        f"({s['solve']['method']}), solver Optimal",
        f"  {'site':<16}{f'bill [{cur}]':>14}{'savings':>12}{'peak [kW]':>12}{'DR share':>11}",
    ]
    for name, v in s["sites"].items():
        lines.append(
            f"  {name:<16}{v['total_cost_cny']:>14,.0f}{v['savings_cny']:>12,.0f}"
            f"{v['peak_import_kw']:>12,.0f}{v['dr_payment_cny']:>11,.0f}"
        )
    lines.append(
        f"  park: bill {s['total_cost_cny']:,.0f} {cur}, savings {s['savings_cny']:,.0f} {cur}, "
        f"demand response {s['dr_payment_cny']:,.0f} {cur}"
    )
    if lim["limit_kw"] is not None:
        settled = "settled " if s.get("rolling") else ""  # a backtest: the import as metered
        binding = "" if settled else f", binding in {lim['binding_steps']} step(s)"
        lines.append(
            f"  shared limit {lim['limit_kw']:,.0f} kW: {settled}park net import "
            f"{lim['min_net_import_kw']:,.0f}..{lim['max_net_import_kw']:,.0f} kW{binding}"
        )
    rolling = s.get("rolling")
    if rolling:
        lines += _rolling_lines(rolling, cur)
    for ev in s["demand_response"]:
        st = ev["settlement"]
        lines.append(
            f"  event {ev['name']} ({ev['start']}..{ev['end']}): requested "
            f"{ev['requested_kw']:,.0f} kW, offered {ev['offered_kw']:,.0f} kW, delivered "
            f"{st.get('effective_kw', 0.0):,.0f} kW, paid {st.get('payment_cny', 0.0):,.0f} {cur}"
        )
    return "\n".join(lines)


def _rolling_lines(rolling: dict, cur: str) -> list[str]:
    """A park backtest's decisions, feeder-limit violations and forecast cost."""
    v = rolling["shared_limit_violation"]
    lines = [
        f"  operated: {rolling['decisions']} decision(s) at {rolling['reoptimize_hour']:02d}:00 "
        f"every {rolling['interval_h']} h, look-ahead {rolling['lookahead_h']:g} h, settled on "
        f"actuals ({rolling['real_time_rule']})"
    ]
    if v["steps"]:
        lines.append(
            f"  shared limit EXCEEDED on actuals in {v['steps']} step(s), by up to "
            f"{v['max_excess_kw']:,.0f} kW (first {v['first']})"
        )
    extra = rolling.get("cost_of_imperfect_forecasts_cny")
    if extra is None:
        lines.append(
            f"  cost of imperfect forecasts: not computed ({rolling['perfect']['missing']})"
        )
    else:
        ref = rolling["perfect"]["total_cost_cny"]
        lines.append(
            f"  cost of imperfect forecasts: {extra:,.0f} {cur} against perfect foresight "
            f"({ref:,.0f} {cur})"
        )
        by_site = rolling.get("cost_of_imperfect_forecasts_by_site_cny", {})
        if by_site:
            lines.append(
                "    by site: " + ", ".join(f"{n} {v:,.0f}" for n, v in by_site.items()) + f" {cur}"
            )
    notes = rolling.get("notes", [])
    if notes:
        first = notes[0]["notes"][0] if notes[0]["notes"] else ""
        lines.append(
            f"  {len(notes)} decision(s) with notes (park_summary.json rolling.notes), first at "
            f"{notes[0]['at']}: {first}"
        )
    return lines
