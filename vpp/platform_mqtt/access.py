"""The broker's access control: Mosquitto's password file and ACL file, written by vpp.

Each site has its own MQTT user, which may

- **write** only its own telemetry, ``vpp/<park>/<site>/telemetry/+``;
- **read** only its own schedule, ``vpp/<park>/<site>/schedule``, and its error
  reports, ``vpp/<park>/<site>/errors``.

The platform's own user reads and writes ``vpp/#``. Anyone else, and anonymous clients
(:func:`broker_config` sets ``allow_anonymous false``), gets nothing: Mosquitto denies
what the ACL file does not grant. The same rule as the HTTP API's ``site`` keys: a site
sees and writes only its own data.

Passwords are hashed by Debian's ``mosquitto_passwd`` (PBKDF2-SHA512), from a plain-text
file of the folder (mode 0600, ``mosquitto_passwd -U``) rather than the command line,
where every local user could read them in the process list. Each file is written into a
temporary file of its folder, fsynced and renamed over the old one, so a reader sees the
old file or the new one, never a part. Mosquitto reads both files at its start and again
on ``SIGHUP``. A site missing from one file has no access, so the files are safe in
every order in between.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vpp.platform_mqtt.topics import ROOT, errors_topic, schedule_topic, telemetry_filter

__all__ = [
    "MAX_PASSWORD_CHARS",
    "BrokerFiles",
    "MqttUser",
    "SiteAccess",
    "acl_text",
    "broker_config",
    "site_username",
    "write_broker_access",
]

#: Longest password accepted [characters].
MAX_PASSWORD_CHARS = 256
_USER = re.compile(r"[A-Za-z0-9_.@-]{1,128}")


@dataclass(frozen=True)
class MqttUser:
    """A broker user: name and password (never shown in a repr)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class SiteAccess:
    """A site's broker user.

    Parameters
    ----------
    park, site : str
        The site (topic levels, :func:`vpp.platform_mqtt.topics.check_name`).
    username, password : str
        Its credentials (:func:`site_username` gives a default name).
    """

    park: str
    site: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class BrokerFiles:
    """The files written: the password file and the ACL file."""

    password_file: Path
    acl_file: Path


def site_username(park: str, site: str) -> str:
    """The default broker user name of a site: ``site.<park>.<site>``."""
    return f"site.{park}.{site}"


def _check_user(user: MqttUser | SiteAccess) -> None:
    if not _USER.fullmatch(user.username):
        raise ValueError(
            f"MQTT user name {user.username[:80]!r} is not allowed: letters, digits, "
            "'_', '.', '@', '-' (1 to 128 characters)"
        )
    password = user.password
    if not 0 < len(password) <= MAX_PASSWORD_CHARS or any(c in password for c in ":\r\n\0"):
        raise ValueError(
            f"the password of MQTT user {user.username!r} is not allowed: 1 to "
            f"{MAX_PASSWORD_CHARS} characters without ':' (mosquitto_passwd cuts the "
            "password there) or line breaks"
        )


def acl_text(platform: MqttUser, sites: Sequence[SiteAccess]) -> str:
    """The ACL file's text (module docstring): the platform's user, then each site's."""
    lines = [
        "# Written by vpp (vpp.platform_mqtt.access); edits are overwritten.",
        "# Mosquitto denies every topic not granted here.",
        "",
        f"user {platform.username}",
        f"topic readwrite {ROOT}/#",
    ]
    for access in sites:
        lines += [
            "",
            f"user {access.username}",
            f"topic write {telemetry_filter(access.park, access.site)}",
            f"topic read {schedule_topic(access.park, access.site)}",
            f"topic read {errors_topic(access.park, access.site)}",
        ]
    return "\n".join(lines) + "\n"


def _passwd_tool() -> str:
    found = shutil.which("mosquitto_passwd") or (
        "/usr/bin/mosquitto_passwd" if Path("/usr/bin/mosquitto_passwd").is_file() else None
    )
    if found is None:
        raise FileNotFoundError(
            "mosquitto_passwd not found: install Debian's mosquitto package "
            "(apt-get install mosquitto)"
        )
    return found


def write_broker_access(
    folder: str | Path,
    platform: MqttUser,
    sites: Sequence[SiteAccess],
    *,
    password_name: str = "passwd",
    acl_name: str = "acl",
) -> BrokerFiles:
    """Write Mosquitto's password file and ACL file for the platform and its sites.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where the files go (created if missing).
    platform : MqttUser
        The platform's own user (``readwrite vpp/#``).
    sites : sequence of SiteAccess
        Each site's user.
    password_name, acl_name : str
        The files' names in ``folder``.

    Returns
    -------
    BrokerFiles
        The two files; point the broker's ``password_file`` and ``acl_file`` at them
        (:func:`broker_config`) and send it ``SIGHUP`` to read them again.

    Raises
    ------
    ValueError
        A user or site name that is not allowed, or a user name given twice.
    FileNotFoundError
        ``mosquitto_passwd`` is not installed.
    OSError
        ``mosquitto_passwd`` failed, or a file cannot be written; the old files stay.
    """
    users = [platform, *sites]
    for user in users:
        _check_user(user)
    names = [u.username for u in users]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"MQTT user name(s) given twice: {twice}")
    acl = acl_text(platform, sites)  # checks every park and site name first
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tool = _passwd_tool()
    plain = "".join(f"{u.username}:{u.password}\n" for u in users)
    password_file = folder / password_name
    acl_file = folder / acl_name

    def hash_passwords(path: Path) -> None:
        done = subprocess.run(
            [tool, "-U", str(path)], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:  # its messages name lines, never a password
            message = (done.stderr or done.stdout).strip()[:300]
            raise OSError(f"mosquitto_passwd -U failed ({done.returncode}): {message}")

    _replace(password_file, plain, hash_passwords)
    _replace(acl_file, acl, None)
    return BrokerFiles(password_file, acl_file)


def _replace(target: Path, text: str, finish: Callable[[Path], None] | None) -> None:
    """Write ``text`` into a 0600 temporary file beside ``target``, let ``finish`` rework
    it, fsync, and rename it over ``target`` (then fsync the folder)."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if finish is not None:
            finish(temporary)
            with open(temporary, "rb") as stream:
                os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def broker_config(
    files: BrokerFiles,
    *,
    host: str = "127.0.0.1",
    port: int = 1883,
    run_as: str | None = None,
    max_packet_bytes: int = 1_048_576,
) -> str:
    """A Mosquitto 2 configuration that uses the files (loopback, no anonymous access).

    Parameters
    ----------
    files : BrokerFiles
        From :func:`write_broker_access`.
    host, port : str, int
        The listener.
    run_as : str, optional
        The system user Mosquitto runs as (``user``); it must read both files (mode
        0600: their owner). Default: Mosquitto's own default (``mosquitto``).
    max_packet_bytes : int
        Largest MQTT packet the broker takes [bytes]; larger ones end the client's
        connection (a telemetry message is at most 1,000,000 bytes).
    """
    lines = [
        "# Written by vpp (vpp.platform_mqtt.access.broker_config).",
        "per_listener_settings false",
        "allow_anonymous false",
        "persistence false",
        f"password_file {files.password_file}",
        f"acl_file {files.acl_file}",
        f"max_packet_size {int(max_packet_bytes)}",
        f"listener {int(port)} {host}",
    ]
    if run_as:
        lines.append(f"user {run_as}")
    return "\n".join(lines) + "\n"
