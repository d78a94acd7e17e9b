"""The FastAPI app: the API router, the body limit, and errors as JSON that name the field.

Every error answer is ``{"detail": text, "problems": [...]}``; a problem names the
``field``, the ``row`` (a JSON batch's list index, or a CSV file's line) and the
``value`` received, with what is ``allowed`` where known. Malformed JSON and bodies
that do not fit the schema are 422, like the platform's own checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from vpp.console import version
from vpp.platform.alerts import install as install_alerts
from vpp.platform.api import router
from vpp.platform.auth import KeyGate
from vpp.platform.carbon_ledger import install as install_carbon_ledger
from vpp.platform.dashboard import install as install_dashboard
from vpp.platform.limits import DEFAULT_MAX_BODY_BYTES, BodyLimit
from vpp.platform.refusals import PlatformRefusal
from vpp.platform.runs.api import router as runs_router
from vpp.platform.runs.supervisor import RunSupervisor
from vpp.platform.service import Platform
from vpp.platform.text import ControlGate

__all__ = ["create_app"]

_QUOTE = 200  # characters of a received value quoted back


def _problem(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic or JSON error as a problem naming field, row and value."""
    loc = [part for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    if error.get("type") == "json_invalid":
        return {
            "field": "body",
            "row": None,
            "value": f"character {error['loc'][-1]}",
            "message": f"malformed JSON: {error.get('ctx', {}).get('error', 'decode error')}",
            "allowed": "a JSON object",
        }
    row = next((p for p in loc if isinstance(p, int)), None)
    names = [str(p) for p in loc if not isinstance(p, int)]
    field = names[-1] if names else "body"
    value = error.get("input")
    text = repr(value)
    return {
        "field": field,
        "row": row,
        "value": text if len(text) <= _QUOTE else text[: _QUOTE - 3] + "...",
        "message": str(error.get("msg", "not valid")),
        "path": ".".join(str(p) for p in loc),
    }


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [_problem(e) for e in exc.errors()][:50]
    first = problems[0] if problems else {"field": "body", "message": "not valid"}
    where = f"field {first['field']}" + (
        f", row {first['row']}" if first.get("row") is not None else ""
    )
    return JSONResponse(
        {"detail": f"{where}: {first['message']}", "problems": problems}, status_code=422
    )


async def _refusal(request: Request, exc: PlatformRefusal) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http(request: Request, exc: HTTPException) -> JSONResponse:
    return JSONResponse(
        {"detail": exc.detail, "problems": []},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


#: Where runs started through the API work without ``runs=`` (``vpp serve --runs-dir``).
DEFAULT_RUNS_DIR = Path("runs") / "platform"


def create_app(
    platform: Platform,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    runs: RunSupervisor | None = None,
) -> FastAPI:
    """The platform's app on ``platform`` (its database already migrated).

    Parameters
    ----------
    platform : Platform
        The database and hooks.
    max_body_bytes : int
        Largest request body; larger ones are answered 413 [bytes].
    runs : RunSupervisor, optional
        Runs in worker processes (default: one working in :data:`DEFAULT_RUNS_DIR`;
        it finishes or watches again the runs a previous server left).
    """
    app = FastAPI(
        title="vpp park platform",
        version=version(),
        description="Telemetry in, schedules out, keys with roles (docs/platform.md).",
    )
    app.state.platform = platform
    app.state.runs = runs if runs is not None else RunSupervisor(platform, DEFAULT_RUNS_DIR)
    app.include_router(router)
    app.include_router(runs_router)
    install_dashboard(app)  # monitoring API and dashboard pages (vpp.platform.dashboard)
    install_alerts(app)  # targets, alerts, webhook, background evaluation (vpp.platform.alerts)
    install_carbon_ledger(app)  # the carbon-asset ledger's routes (vpp.platform.carbon_ledger)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(PlatformRefusal, _refusal)
    app.add_exception_handler(HTTPException, _http)
    app.add_middleware(ControlGate)  # control characters in a path or query: 422
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(KeyGate, platform=platform)  # outermost: 401 before anything is read
    return app
