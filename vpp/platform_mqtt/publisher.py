"""Schedules out: every committed schedule on its site's retained topic, QoS 1.

The platform calls :meth:`SchedulePublisher.publish` from its "a schedule was committed"
hook, so a schedule is published only after it is committed. Each site has one retained
topic, ``vpp/<park>/<site>/schedule`` (:func:`vpp.platform_mqtt.topics.schedule_topic`):
the broker keeps the latest schedule there and gives it to every EMS that subscribes,
also to one that connects later. The payload: :mod:`vpp.platform_mqtt.schedule_payload`.

- **Acknowledged or an error.** A publish waits for the broker's PUBACK (at most
  ``ack_timeout_s``). Without it, :class:`~vpp.platform_mqtt.connection.BrokerError` is
  raised and the site is listed in :attr:`PublisherStatus.unacknowledged`; paho keeps
  the message queued and sends it when the connection is back, and the status clears
  once the broker acknowledges it.
- **Newest wins.** A schedule made before the one last published for the same site
  (``created_at``) is not published over it: the outcome says so
  (:attr:`PublishOutcome.note`).
- **Restarts.** :meth:`SchedulePublisher.start` re-publishes the latest schedule of every
  site (given by the caller, from the platform's database), so the retained topics hold
  the committed schedules even after the broker lost them.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from paho.mqtt.client import MQTT_ERR_NO_CONN, MQTT_ERR_SUCCESS, error_string

from vpp.errors import Problem
from vpp.platform_mqtt.connection import LOG, BrokerError, BrokerLink, BrokerSettings
from vpp.platform_mqtt.schedule_payload import SiteSchedule, schedule_payload
from vpp.platform_mqtt.topics import schedule_topic

__all__ = [
    "ACK_TIMEOUT_S",
    "SCHEDULE_QOS",
    "PublishOutcome",
    "PublisherStatus",
    "SchedulePublisher",
]

#: QoS of schedule messages: at least once, acknowledged by a PUBACK.
SCHEDULE_QOS = 1
#: How long a publish waits for the broker's PUBACK [s].
ACK_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PublishOutcome:
    """What became of one schedule.

    Attributes
    ----------
    topic : str
        The site's schedule topic.
    run_id : str or None
        The run whose plan it is.
    published : bool
        Whether the broker acknowledged it (PUBACK).
    note : str
        Empty when published; else why not (an older plan than the one on the topic).
    """

    topic: str
    run_id: str | None
    published: bool
    note: str = ""


@dataclass(frozen=True)
class PublisherStatus:
    """The publisher's health, for the platform's status page and alerts.

    Attributes
    ----------
    connected : bool
        Whether the broker connection is up.
    published : int
        Schedules acknowledged since the start [-].
    failures : int
        Publishes that raised an error since the start [-].
    unacknowledged : tuple of str
        Topics whose latest schedule the broker has not acknowledged yet, or refused.
    last_error : str or None
        The last publish error's message.
    connection_problem : str or None
        The last refusal or loss of the broker connection.
    """

    connected: bool
    published: int
    failures: int
    unacknowledged: tuple[str, ...]
    last_error: str | None
    connection_problem: str | None = None

    @property
    def healthy(self) -> bool:
        """Connected, and every schedule handed over has been acknowledged."""
        return self.connected and not self.unacknowledged


class SchedulePublisher:
    """Publishes committed schedules, one retained QoS 1 topic per site.

    Parameters
    ----------
    settings : BrokerSettings
        The broker and the platform's credentials.
    ack_timeout_s : float
        How long a publish waits for the PUBACK [s].

    Examples
    --------
    On a platform (:mod:`vpp.platform_mqtt.wiring` builds the schedules of its events):

    >>> publisher = SchedulePublisher(BrokerSettings(port=1883, username="vpp-platform",
    ...                                              password=secret))  # doctest: +SKIP
    >>> publisher.start(latest=latest_schedules)  # doctest: +SKIP
    >>> publisher.publish(committed_schedule)  # doctest: +SKIP
    """

    def __init__(self, settings: BrokerSettings, *, ack_timeout_s: float = ACK_TIMEOUT_S):
        self.link = BrokerLink(settings, mqtt5=True)
        self.link.client.on_publish = self._acknowledged
        self.ack_timeout_s = float(ack_timeout_s)
        self._one_at_a_time = threading.Lock()
        self._acked = threading.Condition()
        #: PUBACKs by message id: ("" acknowledged, else the broker's refusal; when, on
        #: the monotonic clock [s]). paho reuses message ids (1 to 65535): an answer
        #: older than the publish is not its answer.
        self._acks: dict[int, tuple[str, float]] = {}
        self._newest: dict[str, tuple[dt.datetime, str | None]] = {}
        #: The message id of each topic's latest schedule, and when it was handed over.
        self._waiting: dict[str, tuple[int, float]] = {}
        self._published = 0
        self._failures = 0
        self._last_error: str | None = None

    def __enter__(self) -> SchedulePublisher:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(
        self, latest: Callable[[], Iterable[SiteSchedule]] | None = None
    ) -> list[PublishOutcome]:
        """Connect, then re-publish the latest schedule of every site.

        Parameters
        ----------
        latest : callable, optional
            Returns the latest committed schedule of every site (the platform's
            database). None: nothing to re-publish.

        Returns
        -------
        list of PublishOutcome
            One per schedule re-published.

        Raises
        ------
        BrokerError
            The broker cannot be reached or refused the connection; or some schedules
            were not acknowledged (every one was tried; the error lists each).
        """
        self.link.start()
        if latest is None:
            return []
        outcomes, problems = [], []
        for schedule in latest():
            try:
                outcomes.append(self.publish(schedule))
            except BrokerError as exc:
                problems += exc.problems
        if problems:
            raise BrokerError(problems)
        LOG.info("MQTT re-published %d latest schedule(s)", len(outcomes))
        return outcomes

    def stop(self) -> None:
        """Disconnect (after the broker acknowledged what it could)."""
        self.link.stop()

    def publish(self, schedule: SiteSchedule) -> PublishOutcome:
        """Publish a committed schedule on its site's retained topic and wait for PUBACK.

        Call it only after the schedule is committed (the platform's commit hook).

        Parameters
        ----------
        schedule : SiteSchedule
            The committed schedule.

        Returns
        -------
        PublishOutcome
            Published, or not published because a newer plan is on the topic.

        Raises
        ------
        BrokerError
            Not acknowledged within ``ack_timeout_s`` (kept queued, sent on reconnect),
            or refused by the client (queue full, payload too large).
        """
        topic = schedule_topic(schedule.park, schedule.site)
        payload = schedule_payload(schedule)
        # One publish at a time (the newest-wins check and the order on the topic). The
        # network thread takes only self._acked, and calls on_publish holding paho's own
        # lock: so self._acked is never held while calling into paho (no deadlock).
        with self._one_at_a_time:
            with self._acked:
                newest = self._newest.get(topic)
                if newest is not None and schedule.created_at < newest[0]:
                    note = (
                        f"not published: the plan of run {newest[1]} (made "
                        f"{newest[0].isoformat()}) is newer than this one (made "
                        f"{schedule.created_at.isoformat()})"
                    )
                    LOG.warning("MQTT %s: %s", topic, note)
                    return PublishOutcome(topic, schedule.run_id, False, note)
                self._newest[topic] = (schedule.created_at, schedule.run_id)
            started = time.monotonic()
            info = self.link.client.publish(topic, payload, qos=SCHEDULE_QOS, retain=True)
            # MQTT_ERR_NO_CONN: paho keeps a QoS 1 message queued for the reconnection
            if info.rc not in (MQTT_ERR_SUCCESS, MQTT_ERR_NO_CONN):
                self._fail(topic, schedule, f"paho refused the message ({error_string(info.rc)})")
            with self._acked:
                earlier = self._waiting.get(topic)
                if earlier is not None and earlier[0] != info.mid:
                    self._acks.pop(earlier[0], None)  # one answer kept per topic
                self._waiting[topic] = (info.mid, started)
                answered = self._acked.wait_for(
                    lambda: self._answer(info.mid, started) is not None,
                    timeout=self.ack_timeout_s,
                )
                refused = self._answer(info.mid, started) or ""
            if not answered:
                self._fail(
                    topic,
                    schedule,
                    f"no PUBACK within {self.ack_timeout_s:g} s (connected: "
                    f"{self.link.connected}); kept queued and sent again on reconnect",
                )
            if refused:
                self._fail(topic, schedule, f"the broker refused it: {refused}")
            with self._acked:
                self._published += 1
        LOG.info("MQTT published schedule of run %s on %s", schedule.run_id, topic)
        return PublishOutcome(topic, schedule.run_id, True)

    def status(self) -> PublisherStatus:
        """The publisher's health now (:class:`PublisherStatus`)."""
        with self._acked:
            waiting = tuple(
                sorted(t for t, (mid, at) in self._waiting.items() if self._answer(mid, at) != "")
            )
            return PublisherStatus(
                connected=self.link.connected,
                published=self._published,
                failures=self._failures,
                unacknowledged=waiting,
                last_error=self._last_error,
                connection_problem=self.link.last_problem,
            )

    def _acknowledged(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        """paho's ``on_publish``, in its network thread: the broker's PUBACK for ``mid``,
        with its reason (an MQTT 5 broker answers "Not authorized" when the ACL refuses
        the topic)."""
        with self._acked:
            refusal = str(reason) if getattr(reason, "is_failure", False) else ""
            self._acks[mid] = (refusal, time.monotonic())
            self._acked.notify_all()

    def _answer(self, mid: int, since: float) -> str | None:
        """The broker's answer to message ``mid`` handed over at ``since`` ("" acknowledged,
        else its refusal), or None (none yet). Call with ``self._acked`` held."""
        answer = self._acks.get(mid)
        return None if answer is None or answer[1] < since else answer[0]

    def _fail(self, topic: str, schedule: SiteSchedule, reason: str) -> None:
        problem = Problem(
            f"schedule of run {schedule.run_id} for {schedule.date.isoformat()} "
            f"not acknowledged by the MQTT broker {self.link.settings.where()}: {reason}",
            key=topic,
            allowed=f"a PUBACK within {self.ack_timeout_s:g} s",
            fix="check the broker and the platform user's ACL (write on vpp/#); the "
            "schedule stays committed and is re-published on the next start",
        )
        with self._acked:
            self._failures += 1
            self._last_error = str(problem)
        LOG.error("%s", problem)
        raise BrokerError(problem)
