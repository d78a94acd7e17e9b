"""The cost-carbon frontier as a table of ``report.html`` (``vpp size --frontier N``).

One row per point: its emissions and annualized cost, each candidate's sizes and the
sizes that sit at a limit of their ``sizing`` entry (the same flags as the single
sizing, :mod:`vpp.planning.limits`), then the flags as sentences with the points they
hold at (:func:`vpp.planning.limits.frontier_limit_lines`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from vpp.planning.limits import LIMIT_MEANING, frontier_limit_lines, limit_lines
from vpp.report.html_parts import escape, html_table

#: The frontier's size columns (``<candidate>_<size>``) and their units.
SIZE_COLUMNS = {"capacity_kw": "kWp", "energy_kwh": "kWh", "power_kw": "kW"}


def frontier_table_html(points: Sequence[Mapping[str, Any]] | None, cur: str) -> str:
    """The frontier's points as an HTML table, and its sizes at a limit; empty when none.

    Parameters
    ----------
    points : sequence of mapping
        ``summary["frontier"]``: per point ``point`` (from 0), ``status``,
        ``emissions_t_per_year`` [t/yr], ``cost_cny_per_year`` [``cur``/yr], the sizes
        as ``<candidate>_capacity_kw`` [kWp], ``_energy_kwh`` [kWh], ``_power_kw`` [kW],
        and ``limits`` (per candidate and size, as ``summary["sizes"][c]["limits"]``).
    cur : str
        The study's currency.
    """
    if not points:
        return ""
    names: list[str] = []  # the candidates, in the order of their columns
    for p in points:
        for k in p:
            key = _size_key(str(k))
            name = None if key is None else str(k).removesuffix("_" + key)
            if name is not None and name not in names:
                names.append(name)
    rows = []
    for p in points:
        limits = p.get("limits") if isinstance(p.get("limits"), dict) else {}
        flags = [line.split(": ", 1)[0] for line in limit_lines(limits)]
        rows.append(
            [
                str(int(p["point"]) + 1),
                escape(p.get("status", "")),
                _number(p.get("emissions_t_per_year")),
                _number(p.get("cost_cny_per_year")),
                *(escape(_sizes(p, name)) for name in names),
                escape("; ".join(flags)) or "–",
            ]
        )
    header = [
        "point",
        "status",
        "emissions [t/yr]",
        f"annualized cost [{escape(cur)}/yr]",
        *(escape(n) for n in names),
        "at a limit",
    ]
    lines = frontier_limit_lines(list(points))
    note = (
        f"<p class='note'><strong>At a limit on the frontier</strong> "
        f"({escape(LIMIT_MEANING)}):</p><ul>"
        + "".join(f"<li>{escape(line)}</li>" for line in lines)
        + "</ul>"
        if lines
        else ""
    )
    return html_table(header, rows) + note


def _size_key(column: str) -> str | None:
    """The size field a frontier column holds (``capacity_kw``), or None."""
    for key in SIZE_COLUMNS:
        if column.endswith("_" + key) and column != key:
            return key
    return None


def _sizes(point: Mapping[str, Any], name: str) -> str:
    """``2,880 kWp`` or ``11,624 kWh / 2,080 kW`` of one candidate at one point."""
    parts = []
    for key, unit in SIZE_COLUMNS.items():
        value = point.get(f"{name}_{key}")
        if isinstance(value, (int, float)) and math.isfinite(value):
            parts.append(f"{value:,.0f} {unit}")
    return " / ".join(parts) or "–"


def _number(value: Any) -> str:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:,.0f}"
    return "–"
