"""The platform's MQTT payloads and broker files, without a broker: the schedule
payload by hand, the telemetry message checks, the password and ACL files.

The tests against a running Mosquitto are in ``tests/test_platform_mqtt.py``; these share
its names and schedule.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from test_platform_mqtt import CST, PARK, PLATFORM, SCENARIO, SITE_A, TOLERANCE_KW, schedule

from vpp.errors import DataError
from vpp.platform_mqtt import (
    MqttUser,
    SiteSchedule,
    schedule_from_frame,
    schedule_payload,
    telemetry_topic,
    write_broker_access,
)
from vpp.platform_mqtt.telemetry_payload import check_readings


def test_payload_by_hand() -> None:
    """The payload carries the schedule as given (set points, SOC, run id, times)."""
    body = json.loads(schedule_payload(schedule()))
    assert body["run_id"] == "run-1"
    assert body["created_at"] == "2026-07-15T18:00:00+08:00"
    assert body["date"] == "2026-07-16"
    assert body["step_minutes"] == 15
    assert body["timestamps"] == ["2026-07-16T00:00:00+08:00", "2026-07-16T00:15:00+08:00"]
    assert body["setpoints_kw"]["bess1"] == pytest.approx([-250.0, 100.5], abs=TOLERANCE_KW)
    assert body["soc_kwh"]["bess1"] == pytest.approx([400.0, 462.5], abs=TOLERANCE_KW)


def test_schedule_from_the_job_table_by_roles() -> None:
    """From a job's schedule table (index as the platform stores it: ISO text): the
    battery's set point is discharge minus charge, its SOC as planned; other columns are
    not published."""
    import pandas as pd

    import vpp

    site = vpp.load_scenario(SCENARIO).site
    frame = pd.DataFrame(
        {
            "load_kw": [900.0, 950.0],
            "bess_charge_kw": [250.0, 0.0],
            "bess_discharge_kw": [0.0, 100.5],
            "bess_soc_kwh": [400.0, 637.5],
        },
        index=pd.Index(["2026-07-16T00:00:00+08:00", "2026-07-16T00:15:00+08:00"]),
    )
    made = schedule_from_frame(
        PARK,
        "factory_a",
        site,
        frame,
        date=dt.date(2026, 7, 16),
        run_id=None,
        created_at=dt.datetime(2026, 7, 15, 18, tzinfo=CST),
        fallback=True,
    )
    body = json.loads(schedule_payload(made))
    assert (body["park"], body["site"]) == (PARK, "factory_a")  # the park's name, not "factory"
    assert body["run_id"] is None and body["fallback"] is True
    assert body["setpoints_kw"] == {"bess": pytest.approx([-250.0, 100.5], abs=TOLERANCE_KW)}
    assert body["soc_kwh"] == {"bess": pytest.approx([400.0, 637.5], abs=TOLERANCE_KW)}
    assert body["timestamps"][1] == "2026-07-16T00:15:00+08:00"
    with pytest.raises(DataError, match="bess_soc_kwh"):
        schedule_from_frame(
            PARK,
            "factory_a",
            site,
            frame.drop(columns="bess_soc_kwh"),
            date=dt.date(2026, 7, 16),
            run_id="r",
            created_at=dt.datetime(2026, 7, 15, 18, tzinfo=CST),
        )


def test_bad_schedule_is_refused_before_publishing() -> None:
    """A naive time and a NaN set point are named; nothing is built."""
    with pytest.raises(DataError) as caught:
        SiteSchedule(
            park=PARK,
            site="factory_a",
            date=dt.date(2026, 7, 16),
            run_id="r",
            created_at=dt.datetime(2026, 7, 15, 18, tzinfo=CST),
            timestamps=[dt.datetime(2026, 7, 16, 0, 0)],
            setpoints_kw={"bess1": [float("nan")]},
        )
    assert "timestamps[0]" in str(caught.value)


def test_access_files_by_hand(tmp_path: Path) -> None:
    """The ACL grants each site its own topics only; the password file holds hashes, not
    the passwords; a password with ':' (which mosquitto_passwd would cut) and a user
    given twice are refused before anything is written."""
    files = write_broker_access(tmp_path, PLATFORM, [SITE_A])
    assert files.acl_file.read_text().splitlines()[3:] == [
        "user vpp-platform",
        "topic readwrite vpp/#",
        "",
        "user site.demo.factory_a",
        "topic write vpp/demo/factory_a/telemetry/+",
        "topic read vpp/demo/factory_a/schedule",
        "topic read vpp/demo/factory_a/errors",
    ]
    hashed = files.password_file.read_text()
    assert "a-secret" not in hashed and "platform-secret" not in hashed
    assert [line.split(":")[0] for line in hashed.splitlines()] == [
        "vpp-platform",
        "site.demo.factory_a",
    ]
    assert oct(files.password_file.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError, match="':'"):
        write_broker_access(tmp_path / "x", MqttUser("p", "a:b"), [])
    with pytest.raises(ValueError, match="twice"):
        write_broker_access(tmp_path / "x", PLATFORM, [SITE_A, SITE_A])
    assert not (tmp_path / "x").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acl", "passwd"]


def test_message_checks_name_field_and_value() -> None:
    """The checks without a broker: bounds by unit, the future, a conflicting repeat."""
    now = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)
    topic = telemetry_topic(PARK, "factory_a", "load_kw")

    def problems(body: Any, channel: str = "load_kw") -> list[tuple[str | None, str | None]]:
        checked = check_readings(topic, channel, json.dumps(body).encode(), now)
        return [(p.key, p.value) for p in checked.problems]

    assert problems({"t": "2026-07-15T11:00:00Z", "value": -1}) == [("value", "-1")]
    assert problems({"t": "2026-07-15T13:00:00Z", "value": 1}) == [("t", "'2026-07-15T13:00:00Z'")]
    assert problems({"t": "2026-07-15T11:00:00Z", "value": -1}, "bess1_soc_kwh") == []
    assert problems({"t": "2026-07-15T11:00:00Z", "value": 1}, "load") == [("channel", "'load'")]
    repeat = [{"t": "2026-07-15T11:00:00Z", "value": v} for v in (1, 2)]
    assert problems(repeat) == [("[1].t", "'2026-07-15T11:00:00Z'")]
    assert problems({"t": "2026-07-15T11:00:00Z", "value": 1, "x": 0}) == [
        ("reading", "['t', 'value', 'x']")
    ]
