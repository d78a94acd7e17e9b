"""Monitoring as JSON under ``/api/v1/monitoring`` (the dashboard shows the same numbers).

=====================================================  ===============  =====================
route                                                  roles            answer
=====================================================  ===============  =====================
``GET /monitoring/parks/{park}``                       operator, admin  :func:`park_monitor`
``GET /monitoring/parks/{park}/sites/{site}``          site (own), ...  :func:`site_monitor`
``GET /monitoring/parks/{park}/sites/{site}/gaps``     site (own), ...  :func:`telemetry_gaps`
``GET /monitoring/parks/{park}/runs``                  operator, admin  :func:`runs_and_flags`
=====================================================  ===============  =====================

A site key reaches only its own site: any other park or site answers 403, whether it
exists or not (as in :mod:`vpp.platform.api`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from vpp.platform.auth import caller, require
from vpp.platform.keys import Principal
from vpp.platform.monitoring.service import (
    park_file,
    park_monitor,
    runs_and_flags,
    site_monitor,
    telemetry_gaps,
)
from vpp.platform.parks import SiteRef, find_site
from vpp.platform.refusals import UnknownSite

__all__ = ["reachable_site", "router"]

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])
Name = Annotated[str, Path(min_length=1, max_length=200)]
Anyone = Annotated[Principal, Depends(caller)]
Operator = Annotated[Principal, Depends(require("operator", "admin"))]


def reachable_site(platform: Any, who: Principal, park: str, site: str) -> SiteRef:
    """The named site if ``who`` may read it: 403 for a site key and any other site
    (existing or not), 404 for an unknown site otherwise."""
    try:
        ref = find_site(platform.sessions, park, site)
    except UnknownSite:
        if who.role == "site":
            raise HTTPException(403, "a site key reaches only its own site") from None
        raise
    if not who.can_read_site(ref.site_id):
        raise HTTPException(403, "a site key reaches only its own site")
    return ref


@router.get("/parks/{park}")
def get_park(park: Name, request: Request, who: Operator) -> dict[str, Any]:
    """The park: every site's today and month so far, and the park's sums."""
    return park_monitor(request.app.state.platform, park)


@router.get("/parks/{park}/sites/{site}")
def get_site(park: Name, site: Name, request: Request, who: Anyone) -> dict[str, Any]:
    """A site: today's plan against actuals (per step), the month's energy, peak,
    basic charge, bill and carbon account, and its carbon assets."""
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    return site_monitor(platform, ref, park_file(platform, park))


@router.get("/parks/{park}/sites/{site}/gaps")
def get_gaps(park: Name, site: Name, request: Request, who: Anyone) -> dict[str, Any]:
    """A site's telemetry over the last days, per channel: received, newest, gaps."""
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    return telemetry_gaps(platform, ref, park_file(platform, park))


@router.get("/parks/{park}/runs")
def get_runs(park: Name, request: Request, who: Operator) -> list[dict[str, Any]]:
    """The park's newest runs with their flags."""
    platform = request.app.state.platform
    park_file(platform, park)  # 404 for an unknown park
    return runs_and_flags(platform, park)
