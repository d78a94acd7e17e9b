"""The platform's MQTT topic layout: one place builds and reads every topic.

========================================  =========  =======  ===========================
topic                                     QoS        retain   who publishes / reads
========================================  =========  =======  ===========================
``vpp/<park>/<site>/schedule``            1          yes      platform / the site's EMS
``vpp/<park>/<site>/telemetry/<channel>`` 0 or 1     no       the site's meters / platform
``vpp/<park>/<site>/errors``              1          no       platform / the site
========================================  =========  =======  ===========================

Names (park, site, channel) are one topic level each: letters, digits, ``_``, ``-`` and
``.``, at most :data:`MAX_NAME_CHARS` characters, so that no name can carry a topic
separator (``/``) or a wildcard (``+``, ``#``) into a topic or the broker's ACL file.
A channel name ends in its unit (``load_kw``, ``bess1_soc_kwh``); ``errors`` is not a
channel. Payloads: ``docs/platform-mqtt.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_NAME_CHARS",
    "ROOT",
    "TelemetryTopic",
    "check_name",
    "errors_topic",
    "parse_telemetry_topic",
    "schedule_topic",
    "telemetry_filter",
    "telemetry_topic",
]

#: The first level of every topic of the platform.
ROOT = "vpp"
#: Longest park, site or channel name [characters].
MAX_NAME_CHARS = 64
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def check_name(name: str, what: str) -> str:
    """``name`` if it is a safe topic level, else ``ValueError`` naming ``what``.

    Parameters
    ----------
    name : str
        A park, site or channel name.
    what : str
        What it names (``"site"``), for the message.
    """
    if (
        not isinstance(name, str)
        or len(name) > MAX_NAME_CHARS
        or not _NAME.fullmatch(name)
        or name in {".", ".."}
    ):
        shown = repr(name)[:80]
        raise ValueError(
            f"{what} name {shown} cannot be an MQTT topic level: allowed letters, digits, "
            f"'_', '-', '.' (1 to {MAX_NAME_CHARS} characters)"
        )
    return name


def schedule_topic(park: str, site: str) -> str:
    """The site's retained schedule topic, ``vpp/<park>/<site>/schedule``."""
    return f"{ROOT}/{check_name(park, 'park')}/{check_name(site, 'site')}/schedule"


def errors_topic(park: str, site: str) -> str:
    """Where the platform reports the site's refused telemetry, ``vpp/<park>/<site>/errors``."""
    return f"{ROOT}/{check_name(park, 'park')}/{check_name(site, 'site')}/errors"


def telemetry_topic(park: str, site: str, channel: str) -> str:
    """A meter channel's topic, ``vpp/<park>/<site>/telemetry/<channel>``."""
    park, site = check_name(park, "park"), check_name(site, "site")
    return f"{ROOT}/{park}/{site}/telemetry/{check_name(channel, 'channel')}"


def telemetry_filter(park: str, site: str = "+") -> str:
    """The filter of every channel of a site (``vpp/<park>/<site>/telemetry/+``), or of
    every site of the park (``site="+"``: ``vpp/<park>/+/telemetry/+``)."""
    site = site if site == "+" else check_name(site, "site")
    return f"{ROOT}/{check_name(park, 'park')}/{site}/telemetry/+"


@dataclass(frozen=True)
class TelemetryTopic:
    """A telemetry topic read back: the park, the site and the channel."""

    park: str
    site: str
    channel: str


def parse_telemetry_topic(topic: str) -> TelemetryTopic:
    """The park, site and channel of a telemetry topic, else ``ValueError`` saying why."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[3] != "telemetry":
        raise ValueError(
            f"topic {topic[:120]!r} is not a telemetry topic "
            f"({ROOT}/<park>/<site>/telemetry/<channel>)"
        )
    return TelemetryTopic(
        park=check_name(parts[1], "park"),
        site=check_name(parts[2], "site"),
        channel=check_name(parts[4], "channel"),
    )
