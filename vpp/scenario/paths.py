"""Dotted key paths into a scenario: ``site.batteries[0].energy_kwh``.

Used by a scenario's ``overrides`` (:func:`vpp.scenario.load.load_scenario`) and by
sweeps (:mod:`vpp.planning.sweep_definition`): the same syntax names a value in both.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str) -> list[str | int]:
    """``"site.pv[1].sizing"`` -> ``["site", "pv", 1, "sizing"]``.

    Raises
    ------
    ValueError
        The path is empty or malformed.
    """
    parts: list[str | int] = []
    pos = 0
    text = path.strip()
    while pos < len(text):
        if text[pos] == ".":
            pos += 1
            continue
        m = _PART.match(text, pos)
        if not m:
            raise ValueError(f"malformed key path {path!r} at character {pos + 1}")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not parts or not isinstance(parts[0], str):
        raise ValueError(f"malformed key path {path!r}: it must start with a key")
    return parts


def format_path(parts: list[str | int]) -> str:
    """The inverse of :func:`parse_path`."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def all_paths(data: Any, prefix: list[str | int] | None = None) -> Iterator[str]:
    """Every path to a value in nested dicts and lists (containers included)."""
    prefix = prefix or []
    if isinstance(data, dict):
        for k, v in data.items():
            yield format_path([*prefix, k])
            yield from all_paths(v, [*prefix, k])
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield format_path([*prefix, i])
            yield from all_paths(v, [*prefix, i])


def missing_path(data: Any, path: str) -> tuple[str, list[str], str | None] | None:
    """None when ``path`` leads to a value in ``data``; else why not, the valid paths near
    it (close matches first, then the children of the deepest parent that exists) and a
    fix when one can be said.

    Raises
    ------
    ValueError
        ``path`` is malformed.
    """
    parts = parse_path(path)
    node: Any = data
    why = None
    fix = None
    for depth, part in enumerate(parts):
        here = format_path(parts[:depth]) or "the scenario"
        if isinstance(part, int):
            if not isinstance(node, list):
                why = f"'{here}' is not a list"
            elif part >= len(node):
                why = f"'{here}' has {len(node)} item(s), no [{part}]"
        elif node is None:
            why = f"'{here}' is not set in the scenario (null), so it has no '{part}'"
            fix = f"set '{here}' in the scenario, or give '{here}' as a whole"
        elif not isinstance(node, dict) or part not in node:
            why = f"no key '{part}' under '{here}'"
        if why is not None:
            break
        node = node[part]
    if why is None:
        return None
    paths = list(all_paths(data))
    close = difflib.get_close_matches(path, paths, n=5, cutoff=0.6)
    siblings: list[str] = []
    for depth in range(len(parts) - 1, -1, -1):  # the deepest existing parent's children
        prefix = format_path(parts[:depth])
        siblings = [
            p
            for p in paths
            if (not prefix or p.startswith((prefix + ".", prefix + "[")))
            and len(parse_path(p)) == depth + 1
        ]
        if siblings:
            break
    if fix is None and close:
        fix = f"did you mean '{close[0]}'?"
    return why, list(dict.fromkeys(close + siblings)), fix


def set_path(data: Any, path: str, value: Any, *, create: bool = False) -> None:
    """Set the value at ``path`` in nested dicts and lists, in place.

    With ``create`` a missing last key of a mapping is added (an optional entry not
    written in the file, such as ``sizing``); otherwise every key must exist.

    Raises
    ------
    KeyError
        A key or index on the way does not exist (message: the path up to it).
    """
    parts = parse_path(path)
    node = data
    for i, p in enumerate(parts):
        last = i == len(parts) - 1
        where = format_path(parts[: i + 1])
        if isinstance(p, int):
            if not isinstance(node, list) or not -len(node) <= p < len(node):
                raise KeyError(where)
        elif not isinstance(node, dict) or (p not in node and not (last and create)):
            raise KeyError(where)
        if last:
            node[p] = value
        else:
            node = node[p]
