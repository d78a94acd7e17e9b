"""The platform on MQTT against a real Mosquitto (Debian's ``mosquitto``) on loopback.

A fixture writes the password and ACL files with :func:`write_broker_access`, a config
with :func:`broker_config`, and starts ``mosquitto`` on a free port (persistence off, so
a broker restart loses its retained messages: the re-publish test needs that). Without
``mosquitto`` the fixture fails: CI installs it (``.ci/run``).

Expectations are written by hand: the payload's numbers from the schedule given, the
stored rows from the messages sent, the refusals from the values made bad. The checks
that need no broker are in ``tests/test_platform_mqtt_payloads.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from mqtt_broker import WAIT_S, Client, Mosquitto, free_port, require_mosquitto, until

from vpp.platform_mqtt import (
    BrokerError,
    BrokerSettings,
    MqttUser,
    SchedulePublisher,
    SiteAccess,
    SiteSchedule,
    TelemetrySubscriber,
    broker_config,
    errors_topic,
    schedule_topic,
    telemetry_topic,
    write_broker_access,
)
from vpp.platform_mqtt.wiring import ScheduleBuilder

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "xushuguan-factory.yaml"
PARK = "demo"
PLATFORM = MqttUser("vpp-platform", "platform-secret")
SITE_A = SiteAccess(PARK, "factory_a", "site.demo.factory_a", "a-secret")
SITE_B = SiteAccess(PARK, "factory_b", "site.demo.factory_b", "b-secret")
#: How long a test waits to be sure that a message does not come, after a later message
#: on the same connection came [s].
QUIET_S = 0.5
#: Decimals of the payload's numbers [kW, kWh]: 1 W.
TOLERANCE_KW = 1e-3
CST = dt.timezone(dt.timedelta(hours=8))


class Broker(Mosquitto):
    """A Mosquitto process on a loopback port with the sites A and B, stoppable and
    restartable."""

    def __init__(self, folder: Path) -> None:
        port = free_port()
        files = write_broker_access(folder, PLATFORM, [SITE_A, SITE_B])
        run_as = "root" if os.geteuid() == 0 else None
        config = folder / "mosquitto.conf"
        config.write_text(broker_config(files, port=port, run_as=run_as))
        super().__init__(folder, config, port)

    def settings(self, user: MqttUser | SiteAccess, **kw: Any) -> BrokerSettings:
        return BrokerSettings(
            port=self.port,
            username=user.username,
            password=user.password,
            connect_timeout_s=WAIT_S,
            **kw,
        )


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    require_mosquitto()
    running = Broker(tmp_path_factory.mktemp("mosquitto"))
    running.start()
    yield running
    running.stop()


def retained(
    broker: Broker, user: SiteAccess, site: str, timeout: float = WAIT_S
) -> mqtt.MQTTMessage | None:
    """The schedule an EMS logged in as ``user`` gets on subscribing to ``site``'s topic
    within ``timeout`` [s] (None: none)."""
    ems = Client(broker, user)
    topic = schedule_topic(PARK, site)
    ems.subscribe(topic)
    ems.wait(lambda: ems.on(topic), timeout)
    ems.close()
    return (ems.on(topic) or [None])[0]


def schedule(site: str = "factory_a", created_hour: int = 18, run_id: str = "run-1") -> Any:
    """A two-step schedule: charge 250 kW then discharge 100.5 kW."""
    return SiteSchedule(
        park=PARK,
        site=site,
        date=dt.date(2026, 7, 16),
        run_id=run_id,
        created_at=dt.datetime(2026, 7, 15, created_hour, tzinfo=CST),
        timestamps=[
            dt.datetime(2026, 7, 16, 0, 0, tzinfo=CST),
            dt.datetime(2026, 7, 16, 0, 15, tzinfo=CST),
        ],
        setpoints_kw={"bess1": [-250.0, 100.5]},
        soc_kwh={"bess1": [400.0, 462.5]},
    )


def test_publish_is_retained_qos1_for_a_later_subscriber(broker: Broker) -> None:
    """The schedule waits on its retained topic: an EMS that connects after the publish
    gets it, with QoS 1 and the retain flag."""
    with SchedulePublisher(broker.settings(PLATFORM)) as publisher:
        publisher.start()
        outcome = publisher.publish(schedule())
        assert outcome.published
        assert publisher.status().healthy
    message = retained(broker, SITE_A, "factory_a")
    assert message is not None and message.retain
    assert message.qos == 1
    assert json.loads(message.payload)["setpoints_kw"]["bess1"] == pytest.approx(
        [-250.0, 100.5], abs=TOLERANCE_KW
    )


def test_older_plan_is_not_published_over_a_newer_one(broker: Broker) -> None:
    """Newest wins: a plan made at 17:00 is not published over the 18:00 one."""
    with SchedulePublisher(broker.settings(PLATFORM)) as publisher:
        publisher.start()
        assert publisher.publish(schedule("factory_b", 18, "new")).published
        outcome = publisher.publish(schedule("factory_b", 17, "old"))
    assert not outcome.published
    assert "newer" in outcome.note
    assert json.loads(retained(broker, SITE_B, "factory_b").payload)["run_id"] == "new"


def test_restart_republishes_the_latest_schedules(broker: Broker) -> None:
    """A broker restart (persistence off) loses the retained schedule; the publisher's
    start re-publishes the latest one the platform gives, and it is retained again. The
    publisher running across the restart reconnects and publishes again."""
    running = SchedulePublisher(broker.settings(PLATFORM, client_id="pub-across"))
    running.start()
    broker.stop()
    broker.start()
    assert retained(broker, SITE_A, "factory_a", QUIET_S) is None  # the broker lost it
    latest = schedule(run_id="latest")
    with SchedulePublisher(broker.settings(PLATFORM)) as publisher:
        outcomes = publisher.start(latest=lambda: [latest])
    assert [o.published for o in outcomes] == [True]
    assert json.loads(retained(broker, SITE_A, "factory_a").payload)["run_id"] == "latest"
    # the publisher that lived through the restart reconnected by itself
    assert until(lambda: running.link.connected)
    assert running.publish(schedule(created_hour=19, run_id="after")).published
    assert running.link.connections == 2
    running.stop()


@dataclasses.dataclass(frozen=True)
class Committed:
    """The platform's "schedule committed" event, as the wiring reads it."""

    park: str
    site: str
    date: dt.date
    run_id: str | None
    status: str
    committed_at: dt.datetime


def test_commit_hook_publishes_the_schedule_to_dispatch(broker: Broker) -> None:
    """The hook publishes a committed schedule's table (set point = discharge - charge);
    a fallback that is not the schedule to dispatch is not published, and says why."""
    import pandas as pd

    import vpp

    site = vpp.load_scenario(SCENARIO).site
    frame = pd.DataFrame(
        {"bess_charge_kw": [0.0], "bess_discharge_kw": [80.0], "bess_soc_kwh": [900.0]},
        index=pd.Index(["2026-07-17T00:00:00+08:00"]),
    )
    at = dt.datetime(2026, 7, 16, 10, 0)  # naive: UTC, as the platform stores it
    good = Committed(PARK, "factory_a", dt.date(2026, 7, 17), "good", "ok", at)
    late = Committed(PARK, "factory_a", dt.date(2026, 7, 17), "late", "fallback", at)
    build = ScheduleBuilder(
        table=lambda event: None if event.run_id == "late" else frame,
        site=lambda park, name: site,
    )
    with SchedulePublisher(broker.settings(PLATFORM)) as publisher:
        publisher.start()
        hook = build.hook(publisher)
        assert hook(good).published
        skipped = hook(late)
    assert not skipped.published and "not the one to dispatch" in skipped.note
    assert not build.build(good).fallback
    assert build.build(dataclasses.replace(good, status="fallback")).fallback
    body = json.loads(retained(broker, SITE_A, "factory_a").payload)
    assert (body["run_id"], body["created_at"]) == ("good", "2026-07-16T10:00:00+00:00")
    assert body["setpoints_kw"] == {"bess": pytest.approx([80.0], abs=TOLERANCE_KW)}


def test_publish_without_puback_is_an_error_and_a_flag(broker: Broker) -> None:
    """While the broker is down a publish raises after its timeout and the status names
    the topic; once the broker is back, paho sends the queued message and the flag
    clears."""
    publisher = SchedulePublisher(broker.settings(PLATFORM), ack_timeout_s=0.5)
    publisher.start()
    broker.stop()
    with pytest.raises(BrokerError, match="no PUBACK"):
        publisher.publish(schedule(site="factory_b", created_hour=20, run_id="queued"))
    status = publisher.status()
    assert status.unacknowledged == (schedule_topic(PARK, "factory_b"),)
    assert status.failures == 1 and not status.healthy
    assert "connection lost" in str(status.connection_problem)
    broker.start()
    assert until(lambda: publisher.status().healthy, 3 * WAIT_S)
    publisher.stop()


def test_an_old_answer_to_a_reused_message_id_is_not_taken() -> None:
    """paho reuses message ids: a PUBACK that came before a publish (for an earlier
    message with the same id) does not acknowledge it. Without a broker, the publish
    must time out even though an answer for its id (1, paho's first) is on record."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.reasoncodes import ReasonCode

    publisher = SchedulePublisher(BrokerSettings(port=free_port()), ack_timeout_s=0.2)
    success = ReasonCode(PacketTypes.PUBACK, "Success")
    publisher.link.client.on_publish(publisher.link.client, None, 1, success, None)
    with pytest.raises(BrokerError, match="no PUBACK"):
        publisher.publish(schedule(run_id="never-sent"))
    publisher.stop()


def test_a_publish_the_acl_refuses_is_an_error(broker: Broker) -> None:
    """A publisher whose user may not write the schedule topic gets "Not authorized"
    in the MQTT 5 PUBACK, and raises: never a silent loss."""
    with SchedulePublisher(broker.settings(SITE_A)) as publisher:
        publisher.start()
        with pytest.raises(BrokerError, match="refused"):
            publisher.publish(schedule(created_hour=21, run_id="intruder"))
        assert publisher.status().unacknowledged == (schedule_topic(PARK, "factory_a"),)


def test_wrong_password_is_refused(broker: Broker) -> None:
    """A wrong password or an unknown user is refused, and the error names no secret."""
    wrong = SiteAccess(PARK, "factory_a", SITE_A.username, "not-the-password")
    with pytest.raises(BrokerError, match="refused") as caught:
        SchedulePublisher(broker.settings(wrong)).start()
    assert "not-the-password" not in str(caught.value)
    stranger = MqttUser("nobody", "x")
    with pytest.raises(BrokerError, match="refused"):
        SchedulePublisher(broker.settings(stranger)).start()


class Store:
    """The platform's ``store_readings`` stand-in: records calls; fails on demand."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[str, str, list[dict[str, Any]]]] = []
        self.fail_first = fail_first
        self.lock = threading.Condition()

    def __call__(self, park: str, site: str, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            if self.fail_first > 0:
                self.fail_first -= 1
                raise RuntimeError("database is down")
            self.calls.append((park, site, rows))
            self.lock.notify_all()

    def wait(self, count: int) -> bool:
        with self.lock:
            return self.lock.wait_for(lambda: len(self.calls) >= count, WAIT_S)


def test_telemetry_stored_and_invalid_flagged(broker: Broker, caplog: Any) -> None:
    """A single reading and a batch are stored as sent; a NaN and a naive time are
    refused, counted, logged with topic, field and value, and reported to the site."""
    store = Store()
    meter = Client(broker, SITE_A)
    errors = errors_topic(PARK, "factory_a")
    meter.subscribe(errors)
    topic = telemetry_topic(PARK, "factory_a", "load_kw")
    caplog.set_level(logging.WARNING, logger="vpp.platform_mqtt")
    with TelemetrySubscriber(broker.settings(PLATFORM), [PARK], store) as subscriber:
        subscriber.start()
        meter.send(topic, {"t": "2026-07-15T14:45:00+08:00", "value": 312.5})
        meter.send(
            topic,
            [
                {"t": "2026-07-15T15:00:00+08:00", "value": 300},
                {"t": "2026-07-15T15:15:00+08:00", "value": 0.0},
            ],
        )
        meter.send(topic, b'[{"t": "2026-07-15T15:30:00+08:00", "value": NaN}]')
        meter.send(topic, {"t": "2026-07-15T15:45:00", "value": 1.0})
        assert store.wait(2)
        assert meter.wait(lambda: len(meter.on(errors)) == 2)
        stats = subscriber.stats()
    meter.close()
    assert [(park, site) for park, site, _ in store.calls] == [(PARK, "factory_a")] * 2
    assert store.calls[0][2] == [
        {"channel": "load_kw", "timestamp": "2026-07-15T14:45:00+08:00", "value": 312.5}
    ]
    assert [r["value"] for r in store.calls[1][2]] == [300.0, 0.0]
    assert (stats.received, stats.stored, stats.readings, stats.refused) == (4, 2, 3, 2)
    first, second = (json.loads(m.payload) for m in meter.on(errors))
    assert first["problems"][0]["field"] == "[0].value"
    assert first["problems"][0]["value"] == "nan"
    assert first["problems"][0]["message"] == "telemetry message refused: not finite"
    assert second["problems"][0]["field"] == "t"
    logged = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any(topic in line and "[0].value" in line and "nan" in line for line in logged)


def test_store_refusal_is_reported_and_store_failure_redelivered(broker: Broker) -> None:
    """A store that refuses (ValueError) is reported like a bad message; a store that
    fails leaves the message unacknowledged, and the broker delivers it again when the
    subscriber reconnects to its session (same client id)."""
    settings = broker.settings(PLATFORM, client_id="platform-telemetry")
    store = Store(fail_first=1)
    meter = Client(broker, SITE_B)
    topic = telemetry_topic(PARK, "factory_b", "import_kw")
    with TelemetrySubscriber(settings, [PARK], store) as subscriber:
        subscriber.start()
        meter.send(topic, {"t": "2026-07-15T14:45:00+08:00", "value": 50.0})
        assert until(lambda: subscriber.stats().store_failures == 1)
        assert store.calls == []
        subscriber.redeliver()
        assert store.wait(1)
        assert subscriber.stats().stored == 1
    assert store.calls[0][2][0]["value"] == 50.0

    def refuse(park: str, site: str, rows: list[dict[str, Any]]) -> None:
        raise ValueError("channel import_kw conflicts with a stored reading")

    with TelemetrySubscriber(broker.settings(PLATFORM), [PARK], refuse) as refusing:
        refusing.start()
        meter.send(topic, {"t": "2026-07-15T15:00:00+08:00", "value": 51.0})
        assert until(lambda: refusing.stats().refused == 1)
        assert "conflicts" in str(refusing.recent_refusals[0].problems[0])
    meter.close()


def test_acl_site_a_cannot_write_b_telemetry_nor_read_b_schedule(broker: Broker) -> None:
    """Site A's user: its telemetry to B's topic never reaches the platform (MQTT 5:
    "Not authorized"), and B's retained schedule never reaches it, while its own do."""
    with SchedulePublisher(broker.settings(PLATFORM)) as publisher:
        publisher.start()
        publisher.publish(schedule(site="factory_a", created_hour=22, run_id="a"))
        publisher.publish(schedule(site="factory_b", created_hour=22, run_id="b"))
    store = Store()
    site_a = Client(broker, SITE_A, mqtt5=True)
    own_schedule, other_schedule = (
        schedule_topic(PARK, "factory_a"),
        schedule_topic(PARK, "factory_b"),
    )
    with TelemetrySubscriber(broker.settings(PLATFORM), [PARK], store) as subscriber:
        subscriber.start()
        reading = {"t": "2026-07-15T14:45:00+08:00", "value": 1.0}
        refused = site_a.send(telemetry_topic(PARK, "factory_b", "load_kw"), reading)
        accepted = site_a.send(telemetry_topic(PARK, "factory_a", "load_kw"), reading)
        assert store.wait(1)
        time.sleep(QUIET_S)
    assert refused.is_failure and "authori" in str(refused).lower()
    assert not accepted.is_failure
    assert [site for _, site, _ in store.calls] == ["factory_a"]
    site_a.subscribe(other_schedule, own_schedule)
    assert site_a.wait(lambda: site_a.on(own_schedule))
    time.sleep(QUIET_S)
    site_a.close()
    assert site_a.on(other_schedule) == []
