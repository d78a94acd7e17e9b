"""The alerts' evaluation: every condition of every park, periodically and after ingestion.

:meth:`AlertEngine.evaluate` runs :mod:`.checks` for each registered park and
reconciles the alerts (:func:`~.store.reconcile`); :meth:`AlertEngine.start` runs it in
a background thread every ``evaluation.interval_s`` seconds. After a telemetry batch
is committed, whatever brought it (HTTP JSON or CSV, MQTT), the platform's
``readings_stored`` hook (:attr:`vpp.platform.service.Platform.readings_stored`) calls
:meth:`AlertEngine.on_readings_stored`, which only marks the site (:meth:`touched`);
the thread then runs the cheap checks (telemetry gaps and the peak) for the marked
sites, so ingestion never waits for an evaluation. The engine is on the hook from
:meth:`AlertEngine.subscribe` (the app's :func:`~vpp.platform.alerts.install`) until
:meth:`AlertEngine.stop`. Evaluations are serialized by a lock: one alert per condition.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pandas as pd
from sqlalchemy import select

from vpp.platform.alerts.checks import (
    gap_findings,
    peak_findings,
    schedule_findings,
    target_findings,
    target_report,
)
from vpp.platform.alerts.settings import AlertSettings
from vpp.platform.alerts.store import reconcile
from vpp.platform.alerts.targets import read_targets, set_targets
from vpp.platform.alerts.webhook import Deliverer
from vpp.platform.models import Park
from vpp.platform.parks import list_sites
from vpp.platform.refusals import UnknownSite

__all__ = ["AlertEngine"]

LOG = logging.getLogger("vpp.platform.alerts")
#: The kinds a full evaluation covers, and those run after ingestion (cheap).
ALL_KINDS = ("target", "telemetry_gap", "schedule", "run", "peak")
CHEAP_KINDS = ("telemetry_gap", "peak")


class AlertEngine:
    """Evaluates a platform's alerts (module docstring).

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database and clock.
    settings : AlertSettings
        Webhook, pace, thresholds; its ``targets`` are stored at construction.
    """

    def __init__(self, platform: Any, settings: AlertSettings | None = None) -> None:
        self.platform = platform
        self.settings = settings or AlertSettings()
        self.deliverer = Deliverer(platform, self.settings.webhook)
        self._lock = threading.Lock()
        self._dirty: set[tuple[str, str]] = set()
        self._dirty_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._store_file_targets()

    def _store_file_targets(self) -> None:
        for entry in self.settings.targets:
            refs = {r.site: r for r in list_sites(self.platform.sessions, entry.park)}
            park_id = self._park_id(entry.park)
            if park_id is None:
                LOG.warning("alerts settings: targets of unregistered park %r skipped", entry.park)
                continue
            now = self.platform.clock()
            if entry.park_targets is not None:
                set_targets(
                    self.platform.sessions,
                    park_id,
                    None,
                    entry.year,
                    entry.park_targets,
                    "file",
                    now,
                )
            for site, values in entry.sites.items():
                if site not in refs:
                    LOG.warning("alerts settings: targets of unknown site %r skipped", site)
                    continue
                site_id = refs[site].site_id
                set_targets(
                    self.platform.sessions, park_id, site_id, entry.year, values, "file", now
                )

    def _park_id(self, park: str) -> int | None:
        with self.platform.sessions() as session:
            return session.scalar(select(Park.id).where(Park.name == park))

    def _parks(self) -> list[tuple[int, str, str]]:
        with self.platform.sessions() as session:
            return [tuple(r) for r in session.execute(select(Park.id, Park.name, Park.file))]

    def report(self, park: str, year: int | None = None) -> dict[str, Any]:
        """The park's targets and trajectories (:func:`~.checks.target_report`)."""
        park_id = self._park_id(park)
        file = next((f for i, _, f in self._parks() if i == park_id), None)
        if park_id is None or file is None:
            raise UnknownSite(f"no registered park {park[:200]!r}")
        refs = list_sites(self.platform.sessions, park)
        now = self.platform.clock()
        if year is None:
            year = pd.Timestamp(now).tz_convert(refs[0].timezone).year if refs else now.year
        targets = read_targets(self.platform.sessions, park_id, year)
        return target_report(self.platform, self.settings, refs, file, targets, year, now)

    def evaluate(
        self, park: str | None = None, kinds: tuple[str, ...] = ALL_KINDS
    ) -> dict[str, dict[str, int]]:
        """Evaluate ``kinds`` for one park (default every park); counts per park."""
        out = {}
        with self._lock:
            for park_id, name, file in self._parks():
                if park is not None and name != park:
                    continue
                try:
                    out[name] = self._evaluate_park(park_id, name, file, kinds, None)
                except Exception:  # one park's broken file must not stop the others
                    LOG.exception("alert evaluation of park %s failed", name)
        if self.settings.webhook.url:
            self.deliverer.wake()
        return out

    def _evaluate_park(
        self, park_id: int, name: str, file: str, kinds: tuple[str, ...], sites: set[str] | None
    ) -> dict[str, int]:
        now = self.platform.clock()
        refs = [
            r for r in list_sites(self.platform.sessions, name) if sites is None or r.site in sites
        ]
        findings = []
        if "telemetry_gap" in kinds:
            findings += gap_findings(self.platform, self.settings, refs, now)
        if "peak" in kinds:
            findings += peak_findings(self.platform, self.settings, refs, file, now)
        if "schedule" in kinds or "run" in kinds:
            findings += schedule_findings(self.platform, park_id, refs, now)
        if "target" in kinds and refs:
            year = pd.Timestamp(now).tz_convert(refs[0].timezone).year
            targets = read_targets(self.platform.sessions, park_id, year)
            if targets:
                report = target_report(self.platform, self.settings, refs, file, targets, year, now)
                findings += target_findings(report)
        site_ids = None if sites is None else {r.site_id for r in refs}
        return reconcile(
            self.platform,
            park_id,
            kinds,
            site_ids,
            [f for f in findings if f.kind in kinds],
            webhook=bool(self.settings.webhook.url),
        )

    def subscribe(self) -> None:
        """Put :meth:`on_readings_stored` on the platform's ``readings_stored`` hook
        (once)."""
        if self.on_readings_stored not in self.platform.readings_stored:
            self.platform.readings_stored.append(self.on_readings_stored)

    def unsubscribe(self) -> None:
        """Take :meth:`on_readings_stored` off the platform's hook."""
        if self.on_readings_stored in self.platform.readings_stored:
            self.platform.readings_stored.remove(self.on_readings_stored)

    def on_readings_stored(self, event: Any) -> None:
        """The ``readings_stored`` hook (a :class:`~vpp.platform.service.ReadingsStored`):
        a batch that added readings marks its site (:meth:`touched`); one that only
        repeated stored readings changes nothing to check. Returns at once."""
        if event.stored > 0:
            self.touched(event.park, event.site)

    def touched(self, park: str, site: str) -> None:
        """A telemetry batch of ``site`` was stored: evaluate its cheap checks soon
        (in the background thread; returns at once)."""
        with self._dirty_lock:
            self._dirty.add((park, site))
        self._wake.set()

    def evaluate_touched(self) -> None:
        """Run the cheap checks for the sites marked by :meth:`touched`."""
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        by_park: dict[str, set[str]] = {}
        for park, site in dirty:
            by_park.setdefault(park, set()).add(site)
        with self._lock:
            for park_id, name, file in self._parks():
                if name in by_park:
                    try:
                        self._evaluate_park(park_id, name, file, CHEAP_KINDS, by_park[name])
                    except Exception:
                        LOG.exception("alert evaluation after ingestion (%s) failed", name)
        if self.settings.webhook.url:
            self.deliverer.wake()

    def _loop(self) -> None:
        interval = self.settings.evaluation.interval_s
        next_full = time.monotonic()
        while not self._stop.is_set():
            try:
                if interval and time.monotonic() >= next_full:
                    next_full = time.monotonic() + interval
                    self.evaluate()
                if self._dirty:
                    self.evaluate_touched()
            except Exception:  # the database away for a moment: the next round tries again
                LOG.exception("alert evaluation failed")
            wait = max(0.0, next_full - time.monotonic()) if interval else 3600.0
            self._wake.wait(wait)
            self._wake.clear()

    def start(self) -> None:
        """Subscribe to the platform's ``readings_stored`` hook, start the evaluation
        thread (a full evaluation at once, then every ``interval_s``) and the webhook's."""
        self.subscribe()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="vpp-alerts", daemon=True)
            self._thread.start()
        self.deliverer.start()

    def stop(self) -> None:
        """Leave the platform's hook and stop both threads (an evaluation under way
        finishes first)."""
        self.unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        self.deliverer.stop()
