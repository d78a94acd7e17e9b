"""The sizing study as one self-contained HTML page (``report.html`` of ``vpp size``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpp.assets import site_entries
from vpp.planning.limits import LIMIT_MEANING, limit_lines
from vpp.planning.size import SizingResult
from vpp.planning.typical import typical_days_line
from vpp.report.finance_html import battery_fade_html, finance_by_party_html
from vpp.report.frontier_table import frontier_table_html
from vpp.report.html_parts import (
    CSS,
    currency,
    data_uri,
    escape,
    html_figure,
    html_table,
    number,
)


def _money(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"


def build_sizing_report(result: SizingResult, figures: Mapping[str, str]) -> str:
    """The page: sizes against their limits, costs, finance, cash flows, frontier.

    ``figures`` maps ``cash_flows.png`` and ``frontier.png`` to image sources (data URIs);
    missing ones are left out. The battery ageing figure (``battery_fade.png``) is drawn
    here when not given.
    """
    s = result.summary
    fin = s["finance"]
    cur = currency(s)
    title = f"vpp sizing study: {s['scenario']}"
    rows = []
    for _, c in site_entries(result.scenario.site):
        z = getattr(c, "sizing", None)
        if z is None:
            continue
        chosen = result.sizes[c.name]
        flags = limit_lines({c.name: s["sizes"][c.name].get("limits", {})})
        limit = "; ".join(escape(f.split(": ", 1)[0].removeprefix(c.name + " ")) for f in flags)
        if "capacity_kw" in chosen:  # a rated power (PV)
            rows.append(
                [
                    escape(c.name),
                    "PV",
                    f"{chosen['capacity_kw']:,.0f} kWp",
                    f"{z.min_kw:,.0f} .. {z.limit_kw:,.0f} kWp",
                    f"{z.capex_cny_per_kw:,.0f} {cur}/kWp",
                    limit or "–",
                ]
            )
        else:  # an energy and a power (storage)
            top = "" if z.max_power_kw is None else f", power up to {z.max_power_kw:,.0f} kW"
            cost = f"{z.capex_cny_per_kwh:,.0f} {cur}/kWh + {z.capex_cny_per_kw:,.0f} {cur}/kW"
            rows.append(
                [
                    escape(c.name),
                    "battery",
                    f"{chosen['energy_kwh']:,.0f} kWh / {chosen['power_kw']:,.0f} kW",
                    f"{z.min_energy_kwh:,.0f} .. {z.max_energy_kwh:,.0f} kWh{top}",
                    cost,
                    limit or "–",
                ]
            )
    irr = fin["irr_fraction"]
    money = [
        ["capital cost", _money(fin["capex_cny"]) + f" {cur}"],
        ["bill of the site as it is", _money(s["as_is_total_cost_cny"]) + f" {cur}"],
        ["bill with the chosen sizes", _money(s["sized_total_cost_cny"]) + f" {cur}"],
        ["annual savings", _money(s["annual_savings_cny"]) + f" {cur}/yr"],
        ["annualized investment", _money(s["annualized_investment_cny"]) + f" {cur}/yr"],
        ["NPV", _money(fin["npv_cny"]) + f" {cur}"],
        ["IRR", "none" if irr is None else f"{100 * irr:.1f} %"],
        [
            "simple / discounted payback",
            " / ".join(
                "not reached" if v is None else f"{v:.1f} years"
                for v in (fin["simple_payback_years"], fin["discounted_payback_years"])
            ),
        ],
        [
            "LCOE of the PV",
            "–"
            if fin["lcoe_pv_cny_per_kwh"] is None
            else f"{fin['lcoe_pv_cny_per_kwh']:.3f} {cur}/kWh",
        ],
        [
            "levelized cost of storage",
            "–" if fin["lcos_cny_per_kwh"] is None else f"{fin['lcos_cny_per_kwh']:.3f} {cur}/kWh",
        ],
        [
            "CO2 avoided",
            f"{s['annual_co2_avoided_t']:,.0f} t/yr; "
            f"{fin['co2_avoided_life_t']:,.0f} t over the analysis period",
        ],
        [
            "net cost per tonne avoided",
            "–" if fin["cny_per_t_avoided"] is None else f"{fin['cny_per_t_avoided']:,.0f} {cur}/t",
        ],
    ]
    finance = result.scenario.finance
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='meta'>{s['horizon_years'] * 365:.0f} days of dispatch as the operating "
        f"model; discount rate {100 * finance.discount_rate:.1f} %, analysis period "
        f"{finance.analysis_years} years, tariff escalation "
        f"{100 * finance.tariff_escalation_fraction_per_year:.1f} %/yr.</p>",
        "<h2>Chosen sizes</h2>",
        html_table(["candidate", "kind", "chosen", "allowed", "capital cost", "at a limit"], rows),
        _limits_note(s),
        "<p class='note'>Sizes minimize the annualized capital cost (capital recovery factor "
        "of the discount rate and each lifetime) plus fixed O&amp;M plus the bill of the "
        "dispatch. Self-check: the sizes re-run as an ordinary dispatch give the bill "
        f"{number(s['check']['sized_bill_cny'])} {cur} against the sizing's operating part "
        f"{number(s['check']['sizing_operating_cost_cny'])} {cur} (gap "
        f"{s['check']['gap_cny']:+.4f} {cur}"
        + (
            ", within what the mixed-integer solves' gaps allow: "
            f"{s['check']['allowed_cny'][0]:+,.2f} to {s['check']['allowed_cny'][1]:+,.2f} {cur}"
            if "allowed_cny" in s["check"]
            else ""
        )
        + "). The sized site's own report: "
        "<a href='dispatch/report.html'>dispatch/report.html</a>.</p>",
        *(f"<p class='note'>Note: {escape(n)}</p>" for n in s.get("notes", [])),
        (
            f"<p class='note'>Sized on {escape(typical_days_line(s.get('representative_periods')))}"
            ".</p>"
            if s.get("representative_periods")
            else ""
        ),
        _solver_note(s.get("solver")),
        "<h2>The investment</h2>",
        html_table(["figure", "value"], money),
        html_figure(
            figures["cash_flows.png"],
            "Cash flows",
            "Net cash flow per year (bars) and the cumulative discounted net "
            f"[million {cur}]; year 0 is the investment, later dips are replacements and "
            "re-purchases at the end of a lifetime.",
        )
        if "cash_flows.png" in figures
        else "",
        finance_by_party_html(fin, cur),
        battery_fade_html(fin, cur, _fade_figure(s, figures)),
    ]
    if result.frontier is not None:
        body += [
            "<h2>Cost against carbon</h2>",
            html_figure(
                figures["frontier.png"],
                "Cost-carbon frontier",
                "Least annualized cost under each cap on the site's location-based "
                "electricity emissions (grid import times the grid factor), from the "
                "least-cost point to the least emissions the limits allow.",
            )
            if "frontier.png" in figures
            else "",
            frontier_table_html(s.get("frontier"), cur),
        ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _fade_figure(summary: dict[str, Any], figures: Mapping[str, str]) -> str:
    """The battery ageing figure as HTML; "" when no battery ages."""
    src = figures.get("battery_fade.png")
    if src is None:
        from vpp.report.sizing_figures import battery_fade_figure

        png = battery_fade_figure(summary)
        if png is None:
            return ""
        src = data_uri(png)
    return html_figure(
        src,
        "Battery capacity by year",
        "Capacity of each ageing battery at the end of each year [% of nameplate], its "
        "end of life (dashed) and the years its cells are replaced (dotted).",
    )


def _limits_note(summary: dict[str, Any]) -> str:
    """The sizes at a limit, each with the key to change; empty when none is."""
    flags = limit_lines({n: v.get("limits", {}) for n, v in summary["sizes"].items()})
    if not flags:
        return ""
    items = "".join(f"<li>{escape(f)}</li>" for f in flags)
    return (
        f"<p class='note'><strong>At a limit</strong> ({escape(LIMIT_MEANING)}: the "
        "economics would go further if the limit allowed):</p>"
        f"<ul>{items}</ul>"
    )


def _solver_note(solver: dict[str, Any] | None) -> str:
    """Which solver strategy answered, its gap, iterations and time, and the attempts
    that failed before it."""
    if not solver:
        return ""
    gap = solver.get("gap")
    text = (
        f"Solver: {escape(str(solver['strategy']))} ({escape(str(solver['status']))}, "
        + ("gap not reported" if gap is None else f"relative gap {gap:.2g}")
        + f", {solver['iterations']} iterations, {solver['seconds']:.1f} s)"
    )
    failed = [a for a in solver.get("attempts", [])[:-1]]
    if failed:
        text += "; after " + "; ".join(
            escape(f"{a['strategy']} ended with '{a['status']}' after {a['seconds']:.1f} s")
            for a in failed
        )
    return f"<p class='note'>{text}.</p>"
