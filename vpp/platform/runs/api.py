"""The runs API under ``/api/v1`` (operator and admin keys; a site key gets 403).

=====================================  ===================================================
route                                  what
=====================================  ===================================================
``POST /runs``                         start a ``day-ahead``, ``intraday`` or ``scenario`` run
                                       in a worker: 202 with its id and status
``GET /runs``                          the newest runs
``GET /runs/{id}``                     a run's status, flag, exit code and its meaning
``GET /runs/{id}/log``                 the worker's log (text)
``GET /runs/{id}/outputs``             the files the run wrote
``GET /runs/{id}/outputs/{path}``      one of them
``GET /job-runs``                      the daily job's registry (what ``vpp runs`` lists)
``POST /parks/{park}/runs``            a ``day-ahead`` or ``intraday`` run of the park
``GET /parks/{park}/runs``             the park's newest runs
=====================================  ===================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from vpp.platform.auth import require
from vpp.platform.keys import Principal
from vpp.platform.text import Text

__all__ = ["MAX_LOG_BYTES", "RunIn", "router"]

router = APIRouter(prefix="/api/v1")
Operator = Annotated[Principal, Depends(require("operator", "admin"))]
RunId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
#: Most bytes of a log returned (its end) [bytes].
MAX_LOG_BYTES = 1_000_000


class RunIn(BaseModel):
    """A run to start."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["day-ahead", "intraday", "scenario"] = Field(
        description="day-ahead: the daily job; intraday: re-plan the rest of `date`; "
        "scenario: `vpp run` of a scenario or park file"
    )
    park: Text | None = Field(
        None, max_length=200, description="a registered park (day-ahead, intraday)"
    )
    date: Text | None = Field(None, max_length=10, description="the local day, YYYY-MM-DD")
    now: Text | None = Field(
        None,
        max_length=40,
        description="the present, ISO 8601 (default: 15:00 the day before; intraday: the clock)",
    )
    time_limit_s: float | None = Field(
        None, gt=0, le=86_400, description="the run's solver budget [s]"
    )
    scenario: Text | None = Field(
        None, max_length=1000, description="scenario or park file on the server (scenario runs)"
    )


def _runs(request: Request) -> Any:
    return request.app.state.runs


def _found(request: Request, run_id: int) -> dict[str, Any]:
    status = _runs(request).status(run_id)
    if status is None:
        raise HTTPException(404, f"no run {run_id}")
    return status


@router.post("/runs", status_code=202)
def post_run(body: RunIn, request: Request, who: Operator) -> dict[str, Any]:
    """Queue a run in a worker process; poll ``GET /runs/{id}`` until it is finished."""
    return _runs(request).submit(
        body.kind,
        requested_by=who.key_id,
        park=body.park,
        date=body.date,
        now=body.now,
        time_limit_s=body.time_limit_s,
        scenario=body.scenario,
    )


class ParkRunIn(BaseModel):
    """A run of a park's daily job to start."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["day-ahead", "intraday"] = Field(
        "day-ahead", description="day-ahead: plan `date`; intraday: re-plan the rest of `date`"
    )
    date: Text = Field(max_length=10, description="the local day, YYYY-MM-DD")
    now: Text | None = Field(
        None,
        max_length=40,
        description="the present, ISO 8601 (default: 15:00 the day before; intraday: the clock)",
    )
    time_limit_s: float | None = Field(
        None, gt=0, le=86_400, description="the run's solver budget [s]"
    )


ParkName = Annotated[str, PathParam(min_length=1, max_length=200)]


@router.post("/parks/{park}/runs", status_code=202)
def post_park_run(park: ParkName, body: ParkRunIn, request: Request, who: Operator) -> dict:
    """Queue a run of the park's daily job (``POST /runs`` with the park in the path)."""
    return _runs(request).submit(
        body.kind,
        requested_by=who.key_id,
        park=park,
        date=body.date,
        now=body.now,
        time_limit_s=body.time_limit_s,
    )


@router.get("/parks/{park}/runs")
def get_park_runs(
    park: ParkName,
    request: Request,
    who: Operator,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The park's newest runs first."""
    return _runs(request).list(limit, park=park)


@router.get("/runs")
def get_runs(
    request: Request, who: Operator, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """The newest runs first."""
    return _runs(request).list(limit)


@router.get("/runs/{run_id}")
def get_run(run_id: RunId, request: Request, who: Operator) -> dict[str, Any]:
    """A run: status (queued, starting, running, finishing, then ok, fallback or failed),
    flag, exit code and its meaning."""
    return _found(request, run_id)


@router.get("/runs/{run_id}/log", response_class=PlainTextResponse)
def get_log(run_id: RunId, request: Request, who: Operator) -> str:
    """The worker's log (its last :data:`MAX_LOG_BYTES` bytes)."""
    _found(request, run_id)
    path = _runs(request).work_dir(run_id) / "log.txt"
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - MAX_LOG_BYTES))
            return handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def _outputs(request: Request, run_id: int) -> Path:
    _found(request, run_id)
    return (_runs(request).work_dir(run_id) / "outputs").resolve()


@router.get("/runs/{run_id}/outputs")
def get_outputs(run_id: RunId, request: Request, who: Operator) -> list[dict[str, Any]]:
    """The files the run wrote: path (relative), size [bytes] and where to get it."""
    root = _outputs(request, run_id)
    if not root.is_dir():
        return []
    return [
        {
            "path": p.relative_to(root).as_posix(),
            "bytes": p.stat().st_size,
            "url": f"/api/v1/runs/{run_id}/outputs/{p.relative_to(root).as_posix()}",
        }
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    ]


@router.get("/runs/{run_id}/outputs/{path:path}")
def get_output(
    run_id: RunId,
    path: Annotated[str, PathParam(max_length=1000)],
    request: Request,
    who: Operator,
) -> FileResponse:
    """One output file (404 for anything outside the run's outputs)."""
    root = _outputs(request, run_id)
    file = (root / path).resolve()
    if not file.is_relative_to(root) or not file.is_file():
        raise HTTPException(404, f"run {run_id} has no output {path[:200]!r}")
    return FileResponse(file, filename=file.name)


@router.get("/job-runs")
def get_job_runs(
    request: Request,
    who: Operator,
    date: Annotated[str | None, Query(max_length=10)] = None,
    status: Literal["running", "ok", "fallback", "failed"] | None = None,
    park: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """The daily job's registry, newest first: the rows ``vpp runs --db URL`` lists."""
    return _runs(request).registry.runs(date=date, status=status, park=park, limit=limit)
