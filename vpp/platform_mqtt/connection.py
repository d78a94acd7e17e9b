"""One connection to the broker (paho-mqtt 2.x), shared by the publisher and the subscriber.

:class:`BrokerLink` connects in paho's network thread (``loop_start``), waits for the
broker's CONNACK, and lets paho reconnect by itself after a lost connection (waiting
:data:`RECONNECT_MIN_S` to :data:`RECONNECT_MAX_S` between attempts). A refused
connection (wrong password, unknown user) or a broker out of reach raises
:class:`BrokerError`, which names the broker and the reason and never the password.
QoS 1 messages published while the connection is down stay in paho's queue and are sent
when it is back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vpp.errors import Problem, VppError

__all__ = [
    "RECONNECT_MAX_S",
    "RECONNECT_MIN_S",
    "BrokerError",
    "BrokerLink",
    "BrokerSettings",
]

#: Shortest wait before paho tries to reconnect [s].
RECONNECT_MIN_S = 1
#: Longest wait between reconnection attempts (paho doubles the wait up to this) [s].
RECONNECT_MAX_S = 30

LOG = logging.getLogger("vpp.platform_mqtt")


class BrokerError(VppError):
    """The MQTT broker could not be reached, refused the connection, or did not
    acknowledge a publish in time. Exit code 1 (an I/O failure, like ``OSError``)."""

    exit_code = 1


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker is and who the platform is on it.

    Parameters
    ----------
    host : str
        The broker's host name or address.
    port : int
        Its TCP port (1883 without TLS, 8883 with).
    username, password : str or None
        The credentials (the platform's own user in the ACL file). The password is never
        shown in a repr, a log or an error.
    client_id : str
        The MQTT client id; a fixed, non-empty one keeps the broker's session (and the
        QoS 1 messages it holds for the client) across reconnects of the subscriber.
    keepalive_s : int
        Keep-alive interval [s].
    connect_timeout_s : float
        How long :meth:`BrokerLink.start` waits for the broker's CONNACK [s].
    tls_ca_file : str or None
        A CA certificate file: connect with TLS and check the broker's certificate.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str = ""
    keepalive_s: int = 30
    connect_timeout_s: float = 10.0
    tls_ca_file: str | None = None

    def where(self) -> str:
        """``user@host:port`` for messages (no password)."""
        user = f"{self.username}@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"


class BrokerLink:
    """A paho client connected in its own network thread, with automatic reconnects.

    Parameters
    ----------
    settings : BrokerSettings
        The broker and the credentials.
    clean_session : bool
        False keeps the broker's session across reconnects (needs a ``client_id``).
    on_message : callable, optional
        ``on_message(client, userdata, message)``, paho's signature, called in paho's
        network thread.
    manual_ack : bool
        Whether received QoS 1 messages are acknowledged by the caller (``ack``) rather
        than by paho when ``on_message`` returns.
    mqtt5 : bool
        Speak MQTT 5 (a PUBACK then carries a reason code, so that a publish the ACL
        refuses is seen) instead of MQTT 3.1.1 (``clean_session`` is then not used:
        MQTT 5 starts clean on the first connection only).
    """

    def __init__(
        self,
        settings: BrokerSettings,
        *,
        clean_session: bool = True,
        on_message: Callable[..., None] | None = None,
        manual_ack: bool = False,
        mqtt5: bool = False,
    ) -> None:
        if not clean_session and not settings.client_id:
            raise ValueError("a persistent session (clean_session=False) needs a client_id")
        self.settings = settings
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            clean_session=None if mqtt5 else clean_session,
            protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        if settings.username is not None:
            self.client.username_pw_set(settings.username, settings.password)
        if settings.tls_ca_file:
            self.client.tls_set(ca_certs=settings.tls_ca_file)
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.on_connect = self._connected
        self.client.on_connect_fail = self._connect_failed
        self.client.on_disconnect = self._disconnected
        if on_message is not None:
            self.client.on_message = on_message
        self._lock = threading.Lock()
        self._answered = threading.Event()
        self._connected_now = False
        self._refusal: str | None = None
        self._last_problem: str | None = None
        self.connections = 0
        #: Called in paho's thread after each successful (re)connection.
        self.after_connect: list[Callable[[], None]] = []

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection and it is up now."""
        return self._connected_now

    @property
    def last_problem(self) -> str | None:
        """The last refusal or loss of the connection, for status pages."""
        return self._last_problem

    def start(self) -> None:
        """Connect and start paho's network thread; wait for the broker's answer.

        Raises
        ------
        BrokerError
            The broker refused the connection, or did not answer within
            ``connect_timeout_s``; the network thread is stopped again.
        """
        settings = self.settings
        self._answered.clear()
        self._refusal = None
        self.client.connect_async(settings.host, settings.port, keepalive=settings.keepalive_s)
        self.client.loop_start()
        self._answered.wait(settings.connect_timeout_s)
        if self._connected_now:
            return
        reason = self._refusal or self._last_problem or "no answer"
        self.stop()
        raise BrokerError(
            Problem(
                f"MQTT broker {settings.where()} did not accept the connection: {reason}",
                key="mqtt",
                allowed=f"a broker that answers within {settings.connect_timeout_s:g} s "
                "and accepts these credentials",
                fix="start the broker, check host and port, and the user's password in "
                "the broker's password file (vpp.platform_mqtt.access)",
            )
        )

    def stop(self) -> None:
        """Disconnect and stop the network thread (idempotent)."""
        self.client.disconnect()
        self.client.loop_stop()
        self._connected_now = False

    # paho callbacks, in paho's network thread -----------------------------------------

    def _connected(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            self._refusal = f"refused: {reason}"
            self._last_problem = self._refusal
            LOG.error("MQTT broker %s refused the connection: %s", self.settings.where(), reason)
            self._answered.set()
            return
        with self._lock:
            self._connected_now = True
            self.connections += 1
        if self.connections > 1:
            LOG.info("MQTT reconnected to %s", self.settings.where())
        for hook in list(self.after_connect):
            try:
                hook()
            except Exception:  # a hook's bug must not kill paho's thread; it is logged
                LOG.exception("MQTT after-connect hook failed")
        self._answered.set()

    def _connect_failed(self, client: Any, userdata: Any) -> None:
        self._last_problem = "the broker cannot be reached"
        LOG.warning("MQTT broker %s cannot be reached; retrying", self.settings.where())

    def _disconnected(
        self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        was = self._connected_now
        self._connected_now = False
        if was and reason.is_failure:
            self._last_problem = f"connection lost: {reason}"
            LOG.warning(
                "MQTT connection to %s lost (%s); reconnecting", self.settings.where(), reason
            )
