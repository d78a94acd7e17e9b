"""Alerts and targets over HTTP (``/api/v1``).

=============================================  ================  ==========================
route                                          roles             answer
=============================================  ================  ==========================
``GET /alerts?park=&site=&state=&limit=``      all (a site key:  alerts, newest first, with
                                               its own site)     their webhook deliveries
``POST /alerts/evaluate?park=``                operator, admin   evaluate now; counts
``GET /parks/{park}/targets?year=``            operator, admin   targets and trajectories
``PUT /parks/{park}/targets``                  operator, admin   set targets (replace
                                                                 the metrics given)
``GET /parks/{park}/sites/{site}/targets``     site (own), ...   one site's
=============================================  ================  ==========================

A site key naming another site or park (existing or not) is answered 403.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import Field

from vpp.platform.alerts.checks import target_report
from vpp.platform.alerts.settings import TargetValues
from vpp.platform.alerts.store import list_alerts
from vpp.platform.alerts.targets import read_targets, set_targets
from vpp.platform.auth import caller, require
from vpp.platform.keys import Principal
from vpp.platform.monitoring.api import reachable_site
from vpp.platform.monitoring.service import park_file
from vpp.platform.parks import list_sites
from vpp.platform.text import Text
from vpp.scenario.common import Strict

__all__ = ["TargetsBody", "router"]

router = APIRouter(prefix="/api/v1", tags=["alerts"])
Name = Annotated[str, Path(min_length=1, max_length=200)]
Anyone = Annotated[Principal, Depends(caller)]
Operator = Annotated[Principal, Depends(require("operator", "admin"))]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year [-].")]


class TargetsBody(Strict):
    """Targets of a park for a year: the park's own and its sites'."""

    year: int = Field(ge=2000, le=2100, description="The calendar year [-].")
    park_targets: TargetValues | None = Field(
        default=None, description="The park's own targets [-]."
    )
    sites: dict[Annotated[Text, Field(max_length=200)], TargetValues] = Field(
        default_factory=dict, description="Each site's targets, by site name [-]."
    )


def _engine(request: Request) -> Any:
    return request.app.state.alerts


@router.get("/alerts")
def get_alerts(
    request: Request,
    who: Anyone,
    park: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    site: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    state: Literal["open", "closed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Alerts, newest first (``state``: open, closed or all)."""
    platform = request.app.state.platform
    site_ids = None
    if site is not None:
        if park is None:
            raise HTTPException(422, "site needs park")
        site_ids = {reachable_site(platform, who, park, site).site_id}
    elif who.role == "site":
        own = next((r for r in list_sites(platform.sessions) if r.site_id == who.site_id), None)
        if own is None or (park is not None and park != own.park):
            raise HTTPException(403, "a site key reaches only its own site")
        park, site_ids = own.park, {own.site_id}
    elif park is not None:
        park_file(platform, park)  # 404 for an unknown park
    alerts = list_alerts(platform, park=park, site_ids=site_ids, state=state, limit=limit)
    return {"alerts": alerts}


@router.post("/alerts/evaluate")
def post_evaluate(
    request: Request,
    who: Operator,
    park: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    """Evaluate every condition now (else the background task does, every interval)."""
    if park is not None:
        park_file(request.app.state.platform, park)
    return {"evaluated": _engine(request).evaluate(park)}


@router.get("/parks/{park}/targets")
def get_targets(park: Name, request: Request, who: Operator, year: Year = None) -> dict[str, Any]:
    """The park's and each site's targets, year to date, run-rate and projection."""
    park_file(request.app.state.platform, park)
    return _engine(request).report(park, year)


@router.put("/parks/{park}/targets")
def put_targets(park: Name, body: TargetsBody, request: Request, who: Operator) -> dict[str, Any]:
    """Set targets (each metric given replaces the stored one; others stay)."""
    platform = request.app.state.platform
    park_file(platform, park)
    refs = {r.site: r for r in list_sites(platform.sessions, park)}
    unknown = sorted(set(body.sites) - set(refs))
    if unknown:
        raise HTTPException(404, f"no site {unknown[0][:200]!r} in park {park[:200]!r}")
    park_id = next(iter(refs.values())).park_id if refs else None
    if park_id is None:
        raise HTTPException(404, f"park {park[:200]!r} has no sites")
    now, source = platform.clock(), f"api:{who.key_id}"
    stored: dict[str, list[str]] = {}
    if body.park_targets is not None:
        stored["park"] = set_targets(
            platform.sessions, park_id, None, body.year, body.park_targets, source, now
        )
    for name, values in body.sites.items():
        site_id = refs[name].site_id
        stored[name] = set_targets(
            platform.sessions, park_id, site_id, body.year, values, source, now
        )
    return {"park": park, "year": body.year, "stored": stored}


@router.get("/parks/{park}/sites/{site}/targets")
def get_site_targets(
    park: Name, site: Name, request: Request, who: Anyone, year: Year = None
) -> dict[str, Any]:
    """One site's targets, year to date, run-rate and projection."""
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    engine = _engine(request)
    now = platform.clock()
    if year is None:
        year = pd.Timestamp(now).tz_convert(ref.timezone).year
    targets = read_targets(platform.sessions, ref.park_id, year)
    report = target_report(
        platform, engine.settings, [ref], park_file(platform, park), targets, year, now
    )
    return {"park": park, "site": site, "year": year, **report["sites"][ref.site]}
