"""The self-contained HTML report of a run: tables and figures in one file.

Figures are embedded as base64 PNG data URIs and the style sheet is inline, so the
file opens from disk in any browser, with no server, no script and no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from vpp.report.html_parts import (
    CSS,
    currency,
    escape,
    html_figure,
    html_table,
    number,
    percent,
)
from vpp.report.rolling_html import rolling_section
from vpp.runs.bill import extra_bill_rows
from vpp.runs.carbon import grid_factor_label
from vpp.sim.run import RunResult

#: Bill rows of the summary table: (label, summary key, sign in the bill).
BILL_ROWS: tuple[tuple[str, str, float], ...] = (
    ("energy (TOU)", "energy_cost_cny", 1.0),
    ("export credit", "export_revenue_cny", -1.0),
    ("basic charge", "demand_charge_cny", 1.0),
    ("green contracts (net)", "green_contracts_cny", 1.0),
    ("green certificates", "certificates_cny", 1.0),
    ("carbon price", "carbon_cny", 1.0),
    ("battery wear", "battery_cost_cny", 1.0),
    ("load shedding", "curtailment_cost_cny", 1.0),
    ("total", "total_cost_cny", 1.0),
)

#: Columns preferred in the table of extra baselines, when present.
BASELINE_COLUMNS: tuple[str, ...] = (
    "total_cost_cny",
    "energy_cost_cny",
    "demand_charge_cny",
    "savings_cny",
    "peak_import_kw",
    "import_kwh",
    "export_kwh",
    "location_based_t",
    "market_based_t",
)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings as ``{"a / b": leaf}``."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix} / {k}" if prefix else str(k)))
        return out
    return {prefix: value}


#: The parts of the savings (:func:`vpp.runs.kpis.savings_split`): label, summary key.
SAVINGS_ROWS: tuple[tuple[str, str], ...] = (
    ("dispatch (energy, export, basic charge, wear, shedding)", "savings_dispatch_cny"),
    ("green contracts (net)", "savings_green_contracts_cny"),
    ("green certificates", "savings_certificates_cny"),
    ("carbon price", "savings_carbon_cny"),
)


def _has_split(s: Mapping[str, Any]) -> bool:
    return all(key in s for _, key in SAVINGS_ROWS)


def _marginal(carbon: Mapping[str, Any]) -> bool:
    """Whether the run's grid factors are marginal (its reductions are labelled so)."""
    return (carbon.get("grid_factor") or {}).get("kind") == "marginal"


def _kpi_cards(s: dict[str, Any]) -> str:
    b = s["baseline"]
    cur = currency(s)
    base = max(abs(b["total_cost_cny"]), 1e-9)
    if _has_split(s):
        dispatch = s["savings_dispatch_cny"]
        savings = [
            (
                f"{dispatch:,.0f} {cur}",
                f"dispatch savings vs baseline ({100 * dispatch / base:.1f} %)",
            ),
            (
                f"{s['savings_cny']:,.0f} {cur}",
                "total savings, with green contracts, certificates and carbon price "
                f"({100 * s['savings_cny'] / base:.1f} %)",
            ),
        ]
    else:
        savings = [
            (
                f"{s['savings_cny']:,.0f} {cur}",
                f"bill savings vs baseline ({100 * s['savings_cny'] / base:.1f} %)",
            )
        ]
    cards = [
        *savings,
        (
            f"{max(b['peak_import_kw'].values()):,.0f} → "
            f"{max(s['peak_import_kw'].values()):,.0f} kW",
            "largest monthly peak import",
        ),
        (f"{s['peak_shaving_max_kw']:,.0f} kW", "largest monthly peak shaving"),
    ]
    carbon = s.get("carbon")
    if carbon:
        cut = carbon["reduction_vs_baseline"]
        cards.append(
            (
                f"{cut['market_based_t']:,.0f} t CO₂",
                f"market-based reduction ({percent(cut['market_based_fraction'])})"
                + (", marginal grid factors" if _marginal(carbon) else ""),
            )
        )
    target = (s.get("green") or {}).get("target")
    if target:
        cards.append(
            (
                percent(target["achieved_fraction"]),
                f"green share (target {100 * target['fraction']:.0f} %)",
            )
        )
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><b>{escape(v)}</b><span>{escape(t)}</span></div>' for v, t in cards
        )
        + "</div>"
    )


def _bill_table(s: dict[str, Any], site: Any) -> str:
    """Baseline against optimized by bill part: :data:`BILL_ROWS`, with every other money
    column the site's units bill (:func:`vpp.runs.bill.extra_bill_rows`) before the total."""
    b = s["baseline"]
    rows = []
    usual = BILL_ROWS[:-1]
    extra = extra_bill_rows(site, [key for _, key, _ in BILL_ROWS], s)
    for label, key, sign in (*usual, *extra, BILL_ROWS[-1]):
        if key not in s or key not in b:
            continue
        change = sign * (s[key] - b[key])
        css = "good" if change < 0 else "bad" if change > 0 else ""
        rows.append(
            [
                escape(label),
                number(b[key]),
                number(s[key]),
                f'<span class="{css}">{change:+,.0f}</span>',
            ]
        )
    return html_table(
        [f"bill [{currency(s)}]", "baseline", "optimized", "change"], rows, total_last=True
    )


def _savings_table(s: dict[str, Any]) -> str:
    """The savings against the baseline by source; empty for a summary without the split."""
    if not _has_split(s):
        return ""
    base = max(abs(s["baseline"]["total_cost_cny"]), 1e-9)
    rows = [
        [escape(label), number(s[key]), number(100 * s[key] / base, 1)]
        for label, key in (*SAVINGS_ROWS, ("total", "savings_cny"))
    ]
    return (
        html_table(
            ["savings vs baseline", f"[{currency(s)}]", "[% of baseline bill]"],
            rows,
            total_last=True,
        )
        + "<p class='note'>The baseline has no green contracts and no certificates; the "
        "dispatch line is what the batteries, flexibility and use of PV save on the grid "
        "bill. The carbon price is charged in both.</p>"
    )


def _energy_table(s: dict[str, Any]) -> str:
    e = s["energy_kwh"]
    base = s["baseline"].get("energy_kwh", {})
    rows = []
    for key, value in e.items():
        label = key.removesuffix("_kwh").replace("_", " ")
        if key.endswith("_kwh"):
            rows.append(
                [
                    escape(label),
                    number(base[key] / 1e3, 1) if key in base else "–",
                    number(value / 1e3, 1),
                ]
            )
        else:
            rows.append([escape(label + " [-]"), "–", number(value, 2)])
    return html_table(["energy [MWh]", "baseline", "optimized"], rows)


#: Rows and columns of the flows table: (key in ``energy_flows_kwh``, label).
FLOW_SOURCES = (
    ("pv", "PV"),
    ("battery", "batteries"),
    ("generation", "on-site generation"),
    ("grid", "grid import"),
)
FLOW_SINKS = (("load", "to load"), ("battery", "to batteries"), ("grid", "to grid (export)"))


def _flows_table(s: dict[str, Any]) -> str:
    """``summary["energy_flows_kwh"]`` as a source-by-sink table [MWh], with its rule.

    A source row that is zero throughout (no generator) is left out; empty for a summary
    without flows.
    """
    flows = s.get("energy_flows_kwh")
    if not isinstance(flows, Mapping) or not flows:
        return ""
    rows = []
    for source, label in FLOW_SOURCES:
        values = [float(flows.get(f"{source}_to_{sink}_kwh", 0.0)) for sink, _ in FLOW_SINKS]
        if source == "generation" and not any(values):
            continue
        rows.append(
            [escape(label), *(number(v / 1e3, 1) for v in values), number(sum(values) / 1e3, 1)]
        )
    head = ["energy flows [MWh]", *(escape(label) for _, label in FLOW_SINKS), "total"]
    return html_table(head, rows) + (
        "<p class='note'>Who serves whom, step by step: PV serves the load first, then "
        "battery charging, then export; battery discharge serves the remaining load, then "
        "export (the rest, when batteries charge and discharge in the same step, goes to "
        "batteries); on-site generation serves the remaining load, then charging, then "
        "export; grid import serves the remaining load, then charging (the rest, when the "
        "site imports and exports in the same step, goes back to the grid). The load is "
        "every consumption except battery charging. Columns <code>flow_*_kw</code> of the "
        "schedule.</p>"
    )


#: Unit suffixes of summary keys and how they are shown: (suffix, unit, scale).
UNITS: tuple[tuple[str, str, float], ...] = (
    ("_fraction", "%", 100.0),
    ("_cny", "CNY", 1.0),
    ("_kwh", "MWh", 1e-3),
    ("_kw", "kW", 1.0),
    ("_t", "t CO₂", 1.0),
)


def _label(key: str, cur: str = "CNY") -> tuple[str, float]:
    """A summary key (or ``a / b`` path) as a label with its unit, and the factor to it;
    ``_cny`` amounts are labelled with the run's currency ``cur``."""
    parts = key.split(" / ")
    unit, scale = "", 1.0
    for part in (parts[-1], *parts[:-1]):
        found = next((u for u in UNITS if part.endswith(u[0])), None)
        if found is not None:
            unit, scale = (cur if found[0] == "_cny" else found[1]), found[2]
            break
    words = []
    for part in parts:
        for suffix, _unit, _scale in UNITS:
            part = part.removesuffix(suffix)
        words.append(part.replace("_", " "))
    return " / ".join(words) + (f" [{unit}]" if unit else ""), scale


def _cell(key: str, value: Any) -> str:
    _, scale = _label(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = scale * value
        return number(value, 1 if scale != 1.0 or abs(value) < 100 else 0)
    return escape("" if value is None else value)


def _no_months(row: Mapping[str, Any]) -> dict[str, Any]:
    """``_flatten(row)`` without per-month entries (keys ending in ``/ YYYY-MM``)."""
    return {k: v for k, v in _flatten(row).items() if not re.search(r"/ \d{4}-\d{2}$", k)}


def _extra_tables(s: dict[str, Any]) -> str:
    """``summary["kpis"]`` and ``summary["baselines"]``, when another part adds them.

    Scalars of ``kpis`` go to one table; a mapping of mappings in it (such as the
    comparison with each baseline) becomes a table of its own, one row per entry.
    """
    parts = []
    cur = currency(s)
    kpis = s.get("kpis")
    if isinstance(kpis, Mapping) and kpis:
        scalars: dict[str, Any] = {}
        for key, value in kpis.items():
            if (
                isinstance(value, Mapping)
                and value
                and all(isinstance(v, Mapping) for v in value.values())
            ):
                rows = {name: _no_months(row) for name, row in value.items()}
                cols = list(dict.fromkeys(k for row in rows.values() for k in row))
                head = [escape(key.replace("_", " ")), *(escape(_label(c, cur)[0]) for c in cols)]
                parts.append(
                    f"<h3>Key figures: {escape(key.replace('_', ' '))}</h3>"
                    + html_table(
                        head,
                        (
                            [escape(name), *(_cell(c, row.get(c)) for c in cols)]
                            for name, row in rows.items()
                        ),
                    )
                )
            else:
                scalars.update(_no_months({key: value}))
        if scalars:
            table = html_table(
                ["indicator", "value"],
                ([escape(_label(k, cur)[0]), _cell(k, v)] for k, v in scalars.items()),
            )
            parts.insert(0, "<h3>Key figures</h3>" + table)
    baselines = s.get("baselines")
    if isinstance(baselines, Mapping) and baselines:
        rows = {name: _flatten_top(b) for name, b in baselines.items() if isinstance(b, Mapping)}
        keys = [k for k in BASELINE_COLUMNS if any(k in row for row in rows.values())]
        if not keys:
            keys = sorted(
                {
                    k
                    for row in rows.values()
                    for k, v in row.items()
                    if isinstance(v, (int, float)) and not isinstance(v, bool)
                }
            )[:8]
        mine = _flatten_top({**s, "emissions_t": s.get("carbon") or {}})
        body = [[escape(name), *(_cell(k, row.get(k)) for k in keys)] for name, row in rows.items()]
        body.append(["<b>optimized (this run)</b>", *(_cell(k, mine.get(k)) for k in keys)])
        parts.append(
            "<h3>Baselines compared</h3>"
            + html_table(["baseline", *(escape(_label(k, cur)[0]) for k in keys)], body)
        )
    return "".join(parts)


def _flatten_top(b: Mapping[str, Any]) -> dict[str, Any]:
    """A summary's scalars, with energy and emission totals lifted up and the largest
    monthly peak as ``peak_import_kw``."""
    out = {k: v for k, v in b.items() if not isinstance(v, Mapping)}
    for nested in ("energy_kwh", "emissions_t", "carbon"):
        inner = b.get(nested)
        if isinstance(inner, Mapping):
            out.update({k: v for k, v in inner.items() if not isinstance(v, Mapping)})
    peaks = b.get("peak_import_kw")
    if isinstance(peaks, Mapping) and peaks:
        out["peak_import_kw"] = max(peaks.values())
    return out


def _peak_table(s: dict[str, Any]) -> str:
    base = s["baseline"]["peak_import_kw"]
    rows = [
        [escape(m), number(base.get(m, "")), number(p), number(s["peak_shaving_kw"].get(m, ""))]
        for m, p in sorted(s["peak_import_kw"].items())
    ]
    return html_table(["month", "baseline [kW]", "optimized [kW]", "shaving [kW]"], rows)


def _bill_monthly_table(s: dict[str, Any]) -> str:
    base = {r["month"]: r for r in s["baseline"].get("bill_monthly") or []}
    rows = []
    for r in s.get("bill_monthly") or []:
        b = base.get(r["month"], {})
        rows.append(
            [
                escape(r["month"]),
                number(b.get("total_cost_cny", "")),
                number(r["total_cost_cny"]),
                number(b.get("total_cost_cny", 0.0) - r["total_cost_cny"]),
            ]
        )
    cur = currency(s)
    return html_table(
        ["month", f"baseline [{cur}]", f"optimized [{cur}]", f"savings [{cur}]"], rows
    )


def _carbon_section(s: dict[str, Any], figures: Mapping[str, str]) -> str:
    carbon = s.get("carbon")
    if not carbon:
        return "<p class='note'>This run has no carbon account.</p>"
    base = carbon["baseline"]["by_carrier_t"]
    rows = [
        [
            escape(k.replace("_", " ")),
            number(base.get(k, 0.0), 1),
            number(v, 1),
            number(v - base.get(k, 0.0), 1),
        ]
        for k, v in carbon["by_carrier_t"].items()
    ]
    for key in ("location_based_t", "market_based_t"):
        rows.append(
            [
                f"<b>total, {escape(key.removesuffix('_t').replace('_', '-'))}</b>",
                number(carbon["baseline"][key], 1),
                number(carbon[key], 1),
                number(carbon[key] - carbon["baseline"][key], 1),
            ]
        )
    out = [html_table(["emissions [t CO₂]", "baseline", "optimized", "change"], rows)]
    label = grid_factor_label(carbon)
    out.append(f"<p class='note'>{escape(label[:1].upper() + label[1:])}.</p>")
    annual = carbon.get("annual") or {}
    if "horizon_share_of_year" in annual:
        note = str(annual.get("note", ""))
        out.append(
            f"<p class='note'>Horizon's share of a year: {annual['horizon_share_of_year']:.4f}. "
            f"{escape(note[:1].upper() + note[1:])}.</p>"
        )
    for name, caption in (
        (
            "emissions_by_carrier.png",
            "Emissions by carrier, baseline and optimized, under "
            "location-based and market-based accounting [t CO2].",
        ),
        (
            "emissions_waterfall.png",
            "From the baseline's market-based emissions to the "
            "optimized ones: green contracts and certificates are valued at the baseline's "
            "average market-based factor; the grid-import step is the rest of the electricity "
            "change [t CO2].",
        ),
    ):
        if name in figures:
            out.append(html_figure(figures[name], caption.split(",")[0], caption))
    return "".join(out)


def build_report(result: RunResult, figures: Mapping[str, str]) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    result : RunResult
        The run.
    figures : mapping of str to str
        Image sources by file name (``dispatch.png``, ``peak_import.png``,
        ``load_duration.png``, ``bill_monthly.png``, ``emissions_by_carrier.png``,
        ``emissions_waterfall.png``, and for a rolling run ``rolling_week.png``),
        normally :func:`vpp.report.html_parts.data_uri` strings. Missing figures are left out.

    A rolling run (``summary["mode"] == "rolling"``) gets a section "Operation on
    forecasts" first; a summary without ``mode`` is a perfect-foresight run.
    """
    rolling = result.summary.get("mode", "perfect") == "rolling"
    s = result.summary
    h = s["horizon"]
    title = f"vpp report: {s['scenario']}"
    tariff = (s.get("tariff") or {}).get("title", "")
    weather = (s.get("weather") or {}).get("source", "")

    def fig(name: str, alt: str, caption: str) -> str:
        return html_figure(figures[name], alt, caption) if name in figures else ""

    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='meta'>Horizon {escape(h['start'][:16])} to {escape(h['end'][:16])}, "
        f"{h['steps']} steps of {h['step_h']:g} h; solver status {escape(s['status'])}.</p>",
        f"<p class='meta'>Tariff: {escape(tariff)}</p>" if tariff else "",
        f"<p class='meta'>Weather: {escape(weather)}</p>" if weather else "",
        "<nav>"
        + ("<a href='#rolling'>operation on forecasts</a>" if rolling else "")
        + "<a href='#summary'>summary</a><a href='#peaks'>peak import</a>"
        "<a href='#duration'>load duration</a><a href='#week'>dispatch week</a>"
        "<a href='#bill'>bill</a><a href='#emissions'>emissions</a></nav>",
        rolling_section(result, figures) if rolling else "",
        "<h2 id='summary'>Summary</h2>",
        _kpi_cards(s),
        "<p class='note'>Baseline: " + escape(s["baseline"].get("description", "")) + ".</p>",
        _bill_table(s, result.scenario.site),
        _savings_table(s),
        _energy_table(s),
        _flows_table(s),
        _extra_tables(s),
        "<h2 id='peaks'>Monthly peak import</h2>",
        fig(
            "peak_import.png",
            "Monthly peak import",
            "Largest grid import of each month, "
            "baseline against optimized [kW]; the basic (demand) charge is billed on it.",
        ),
        _peak_table(s),
        "<h2 id='duration'>Load-duration curves</h2>",
        fig(
            "load_duration.png",
            "Load-duration curves",
            "Each curve sorts one series from "
            "its highest to its lowest step: the site load, and the grid import of the "
            "baseline and of the optimized dispatch [kW]; right: the highest hours.",
        ),
        "<h2 id='week'>A representative week</h2>",
        fig(
            "dispatch.png",
            "Dispatch of a representative week",
            "The week around the "
            "baseline's largest import: supply stack against demand, grid import, prices "
            "and the batteries' state of charge.",
        ),
        "<h2 id='bill'>Monthly bill</h2>",
        fig(
            "bill_monthly.png",
            "Monthly bill breakdown",
            "Each month's bill by part, baseline (pale, left) and optimized (solid, right) "
            f"[{currency(s)}]; credits stack below zero, the black bar is the total.",
        ),
        _bill_monthly_table(s),
        "<h2 id='emissions'>Emissions</h2>",
        _carbon_section(s, figures),
        "<p class='note'>Written by vpp from the run's summary.json; the figures are also "
        "in the run folder as PNG files.</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
