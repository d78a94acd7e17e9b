"""A site's schedule columns by role: which column of which entry plays a role.

Modes (the report, the job's outputs, the run summary) read columns through this module
and the units' ``columns``, ``roles`` and ``on_site`` (:class:`vpp.assets.base.AssetUnit`),
never by a kind's name.
"""

from __future__ import annotations

from typing import Any

from vpp.assets.base import AssetUnit
from vpp.assets.registry import site_entries

__all__ = ["ROLES", "has_role", "on_site_entries", "role_columns"]

#: Every role a unit may declare (meanings: :attr:`vpp.assets.base.AssetUnit.roles`).
ROLES = (
    "pv_available",
    "pv_forecast",
    "pv_output",
    "pv_curtailed",
    "storage_charge",
    "storage_discharge",
    "storage_soc",
    "flexible_demand",
    "shed",
    "grid_import",
    "grid_export",
    "generation",
)


def _known(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown column role '{role}'; known: {', '.join(ROLES)}")


def has_role(unit: AssetUnit, role: str) -> bool:
    """Whether ``unit`` declares a column that plays ``role`` (one of :data:`ROLES`).

    Raises
    ------
    ValueError
        If ``role`` is not one of :data:`ROLES`.
    """
    _known(role)
    return role in unit.roles


def role_columns(site: Any, role: str) -> list[tuple[AssetUnit, Any, str]]:
    """Every entry of ``site`` whose unit declares ``role``, with the column that plays it.

    Parameters
    ----------
    site : vpp.scenario.schema.Site
        The site.
    role : str
        A role of :attr:`vpp.assets.base.AssetUnit.roles` (``"storage_soc"``).

    Returns
    -------
    list of (AssetUnit, entry, str)
        The unit, the scenario entry and its column, in model order (scenario order
        within a site field).

    Raises
    ------
    ValueError
        If ``role`` is not one of :data:`ROLES` (a misspelt role would find nothing).
    """
    _known(role)
    out = []
    for unit, entry in site_entries(site):
        column = unit.role_column(entry, role)
        if column is not None:
            out.append((unit, entry, column))
    return out


def on_site_entries(site: Any) -> list[Any]:
    """The site's entries of units that are equipment on the site (``on_site``)."""
    return [entry for unit, entry in site_entries(site) if unit.on_site]
