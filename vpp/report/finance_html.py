"""The finance by party in the sizing report and in the terminal lines of ``vpp size``.

Reads ``summary["finance"]["by_party"]`` (:func:`vpp.planning.parties.party_cash_flows`);
nothing is shown when the scenario's finance asks for none of ownership emc, tax,
subsidies or debt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vpp.report.html_parts import escape, html_table

__all__ = [
    "battery_fade_html",
    "battery_fade_lines",
    "finance_by_party_html",
    "finance_by_party_lines",
]

#: How each party is named in the report.
_LABEL = {
    "owner": "owner (the host)",
    "investor": "investor",
    "host": "host",
    "project": "project (all parties)",
}


def _label(role: str, info: Mapping[str, Any]) -> str:
    if role == "project" and info["tax"] is not None:
        return "project, after tax"
    return _LABEL.get(role, role)


def _pct(value: float | None) -> str:
    """An IRR; 'not defined' when the flows never change sign (no outlay, or no payback)."""
    return "not defined" if value is None else f"{100 * value:.1f} %"


def _share(value: float) -> str:
    """A rate or share as written: 12.5 %, 13 %, 25 %."""
    return f"{100 * value:.4g} %"


def _years(n: int) -> str:
    return f"{n} year" if n == 1 else f"{n} years"


def _money(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _terms(party: Mapping[str, Any], cur: str) -> str:
    text = f"NPV {_money(party['npv_cny'])} {cur}, IRR {_pct(party['irr_fraction'])}"
    if "equity_npv_cny" in party:
        text += (
            f"; equity NPV {_money(party['equity_npv_cny'])} {cur}, "
            f"IRR {_pct(party['equity_irr_fraction'])}"
        )
    return text


def _basis(info: Mapping[str, Any], cur: str) -> list[str]:
    """What the figures assume: contract, tax, subsidies, debt, one sentence each."""
    out = []
    if info["model"] == "emc":
        out.append(
            f"Energy-management contract: the investor receives "
            f"{_share(info['investor_share_of_savings'])} of the savings for "
            f"{_years(info['contract_years'])}; the assets are {info['assets_after_contract']}."
        )
    else:
        out.append("Owner-financed: the host pays for the assets and keeps every saving.")
    tax = info["tax"]
    if tax is None:
        out.append("Before tax.")
    else:
        out.append(
            f"VAT {_share(tax['vat_goods'])} on equipment and electricity, "
            f"{_share(tax['vat_services'])} on the energy-service fee; income tax "
            f"{_share(tax['income_tax'])}, straight-line depreciation over "
            f"{_years(tax['depreciation_years'])} to {_share(tax['salvage_fraction'])}; "
            + (
                f"losses carried forward up to {_years(tax['loss_carry_forward_years'])}."
                if tax["losses"] == "carry_forward"
                else "losses offset at once against other profits."
            )
        )
    if info["subsidies_cny"]:
        out.append(f"Subsidies {_money(info['subsidies_cny'])} {cur} in all (undiscounted).")
    if info["debt_cny"]:
        out.append(f"Loan {_money(info['debt_cny'])} {cur}, repaid in equal annuities.")
    return out


def finance_by_party_lines(fin: Mapping[str, Any], cur: str) -> list[str]:
    """Terminal lines: one per party, then the basis; [] without a finance by party."""
    info = fin.get("by_party")
    if info is None:
        return []
    lines = ["  finance by party (the NPV above: the project's, before tax and financing):"]
    for role, party in info["parties"].items():
        lines.append(f"    {_label(role, info):<22} {_terms(party, cur)}")
    lines += [f"    {sentence}" for sentence in _basis(info, cur)]
    return lines


def finance_by_party_html(fin: Mapping[str, Any], cur: str) -> str:
    """The report's "Finance by party" section; "" without a finance by party."""
    info = fin.get("by_party")
    if info is None:
        return ""
    equity = any("equity_npv_cny" in p for p in info["parties"].values())  # a loan
    rows = [
        [
            escape(_label(role, info)),
            f"{_money(p['npv_cny'])} {cur}",
            _pct(p["irr_fraction"]),
            *(
                [
                    f"{_money(p['equity_npv_cny'])} {cur}" if "equity_npv_cny" in p else "–",
                    _pct(p["equity_irr_fraction"]) if "equity_irr_fraction" in p else "–",
                ]
                if equity
                else []
            ),
        ]
        for role, p in info["parties"].items()
    ]
    sources = ""
    if info["tax"] is not None:
        named = info["tax"]["sources"].items()
        items = "".join(f"<li>{escape(name)}: {escape(src)}</li>" for name, src in named)
        sources = f"<p class='note'>Sources of the tax rates:</p><ul class='note'>{items}</ul>"
    return "".join(
        [
            "<h2>Finance by party</h2>",
            html_table(
                ["party", "NPV", "IRR", *(["equity NPV", "equity IRR"] if equity else [])], rows
            ),
            "<p class='note'>"
            + " ".join(escape(s) for s in _basis(info, cur))
            + " Each party's NPV is after tax and before financing"
            + (
                "; the equity figures add the loan, its annuities and the interest's tax shield"
                if equity
                else ""
            )
            + ". An IRR is not defined when a party's flows never change sign (no outlay, "
            "or no payback). Year by year: the party columns of cash_flows.csv.</p>",
            sources,
        ]
    )


def _replaced(f: Mapping[str, Any]) -> str:
    """When a battery's cells are replaced, and when the whole battery is bought again
    (its ``lifetime_years``), in words."""
    years = f["replacement_years"]
    if not years:
        text = f"cells not replaced ({f['replacement_from']})"
    else:
        listed = ", ".join(str(y) for y in years)
        every = _years(f["replacement_interval_years"])
        text = (
            f"cells replaced at the end of year {listed} (every {every}, from "
            f"{f['replacement_from']})"
        )
    renewed = f.get("renewed_years") or []
    if renewed:
        at_end = f.get("capacity_fraction_end_of_year") or []
        cells = [
            f"cells at {_share(round(at_end[y - 1], 3))}" for y in renewed if 0 < y <= len(at_end)
        ]
        text += (
            f"; the whole battery bought again at the end of year "
            f"{', '.join(str(y) for y in renewed)} (lifetime_years"
            + (f"; {', '.join(cells)}" if cells else "")
            + ")"
        )
    return text


def _health_at_end(f: Mapping[str, Any]) -> str:
    """The state of health at the end of the analysis, and of which purchase."""
    share = _share(round(f["state_of_health_end"], 3))
    renewed = f.get("renewed_years") or []
    return f"{share} (the battery bought in year {renewed[-1]})" if renewed else share


def _to_eol(f: Mapping[str, Any]) -> str:
    to_eol = f["years_to_end_of_life"]
    return "never" if to_eol is None else f"after {to_eol:.1f} years"


def battery_fade_lines(fin: Mapping[str, Any]) -> list[str]:
    """Terminal lines on each ageing battery (``finance.battery_fade``); [] without."""
    lines = []
    for name, f in fin.get("battery_fade", {}).items():
        efc = f["equivalent_full_cycles_per_year"]
        lines += [
            f"  ageing {name}: {efc['nameplate']:,.0f} equivalent full cycles/yr on nameplate, "
            f"{efc['usable']:,.0f} on usable capacity; cell {f['cell_temperature']}",
            f"    capacity {_share(f['end_of_life_fraction'])} (end of life) {_to_eol(f)}; "
            f"{_replaced(f)}; {_health_at_end(f)} at the end",
        ]
        lines += [f"    note: {note}" for note in f["notes"]]
    return lines


def battery_fade_html(fin: Mapping[str, Any], cur: str, figure: str = "") -> str:
    """The report's "Battery ageing" section with ``figure`` (HTML); "" without ageing."""
    fade = fin.get("battery_fade")
    if not fade:
        return ""
    rows = []
    for name, f in fade.items():
        efc = f["equivalent_full_cycles_per_year"]
        rows.append(
            [
                escape(name),
                f"{efc['nameplate']:,.0f} / {efc['usable']:,.0f}",
                escape(f["cell_temperature"]),
                f"{_share(f['end_of_life_fraction'])} ({escape(f['end_of_life_from'])})",
                escape(_to_eol(f)),
                escape(_replaced(f))
                + (
                    f", {_money(f['replacement_cny'])} {cur} each replacement"
                    if f["replacement_years"]
                    else ""
                ),
                escape(_health_at_end(f)),
            ]
        )
    models = sorted({f"{f['model']}: {f['source']}" for f in fade.values()})
    notes = [f"{name}: {n}" for name, f in fade.items() for n in f["notes"]]
    return "".join(
        [
            "<h2>Battery ageing</h2>",
            html_table(
                [
                    "battery",
                    "equivalent full cycles per year, nameplate / usable",
                    "cell temperature",
                    "end of life",
                    "reached",
                    "cells",
                    "capacity at the end",
                ],
                rows,
            ),
            figure,
            "<p class='note'>Capacity fade from calendar and cycle ageing ("
            + escape("; ".join(models))
            + "), driven by the sized dispatch's state of charge and the cell temperature, "
            "the simulated year repeated over the analysis period. The battery's part of "
            "the savings (all but the PV's) scales with its capacity left, and its residual "
            "value is the lesser of its remaining life by age and by state of health. "
            "Equivalent full cycles: energy discharged at the bus over the nameplate and over "
            "the usable capacity (the state-of-charge window).</p>",
            *(f"<p class='note'>Note: {escape(n)}</p>" for n in notes),
        ]
    )
