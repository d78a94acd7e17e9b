"""Targets and early warning: annual targets of energy and carbon, and alerts.

- :mod:`~vpp.platform.alerts.settings`: the webhook, the evaluation's pace and
  thresholds, targets from a YAML file (``vpp serve --alerts FILE``).
- :mod:`~vpp.platform.alerts.conversion`: metered energy in tce (GB/T 2589-2020,
  ``vpp/platform/data/energy-conversion.yaml``).
- :mod:`~vpp.platform.alerts.targets`: targets in the database.
- :mod:`~vpp.platform.alerts.trajectory`: a site's year to date and its projection.
- :mod:`~vpp.platform.alerts.checks`: the conditions (targets, telemetry gaps, fallback
  schedules and failed runs, the month's peak).
- :mod:`~vpp.platform.alerts.store`: alerts opened once, closed when cleared.
- :mod:`~vpp.platform.alerts.webhook`: the webhook's messages, retried with backoff.
- :mod:`~vpp.platform.alerts.engine`: the evaluation, periodic and after ingestion (the
  platform's ``readings_stored`` hook, HTTP and MQTT alike).
- :mod:`~vpp.platform.alerts.api`: ``/api/v1/alerts`` and the targets' routes.

:func:`install` adds them to the platform's app; :func:`configure` gives a platform its
settings before the app is made (default :class:`~.settings.AlertSettings`).
"""

from __future__ import annotations

import weakref
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATES", "configure", "dashboard_context", "install"]

#: The folder of the dashboard partial ``alerts_section.html`` (add it to a Jinja2
#: loader's search path and ``{% include "alerts_section.html" %}``).
TEMPLATES = Path(__file__).resolve().parent / "templates"

_settings: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def configure(platform: Any, settings: Any) -> None:
    """Give ``platform`` its alert settings (:class:`~.settings.AlertSettings`) for the
    app made next with :func:`vpp.platform.create_app`."""
    _settings[platform.engine] = settings


def dashboard_context(app: Any, park: str, site_ids: set[int] | None = None) -> dict[str, Any]:
    """What the partial ``alerts_section.html`` shows for a park: ``alerts`` (open, newest
    first) and ``targets`` (the park's report, None for a site key or without targets).

    ``site_ids`` keeps only those sites' alerts (a site key's own).
    """
    from vpp.platform.alerts.store import list_alerts

    platform = app.state.platform
    alerts = list_alerts(platform, park=park, site_ids=site_ids)
    targets = None
    if site_ids is None:
        report = app.state.alerts.report(park)
        scopes = [report["park"], *report["sites"].values()]
        targets = report if any(s["targets"] for s in scopes) else None
    return {"alerts": alerts, "targets": targets}


def install(app: Any) -> None:
    """Add the alerts' routes and the background evaluation (started and stopped with the
    app) to the platform's ``app``; the engine takes every batch of readings stored from
    the platform's ``readings_stored`` hook, whichever way it came (HTTP, MQTT)."""
    from vpp.platform.alerts.api import router
    from vpp.platform.alerts.engine import AlertEngine

    platform = app.state.platform
    engine = AlertEngine(platform, _settings.get(platform.engine))
    app.state.alerts = engine
    app.include_router(router)
    engine.subscribe()  # readings stored before the app starts are marked too
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> Any:
        engine.start()
        try:
            async with inner(application) as state:
                yield state
        finally:
            engine.stop()

    app.router.lifespan_context = lifespan
