"""Telemetry in: the platform's subscription to every site's meter channels.

The subscriber listens on ``vpp/<park>/+/telemetry/+`` for each park (QoS 1), checks
each message (:func:`vpp.platform_mqtt.telemetry_payload.check_readings`) and hands the
good ones to the platform's ``store_readings(park, site, rows)``, ``rows`` as the HTTP
API takes them: ``[{"channel": ..., "timestamp": ISO 8601, "value": float}, ...]``.

Nothing is dropped silently. A message that is refused, by the checks here or by the
store (an exception of ``refusals``: an unknown site or channel, a reading that conflicts
with a stored one), is

- counted (:attr:`SubscriberStats.refused`),
- logged at WARNING, one line per problem naming the topic, the field and the value,
- reported to the site on ``vpp/<park>/<site>/errors`` (QoS 1, JSON: ``topic``,
  ``received_at``, ``problems`` with ``field``, ``value``, ``message``, ``allowed``),
- kept in :attr:`TelemetrySubscriber.recent_refusals` and passed to ``on_refused``.

A message is acknowledged (PUBACK) only once it is stored or refused: when the store
fails for another reason (the database is down), it is logged, counted
(:attr:`SubscriberStats.store_failures`) and left unacknowledged, and the broker sends it
again when the subscriber reconnects (:meth:`TelemetrySubscriber.redeliver` reconnects at
once). With a fixed ``client_id`` the broker keeps the session and queues the messages
that arrive while the platform is away; it sends a client at most
``max_inflight_messages`` (20 by default) unacknowledged messages and queues the rest, up
to ``max_queued_messages`` (1000 by default).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vpp.errors import Problem, VppError
from vpp.platform_mqtt.connection import LOG, BrokerError, BrokerLink, BrokerSettings
from vpp.platform_mqtt.telemetry_payload import channel_bounds, check_readings
from vpp.platform_mqtt.topics import errors_topic, parse_telemetry_topic, telemetry_filter

__all__ = [
    "ERRORS_QOS",
    "RECENT_REFUSALS",
    "TELEMETRY_QOS",
    "Refusal",
    "SubscriberStats",
    "TelemetrySubscriber",
]

#: QoS of the telemetry subscription: at least once.
TELEMETRY_QOS = 1
#: QoS of the error reports sent to the sites.
ERRORS_QOS = 1
#: Refusals kept for the status page [-].
RECENT_REFUSALS = 100

StoreReadings = Callable[[str, str, list[dict[str, Any]]], Any]


@dataclass(frozen=True)
class Refusal:
    """A telemetry message not taken, and why.

    Attributes
    ----------
    topic : str
        Its topic.
    received_at : datetime.datetime
        When it arrived (the platform's clock).
    problems : tuple of Problem
        Every problem (``key``: the field, ``value``: what came).
    """

    topic: str
    received_at: dt.datetime
    problems: tuple[Problem, ...]

    def report(self) -> dict[str, Any]:
        """The JSON report sent on the site's errors topic."""
        return {
            "topic": self.topic,
            "received_at": self.received_at.isoformat(),
            "problems": [
                {
                    "field": p.key or "",
                    "value": p.value,
                    "message": p.message,
                    "allowed": p.allowed or "",
                }
                for p in self.problems
            ],
        }


@dataclass(frozen=True)
class SubscriberStats:
    """Counts since the start [-]: messages received, stored, refused; readings stored;
    store failures (left unacknowledged for redelivery)."""

    received: int = 0
    stored: int = 0
    readings: int = 0
    refused: int = 0
    store_failures: int = 0


class TelemetrySubscriber:
    """Subscribes to the parks' telemetry and stores what passes the checks.

    Parameters
    ----------
    settings : BrokerSettings
        The broker and the platform's credentials. A non-empty ``client_id`` keeps the
        session: messages sent while the platform is away are delivered when it returns.
    parks : sequence of str
        The parks whose telemetry is taken.
    store_readings : callable
        ``store_readings(park, site, rows)``: stores the rows (all or none) before it
        returns, or raises.
    refusals : tuple of exception classes
        What ``store_readings`` raises to refuse the readings (reported like a message
        that fails the checks); any other exception is a store failure.
    bounds : callable
        ``(low, high, unit)`` of a channel, or None for an unknown one
        (:func:`vpp.platform_mqtt.telemetry_payload.channel_bounds`).
    clock : callable
        The present, tz-aware (tests give a fixed one).
    on_refused : callable, optional
        Called with each :class:`Refusal` (alerts), in paho's network thread.
    """

    def __init__(
        self,
        settings: BrokerSettings,
        parks: Sequence[str],
        store_readings: StoreReadings,
        *,
        refusals: tuple[type[BaseException], ...] = (ValueError, VppError),
        bounds: Callable[[str], tuple[float, float, str] | None] = channel_bounds,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        on_refused: Callable[[Refusal], None] | None = None,
    ) -> None:
        self.filters = [telemetry_filter(park) for park in parks]
        self.parks = frozenset(parks)
        self.store_readings = store_readings
        self.refusals = refusals
        self.bounds = bounds
        self.clock = clock
        self.on_refused = on_refused
        self.link = BrokerLink(
            settings,
            clean_session=not settings.client_id,
            on_message=self._message,
            manual_ack=True,
        )
        self.link.client.on_subscribe = self._subscribed
        self.link.after_connect.append(self._subscribe)
        self._lock = threading.Lock()
        self._granted = threading.Event()
        self._denied: list[str] = []
        self._counts = {k: 0 for k in SubscriberStats.__dataclass_fields__}
        #: The latest refusals, newest last.
        self.recent_refusals: deque[Refusal] = deque(maxlen=RECENT_REFUSALS)

    def __enter__(self) -> TelemetrySubscriber:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        """Connect, subscribe, and wait for the broker to grant the subscriptions.

        Raises
        ------
        BrokerError
            The broker cannot be reached, refused the connection or a subscription.
        """
        self._granted.clear()
        self.link.start()
        timeout = self.link.settings.connect_timeout_s
        if not self._granted.wait(timeout) or self._denied:
            self.stop()
            raise BrokerError(
                Problem(
                    f"MQTT broker {self.link.settings.where()} did not grant the telemetry "
                    f"subscription(s) {self.filters}: "
                    f"{', '.join(self._denied) or f'no answer within {timeout:g} s'}",
                    key="mqtt",
                    allowed="read access to vpp/<park>/+/telemetry/+ for the platform user",
                    fix="give the platform user readwrite on vpp/# in the broker's ACL file "
                    "(vpp.platform_mqtt.access.write_broker_access)",
                )
            )

    def stop(self) -> None:
        """Disconnect (idempotent)."""
        self.link.stop()

    def redeliver(self) -> None:
        """Reconnect, so that the broker sends the messages left unacknowledged by a
        failed store again (call it when the store is back; needs a ``client_id``)."""
        self.stop()
        self.start()

    def stats(self) -> SubscriberStats:
        """The counts now."""
        with self._lock:
            return SubscriberStats(**self._counts)

    def _count(self, **add: int) -> None:
        with self._lock:
            for key, n in add.items():
                self._counts[key] += n

    # paho callbacks, in paho's network thread -----------------------------------------

    def _subscribe(self) -> None:
        """After every (re)connection: subscribe again (a clean session forgets them)."""
        self.link.client.subscribe([(f, TELEMETRY_QOS) for f in self.filters])

    def _subscribed(self, client: Any, userdata: Any, mid: int, codes: Any, props: Any) -> None:
        denied = [f"{f}: {c}" for f, c in zip(self.filters, codes) if c.is_failure]
        self._denied = denied
        if denied:
            LOG.error("MQTT telemetry subscription refused: %s", "; ".join(denied))
        self._granted.set()

    def _message(self, client: Any, userdata: Any, message: Any) -> None:
        """One telemetry message: checked, stored or refused, then acknowledged.

        An exception here would end paho's network thread, so none leaves: a bug is
        logged and counted as a store failure (the message stays unacknowledged)."""
        try:
            self._handle(client, message)
        except Exception:
            self._count(store_failures=1)
            LOG.exception("MQTT telemetry on %s not handled", message.topic)

    def _handle(self, client: Any, message: Any) -> None:
        self._count(received=1)
        now = self.clock()
        topic = message.topic
        try:
            where = parse_telemetry_topic(topic)
        except ValueError as exc:
            self._refuse(topic, now, [Problem(str(exc), file=topic, key="topic")], None)
            client.ack(message.mid, message.qos)
            return
        checked = check_readings(topic, where.channel, message.payload, now, self.bounds)
        if checked.problems:
            self._refuse(topic, now, checked.problems, where)
            client.ack(message.mid, message.qos)
            return
        rows = [
            {"channel": where.channel, "timestamp": r.t.isoformat(), "value": r.value}
            for r in checked.readings
        ]
        try:
            self.store_readings(where.park, where.site, rows)
        except self.refusals as exc:
            self._refuse(topic, now, _store_problems(topic, exc), where)
        except Exception:  # the store failed (database down): redelivered on reconnect
            self._count(store_failures=1)
            LOG.exception(
                "MQTT telemetry on %s not stored (store failed); not acknowledged, the "
                "broker sends it again when the platform reconnects",
                topic,
            )
            return
        else:
            self._count(stored=1, readings=len(rows))
        client.ack(message.mid, message.qos)

    def _refuse(self, topic: str, now: dt.datetime, problems: list[Problem], where: Any) -> None:
        refusal = Refusal(topic, now, tuple(problems))
        self._count(refused=1)
        self.recent_refusals.append(refusal)
        for problem in problems:
            LOG.warning(
                "MQTT telemetry refused: topic %s, field %s, value %s: %s (allowed: %s)",
                topic,
                problem.key or "-",
                problem.value,
                problem.message,
                problem.allowed or "-",
            )
        if where is not None:
            body = json.dumps(refusal.report(), default=str).encode("utf-8")
            self.link.client.publish(errors_topic(where.park, where.site), body, qos=ERRORS_QOS)
        if self.on_refused is not None:
            try:
                self.on_refused(refusal)
            except Exception:  # an alert hook's bug must not stop the ingestion; logged
                LOG.exception("MQTT on_refused hook failed")


def _store_problems(topic: str, exc: BaseException) -> list[Problem]:
    """The store's refusal as problems: its ``problems`` or ``conflicts`` (lists of dicts
    or of :class:`~vpp.errors.Problem`), else its message."""
    found: list[Problem] = []
    for item in getattr(exc, "problems", None) or getattr(exc, "conflicts", None) or []:
        if isinstance(item, Problem):
            found.append(item)
        elif isinstance(item, dict):
            found.append(
                Problem(
                    "refused by the platform: "
                    + str(item.get("message", "conflicts with a stored reading")),
                    file=topic,
                    key=str(item.get("field", item.get("timestamp", ""))),
                    value=str(item.get("value", item.get("sent_value", ""))),
                    allowed=str(item.get("allowed", item.get("stored_value", ""))),
                )
            )
    return found or [Problem(f"refused by the platform: {exc}", file=topic)]
