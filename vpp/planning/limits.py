"""Sizes at their limits: where a limit, not the economics, chose a size.

A chosen size within :data:`AT_LIMIT_TOL` of a bound of its variable in the sizing
model is at that limit: the optimum would move past it if the limit moved, so the
limit, not the economics, chose the size. Each unit names the ``sizing`` keys that set
its sizes' bounds (``size_limit_keys``); the flag carries the full key to raise (or
lower), such as ``site.pv[1].sizing.max_kw``.

A size of zero at a lower bound of zero is "not built", not a flag.

The points of the cost-carbon frontier (:mod:`vpp.planning.frontier`) carry the same
flags, point by point; :func:`frontier_limit_lines` says which points sit at which limit.
"""

from __future__ import annotations

from typing import Any

from vpp.planning.sizing_model import SizingModel, sized_entries
from vpp.scenario.schema import Scenario

#: A size this close to a bound of its variable is at it; the units snap sizes this
#: close onto the bound (``SNAP_TOL`` of :mod:`vpp.assets.pv.block` and
#: :mod:`vpp.assets.battery.block`) [kWp, kWh, kW or units].
AT_LIMIT_TOL = 1e-3

#: The unit of each size field, for messages.
SIZE_UNITS = {"capacity_kw": "kWp", "energy_kwh": "kWh", "power_kw": "kW", "units": "units"}

#: What the limit flags say.
LIMIT_MEANING = "the limit, not the economics, chose this"


def size_limits(
    scenario: Scenario, sm: SizingModel, sizes: dict[str, dict[str, Any]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per candidate and size: whether the chosen size sits at a limit.

    Parameters
    ----------
    scenario : Scenario
        The planning scenario.
    sm : SizingModel
        The solved sizing model (its variables carry the bounds).
    sizes : dict
        The chosen sizes (:func:`vpp.planning.sizing_model.chosen_sizes`).

    Returns
    -------
    dict
        ``{candidate: {size: {"at_limit", "limit_value", "key"}}}`` for each size the
        unit bounds: ``at_limit`` is ``"upper"``, ``"lower"`` or None, ``limit_value``
        the bound it sits at [the size's unit] and ``key`` the scenario key that sets
        it (None when no key does).
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for unit, entry in sized_entries(scenario):
        block = sm.model.asset[entry.name]
        names = [getattr(e, "name", None) for e in getattr(scenario.site, unit.site_key)]
        prefix = f"site.{unit.site_key}[{names.index(entry.name)}].sizing."
        limits = {}
        for size, (low_key, high_key) in unit.size_limit_keys(entry).items():
            value = sizes[entry.name].get(size)
            var = getattr(block, size, None)
            if value is None or var is None:
                continue
            limits[size] = limit_flag(float(value), var.lb, var.ub, low_key, high_key, prefix)
        out[entry.name] = limits
    return out


def limit_flag(
    value: float,
    lower: float | None,
    upper: float | None,
    low_key: str | None,
    high_key: str | None,
    prefix: str = "",
) -> dict[str, Any]:
    """``{"at_limit", "limit_value", "key"}`` of one size (:func:`size_limits`).

    Upper when within :data:`AT_LIMIT_TOL` of ``upper`` (also when the bounds are
    equal); lower when within it of ``lower``, except a zero at a lower bound of zero
    (not built).
    """
    if upper is not None and abs(value - float(upper)) <= AT_LIMIT_TOL:
        return _flag("upper", float(upper), high_key, prefix)
    if lower is not None and abs(value - float(lower)) <= AT_LIMIT_TOL:
        if abs(float(lower)) > AT_LIMIT_TOL:
            return _flag("lower", float(lower), low_key, prefix)
    return {"at_limit": None, "limit_value": None, "key": None}


def _flag(side: str, bound: float, key: str | None, prefix: str) -> dict[str, Any]:
    return {"at_limit": side, "limit_value": bound, "key": None if key is None else prefix + key}


def limit_lines(limits: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """One sentence per size at a limit, for the terminal and the report.

    ``<candidate> <size> at its upper limit of <v> <unit>: the limit, not the economics,
    chose this (raise <key>)``.
    """
    lines = []
    for name, per_size in limits.items():
        for size, flag in per_size.items():
            side = flag["at_limit"]
            if side is None:
                continue
            label = size.rsplit("_", 1)[0] if size != "units" else "unit count"
            unit = SIZE_UNITS.get(size)
            value = f"{flag['limit_value']:,.0f}" + (f" {unit}" if unit else "")
            text = f"{name} {label} at its {side} limit of {value}: {LIMIT_MEANING}"
            if flag["key"] is not None:
                text += f" ({'raise' if side == 'upper' else 'lower'} {flag['key']})"
            lines.append(text)
    return lines


def limit_columns(limits: dict[str, dict[str, Any]]) -> str:
    """A candidate's flags in one cell (``sizes.csv``): ``size upper 800; ...``."""
    return "; ".join(
        f"{size} {flag['at_limit']} {flag['limit_value']:g}"
        for size, flag in limits.items()
        if flag["at_limit"] is not None
    )


def frontier_limit_lines(points: list[dict[str, Any]] | None) -> list[str]:
    """The frontier's sizes at a limit, one sentence per flag with the points it holds at.

    ``frontier points 1-3, 5 of 6: <the sentence of limit_lines>`` (``point 4 of 6``
    for one point); points are numbered
    from 1, in the frontier's order (``point`` + 1). A point without ``limits`` (one
    HiGHS could not solve) has no flag.
    """
    if not points:
        return []
    where: dict[str, list[int]] = {}
    for p in points:
        limits = p.get("limits")
        if not isinstance(limits, dict):
            continue
        for line in limit_lines(limits):
            where.setdefault(line, []).append(int(p["point"]) + 1)
    n = len(points)
    return [
        f"frontier {'point' if len(ks) == 1 else 'points'} {_ranges(ks)} of {n}: {line}"
        for line, ks in where.items()
    ]


def _ranges(numbers: list[int]) -> str:
    """``1-3, 5`` of sorted point numbers."""
    parts: list[str] = []
    start = prev = numbers[0]
    for k in [*numbers[1:], None]:
        if k is not None and k == prev + 1:
            prev = k
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if k is not None:
            start = prev = k
    return ", ".join(parts)
