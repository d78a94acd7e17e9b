"""Telemetry in: the job's checks, idempotency on (site, channel, timestamp), conflicts.

The same bad files are refused by the daily job's reader (:func:`vpp.jobs.telemetry.
read_telemetry`) and by the API, naming the same row and column.
"""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest
from platform_helpers import PARK

from vpp.errors import DataError
from vpp.jobs.telemetry import read_telemetry
from vpp.platform import ReadingConflict, TelemetryRefused, UnknownSite

SITE = f"/api/v1/parks/{PARK}/sites/electronics"
NOW = dt.datetime(2026, 7, 15, 12, 0, tzinfo=dt.UTC)  # 20:00 in Suzhou
SPAN = {"start": "2026-07-15T00:00:00+08:00", "end": "2026-07-16T00:00:00+08:00"}


def _reading(channel: str, stamp: str, value: float) -> dict:
    return {"channel": channel, "timestamp": stamp, "value": value}


def _stored(client, headers, channel: str) -> dict[str, float]:
    got = client.get(f"{SITE}/telemetry", params={"channel": channel, **SPAN}, headers=headers)
    assert got.status_code == 200
    body = got.json()
    return dict(zip(body["timestamps"], body["values"]))


def test_a_repeat_is_accepted_once_and_a_conflict_is_409_with_the_stored_value(api):
    client, h = api["client"], api["headers"]["electronics"]
    batch = [
        _reading("load_kw", "2026-07-15T14:45:00+08:00", 812.5),
        _reading("roof_pv_kw", "2026-07-15T14:45:00+08:00", 120.25),
        _reading("bess_soc_kwh", "2026-07-15T14:45:00+08:00", 1500.0),
    ]
    first = client.post(f"{SITE}/telemetry", json={"readings": batch}, headers=h)
    assert (first.status_code, first.json()) == (200, {"stored": 3, "repeated": 0})
    again = client.post(f"{SITE}/telemetry", json={"readings": batch}, headers=h)
    assert (again.status_code, again.json()) == (200, {"stored": 0, "repeated": 3})
    # the same instant written in UTC is the same key
    utc = [_reading("load_kw", "2026-07-15T06:45:00Z", 812.5)]
    assert client.post(f"{SITE}/telemetry", json={"readings": utc}, headers=h).json() == {
        "stored": 0,
        "repeated": 1,
    }
    clash = [
        _reading("load_kw", "2026-07-15T15:00:00+08:00", 700.0),  # new
        _reading("load_kw", "2026-07-15T14:45:00+08:00", 800.0),  # stored as 812.5
    ]
    answer = client.post(f"{SITE}/telemetry", json={"readings": clash}, headers=h)
    assert answer.status_code == 409
    assert answer.json()["problems"] == [
        {
            "channel": "load_kw",
            "timestamp": "2026-07-15T06:45:00+00:00",
            "stored_value": 812.5,
            "sent_value": 800.0,
        }
    ]
    # all or nothing: the new reading of the refused batch was not stored
    assert _stored(client, h, "load_kw") == {"2026-07-15T06:45:00+00:00": 812.5}
    other = api["headers"]["biomedicine"]  # the same key at another site is another reading
    same = [_reading("load_kw", "2026-07-15T14:45:00+08:00", 800.0)]
    path = f"/api/v1/parks/{PARK}/sites/biomedicine/telemetry"
    assert client.post(path, json={"readings": same}, headers=other).json()["stored"] == 1


def test_csv_uploads_one_channel_or_many(api):
    client, h = api["client"], api["headers"]["electronics"]
    one = "timestamp,import_kw\n2026-07-15T10:00:00+08:00,410\n2026-07-15T10:15:00+08:00,395.5\n"
    answer = client.post(
        f"{SITE}/telemetry.csv",
        params={"channel": "import_kw"},
        files={"file": ("grid.csv", one, "text/csv")},
        headers=h,
    )
    assert (answer.status_code, answer.json()) == (200, {"stored": 2, "repeated": 0})
    many = (
        "timestamp,channel,value\n"
        "2026-07-15T10:00:00+08:00,natural_gas_nm3,12.5\n"
        "2026-07-15T10:00:00+08:00,heat_gj,0.75\n"
        "2026-07-15T10:00:00+08:00,diesel_t,0.002\n"
        "2026-07-15T10:00:00+08:00,import_kw,410\n"
    )
    answer = client.post(
        f"{SITE}/telemetry.csv", content=many, headers={**h, "content-type": "text/csv"}
    )
    assert (answer.status_code, answer.json()) == (200, {"stored": 3, "repeated": 1})
    assert _stored(client, h, "heat_gj") == {"2026-07-15T02:00:00+00:00": 0.75}
    unknown = "timestamp,channel,value\n2026-07-15T10:00:00+08:00,carport_pv_kwh,1\n"
    answer = client.post(
        f"{SITE}/telemetry.csv", content=unknown, headers={**h, "content-type": "text/csv"}
    )
    assert answer.status_code == 422
    problem = answer.json()["problems"][0]
    assert (problem["field"], problem["row"], problem["value"]) == (
        "channel",
        2,
        "'carport_pv_kwh'",
    )
    assert "carport_pv_kw" in problem["allowed"]


#: (bad line, the column the job names): each refused by the job and by the API.
BAD_LINES = [
    ("2026-07-15T15:15:00+08:00,", "load_kw"),
    ("2026-07-15T15:15:00+08:00,n/a", "load_kw"),
    ("2026-07-15T15:15:00+08:00,nan", "load_kw"),
    ("2026-07-15T15:15:00+08:00,inf", "load_kw"),
    ("2026-07-15T15:15:00+08:00,-5", "load_kw"),
    ("2026-07-15T15:15:00+08:00,12 kW", "load_kw"),
    ("2026-07-15T15:15:00,5", "timestamp"),  # no UTC offset
    ("15/07/2026 15:15+08:00,5", "timestamp"),
    ("2026-07-15T23:00:00+08:00,5", "timestamp"),  # after now (20:00 local)
    ("2026-07-15T15:00:00+08:00,6", "timestamp"),  # the same timestamp twice
]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_job_and_the_api_refuse_the_same_lines(api, tmp_path):
    client, h = api["client"], api["headers"]["electronics"]
    api["platform"].clock = lambda: NOW
    now = pd.Timestamp(NOW).tz_convert("Asia/Shanghai")
    for line, column in BAD_LINES:
        text = f"timestamp,load_kw\n2026-07-15T15:00:00+08:00,5\n{line}\n"
        (tmp_path / "load-electronics.csv").write_text(text, encoding="utf-8")
        with pytest.raises(DataError) as job:
            read_telemetry(tmp_path, ["electronics"], now)
        keys = {p.key for p in job.value.problems}
        assert keys == {f"row 3, column {column}"}, line
        answer = client.post(
            f"{SITE}/telemetry.csv",
            params={"channel": "load_kw"},
            content=text,
            headers={**h, "content-type": "text/csv"},
        )
        assert answer.status_code == 422, line
        named = {(p["row"], p["field"]) for p in answer.json()["problems"]}
        assert named == {(3, column)}, line
    good = "timestamp,load_kw\n2026-07-15T15:00:00+08:00,5\n2026-07-15T20:00:00+08:00,0\n"
    (tmp_path / "load-electronics.csv").write_text(good, encoding="utf-8")
    assert len(read_telemetry(tmp_path, ["electronics"], now).load["electronics"]) == 2
    answer = client.post(
        f"{SITE}/telemetry.csv",
        params={"channel": "load_kw"},
        content=good,
        headers={**h, "content-type": "text/csv"},
    )
    assert answer.json() == {"stored": 2, "repeated": 0}
    # a meter clock up to CLOCK_SKEW_S ahead of the server's is not future-dated here
    ahead = [_reading("load_kw", "2026-07-15T20:00:59+08:00", 1.0)]
    assert client.post(f"{SITE}/telemetry", json={"readings": ahead}, headers=h).status_code == 200
    ahead = [_reading("load_kw", "2026-07-15T20:01:01+08:00", 1.0)]
    assert client.post(f"{SITE}/telemetry", json={"readings": ahead}, headers=h).status_code == 422


def test_store_readings_for_other_front_ends(platform):
    platform.clock = lambda: NOW
    rows = [_reading("import_kw", "2026-07-15T10:00:00+08:00", 400.0)]
    assert platform.store_readings(PARK, "logistics", rows).stored == 1
    assert platform.store_readings(PARK, "logistics", rows).repeated == 1
    with pytest.raises(ReadingConflict) as conflict:
        platform.store_readings(PARK, "logistics", [{**rows[0], "value": 1.0}])
    assert conflict.value.conflicts[0]["stored_value"] == 400.0
    with pytest.raises(TelemetryRefused) as refused:
        platform.store_readings(PARK, "logistics", [{**rows[0], "value": True}, "x"])
    assert refused.value.problems[0]["field"] == "readings"
    with pytest.raises(UnknownSite):
        platform.store_readings(PARK, "nowhere", rows)
    with pytest.raises(TelemetryRefused) as refused:
        platform.store_readings(PARK, "logistics", [{**rows[0], "value": True}])
    assert (refused.value.problems[0]["field"], refused.value.problems[0]["row"]) == ("value", 0)


def test_the_same_batch_sent_at_once_by_many_writers_is_stored_once(platform):
    import threading

    platform.clock = lambda: NOW
    rows = [
        _reading("load_kw", f"2026-07-15T{h:02d}:{m:02d}:00+08:00", 100.0 + h + m / 60)
        for h in range(12)
        for m in (0, 15, 30, 45)
    ]
    writers, start = 8, threading.Barrier(8)
    results, errors = [], []

    def write() -> None:
        start.wait()
        try:
            results.append(platform.store_readings(PARK, "electronics", rows))
        except Exception as exc:  # any failure is the test's failure
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r.stored for r in results) == len(rows)
    assert sum(r.repeated for r in results) == (writers - 1) * len(rows)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_batches_queued_together_commit_as_one_group_with_one_by_one_answers(platform, db_url):
    import sqlite3
    import threading

    from vpp.platform.parks import find_site

    platform.clock = lambda: NOW
    site = find_site(platform.sessions, PARK, "electronics")
    key_a = [_reading("load_kw", "2026-07-15T10:00:00+08:00", 50.0)]
    batches = [
        [_reading("load_kw", "2026-07-15T09:00:00+08:00", 40.0)],  # alone: waits for the lock
        key_a,  # stored
        key_a,  # the same reading again, in the same group: a repeat
        [{**key_a[0], "value": 51.0}],  # conflicts with the one two batches before
        [_reading("import_kw", "2026-07-15T10:00:00+08:00", 60.0)],  # stored
    ]
    blocker = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # hold the write lock: the writer's first commit waits
    before = platform.writer.commits
    outcomes: dict[int, object] = {}

    def send(i: int) -> None:
        try:
            outcomes[i] = platform.store_readings(PARK, site.site, batches[i])
        except ReadingConflict as exc:
            outcomes[i] = exc

    queued = platform.writer.jobs.unfinished_tasks  # counts every put, never done here
    threads = [threading.Thread(target=send, args=(0,))]
    threads[0].start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        platform.writer.jobs.unfinished_tasks == queued or platform.writer.jobs.qsize()
    ):
        time.sleep(0.01)  # the first batch was queued and the writer took it
    for i in range(1, 5):  # the other four, queued behind it in this order
        threads.append(threading.Thread(target=send, args=(i,)))
        threads[-1].start()
        while platform.writer.jobs.qsize() < i and time.monotonic() < deadline:
            time.sleep(0.005)
    blocker.execute("ROLLBACK")
    blocker.close()
    for t in threads:
        t.join(30)
    assert platform.writer.commits - before == 2  # the first alone, then the four as one
    assert [(o.stored, o.repeated) for o in (outcomes[i] for i in (0, 1, 2, 4))] == [
        (1, 0),
        (1, 0),
        (0, 1),
        (1, 0),
    ]
    assert isinstance(outcomes[3], ReadingConflict)
    assert outcomes[3].conflicts[0]["stored_value"] == 50.0
