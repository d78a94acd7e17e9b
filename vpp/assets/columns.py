"""A site's schedule columns by role: which column of which entry plays a role.

Modes (the report, the job's outputs, the run summary) read columns through this module
and the units' ``columns``, ``roles`` and ``on_site`` (:class:`vpp.assets.base.AssetUnit`),
never by a kind's name.
"""

from __future__ import annotations

from typing import Any

from vpp.assets.base import AssetUnit
from vpp.assets.registry import site_entries

__all__ = ["on_site_entries", "role_columns"]


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
    """
    out = []
    for unit, entry in site_entries(site):
        column = unit.role_column(entry, role)
        if column is not None:
            out.append((unit, entry, column))
    return out


def on_site_entries(site: Any) -> list[Any]:
    """The site's entries of units that are equipment on the site (``on_site``)."""
    return [entry for unit, entry in site_entries(site) if unit.on_site]
