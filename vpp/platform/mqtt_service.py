"""``vpp serve --mqtt``: the platform's schedules out and telemetry in over MQTT.

:class:`MqttService` joins a :class:`~vpp.platform.service.Platform` to the broker with
:mod:`vpp.platform_mqtt` (topics, payloads and the ACL: ``docs/platform-mqtt.md``):

- a :class:`~vpp.platform_mqtt.SchedulePublisher` on the platform's "schedule committed"
  hook, so **a schedule is published only after its transaction committed**, and only
  if it is the schedule to dispatch for its site and date
  (:meth:`Platform.dispatch_table <vpp.platform.service.Platform.dispatch_table>`);
  its ``created_at`` is the commit's time. The hook only queues the event: one publishing
  thread publishes the events in commit order, so a broker that is down (each publish
  waits up to 10 s for its PUBACK) never holds up a commit or a run;
- at :meth:`MqttService.start`, every site's latest schedule re-published on its
  retained topic (:meth:`Platform.latest_schedules`), so a restart restores what a
  broker lost;
- a :class:`~vpp.platform_mqtt.TelemetrySubscriber` on the registered parks' telemetry,
  storing through :meth:`Platform.store_readings` (the HTTP API's checks and
  idempotency, and its ``readings_stored`` hook after the commit, so the alerts'
  after-ingestion checks run as for a batch posted to the API); its refusals are
  reported to the site on its ``errors`` topic.

Nothing fails silently: :meth:`MqttService.status` (``GET /api/v1/mqtt``, and a
summary in ``GET /api/v1/health``) shows the publisher's connection, its failures and
unacknowledged topics, the last problem of a commit hook (a schedule that could not be
built or published), and the subscriber's counts and latest refusals.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from vpp.platform.models import Park
from vpp.platform.refusals import ReadingConflict, TelemetryRefused, UnknownSite
from vpp.platform.schedules import ScheduleCommitted
from vpp.platform.service import Platform
from vpp.platform_mqtt import (
    BrokerSettings,
    PublishOutcome,
    ScheduleBuilder,
    SchedulePublisher,
    SiteSchedule,
    TelemetrySubscriber,
)

__all__ = ["RECENT_PROBLEMS", "SUBSCRIBER_CLIENT_ID", "MqttService", "parse_broker"]

LOG = logging.getLogger("vpp.platform.mqtt")
#: The subscriber's fixed client id: the broker keeps its session, so telemetry sent
#: while the platform was away is delivered when it returns.
SUBSCRIBER_CLIENT_ID = "vpp-platform-telemetry"
#: How many of the latest hook problems :meth:`MqttService.status` shows [-].
RECENT_PROBLEMS = 20


def parse_broker(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as (host, port).

    Raises
    ------
    ValueError
        No port, or a port outside 1 to 65535.
    """
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--mqtt {text!r} is not HOST:PORT (a port from 1 to 65535)")
    return host, int(port)


class MqttService:
    """The platform's publisher and subscriber (module docstring).

    Parameters
    ----------
    platform : Platform
        The platform; :meth:`start` adds a hook to its ``schedule_committed``.
    settings : BrokerSettings
        The broker and the platform user's credentials.
    parks : sequence of str, optional
        The parks whose telemetry is taken (default: every park registered at
        :meth:`start`; a park registered later is taken after the next start).
    """

    def __init__(
        self,
        platform: Platform,
        settings: BrokerSettings,
        *,
        parks: Sequence[str] | None = None,
    ) -> None:
        self.platform = platform
        self.settings = settings
        self.parks = list(parks) if parks is not None else None
        self.publisher = SchedulePublisher(settings)
        self.subscriber: TelemetrySubscriber | None = None
        self.builder = ScheduleBuilder(table=platform.dispatch_table, site=self.site_spec)
        self._hook = self.builder.hook(self.publisher)
        self._lock = threading.Lock()
        self._specs: dict[tuple[str, str, int], dict[str, Any]] = {}
        self._problems: deque[dict[str, str]] = deque(maxlen=RECENT_PROBLEMS)
        self.republished: list[PublishOutcome] = []
        self._events: queue.Queue[ScheduleCommitted | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    # -- the platform's side -------------------------------------------------------
    def site_spec(self, park: str, site: str) -> Any:
        """The scenario's site (its storage units) from the registered park file, read
        again when the file changed."""
        from vpp.portfolio.park import load_park

        with self.platform.sessions() as session:
            file = session.execute(select(Park.file).where(Park.name == park)).scalar_one_or_none()
        if file is None:
            raise UnknownSite(f"park {park!r} is not registered")
        key = (park, file, Path(file).stat().st_mtime_ns)
        with self._lock:
            if key not in self._specs:
                loaded = load_park(Path(file), allow_outside=True)
                self._specs = {k: v for k, v in self._specs.items() if k[0] != park}
                self._specs[key] = {n: s.site for n, s in loaded.sites.items()}
            sites = self._specs[key]
        if site not in sites:
            raise UnknownSite(f"no site {site!r} in park {park!r}'s file {file}")
        return sites[site]

    def _note(self, where: str, exc: BaseException) -> None:
        self._problems.append(
            {
                "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "where": where,
                "error": f"{type(exc).__name__}: {exc}"[:500],
            }
        )

    def on_committed(self, event: ScheduleCommitted) -> None:
        """The "schedule committed" hook: queue the event for the publishing thread."""
        self._events.put(event)

    def _publish_events(self) -> None:
        """The publishing thread: build and publish each event in order; a failure is
        logged and kept for :meth:`status`."""
        while (event := self._events.get()) is not None:
            try:
                self._hook(event)
            except Exception as exc:
                where = f"schedule {event.park}/{event.site} {event.date} run {event.run_id}"
                LOG.error("MQTT publish of %s failed: %s", where, exc)
                self._note(where, exc)
            finally:
                self._events.task_done()
        self._events.task_done()

    def drain(self, timeout_s: float) -> bool:
        """Whether every queued event was handled within ``timeout_s`` [s]."""
        deadline = time.monotonic() + timeout_s
        while self._events.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def _latest(self) -> list[SiteSchedule]:
        built = []
        for event in self.platform.latest_schedules():
            try:
                schedule = self.builder.build(event)
            except Exception as exc:  # one site's bad schedule must not hide the others'
                LOG.exception("MQTT re-publish of %s/%s failed", event.park, event.site)
                self._note(f"re-publish {event.park}/{event.site} {event.date}", exc)
                continue
            if schedule is not None:
                built.append(schedule)
        return built

    # -- start and stop ------------------------------------------------------------
    def start(self) -> None:
        """Connect the publisher, re-publish every site's latest schedule, hook it to the
        platform, and subscribe to the parks' telemetry.

        Raises
        ------
        BrokerError
            The broker cannot be reached, refuses the platform user, or does not grant
            the subscriptions (nothing is left running).
        """
        if self.parks is None:
            with self.platform.sessions() as session:
                self.parks = list(session.scalars(select(Park.name).order_by(Park.name)))
        self.platform.schedule_committed.append(self.on_committed)
        try:
            self.republished = self.publisher.start(latest=self._latest)
            if self.parks:
                self.subscriber = TelemetrySubscriber(
                    replace(self.settings, client_id=SUBSCRIBER_CLIENT_ID),
                    self.parks,
                    store_readings=self.platform.store_readings,
                    refusals=(TelemetryRefused, ReadingConflict, UnknownSite),
                )
                self.subscriber.start()
        except Exception:
            self.stop()
            raise
        self._worker = threading.Thread(
            target=self._publish_events, name="vpp-mqtt-publish", daemon=True
        )
        self._worker.start()
        LOG.info(
            "MQTT %s: %d schedule(s) re-published, telemetry of %s",
            self.settings.where(),
            sum(o.published for o in self.republished),
            ", ".join(self.parks) or "no park",
        )

    def stop(self, timeout_s: float = 30.0) -> None:
        """Unhook from the platform, publish what is queued (at most ``timeout_s`` [s];
        what is left is re-published at the next start), disconnect (idempotent)."""
        if self.on_committed in self.platform.schedule_committed:
            self.platform.schedule_committed.remove(self.on_committed)
        if self._worker is not None:
            self._events.put(None)
            self._worker.join(timeout_s)
            left = sum(1 for e in list(self._events.queue) if e is not None)
            if left:
                LOG.warning("MQTT: %d schedule(s) not published at stop: at the next start", left)
            self._worker = None
        if self.subscriber is not None:
            self.subscriber.stop()
        self.publisher.stop()

    # -- health --------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The publisher's and subscriber's state, for ``GET /api/v1/mqtt``.

        ``healthy`` is False while the publisher is disconnected, a schedule waits for
        the broker's acknowledgement, or the subscriber is disconnected; every failed
        publish is counted in ``publisher.failures`` with the last error, and every
        hook problem is listed in ``problems``.
        """
        pub = self.publisher.status()
        out: dict[str, Any] = {
            "broker": self.settings.where(),
            "publisher": {
                "connected": pub.connected,
                "healthy": pub.healthy,
                "published": pub.published,
                "failures": pub.failures,
                "unacknowledged": list(pub.unacknowledged),
                "last_error": pub.last_error,
                "connection_problem": pub.connection_problem,
                "republished_at_start": sum(o.published for o in self.republished),
                "queued": self._events.qsize(),
            },
            "problems": list(self._problems),
            "parks": list(self.parks or []),
        }
        sub_ok = True
        if self.subscriber is not None:
            sub_ok = self.subscriber.link.connected
            out["subscriber"] = {
                "connected": sub_ok,
                **asdict(self.subscriber.stats()),
                "recent_refusals": [r.report() for r in list(self.subscriber.recent_refusals)],
            }
        out["healthy"] = pub.healthy and sub_ok
        return out
