"""``vpp serve --mqtt`` with a real Mosquitto, on SQLite and PostgreSQL.

The broker's files are written by ``vpp mqtt-access write`` from the platform's data
(one user per registered site, passwords shown once), and the broker is Debian's
``mosquitto`` (:mod:`mqtt_broker`). Checked:

- a run started through the API commits its schedules, and each site's EMS, logged in
  with its own credentials, gets its schedule retained; at the moment it arrives the
  schedule is already served by the API (committed first);
- a commit that fails publishes nothing, and a publish the broker does not acknowledge
  is counted and shown (in-process, :class:`~vpp.platform.mqtt_service.MqttService`);
- a restart of the server re-publishes the latest schedules on emptied topics;
- telemetry sent by a site's MQTT user is stored and served by the API;
- a site's user cannot read another site's schedule, and a revoked user is left out of
  the next files and refused by the broker.

Expected values are written by hand from the job's schedule of the small evening park
(:mod:`job_parks`): a 50 kW charge is a set point of -50 kW.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from job_parks import EVENING_BESS, EVENING_LOAD_KW, EVENING_PRICES, write_park, write_site
from mqtt_broker import WAIT_S, Client, Mosquitto, free_port, require_mosquitto, until
from platform_helpers import REPO
from sqlalchemy import event

from vpp.platform.keys import create_key
from vpp.platform.models import Schedule
from vpp.platform.mqtt_access import (
    HASH_ITERATIONS,
    PASSWORD_ENV,
    PLATFORM_USER,
    mosquitto_hash,
    platform_password,
    write_access,
)
from vpp.platform.mqtt_service import MqttService, parse_broker
from vpp.platform.parks import register_park
from vpp.platform.refusals import BadRequest
from vpp.platform.runs.supervisor import OPEN_STATUSES
from vpp.platform.service import Platform
from vpp.platform_mqtt import BrokerError, BrokerSettings, MqttUser, schedule_topic

PARK = "small-park"
SITES = ("plant", "shop")
PASSWORD = "platform-test-password"
DATE = "2026-07-16"
NOW = "2026-07-15T15:00:00+08:00"
#: How long the small park's job may take in its worker process [s].
RUN_TIMEOUT_S = 90.0
START_TIMEOUT_S = 60.0
#: How long a test waits to be sure a message does not come [s].
QUIET_S = 1.0
#: The publisher's PUBACK wait in the broker-down case [s].
ACK_TIMEOUT_S = 2.0
#: What a loaded host may add to the publishing thread's own waits [s].
DRAIN_SLACK_S = 45.0
#: The payload's rounding (1 W, 1 Wh) [kW, kWh].
TOLERANCE_KW = 1e-3


def small_park(folder: Path) -> Path:
    folder.mkdir()
    sites = [
        write_site(folder, s, EVENING_LOAD_KW, EVENING_PRICES, bess=EVENING_BESS) for s in SITES
    ]
    return write_park(folder, sites)


def vpp_cli(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "vpp.cli", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def run_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "VPP_MQTT_PASSWORD": PASSWORD}


def access_files(url: str, folder: Path, port: int) -> dict[str, Any]:
    """``vpp mqtt-access write``: the files, and the users it created (by site)."""
    argv = ["mqtt-access", "write", "--out", str(folder), "--port", str(port), "--json"]
    if os.geteuid() == 0:
        argv += ["--run-as", "root"]
    done = vpp_cli(*argv, "--db", url, env=run_env())
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)["created"]
    return {u["site"]: SimpleNamespace(**u) for u in made}


class Server:
    """``vpp serve --mqtt`` in its own process."""

    def __init__(self, url: str, broker_port: int, tmp: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.log = tmp / "serve.log"
        self.command = [
            sys.executable,
            "-m",
            "vpp.cli",
            "serve",
            "--port",
            str(self.port),
            "--db",
            url,
            "--mqtt",
            f"127.0.0.1:{broker_port}",
            "--runs-dir",
            str(tmp / "runs"),
            "--forecasts",
            str(tmp / "no-forecasts"),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, env=run_env()
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
            assert self.process.poll() is None, self.log.read_text()
        self.stop()
        raise AssertionError(f"vpp serve did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def get(self, path: str, key: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", headers={"X-API-Key": key}, params=params)


def retained(broker: Mosquitto, user: Any, topic: str, timeout: float = WAIT_S) -> Any:
    """The payload an EMS logged in as ``user`` gets on subscribing to ``topic``."""
    ems = Client(broker, user)
    ems.subscribe(topic)
    ems.wait(lambda: ems.on(topic), timeout)
    ems.close()
    got = ems.on(topic)
    return json.loads(got[0].payload) if got else None


def test_serve_publishes_committed_schedules_and_takes_telemetry(db_url, tmp_path):
    require_mosquitto()
    park_file = small_park(tmp_path / "park")
    platform = Platform.open(db_url)
    register_park(platform.sessions, park_file)
    operator = create_key(platform.sessions, "operator")[1]
    plant_key = create_key(platform.sessions, "site", park=PARK, site="plant")[1]
    platform.close()
    folder, port = tmp_path / "broker", free_port()
    users = access_files(db_url, folder, port)
    assert sorted(users) == list(SITES)
    assert {u.username for u in users.values()} == {f"site.{PARK}.{s}" for s in SITES}
    passwd = (folder / "passwd").read_text()
    assert all(u.password not in passwd for u in users.values())  # hashed only
    broker = Mosquitto(folder, folder / "mosquitto.conf", port)
    broker.start()
    server = Server(db_url, port, tmp_path)
    plant, shop = users["plant"], users["shop"]
    try:
        server.start()
        # telemetry by MQTT from the plant's own user, then served by the API
        gateway = Client(broker, plant)
        soc = {"t": "2026-07-15T14:45:00+08:00", "value": 150.0}
        gateway.send(f"vpp/{PARK}/plant/telemetry/bess_soc_kwh", soc)
        gateway.close()
        span = {"start": "2026-07-15T14:00:00+08:00", "end": "2026-07-15T15:00:00+08:00"}

        def stored() -> list[Any]:
            got = server.get(
                f"/parks/{PARK}/sites/plant/telemetry", plant_key, channel="bess_soc_kwh", **span
            )
            return got.json()["values"] if got.status_code == 200 else []

        assert until(lambda: stored(), WAIT_S), server.log.read_text()[-3000:]
        assert stored() == [150.0]
        # the plant's EMS listens before the run; at arrival, the API serves the schedule
        seen_by_api: list[Any] = []

        def check_committed(message: Any) -> None:
            answer = server.get(f"/parks/{PARK}/sites/plant/schedule", plant_key, date=DATE)
            seen_by_api.append((answer.status_code, answer.json().get("run_id")))

        ems = Client(broker, plant, on_message=check_committed)
        own, other = schedule_topic(PARK, "plant"), schedule_topic(PARK, "shop")
        ems.subscribe(own, other)
        time.sleep(QUIET_S)
        assert ems.on(own) == []  # nothing published before a commit
        body = {"kind": "day-ahead", "date": DATE, "now": NOW}
        started = httpx.post(
            f"{server.base}/parks/{PARK}/runs", json=body, headers={"X-API-Key": operator}
        )
        assert started.status_code == 202
        run = started.json()["id"]
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            facts = server.get(f"/runs/{run}", operator).json()
            if facts["status"] not in OPEN_STATUSES:  # starting and finishing too
                break
            time.sleep(0.25)
        assert facts["status"] == "ok", server.get(f"/runs/{run}/log", operator).text
        job_run = facts["job_run_id"]  # the daily job's run id, which the schedules carry
        assert ems.wait(lambda: ems.on(own)), server.log.read_text()[-3000:]
        message = ems.on(own)[0]
        payload = json.loads(message.payload)
        assert (payload["park"], payload["site"], payload["date"]) == (PARK, "plant", DATE)
        assert str(payload["run_id"]) == str(job_run) and payload["fallback"] is False
        assert seen_by_api[0] == (200, payload["run_id"])  # committed before published
        # the job's 01:00 row charges 50 kW: discharge minus charge is -50 kW
        listing = server.get(f"/runs/{run}/outputs", operator).json()
        found = [o for o in listing if o["path"].endswith("sites/plant/schedule.csv")]
        assert len(found) == 1, listing
        frame = server.get(found[0]["url"].removeprefix("/api/v1"), operator).text
        row = frame.splitlines()[2].split(",")
        header = frame.splitlines()[0].split(",")
        expected_kw = float(row[header.index("bess_discharge_kw")]) - float(
            row[header.index("bess_charge_kw")]
        )
        assert abs(payload["setpoints_kw"]["bess"][1] - expected_kw) <= TOLERANCE_KW
        # the shop's schedule is published, but never to the plant's user
        assert retained(broker, shop, other)["site"] == "shop"
        time.sleep(QUIET_S)
        assert ems.on(other) == []
        ems.close()
        status = server.get("/mqtt", operator).json()
        assert status["healthy"] is True
        assert (status["publisher"]["published"], status["publisher"]["failures"]) == (2, 0)
        assert status["subscriber"]["readings"] == 1
        health = httpx.get(f"{server.base}/health").json()
        assert health["status"] == "ok" and health["mqtt"]["healthy"] is True
        assert server.get("/mqtt", plant_key).status_code == 403
        # a restart re-publishes: empty both retained topics, restart, they are back
        platform_user = SimpleNamespace(username=PLATFORM_USER, password=PASSWORD)
        cleaner = Client(broker, platform_user)
        for topic in (own, other):
            cleaner.send(topic, b"", retain=True)
        cleaner.close()
        assert retained(broker, plant, own, QUIET_S) is None
        server.stop()
        server.start()
        again = retained(broker, plant, own)
        assert again is not None and str(again["run_id"]) == str(job_run)
        assert str(retained(broker, shop, other)["run_id"]) == str(job_run)
        status = server.get("/mqtt", operator).json()
        assert status["publisher"]["republished_at_start"] == 2
        # a revoked site user leaves the files and the broker refuses it
        still = Client(broker, shop)  # connected before the revocation
        still.subscribe(other)
        assert still.wait(lambda: still.on(other))  # the retained schedule
        done = vpp_cli(
            "mqtt-access", "revoke", "--park", PARK, "--site", "shop", "--db", db_url, env=run_env()
        )
        assert done.returncode == 0, done.stderr
        assert access_files(db_url, folder, port) == {}  # a revoked site gets no new user
        assert shop.username not in (folder / "passwd").read_text()
        assert shop.username not in (folder / "acl").read_text()
        assert plant.username in (folder / "acl").read_text()
        broker.reload()
        refused = Client(broker, shop)
        refused.close()
        assert refused.connack is not None and refused.connack.is_failure
        pusher = Client(broker, platform_user)
        pusher.send(other, b'{"probe": 1}')
        pusher.close()
        time.sleep(QUIET_S)
        assert len(still.on(other)) == 1  # the ACL is checked for every message
        still.close()
        assert Client(broker, plant).connack.is_failure is False
    finally:
        server.stop()
        broker.stop()


def test_a_failed_commit_publishes_nothing_and_a_failed_publish_shows(db_url, tmp_path):
    """In process: a commit that fails leaves the topic empty; the next commit is
    published after the rows are readable; a publish without PUBACK is counted."""
    require_mosquitto()
    from job_parks import run_ok

    park_file = small_park(tmp_path / "park")
    run_ok(park_file, tmp_path / "out", NOW, None)
    day = tmp_path / "out" / DATE
    platform = Platform.open(db_url)
    register_park(platform.sessions, park_file)
    folder, port = tmp_path / "broker", free_port()
    run_as = "root" if os.geteuid() == 0 else None
    users = write_access(
        platform.sessions, folder, MqttUser(PLATFORM_USER, PASSWORD), port=port, run_as=run_as
    )[1]
    plant = next(u for u in users if u.site == "plant")
    broker = Mosquitto(folder, folder / "mosquitto.conf", port)
    broker.start()
    settings = BrokerSettings(port=port, username=PLATFORM_USER, password=PASSWORD)
    service = MqttService(platform, settings)
    rows_at_arrival: list[int] = []

    def count_rows(message: Any) -> None:
        with platform.sessions() as session:
            rows_at_arrival.append(session.query(Schedule).count())

    try:
        service.start()
        ems = Client(broker, plant, on_message=count_rows)
        topic = schedule_topic(PARK, "plant")
        ems.subscribe(topic)

        def refuse(conn: Any) -> None:
            raise RuntimeError("commit refused by the test")

        event.listen(platform.engine, "commit", refuse)
        with pytest.raises(RuntimeError, match="commit refused"):
            platform.record_day_folder(day)
        event.remove(platform.engine, "commit", refuse)
        time.sleep(QUIET_S)
        assert ems.on(topic) == []
        assert service.status()["publisher"]["published"] == 0
        events = platform.record_day_folder(day)
        assert [e.site for e in events] == list(SITES)
        assert all(e.committed_at is not None for e in events)
        assert ems.wait(lambda: ems.on(topic))
        assert rows_at_arrival == [len(SITES)]  # both rows were committed before
        ems.close()
        assert service.drain(DRAIN_SLACK_S)  # both sites' publishes acknowledged first
        # the broker gone: the next publish fails, counted and shown, never silent
        broker.stop()
        service.publisher.ack_timeout_s = ACK_TIMEOUT_S
        began = time.monotonic()
        platform.record_day_folder(day)  # returns at once: the publishing thread waits
        assert time.monotonic() - began < ACK_TIMEOUT_S  # a publish in the hook: 2 x 2 s
        # each site's publish waits out its PUBACK timeout; a loaded host adds its own
        # delays (schedule building, paho's reconnect): drain returns as soon as done
        assert service.drain(2 * len(SITES) * service.publisher.ack_timeout_s + DRAIN_SLACK_S)
        state = service.status()
        assert state["healthy"] is False
        assert state["publisher"]["failures"] >= 1
        assert state["publisher"]["last_error"]
        assert [p["where"].split()[1] for p in state["problems"]] == [f"{PARK}/{s}" for s in SITES]
        assert BrokerError.__name__ in state["problems"][0]["error"]
    finally:
        service.stop()
        broker.stop()
        platform.close()


def test_the_stored_hash_is_mosquittos_own():
    """Independent: mosquitto_passwd's line, recomputed from its salt and count."""
    require_mosquitto()
    import base64
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "passwd"
        plain.write_text("u:correct horse\n")
        subprocess.run(["mosquitto_passwd", "-U", str(plain)], check=True, timeout=30)
        line = plain.read_text().strip().split(":", 1)[1]
    _, seven, iterations, salt, _ = line.split("$")
    ours = mosquitto_hash("correct horse", iterations=int(iterations), salt=base64.b64decode(salt))
    assert (seven, ours) == ("7", line)
    assert mosquitto_hash("x").startswith(f"$7${HASH_ITERATIONS}$")


def test_the_platform_password_comes_from_a_file_or_the_environment(tmp_path):
    secret = tmp_path / "mqtt-password"
    secret.write_text("from-file\nignored\n")
    secret.chmod(0o644)  # others may read it: refused, as --db-file
    with pytest.raises(BadRequest, match="other users may read or write .* chmod 600"):
        platform_password(secret, env={})
    secret.chmod(0o600)
    assert platform_password(secret, env={PASSWORD_ENV: "from-env"}) == "from-file"
    assert platform_password(None, env={PASSWORD_ENV: "from-env"}) == "from-env"
    with pytest.raises(BadRequest, match=PASSWORD_ENV):
        platform_password(None, env={})
    with pytest.raises(BadRequest, match="without ':'"):
        platform_password(None, env={PASSWORD_ENV: "a:b"})
    assert parse_broker("127.0.0.1:1883") == ("127.0.0.1", 1883)
    assert parse_broker("[::1]:8883") == ("::1", 8883)
    for bad in ("127.0.0.1", "host:0", "host:70000", ":1883"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_broker(bad)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_refuses_to_start_without_password_or_broker(db_url):
    """No password: exit 2 naming the variable. No broker: exit 1 naming it, and the
    password never printed."""
    command = ["serve", "--db", db_url, "--port", str(free_port())]
    env = {k: v for k, v in run_env().items() if k != PASSWORD_ENV}
    done = vpp_cli(*command, "--mqtt", f"127.0.0.1:{free_port()}", env=env)
    assert done.returncode == 2 and PASSWORD_ENV in done.stderr
    port = free_port()  # nothing listens there
    done = vpp_cli(*command, "--mqtt", f"127.0.0.1:{port}", env=run_env())
    assert done.returncode == 1, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and PASSWORD not in done.stdout + done.stderr


def test_mqtt_access_create_replaces_and_list_shows_no_secret(db_url, tmp_path):
    """``create`` gives a new password and revokes the old user; ``list`` shows both,
    without a hash or password; ``write`` keeps only the new one."""
    park_file = small_park(tmp_path / "park")
    platform = Platform.open(db_url)
    register_park(platform.sessions, park_file)
    platform.close()
    env = run_env()
    made = [
        vpp_cli("mqtt-access", "create", "--park", PARK, "--site", "plant", "--db", db_url, env=env)
        for _ in range(2)
    ]
    assert all(m.returncode == 0 for m in made), made[0].stderr
    passwords = [m.stdout.strip().splitlines()[-1] for m in made]
    assert passwords[0] != passwords[1] and len(passwords[1]) == 43  # 256 bits, URL-safe
    listed = vpp_cli("mqtt-access", "list", "--json", "--db", db_url, env=env)
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["revoked"]) for r in rows] == [
        (f"site.{PARK}.plant", True),
        (f"site.{PARK}.plant", False),
    ]
    assert not any(p in listed.stdout for p in passwords) and "$7$" not in listed.stdout
    folder = tmp_path / "broker"
    created = access_files(db_url, folder, free_port())
    assert sorted(created) == ["shop"]  # the plant has its user; the shop gets one
    lines = (folder / "passwd").read_text().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        PLATFORM_USER,
        f"site.{PARK}.plant",
        f"site.{PARK}.shop",
    ]
    unknown = vpp_cli(
        "mqtt-access", "create", "--park", PARK, "--site", "nowhere", "--db", db_url, env=env
    )
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr
