"""The park platform on MQTT: schedules out, telemetry in, the broker's access control.

- :mod:`~vpp.platform_mqtt.topics`: the topic layout (``vpp/<park>/<site>/...``).
- :mod:`~vpp.platform_mqtt.publisher`: every committed schedule on its site's retained
  topic, QoS 1, acknowledged or an error; the latest ones re-published at a start.
- :mod:`~vpp.platform_mqtt.subscriber`: meter readings checked
  (:mod:`~vpp.platform_mqtt.telemetry_payload`) and stored; refusals reported.
- :mod:`~vpp.platform_mqtt.access`: Mosquitto's password and ACL files.
- :mod:`~vpp.platform_mqtt.wiring`: the publisher on the platform's commit hook.

The package takes the platform's functions as plain callables (``store_readings``, the
latest schedules), so it does not import the platform. Topics, payloads and the ACL:
``docs/platform-mqtt.md``.
"""

from vpp.platform_mqtt.access import (
    BrokerFiles,
    MqttUser,
    SiteAccess,
    broker_config,
    site_username,
    write_broker_access,
)
from vpp.platform_mqtt.connection import BrokerError, BrokerSettings
from vpp.platform_mqtt.publisher import PublisherStatus, PublishOutcome, SchedulePublisher
from vpp.platform_mqtt.schedule_payload import SiteSchedule, schedule_from_frame, schedule_payload
from vpp.platform_mqtt.subscriber import Refusal, SubscriberStats, TelemetrySubscriber
from vpp.platform_mqtt.topics import errors_topic, schedule_topic, telemetry_topic
from vpp.platform_mqtt.wiring import ScheduleBuilder

__all__ = [
    "BrokerError",
    "BrokerFiles",
    "BrokerSettings",
    "MqttUser",
    "PublishOutcome",
    "PublisherStatus",
    "Refusal",
    "ScheduleBuilder",
    "SchedulePublisher",
    "SiteAccess",
    "SiteSchedule",
    "SubscriberStats",
    "TelemetrySubscriber",
    "broker_config",
    "errors_topic",
    "schedule_from_frame",
    "schedule_payload",
    "schedule_topic",
    "site_username",
    "telemetry_topic",
    "write_broker_access",
]
