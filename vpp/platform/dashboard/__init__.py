"""The dashboard: server-rendered pages over monitoring, with a session login.

:func:`install` adds to the platform's app the monitoring API
(:mod:`vpp.platform.monitoring.api`), the pages (:mod:`~vpp.platform.dashboard.routes`,
templates in ``templates/``, the style sheet in ``static/``) and the session signer
(:mod:`~vpp.platform.dashboard.session`). No front-end build step: figures are inline
SVG made on the server (:mod:`~vpp.platform.dashboard.figures`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["install"]


async def _to_login(request: Request, exc: Exception) -> RedirectResponse:
    from vpp.platform.dashboard.routes import redirect

    return redirect(request, "/login")


def install(app: FastAPI) -> None:
    """Add the monitoring API, the dashboard's pages and its static files to ``app``."""
    from vpp.platform.dashboard.routes import LoginRequired, PageRefused, refused_page, router
    from vpp.platform.dashboard.session import Sessions
    from vpp.platform.monitoring.api import router as monitoring

    app.state.dashboard_sessions = Sessions.new()
    app.include_router(monitoring)
    app.include_router(router)
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(PageRefused, refused_page)
