"""The dashboard's pages (server-rendered with Jinja2), its login and logout.

=============================================  ===============  ============================
page                                           roles            shows
=============================================  ===============  ============================
``/dashboard/parks/{park}``                    operator, admin  the park overview
``/dashboard/parks/{park}/sites/{site}``       site (own), ...  a site's day: plan vs actual
``/dashboard/parks/{park}/sites/{site}/month`` site (own), ...  peak, bill, carbon account
``/dashboard/parks/{park}/carbon``             all (own site)   carbon assets
``/dashboard/parks/{park}/runs``               operator, admin  runs and their flags
``/dashboard/parks/{park}/gaps``               all (own site)   telemetry gaps
=============================================  ===============  ============================

Without a valid session a page redirects to ``/login``; a key whose role may not see a
page gets 403, as in the API. Every number comes from
:mod:`vpp.platform.monitoring.service`, the same functions as the JSON API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from vpp.platform.alerts import TEMPLATES as ALERT_TEMPLATES
from vpp.platform.alerts import dashboard_context
from vpp.platform.carbon_ledger.service import site_views
from vpp.platform.carbon_ledger.view import METERED_BASIS
from vpp.platform.dashboard.figures import PALETTE, Series, bar_chart, line_chart
from vpp.platform.dashboard.session import COOKIE, SESSION_S
from vpp.platform.keys import Principal, authenticate
from vpp.platform.monitoring.api import reachable_site
from vpp.platform.monitoring.service import (
    park_file,
    park_monitor,
    runs_and_flags,
    site_monitor,
    telemetry_gaps,
)
from vpp.platform.parks import list_parks, list_sites
from vpp.platform.refusals import PlatformRefusal

__all__ = [
    "LoginRequired",
    "PageRefused",
    "redirect",
    "refused_page",
    "root_path",
    "router",
    "templates",
]

router = APIRouter(include_in_schema=False)


def root_path(request: Request) -> str:
    """The prefix a reverse proxy serves the app under (``vpp serve --root-path``; ``""``
    at the root of its host name): every link, redirect and cookie path starts with it."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _root(request: Request) -> dict[str, str]:
    return {"root": root_path(request)}  # {{ root }} before every absolute link


def redirect(request: Request, path: str) -> RedirectResponse:
    """A 303 to ``path`` (absolute in the app) under the request's root path."""
    return RedirectResponse(root_path(request) + path, status_code=303)


templates = Jinja2Templates(
    directory=str(Path(__file__).parent / "templates"), context_processors=[_root]
)
templates.env.loader.searchpath.append(str(ALERT_TEMPLATES))  # alerts_section.html


def _num(value: Any, digits: int = 0) -> str:
    """A number with thousands separators, or an en dash for none."""
    if value is None:
        return "–"
    return f"{float(value):,.{digits}f}"


def _pct(value: Any, digits: int = 1) -> str:
    return "–" if value is None else f"{100.0 * float(value):.{digits}f} %"


templates.env.filters["num"] = _num
templates.env.filters["pct"] = _pct


#: Labels of the carbon account's lines.
_LINES = {
    "electricity_location_based": "electricity (location)",
    "electricity_market_based": "electricity (market)",
    "natural_gas": "natural gas",
}


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to the login form."""


class PageRefused(Exception):
    """A page refused (403) or not found (404): answered as an HTML page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _html_errors(page: Callable[..., Response]) -> Callable[..., Response]:
    """Turn the API's refusals raised while building a page into :class:`PageRefused`."""

    @functools.wraps(page)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            return page(*args, **kwargs)
        except HTTPException as exc:
            raise PageRefused(exc.status_code, str(exc.detail)) from None
        except PlatformRefusal as exc:
            raise PageRefused(exc.status, exc.message) from None

    return wrapped


def refused_page(request: Request, exc: Exception) -> HTMLResponse:
    """The HTML answer to :class:`PageRefused`."""
    status = getattr(exc, "status", 500)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"who": None, "status": status, "message": getattr(exc, "message", str(exc))},
        status_code=status,
    )


def _who(request: Request) -> Principal:
    platform = request.app.state.platform
    principal = request.app.state.dashboard_sessions.principal(
        platform.sessions, request.cookies.get(COOKIE)
    )
    if principal is None:
        raise LoginRequired
    return principal


def _operator(who: Principal) -> None:
    if who.role not in ("operator", "admin"):
        raise HTTPException(403, f"a {who.role} key may not see this page")


def _visible_sites(request: Request, who: Principal, park: str) -> list[Any]:
    refs = list_sites(request.app.state.platform.sessions, park)
    if who.role == "site":
        refs = [r for r in refs if r.site_id == who.site_id]
        if not refs:
            raise HTTPException(403, "a site key reaches only its own site")
    elif not refs:
        raise HTTPException(404, f"no registered park {park[:200]!r}")
    return refs


def _render(request: Request, name: str, who: Principal, **context: Any) -> HTMLResponse:
    park = context.get("park")
    sites = _visible_sites(request, who, park) if park else []
    return templates.TemplateResponse(
        request,
        name,
        {
            "who": who,
            "nav_sites": [r.site for r in sites],
            "page": name,
            "demo": getattr(request.app.state, "demo", False),
            **context,
        },
    )


@router.get("/")
def root(request: Request) -> RedirectResponse:
    return redirect(request, "/dashboard")


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {"error": None, "who": None})


@router.post("/login")
def login(request: Request, key: Annotated[str, Form(max_length=200)]) -> Response:
    """Check the key; on success set the session cookie and go to the dashboard."""
    who = authenticate(request.app.state.platform.sessions, key)
    if who is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": "That key is not valid (unknown, mistyped or revoked).", "who": None},
            status_code=401,
        )
    response = redirect(request, "/dashboard")
    response.set_cookie(
        COOKIE,
        request.app.state.dashboard_sessions.cookie(who.key_id),
        max_age=SESSION_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=root_path(request) or "/",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    response = redirect(request, "/login")
    response.delete_cookie(COOKIE, path=root_path(request) or "/")
    return response


@router.get("/dashboard")
def home(request: Request) -> Response:
    """An operator's park (the first, or the list); a site key's own site."""
    who = _who(request)
    platform = request.app.state.platform
    if who.role == "site":
        ref = next(r for r in list_sites(platform.sessions) if r.site_id == who.site_id)
        return redirect(request, f"/dashboard/parks/{ref.park}/sites/{ref.site}")
    parks = list_parks(platform.sessions)
    if len(parks) == 1:
        return redirect(request, f"/dashboard/parks/{parks[0]['park']}")
    return _render(request, "parks.html", who, parks=parks)


@router.get("/dashboard/parks/{park}")
@_html_errors
def park_page(request: Request, park: str) -> HTMLResponse:
    who = _who(request)
    _operator(who)
    view = park_monitor(request.app.state.platform, park)
    chart = ""
    if view.get("today"):
        today = view["today"]
        chart = line_chart(
            today["timestamps"],
            [
                Series("plan", today["plan_import_kw"], PALETTE[0], dashed=True),
                Series("metered", today["actual_import_kw"], PALETTE[1]),
            ],
            unit="kW",
            title=f"{park}: grid import today, plan and metered (sum of sites)",
            now_index=_now_index(today["actual_import_kw"]),
        )
    return _render(request, "park.html", who, park=park, view=view, chart=chart)


def _now_index(values: list[float | None]) -> int | None:
    known = [i for i, v in enumerate(values) if v is not None]
    return known[-1] + 1 if known else None


@router.get("/dashboard/parks/{park}/sites/{site}")
@_html_errors
def site_day(request: Request, park: str, site: str) -> HTMLResponse:
    who = _who(request)
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    view = site_monitor(platform, ref, park_file(platform, park))
    today = view["today"]
    stamps = today["timestamps"]
    now_index = _now_index(today["actual_import_kw"])
    import_chart = line_chart(
        stamps,
        [
            Series("plan import", today["plan_import_kw"], PALETTE[0], dashed=True),
            Series("metered import", today["actual_import_kw"], PALETTE[1]),
        ],
        unit="kW",
        title=f"{site}: grid import today",
        now_index=now_index,
    )
    site_chart = line_chart(
        stamps,
        [
            Series("plan load", today["plan_load_kw"], PALETTE[3], dashed=True),
            Series("metered load", today["actual_load_kw"], PALETTE[3]),
            Series("plan PV", today["plan_pv_kw"], PALETTE[4], dashed=True),
            Series("metered PV", today["actual_pv_kw"], PALETTE[2]),
        ],
        unit="kW",
        title=f"{site}: load and PV today",
        now_index=now_index,
    )
    soc_charts = [
        line_chart(
            stamps,
            [
                Series(f"{name.removesuffix('_soc_kwh')} plan", lines["plan"], PALETTE[0], True),
                Series(f"{name.removesuffix('_soc_kwh')} metered", lines["actual"], PALETTE[2]),
            ],
            unit="kWh",
            title=f"{site}: state of charge of {name.removesuffix('_soc_kwh')} today",
            now_index=now_index,
        )
        for name, lines in today["soc_kwh"].items()
    ]
    return _render(
        request,
        "site_day.html",
        who,
        park=park,
        site=site,
        view=view,
        import_chart=import_chart,
        site_chart=site_chart,
        soc_charts=soc_charts,
    )


@router.get("/dashboard/parks/{park}/sites/{site}/month")
@_html_errors
def site_month(request: Request, park: str, site: str) -> HTMLResponse:
    who = _who(request)
    platform = request.app.state.platform
    ref = reachable_site(platform, who, park, site)
    view = site_monitor(platform, ref, park_file(platform, park), steps=False)
    account = view["month_account"]
    bill = account["bill"]
    bill_chart = bar_chart(
        [
            ("energy", bill["energy_cost_cny"]),
            ("basic charge", bill["basic_charge_cny"]),
            ("export credit", -bill["export_revenue_cny"]),
        ],
        unit=view["currency"],
        title=f"{site}: the month's bill so far",
    )
    carbon = account["carbon"]["by_carrier_t"]
    carbon_chart = bar_chart(
        [(_LINES.get(k, k.replace("_", " ")), v) for k, v in carbon.items()],
        unit="t",
        title=f"{site}: CO2 by carrier, month to date",
    )
    return _render(
        request,
        "site_month.html",
        who,
        park=park,
        site=site,
        view=view,
        bill_chart=bill_chart,
        carbon_chart=carbon_chart,
    )


@router.get("/dashboard/parks/{park}/carbon")
@_html_errors
def carbon_page(request: Request, park: str) -> HTMLResponse:
    who = _who(request)
    platform = request.app.state.platform
    refs = _visible_sites(request, who, park)
    file = park_file(platform, park)
    # the month from monitoring; the carbon assets from the ledger as it is now
    assets = site_views(platform, file, refs)
    views = [
        {**view, "carbon_assets": assets[view["site"]]}
        for view in (site_monitor(platform, ref, file, steps=False) for ref in refs)
    ]
    # the targets and their warnings (vpp.platform.alerts), a site key its own site's
    warnings: dict[str, Any] = {"alerts": [], "targets": None}
    if hasattr(request.app.state, "alerts"):
        own = None if who.role in ("operator", "admin") else {who.site_id}
        warnings = dashboard_context(request.app, park, own)
    return _render(
        request, "carbon.html", who, park=park, views=views, metered_basis=METERED_BASIS, **warnings
    )


@router.get("/dashboard/parks/{park}/runs")
@_html_errors
def runs_page(request: Request, park: str) -> HTMLResponse:
    who = _who(request)
    _operator(who)
    platform = request.app.state.platform
    park_file(platform, park)
    return _render(request, "runs.html", who, park=park, runs=runs_and_flags(platform, park))


@router.get("/dashboard/parks/{park}/gaps")
@_html_errors
def gaps_page(request: Request, park: str) -> HTMLResponse:
    who = _who(request)
    platform = request.app.state.platform
    refs = _visible_sites(request, who, park)
    file = park_file(platform, park)
    reports = [telemetry_gaps(platform, ref, file) for ref in refs]
    return _render(request, "gaps.html", who, park=park, reports=reports)
