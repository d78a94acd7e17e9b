"""Runs through the API: start the daily job in a worker process, follow it.

``POST /api/v1/parks/{park}/runs`` answers 202 at once with the run's id; the job runs in
its own process (:mod:`vpp.platform.runs`). Operator and admin keys only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from vpp.platform.auth import require
from vpp.platform.keys import Principal
from vpp.platform.models import Park, Run
from vpp.platform.runs import list_runs, run_facts, start_run

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
Operator = Annotated[Principal, Depends(require("operator", "admin"))]


class RunRequest(BaseModel):
    """A run of the daily job to start."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["day-ahead", "intraday"] = Field(
        "day-ahead", description="day-ahead: plan date; intraday: re-plan the rest of date"
    )
    date: dt.date = Field(description="the day to schedule (local), YYYY-MM-DD")
    now: dt.datetime | None = Field(
        None, description="the present with its UTC offset (default: the server's clock)"
    )


@router.post("/parks/{park}/runs", status_code=202)
def post_run(
    park: Annotated[str, Path(min_length=1, max_length=200)],
    body: RunRequest,
    request: Request,
    who: Operator,
) -> dict[str, Any]:
    """Start the daily job for a park in a worker process (operator, admin)."""
    platform = request.app.state.platform
    now = body.now or platform.clock()
    return start_run(platform, park, body.kind, body.date, now, request.app.state.run_settings)


@router.get("/parks/{park}/runs")
def get_runs(
    park: Annotated[str, Path(min_length=1, max_length=200)], request: Request, who: Operator
) -> list[dict[str, Any]]:
    """A park's runs, newest first (operator, admin)."""
    return list_runs(request.app.state.platform, park)


@router.get("/runs/{run}")
def get_run(run: Annotated[int, Path(ge=1)], request: Request, who: Operator) -> dict[str, Any]:
    """A run's status, run id, output folder and log tail (operator, admin)."""
    with request.app.state.platform.sessions() as session:
        row = session.get(Run, run)
        if row is None:
            raise HTTPException(404, f"no run {run}")
        return run_facts(row, session.get(Park, row.park_id).name)
