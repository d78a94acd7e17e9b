"""The platform's ``readings_stored`` hook: every batch of readings committed, by HTTP
(JSON, CSV) or by MQTT (a real Mosquitto, :mod:`mqtt_broker`), tells the alerts' engine,
which runs its after-ingestion checks in its own thread; a hook that raises loses no
reading. On SQLite and PostgreSQL (``db_url``).

The set-up, by hand: the park's clock is fixed at 2026-12-01 02:00 (+08:00). The
electronics site's stored schedule for the day imports 900 kW in every step, so the
month's planned peak is 900 kW. Seven readings of 800 kW (00:00 to 01:30) are stored
before the app starts: 800 / 900 = 0.889, below the warning share 0.95, so the full
evaluation at start opens no alert. A reading of 870 kW at 01:45 then makes the
month's metered peak 870 kW: 870 / 900 = 0.9667 >= 0.95, a ``warning`` peak alert.

The periodic evaluation's interval is a day (:data:`PERIODIC_S`): its only run is the
one at start, which the tests wait for before sending and count afterwards, so the
alert can only come from the after-ingestion check.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mqtt_broker import Client, Mosquitto, require_mosquitto, until
from platform_helpers import PARK, Receiver, free_port

from vpp.report.atomic import write_csv

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=TZ)
PLANNED_KW = 900.0
BEFORE_KW = 800.0
CROSSING_KW = 870.0
CROSSING_AT = "2026-12-01T01:45:00+08:00"
#: The periodic evaluation's interval: longer than any test [s].
PERIODIC_S = 86_400.0
#: Longest wait for the engine's and the webhook's threads [s].
WAIT_S = 15.0
#: Relative tolerance of a ratio of two stored floats [-].
REL = 1e-12
#: How long the slowed evaluation takes, and the most a request may take meanwhile [s].
SLOW_EVALUATION_S = 1.5
QUICK_ANSWER_S = 0.75
PASSWORD = "platform-test-password"
TELEMETRY = f"/api/v1/parks/{PARK}/sites/electronics/telemetry"


def day_folder(root: Path) -> Path:
    """A job's ``<out>/<date>/`` for 2026-12-01: both sites import 900 kW throughout."""
    folder = root / "r1" / "2026-12-01"
    index = pd.date_range("2026-12-01", periods=96, freq="15min", tz="Asia/Shanghai")
    index.name = "timestamp"
    for site in ("electronics", "biomedicine"):
        (folder / "sites" / site).mkdir(parents=True)
        frame = pd.DataFrame(
            {"load_kw": np.full(96, 1000.0), "grid_import_kw": np.full(96, PLANNED_KW)},
            index=index,
        )
        write_csv(frame, folder / "sites" / site / "schedule.csv")
    summary = {"date": "2026-12-01", "park": PARK, "status": "ok", "run_id": "r1"}
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return folder


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def park_app(platform: Any, receiver: Receiver, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app on a platform below the peak warning, started, its evaluation at start
    done; ``full`` counts the full (periodic) evaluations."""
    from fastapi.testclient import TestClient

    from vpp.platform import create_app
    from vpp.platform.alerts import configure
    from vpp.platform.alerts.settings import AlertSettings
    from vpp.platform.keys import create_key

    platform.clock = lambda: NOW
    platform.record_day_folder(day_folder(tmp_path))
    index = pd.date_range("2026-12-01T00:00", periods=7, freq="15min", tz="Asia/Shanghai")
    platform.store_readings(
        PARK,
        "electronics",
        [{"channel": "import_kw", "timestamp": t.isoformat(), "value": BEFORE_KW} for t in index],
    )
    settings = {
        "webhook": {"url": receiver.url, "backoff_s": 0.2, "timeout_s": 5},
        "evaluation": {"interval_s": PERIODIC_S},
    }
    configure(platform, AlertSettings.model_validate(settings))
    app = create_app(platform)
    engine = app.state.alerts
    full: list[str] = []
    periodic = engine.evaluate

    def counted(*args: Any, **kwargs: Any) -> Any:
        out = periodic(*args, **kwargs)
        full.append("done")
        return out

    engine.evaluate = counted  # the thread's periodic call, counted
    key = create_key(platform.sessions, "site", park=PARK, site="electronics")[1]
    with TestClient(app) as client:
        assert until(lambda: full == ["done"], WAIT_S)  # the evaluation at start
        assert receiver.peaks() == []  # 800 / 900 < 0.95: nothing to send
        yield {
            "client": client,
            "platform": platform,
            "engine": engine,
            "full": full,
            "headers": {"X-API-Key": key},
        }


def assert_peak_warning_sent(receiver: Receiver, full: list[str]) -> None:
    """The webhook got the peak warning of 870 kW against 900 kW, and the periodic task
    ran only at start."""
    assert until(lambda: receiver.peaks(), WAIT_S), receiver.received
    (message,) = receiver.peaks()
    alert = message["alert"]
    assert (message["event"], alert["site"], alert["severity"]) == (
        "opened",
        "electronics",
        "warning",
    )
    assert alert["numbers"]["planned_peak_kw"] == PLANNED_KW
    assert alert["numbers"]["metered_peak_kw"] == CROSSING_KW
    assert alert["numbers"]["ratio"] == pytest.approx(CROSSING_KW / PLANNED_KW, rel=REL)
    assert full == ["done"]  # not the periodic task: it ran once, at start


def test_a_reading_by_mqtt_raises_the_peak_alert_without_the_periodic_task(
    park_app: dict[str, Any], receiver: Receiver, tmp_path: Path
) -> None:
    """A reading published by the site's own MQTT user over a real Mosquitto, stored by
    the platform's subscriber: the after-ingestion check opens the peak warning and the
    webhook receives it. A hook that raises, before the engine's, neither fails the
    store (the message is stored, no store failure) nor stops the engine's hook."""
    require_mosquitto()
    from vpp.platform.mqtt_access import PLATFORM_USER, write_access
    from vpp.platform.mqtt_service import MqttService
    from vpp.platform_mqtt import BrokerSettings, MqttUser, telemetry_topic

    platform = park_app["platform"]
    folder, port = tmp_path / "broker", free_port()
    run_as = "root" if os.geteuid() == 0 else None
    users = write_access(
        platform.sessions, folder, MqttUser(PLATFORM_USER, PASSWORD), port=port, run_as=run_as
    )[1]
    electronics = next(u for u in users if u.site == "electronics")
    broker = Mosquitto(folder, folder / "mosquitto.conf", port)
    broker.start()
    service = MqttService(
        platform, BrokerSettings(port=port, username=PLATFORM_USER, password=PASSWORD)
    )

    def broken(event: Any) -> None:
        raise RuntimeError("a subscriber's bug")

    platform.readings_stored.insert(0, broken)
    try:
        service.start()
        meter = Client(broker, electronics)
        topic = telemetry_topic(PARK, "electronics", "import_kw")
        meter.send(topic, {"t": CROSSING_AT, "value": CROSSING_KW})
        meter.close()
        assert_peak_warning_sent(receiver, park_app["full"])
        assert service.subscriber is not None
        stats = service.subscriber.stats()
        assert (stats.stored, stats.readings, stats.store_failures) == (1, 1, 0)
        assert platform.hook_failures["readings_stored"] == 1
    finally:
        service.stop()
        broker.stop()


@pytest.mark.parametrize("body", ["json", "csv"])
def test_a_reading_by_http_raises_the_peak_alert_and_the_answer_does_not_wait(
    park_app: dict[str, Any], receiver: Receiver, body: str
) -> None:
    """The same reading posted to the API (a JSON batch, a CSV file): the alert comes
    from the after-ingestion check, and the answer does not wait for it (the check is
    slowed to :data:`SLOW_EVALUATION_S`)."""
    client, engine = park_app["client"], park_app["engine"]
    evaluate_park = engine._evaluate_park

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SLOW_EVALUATION_S)
        return evaluate_park(*args, **kwargs)

    engine._evaluate_park = slow
    began = time.monotonic()
    if body == "json":
        reading = {"channel": "import_kw", "timestamp": CROSSING_AT, "value": CROSSING_KW}
        answer = client.post(TELEMETRY, json={"readings": [reading]}, headers=park_app["headers"])
    else:
        answer = client.post(
            f"{TELEMETRY}.csv",
            params={"channel": "import_kw"},
            content=f"timestamp,import_kw\n{CROSSING_AT},{CROSSING_KW}\n",
            headers={**park_app["headers"], "content-type": "text/csv"},
        )
    took_s = time.monotonic() - began
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"stored": 1, "repeated": 0}
    assert took_s < QUICK_ANSWER_S
    assert_peak_warning_sent(receiver, park_app["full"])


def test_a_hook_that_raises_loses_no_reading_and_is_counted(
    park_app: dict[str, Any], receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``readings_stored`` hook that raises, placed before the engine's: the batch is
    answered 200 and stored, the failure is logged with its exception and counted, and
    the engine's hook after it still runs (the alert comes). The same batch again is
    answered as repeated: nothing was lost or stored twice."""
    client, platform = park_app["client"], park_app["platform"]

    def broken(event: Any) -> None:
        raise RuntimeError("a subscriber's bug")

    platform.readings_stored.insert(0, broken)
    reading = {"channel": "import_kw", "timestamp": CROSSING_AT, "value": CROSSING_KW}
    with caplog.at_level(logging.ERROR, logger="vpp.platform"):
        answer = client.post(TELEMETRY, json={"readings": [reading]}, headers=park_app["headers"])
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"stored": 1, "repeated": 0}
    assert platform.hook_failures["readings_stored"] == 1
    logged = [r for r in caplog.records if r.exc_info and "readings_stored" in r.getMessage()]
    assert len(logged) == 1
    assert isinstance(logged[0].exc_info[1], RuntimeError)
    span = {"channel": "import_kw", "start": "2026-12-01T00:00:00+08:00", "end": NOW.isoformat()}
    stored = client.get(TELEMETRY, params=span, headers=park_app["headers"])
    assert stored.status_code == 200
    assert stored.json()["values"] == [BEFORE_KW] * 7 + [CROSSING_KW]
    assert_peak_warning_sent(receiver, park_app["full"])  # the engine's hook still ran
    again = client.post(TELEMETRY, json={"readings": [reading]}, headers=park_app["headers"])
    assert again.json() == {"stored": 0, "repeated": 1}
    assert platform.hook_failures["readings_stored"] == 2
    assert len(receiver.peaks()) == 1  # a batch of repeats changes nothing to send
