"""The axes of a sweep: parameters varied alone, and linked values that step together.

A sweep's ``parameters`` maps a key path to its list of values (one axis each), or a
name of your choice to a mapping of key paths to lists of equal length: a **linked**
axis, whose values step together (zipped, not crossed)::

    parameters:
      battery:                        # linked: 3 steps, not 3 x 3 combinations
        site.batteries[0].energy_kwh: [1000, 2000, 4000]
        site.batteries[0].charge_power_kw, site.batteries[0].discharge_power_kw: [500, 1000, 2000]
      site.grid.energy_price.calendar: [jiangsu-2025-industrial, jiangsu-2023-industrial]

A linked axis may give a battery's duration instead of its power lists::

      battery:
        site.batteries[0].energy_kwh: [1000, 2000, 4000]
        duration_h: 2                 # charge and discharge power = energy / 2 h

which sets ``site.batteries[0].charge_power_kw`` and ``discharge_power_kw`` to
:math:`P = E / D` at each step (:math:`E` the energy [kWh], :math:`D` the duration [h],
:math:`P` [kW]). The combinations are the cartesian product of the axes, last axis
fastest (:func:`combinations_of`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from vpp.errors import Problem, clip, short

__all__ = ["DURATION_KEY", "Axes", "combinations_of", "parse_parameters", "split_key"]

#: The key of a linked axis that sets a battery's powers from its energy [h].
DURATION_KEY = "duration_h"
#: Longest battery duration a linked axis accepts [h] (a year).
MAX_DURATION_H = 8760.0
#: The energy path a ``duration_h`` form needs, and the power paths it sets.
_ENERGY_LEAF = ".energy_kwh"
_POWER_LEAVES = (".charge_power_kw", ".discharge_power_kw")

#: Key paths -> values (every column of the results), the axes (each a tuple of key
#: paths stepping together) and the linked axes' names -> their key paths.
Axes = tuple[dict[str, list[Any]], tuple[tuple[str, ...], ...], dict[str, tuple[str, ...]]]

_EXAMPLE = "site.batteries[0].energy_kwh: [1000, 2000]"


def split_key(key: str) -> list[str]:
    """The key paths one parameter sets: ``"a.x, a.y"`` sets both to each value."""
    return [part.strip() for part in key.split(",")]


def parse_parameters(raw: Any, file: str, problems: list[Problem]) -> Axes:
    """The parameters, axes and linked axes of a sweep file's ``parameters``.

    Parameters
    ----------
    raw : Any
        The ``parameters`` entry as read.
    file : str
        The sweep file, for the problems.
    problems : list of Problem
        Appended to: what is wrong (not a mapping, a value that is not a list, an empty
        list, linked lists of unequal lengths, a bad ``duration_h``, a key path set by
        two parameters).

    Returns
    -------
    Axes
        ``(parameters, axes, links)``; empty when nothing valid was found.
    """
    if not isinstance(raw, dict) or not raw:
        problems.append(
            Problem(
                "the sweep varies nothing: 'parameters' is missing or empty",
                file=file,
                key="parameters",
                value=short(raw),
                allowed="a mapping of scenario key paths to lists of values",
                fix=f"add at least one, e.g. {_EXAMPLE}",
            )
        )
        return {}, (), {}
    parameters: dict[str, list[Any]] = {}
    axes: list[tuple[str, ...]] = []
    links: dict[str, tuple[str, ...]] = {}
    for key, values in raw.items():
        name = str(key)
        if isinstance(values, dict):
            linked = _linked(name, values, file, problems)
            if linked:
                parameters.update(linked)
                axes.append(tuple(linked))
                links[name] = tuple(linked)
            continue
        checked = _values(values, f"parameters.{clip(name, 120)}", file, problems)
        if checked is not None:
            parameters[name] = checked
            axes.append((name,))
    _twice(axes, file, problems)
    return parameters, tuple(axes), links


def _values(values: Any, where: str, file: str, problems: list[Problem]) -> list[Any] | None:
    """``values`` when it is a non-empty list, else None and a problem."""
    if not isinstance(values, list):
        problems.append(
            Problem(
                "the values of a parameter must be a list",
                file=file,
                key=where,
                value=short(values),
                fix=f"write them in brackets, e.g. {where.split('.', 1)[-1]}: [{short(values)}]",
            )
        )
        return None
    if not values:
        problems.append(
            Problem(
                "empty list of values: the sweep would run nothing",
                file=file,
                key=where,
                value="[]",
                fix="give at least one value, or remove the parameter",
            )
        )
        return None
    return values


def _linked(
    name: str, raw: dict[Any, Any], file: str, problems: list[Problem]
) -> dict[str, list[Any]]:
    """One linked axis: key path -> values, all of one length (empty after a problem)."""
    where = f"parameters.{clip(name, 60)}"
    duration = raw.get(DURATION_KEY)
    out: dict[str, list[Any]] = {}
    bad = False
    for key, values in raw.items():
        if key == DURATION_KEY:
            continue
        checked = _values(values, f"{where}.{clip(str(key), 120)}", file, problems)
        bad |= checked is None
        if checked is not None:
            out[str(key)] = checked
    if DURATION_KEY in raw:
        derived = _from_duration(duration, out, where, file, problems)
        bad |= derived is None
        out.update(derived or {})
    if not out and not bad:
        problems.append(
            Problem(
                "a linked parameter links nothing",
                file=file,
                key=where,
                value="{}",
                allowed="key paths with lists of equal length, and optionally duration_h",
                fix=f"e.g. {clip(name, 60)}: {{{_EXAMPLE}, site.batteries[0].charge_power_kw: "
                "[500, 1000]}",
            )
        )
        return {}
    lengths = {k: len(v) for k, v in out.items()}
    if len(set(lengths.values())) > 1:
        problems.append(
            Problem(
                "linked values step together, so their lists must have the same length",
                file=file,
                key=where,
                value=", ".join(f"{clip(k, 80)}: {n} values" for k, n in lengths.items()),
                fix="give each key path one value per step (or make them separate parameters "
                "to combine every value with every other)",
            )
        )
        bad = True
    return {} if bad else out


def _from_duration(
    duration: Any, linked: dict[str, list[Any]], where: str, file: str, problems: list[Problem]
) -> dict[str, list[Any]] | None:
    """The power lists :math:`P = E / D` of the battery whose energy the axis sets."""
    energy = [k for k in linked if k.strip().endswith(_ENERGY_LEAF) and "," not in k]
    number = isinstance(duration, (int, float)) and not isinstance(duration, bool)
    if not number or not 0.0 < duration <= MAX_DURATION_H or not math.isfinite(duration):
        problems.append(
            Problem(
                "duration_h must be a positive number of hours",
                file=file,
                key=f"{where}.{DURATION_KEY}",
                value=short(duration),
                allowed=f"0 < duration_h <= {MAX_DURATION_H:g} [h]",
                fix="give the battery's energy over its power, e.g. duration_h: 2",
            )
        )
        return None
    if len(energy) != 1:
        problems.append(
            Problem(
                "duration_h sets a battery's powers from its energy, so the linked "
                "parameter needs exactly one key path ending in .energy_kwh",
                file=file,
                key=f"{where}.{DURATION_KEY}",
                value=f"{len(energy)} energy key paths: {short(energy)}",
                fix=f"e.g. {where.split('.', 1)[-1]}: {{{_EXAMPLE}, duration_h: 2}}",
            )
        )
        return None
    (path,) = energy
    prefix = path.strip()[: -len(_ENERGY_LEAF)]
    powers = ", ".join(prefix + leaf for leaf in _POWER_LEAVES)
    values = linked[path]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        problems.append(
            Problem(
                "duration_h divides the energies, so they must be numbers [kWh]",
                file=file,
                key=f"{where}.{clip(path, 120)}",
                value=short(values),
                fix="give the energies as numbers, e.g. [1000, 2000]",
            )
        )
        return None
    return {powers: [v / float(duration) for v in values]}


def _twice(axes: list[tuple[str, ...]], file: str, problems: list[Problem]) -> None:
    """A problem for each key path set by two parameters (the last would win silently)."""
    seen: dict[str, tuple[int, str]] = {}
    for n, axis in enumerate(axes):
        for key in axis:
            for path in split_key(key):
                if path in seen and seen[path] != (n, key):
                    problems.append(
                        Problem(
                            f"the key path {clip(path, 120)} is set by two parameters",
                            file=file,
                            key=f"parameters.{clip(key, 120)}",
                            value=f"also in {clip(seen[path][1], 120)}",
                            fix="set each key path in one parameter only",
                        )
                    )
                seen.setdefault(path, (n, key))


def combinations_of(
    parameters: dict[str, list[Any]], axes: tuple[tuple[str, ...], ...]
) -> list[dict[str, Any]]:
    """Every combination: the cartesian product of the axes (last fastest), each linked
    axis stepping its key paths together.

    Parameters
    ----------
    parameters : dict of str to list
        Key path -> values.
    axes : tuple of tuple of str
        The key paths of each axis; a linked axis has several, all of one length.

    Returns
    -------
    list of dict
        Key path -> value, one dict per combination, keys in axis order.
    """
    steps = [list(zip(*(parameters[k] for k in axis), strict=True)) for axis in axes]
    out = []
    for choice in itertools.product(*steps):
        combination: dict[str, Any] = {}
        for axis, values in zip(axes, choice, strict=True):
            combination.update(zip(axis, values, strict=True))
        out.append(combination)
    return out
