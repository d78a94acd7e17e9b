"""The HTTP API under ``/api/v1`` (docs/platform.md lists every route with its roles).

Every route but ``/health`` needs a key (:mod:`vpp.platform.auth`). A site key reaches
only its own site: any other park or site name answers 403, whether it exists or not.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from vpp.platform.auth import caller, require
from vpp.platform.keys import Principal, create_key, list_keys, revoke_key
from vpp.platform.parks import SiteRef, find_site, list_parks, list_sites, register_park
from vpp.platform.readings import MAX_BATCH_ROWS, check_readings, csv_rows
from vpp.platform.refusals import TelemetryRefused, UnknownSite
from vpp.platform.schedules import schedule_for, table_csv
from vpp.platform.telemetry_read import readings_between
from vpp.platform.text import Text

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
Name = Annotated[str, Path(min_length=1, max_length=200)]
Anyone = Annotated[Principal, Depends(caller)]
Admin = Annotated[Principal, Depends(require("admin"))]
Operator = Annotated[Principal, Depends(require("operator", "admin"))]


class ReadingIn(BaseModel):
    """One meter reading."""

    model_config = ConfigDict(extra="forbid")
    channel: Text = Field(max_length=128, description="a channel of the site (docs/platform.md)")
    timestamp: Text = Field(
        max_length=64, description="ISO 8601 with its UTC offset, e.g. 2026-07-15T14:45:00+08:00"
    )
    value: float = Field(strict=True, description="the reading [the channel's unit]")


class Batch(BaseModel):
    """A batch of readings of one site, stored all or nothing."""

    model_config = ConfigDict(extra="forbid")
    readings: list[ReadingIn] = Field(max_length=MAX_BATCH_ROWS)


class ParkFile(BaseModel):
    """A park file on the server (the format of scenarios/park/)."""

    model_config = ConfigDict(extra="forbid")
    file: Text = Field(max_length=1000, description="path of the park YAML on the server")


class KeyRequest(BaseModel):
    """A key to create."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["site", "operator", "admin"]
    park: Text | None = Field(None, max_length=200, description="a site key's park")
    site: Text | None = Field(None, max_length=200, description="a site key's site")
    label: Text = Field("", max_length=200, description="who holds the key")


def _platform(request: Request) -> Any:
    return request.app.state.platform


def _site(request: Request, who: Principal, park: str, site: str, write: bool) -> SiteRef:
    """The site a request names, if the key may reach it (403 before 404 for site keys)."""
    if who.role == "site":
        own = who.site_id
        try:
            ref = find_site(_platform(request).sessions, park, site)
        except UnknownSite:  # a site key learns nothing of other sites
            ref = None
        if ref is None or ref.site_id != own:
            raise HTTPException(403, "a site key reaches only its own site")
        return ref
    if write and who.role != "admin":
        raise HTTPException(403, f"a {who.role} key may not write telemetry")
    return find_site(_platform(request).sessions, park, site)


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Liveness: no key needed. With ``vpp serve --mqtt``, also ``mqtt``: whether the
    broker links are up and every schedule published was acknowledged (``status``
    ``degraded`` when not; details in ``GET /api/v1/mqtt``)."""
    mqtt = getattr(request.app.state, "mqtt", None)
    if mqtt is None:
        return {"status": "ok"}
    state = mqtt.status()
    summary = {
        "healthy": state["healthy"],
        "connected": state["publisher"]["connected"],
        "failures": state["publisher"]["failures"],
        "unacknowledged": len(state["publisher"]["unacknowledged"]),
    }
    return {"status": "ok" if state["healthy"] else "degraded", "mqtt": summary}


@router.get("/mqtt")
def mqtt_status(request: Request, who: Operator) -> dict[str, Any]:
    """The MQTT publisher and subscriber (operator, admin): connections, schedules
    published and failed, topics not acknowledged, hook problems, telemetry counts and
    the latest refusals. 404 when ``vpp serve`` runs without ``--mqtt``."""
    mqtt = getattr(request.app.state, "mqtt", None)
    if mqtt is None:
        raise HTTPException(404, "MQTT is off: start vpp serve with --mqtt HOST:PORT")
    return mqtt.status()


@router.post("/parks", status_code=201)
def post_park(body: ParkFile, request: Request, who: Admin) -> dict[str, Any]:
    """Register a park file (admin)."""
    return register_park(_platform(request).sessions, body.file)


@router.get("/parks")
def get_parks(request: Request, who: Operator) -> list[dict[str, Any]]:
    """Every registered park (operator, admin)."""
    return list_parks(_platform(request).sessions)


@router.get("/parks/{park}/sites")
def get_sites(park: Name, request: Request, who: Anyone) -> list[dict[str, Any]]:
    """A park's sites with their channels (a site key sees its own site only)."""
    sites = list_sites(_platform(request).sessions, park)
    if who.role == "site":
        sites = [s for s in sites if s.site_id == who.site_id]
        if not sites:
            raise HTTPException(403, "a site key reaches only its own site")
    elif not sites:
        raise HTTPException(404, f"no registered park {park!r} with sites")
    return [
        {
            "park": s.park,
            "site": s.site,
            "timezone": s.timezone,
            "channels": {c.name: c.unit for c in s.channels.values()},
        }
        for s in sites
    ]


@router.post("/parks/{park}/sites/{site}/telemetry")
def post_telemetry(
    park: Name, site: Name, body: Batch, request: Request, who: Anyone
) -> dict[str, int]:
    """Store a JSON batch of readings (site key of this site, admin): all or nothing,
    committed before the answer; 409 if a reading is stored with another value."""
    ref = _site(request, who, park, site, write=True)
    platform = _platform(request)
    rows = [r.model_dump() for r in body.readings]
    checked = check_readings(rows, ref.channels, platform.clock())
    result = platform.store_checked(ref, checked)
    return {"stored": result.stored, "repeated": result.repeated}


@router.post(
    "/parks/{park}/sites/{site}/telemetry.csv",
    openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def post_telemetry_csv(
    park: Name,
    site: Name,
    request: Request,
    who: Anyone,
    channel: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, int]:
    """Store a CSV file of readings: ``timestamp,<channel>`` with ``?channel=``, or
    ``timestamp,channel,value``; as the raw body (``text/csv``) or a multipart field
    ``file``. Rows are numbered as lines (the header is line 1)."""
    ref = await run_in_threadpool(_site, request, who, park, site, True)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise TelemetryRefused("no file", [{"field": "file", "message": "no file field"}])
        raw = await upload.read()
    else:
        raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TelemetryRefused(
            "the CSV file is not UTF-8 text",
            [{"field": "body", "row": None, "value": f"byte {exc.start}", "message": str(exc)}],
        ) from exc
    platform = _platform(request)
    rows = csv_rows(text, channel)
    try:
        checked = check_readings(rows, ref.channels, platform.clock(), first_row=2)
    except TelemetryRefused as exc:
        if channel is not None:  # the value column of a one-channel file is the channel
            for problem in exc.details:
                if problem.get("field") == "value":
                    problem["field"] = channel
        raise
    result = await run_in_threadpool(platform.store_checked, ref, checked)
    return {"stored": result.stored, "repeated": result.repeated}


@router.get("/parks/{park}/sites/{site}/telemetry")
def get_telemetry(
    park: Name,
    site: Name,
    request: Request,
    who: Anyone,
    channel: Annotated[str, Query(max_length=128)],
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, Any]:
    """A channel's stored readings in ``[start, end)`` (both with their offsets)."""
    ref = _site(request, who, park, site, write=False)
    return readings_between(_platform(request).sessions, ref, channel, start, end)


@router.get("/parks/{park}/sites/{site}/schedule")
def get_schedule(
    park: Name,
    site: Name,
    request: Request,
    who: Anyone,
    date: dt.date,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """The site's schedule to dispatch for a local date (the newest good one, else the
    newest fallback), as JSON or CSV."""
    ref = _site(request, who, park, site, write=False)
    found = schedule_for(_platform(request).sessions, ref.site_id, date)
    if found is None:
        raise HTTPException(404, f"no schedule for {ref.park}/{ref.site} on {date.isoformat()}")
    facts, table = found
    if format == "csv":
        headers = {f"X-Schedule-{k.replace('_', '-').title()}": str(v) for k, v in facts.items()}
        return Response(table_csv(table), media_type="text/csv", headers=headers)
    return {
        **facts,
        "park": ref.park,
        "site": ref.site,
        "columns": list(table.columns),
        "timestamps": list(table.index),
        "data": table.to_numpy().tolist(),
    }


@router.post("/keys", status_code=201)
def post_key(body: KeyRequest, request: Request, who: Admin) -> dict[str, str]:
    """Create a key (admin); its text is in this answer only."""
    key_id, text = create_key(
        _platform(request).sessions, body.role, park=body.park, site=body.site, label=body.label
    )
    return {"key_id": key_id, "key": text, "role": body.role}


@router.get("/keys")
def get_keys(request: Request, who: Admin) -> list[dict[str, Any]]:
    """Every key without its secret (admin)."""
    return list_keys(_platform(request).sessions)


@router.delete("/keys/{key_id}", status_code=204)
def delete_key(key_id: Annotated[str, Path(max_length=32)], request: Request, who: Admin) -> None:
    """Revoke a key (admin); it is refused (401) from the next request on."""
    if not revoke_key(_platform(request).sessions, key_id):
        raise HTTPException(404, f"no key {key_id!r}")
