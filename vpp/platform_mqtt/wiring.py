"""The publisher wired to a platform by plain callables (the platform is not imported).

The platform announces each committed schedule with an event that has ``park``,
``site``, ``date``, ``run_id`` and ``status`` (``"ok"`` or ``"fallback"``), and
optionally ``committed_at``; it gives the event's schedule table when that schedule is
the one to dispatch for its date (a fallback committed after a good schedule is not),
and lists the latest event of every site. With those::

    publisher = SchedulePublisher(settings)
    build = ScheduleBuilder(table=table_of_event, site=site_spec)
    publisher.start(latest=lambda: build.all(platform.latest_schedules()))
    platform.schedule_committed.append(build.hook(publisher))

``site_spec(park, site)`` gives the scenario's :class:`~vpp.scenario.schema.Site` (from
the park file, :func:`vpp.portfolio.park.load_park`): its storage units are found by
their roles (:func:`vpp.platform_mqtt.schedule_payload.schedule_from_frame`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from vpp.platform_mqtt.connection import LOG
from vpp.platform_mqtt.publisher import PublishOutcome, SchedulePublisher
from vpp.platform_mqtt.schedule_payload import SiteSchedule, schedule_from_frame
from vpp.platform_mqtt.topics import schedule_topic

__all__ = ["ScheduleBuilder"]


def _committed_at(event: Any) -> dt.datetime:
    """The event's ``committed_at`` (naive: UTC), else the present (the hook runs right
    after the commit)."""
    stamp = getattr(event, "committed_at", None)
    if isinstance(stamp, dt.datetime):
        return stamp if stamp.utcoffset() is not None else stamp.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ScheduleBuilder:
    """Builds the :class:`SiteSchedule` of a platform's "schedule committed" event.

    Parameters
    ----------
    table : callable
        ``table(event)``: the event's schedule table (the job's ``schedule.csv``
        columns, indexed by the step starts) if it is the schedule to dispatch for its
        site and date, else None (nothing is published for the event).
    site : callable
        ``site(park, site)``: the scenario's site (its storage entries).
    created_at : callable
        ``created_at(event)``: when the plan was made, tz-aware (default: the event's
        ``committed_at``, else the present).
    """

    table: Callable[[Any], Any]
    site: Callable[[str, str], Any]
    created_at: Callable[[Any], dt.datetime] = _committed_at

    def build(self, event: Any) -> SiteSchedule | None:
        """The event's schedule, or None when it is not the one to dispatch.

        Raises
        ------
        DataError
            The table does not make a schedule (naive times, values not finite).
        """
        frame = self.table(event)
        if frame is None:
            return None
        return schedule_from_frame(
            event.park,
            event.site,
            self.site(event.park, event.site),
            frame,
            date=event.date,
            run_id=event.run_id,
            created_at=self.created_at(event),
            fallback=event.status == "fallback",
        )

    def all(self, events: Iterable[Any]) -> list[SiteSchedule]:
        """The schedules of ``events`` (the latest of every site, for a start)."""
        built = (self.build(event) for event in events)
        return [schedule for schedule in built if schedule is not None]

    def hook(self, publisher: SchedulePublisher) -> Callable[[Any], PublishOutcome]:
        """The platform's "schedule committed" callback: build, then publish (raising
        :class:`~vpp.platform_mqtt.connection.BrokerError` when not acknowledged).

        An event that is not the schedule to dispatch gives an outcome not published,
        with the reason, and a log line."""

        def publish_committed(event: Any) -> PublishOutcome:
            schedule = self.build(event)
            if schedule is not None:
                return publisher.publish(schedule)
            topic = schedule_topic(event.park, event.site)
            note = (
                f"not published: the {event.status} schedule of run {event.run_id} is not "
                f"the one to dispatch for {event.date} (a good schedule stays)"
            )
            LOG.info("MQTT %s: %s", topic, note)
            return PublishOutcome(topic, event.run_id, False, note)

        return publish_committed
