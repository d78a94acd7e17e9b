"""The carbon-asset ledger over HTTP (``/api/v1``).

=====================================================  ================  ====================
route                                                  roles             answer
=====================================================  ================  ====================
``POST /parks/{park}/sites/{site}/carbon-ledger``      site (own),       201, the entry
                                                       admin             stored
``GET /parks/{park}/sites/{site}/carbon-ledger``       site (own),       the entries (``kind``,
                                                       operator, admin   ``period``, ``history``)
``GET /parks/{park}/sites/{site}/carbon-assets``       site (own), ...   the site's view
``GET /parks/{park}/carbon-assets``                    operator, admin   every site's view and
                                                                         the park's sums
=====================================================  ================  ====================

A site key naming another site or park (existing or not) is answered 403; an operator
key may read but not write (403). An entry that fails a check is answered 422 with
each problem naming its field (:func:`~vpp.platform.carbon_ledger.kinds.check_entry`,
:func:`~vpp.platform.carbon_ledger.store.record_entry`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from vpp.platform.auth import caller, require
from vpp.platform.carbon_ledger.kinds import EntryIn, Kind, check_entry
from vpp.platform.carbon_ledger.service import site_views
from vpp.platform.carbon_ledger.store import LedgerRefused, in_force, load_entries, record_entry
from vpp.platform.carbon_ledger.view import park_assets
from vpp.platform.keys import Principal
from vpp.platform.monitoring.api import reachable_site
from vpp.platform.monitoring.data import site_model
from vpp.platform.monitoring.service import park_file
from vpp.platform.parks import list_sites

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["carbon ledger"])
Name = Annotated[str, Path(min_length=1, max_length=200)]
Anyone = Annotated[Principal, Depends(caller)]
Writer = Annotated[Principal, Depends(require("site", "admin"))]
Operator = Annotated[Principal, Depends(require("operator", "admin"))]


@router.post("/parks/{park}/sites/{site}/carbon-ledger", status_code=201)
def post_entry(
    park: Name, site: Name, body: EntryIn, request: Request, who: Writer
) -> dict[str, Any]:
    """Record a ledger entry for the site (a correction names the entry it supersedes)."""
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    scenario = site_model(park_file(platform, park), ref.site).scenario
    problems = check_entry(body, scenario.site)
    if problems:
        first = problems[0]
        raise LedgerRefused(f"field {first['field']}: {first['message']}", problems)
    entry = record_entry(platform.sessions, ref.site_id, body, who.key_id, platform.clock())
    return {"park": park, "site": site, "entry": entry}


@router.get("/parks/{park}/sites/{site}/carbon-ledger")
def get_entries(
    park: Name,
    site: Name,
    request: Request,
    who: Anyone,
    kind: Kind | None = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2})?$", max_length=7)] = None,
    history: bool = False,
) -> dict[str, Any]:
    """The site's entries, oldest first: those in force, or with ``history`` also the
    superseded ones (each with ``superseded_by``); filtered by ``kind`` and ``period``."""
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    entries = load_entries(platform.sessions, [ref.site_id])[ref.site_id]
    if not history:
        entries = in_force(entries)
    entries = [
        e
        for e in entries
        if (kind is None or e["kind"] == kind) and (period is None or e["period"] == period)
    ]
    return {"park": park, "site": site, "entries": entries}


@router.get("/parks/{park}/sites/{site}/carbon-assets")
def get_site_assets(park: Name, site: Name, request: Request, who: Anyone) -> dict[str, Any]:
    """The site's carbon assets: green power delivered against contracted, certificates
    against the renewable target's need, allowances against verified and metered CO2."""
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    view = site_views(platform, park_file(platform, park), [ref])[ref.site]
    return {"park": park, "site": site, **view}


@router.get("/parks/{park}/carbon-assets")
def get_park_assets(park: Name, request: Request, who: Operator) -> dict[str, Any]:
    """Every site's carbon assets and the park's sums."""
    platform = request.app.state.platform
    file = park_file(platform, park)  # 404 for an unknown park
    refs = list_sites(platform.sessions, park)
    if not refs:
        raise HTTPException(404, f"park {park[:200]!r} has no sites")
    views = site_views(platform, file, refs)
    return {"park": park, "sites": views, "totals": park_assets(list(views.values()))}
