"""A real Mosquitto (Debian's ``mosquitto``) on a loopback port, and a plain paho client,
shared by the MQTT tests (imported by module name, as ``job_parks``).

Without ``/usr/sbin/mosquitto`` and ``mosquitto_passwd`` the tests **fail**: CI installs
Debian's ``mosquitto`` (``.ci/run``).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = "/usr/sbin/mosquitto"
#: How long a test waits for a message that must come [s].
WAIT_S = 5.0


def until(condition: Any, timeout: float = WAIT_S) -> bool:
    """Whether ``condition()`` came true within ``timeout`` [s] (polled)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_mosquitto() -> None:
    """Fail (never skip) when Debian's mosquitto is not installed."""
    if not Path(MOSQUITTO).is_file() or shutil.which("mosquitto_passwd") is None:
        pytest.fail(
            f"{MOSQUITTO} or mosquitto_passwd is missing: install Debian's mosquitto "
            "(.ci/run's apt-get line)"
        )


class Mosquitto:
    """A Mosquitto process with the configuration ``config`` listening on ``port``,
    stoppable and restartable; its log is ``<folder>/mosquitto.log``."""

    def __init__(self, folder: Path, config: Path, port: int) -> None:
        self.folder = folder
        self.config = config
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.folder / "mosquitto.log", "ab") as log:  # the child keeps its copy
            command = [MOSQUITTO, "-c", str(self.config)]
            self.process = subprocess.Popen(command, stderr=log, stdout=log)
        if not until(self.listening):
            pytest.fail(f"mosquitto did not listen on port {self.port} within {WAIT_S} s")

    def listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            text = (self.folder / "mosquitto.log").read_text(errors="replace")
            pytest.fail(f"mosquitto exited ({self.process.returncode}): {text[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def reload(self) -> None:
        """SIGHUP: the broker reads its password and ACL files again."""
        assert self.process is not None
        self.process.send_signal(1)
        time.sleep(0.5)  # mosquitto reloads in its main loop

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


class Client:
    """A plain paho client (a site's EMS or meter gateway) that records what it gets.

    ``broker`` has a ``port``; ``user`` a ``username`` and a ``password``."""

    def __init__(self, broker: Any, user: Any, *, mqtt5: bool = False, on_message: Any = None):
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311
        )
        self.client.username_pw_set(user.username, user.password)
        self.messages: list[mqtt.MQTTMessage] = []
        self.acks: dict[int, Any] = {}
        self.connack: Any = None
        self.lock = threading.Condition()
        self.extra = on_message
        self.client.on_message = self._message
        self.client.on_connect = self._connect
        self.client.on_publish = self._publish
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.wait(lambda: self.connack is not None)

    def _connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        with self.lock:
            self.connack = reason
            self.lock.notify_all()

    def _message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self.extra is not None:
            self.extra(message)
        with self.lock:
            self.messages.append(message)
            self.lock.notify_all()

    def _publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        with self.lock:
            self.acks[mid] = reason
            self.lock.notify_all()

    def wait(self, condition: Any, timeout: float = WAIT_S) -> bool:
        with self.lock:
            return self.lock.wait_for(condition, timeout)

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self.lock:
            return [m for m in self.messages if m.topic == topic]

    def subscribe(self, *topics: str) -> None:
        self.client.subscribe([(t, 1) for t in topics])

    def send(self, topic: str, body: Any, *, retain: bool = False) -> Any:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        assert self.wait(lambda: info.mid in self.acks)
        return self.acks[info.mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
