"""The unit registry: which :class:`~vpp.assets.base.AssetUnit` serves each asset kind.

:mod:`vpp.assets` registers the built-in units, one line each, in the order their
blocks enter a site model (the order of a schedule's columns).
"""

from __future__ import annotations

from typing import Any

from vpp.assets.base import AssetUnit
from vpp.model.blocks import registry as blocks
from vpp.model.blocks import updates

_UNITS: dict[str, AssetUnit] = {}


def register(unit: AssetUnit) -> AssetUnit:
    """Register ``unit`` under ``unit.kind``.

    Its ``build`` becomes the kind's block builder (:mod:`vpp.model.blocks.registry`) and
    its ``update`` and ``signature`` the kind's updater (:mod:`vpp.model.blocks.updates`),
    so :func:`vpp.model.build_model` builds and :class:`vpp.model.update.ReusableModel`
    updates its blocks.
    """
    if unit.kind in _UNITS:
        raise ValueError(f"asset kind '{unit.kind}' is registered twice")
    blocks.register(unit.kind)(unit.build)
    updates.register_update(unit.kind, unit.update, unit.signature)
    _UNITS[unit.kind] = unit
    return unit


def unit(kind: str) -> AssetUnit:
    """The unit of ``kind``.

    Raises
    ------
    ValueError
        If no unit is registered for ``kind``.
    """
    try:
        return _UNITS[kind]
    except KeyError:
        raise ValueError(f"no asset unit for kind '{kind}'; known: {sorted(_UNITS)}") from None


def units() -> list[AssetUnit]:
    """Every registered unit, in registration order."""
    return list(_UNITS.values())


def site_entries(site: Any) -> list[tuple[AssetUnit, Any]]:
    """Every scenario entry of the site with its unit, in model order.

    Site fields are taken in the order their first unit was registered; within a field
    (``flexible_loads`` holds two kinds), entries keep the scenario's order.
    """
    out: list[tuple[AssetUnit, Any]] = []
    seen: set[str] = set()
    for u in _UNITS.values():
        if u.site_key in seen:
            continue
        seen.add(u.site_key)
        sharing = [v for v in _UNITS.values() if v.site_key == u.site_key]
        for entry in u.entries(site):
            owner = next((v for v in sharing if v.claims(entry)), None)
            if owner is not None:
                out.append((owner, entry))
    return out
