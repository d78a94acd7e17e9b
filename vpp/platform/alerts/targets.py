"""Annual targets in the database: set (API, settings file) and read.

A target is one metric of :data:`METRICS` for a year, of a site (an enterprise) or of
the park (no site). Setting a metric again replaces it (the newest write wins, whether
from the API or from ``vpp serve --alerts FILE`` at start); the row keeps its
``source`` (``api:<key id>`` or ``file:<path>``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.alerts.settings import TargetValues
from vpp.platform.alerts.tables import Target

__all__ = ["METRICS", "read_targets", "set_targets"]

#: The metrics a target may bound, with their units. Intensities divide by the year's
#: value added (the target's ``value_added_cny``, else the site scenario's).
METRICS = {
    "energy_tce": "tce",
    "co2_t": "t",
    "energy_intensity_tce_per_10k_cny": "tce/10^4 CNY",
    "co2_intensity_t_per_10k_cny": "t/10^4 CNY",
}


def set_targets(
    sessions: sessionmaker[Session],
    park_id: int,
    site_id: int | None,
    year: int,
    values: TargetValues,
    source: str,
    now: dt.datetime,
) -> list[str]:
    """Store the metrics given in ``values`` (each replaces the same metric's row).

    Returns
    -------
    list of str
        The metrics stored.
    """
    stamp = now.astimezone(dt.UTC).replace(tzinfo=None)
    stored = []
    with sessions.begin() as session:
        for metric in METRICS:
            limit = getattr(values, metric)
            if limit is None:
                continue
            session.execute(
                delete(Target).where(
                    Target.park_id == park_id,
                    Target.site_id.is_(None) if site_id is None else Target.site_id == site_id,
                    Target.year == year,
                    Target.metric == metric,
                )
            )
            session.add(
                Target(
                    park_id=park_id,
                    site_id=site_id,
                    year=year,
                    metric=metric,
                    limit_value=float(limit),
                    value_added_cny=values.value_added_cny,
                    source=source[:500],
                    set_at=stamp,
                )
            )
            stored.append(metric)
    return stored


def read_targets(
    sessions: sessionmaker[Session], park_id: int, year: int
) -> dict[int | None, dict[str, Any]]:
    """The park's targets of ``year`` by site row id (None: the park's):
    ``{"limits": {metric: limit}, "value_added_cny": CNY or None, "sources": {metric: text}}``."""
    out: dict[int | None, dict[str, Any]] = {}
    with sessions() as session:
        rows = session.execute(
            select(Target).where(Target.park_id == park_id, Target.year == year).order_by(Target.id)
        ).scalars()
        for row in rows:
            entry = out.setdefault(
                row.site_id, {"limits": {}, "value_added_cny": None, "sources": {}}
            )
            entry["limits"][row.metric] = row.limit_value
            entry["sources"][row.metric] = row.source
            if row.value_added_cny is not None:
                entry["value_added_cny"] = row.value_added_cny
    return out
