"""The broker's access from the platform's data: each site's MQTT user, stored hashed.

``vpp mqtt-access`` (:mod:`vpp.platform.commands`) keeps one broker user per registered
site, ``site.<park>.<site>`` (:func:`vpp.platform_mqtt.access.site_username`), and
writes Mosquitto's files for them (:func:`write_access`):

- ``passwd``: each active site user and the platform's own user, with its password
  hash;
- ``acl``: a site user writes only its own telemetry and reads only its own schedule
  and error reports; the platform user reads and writes ``vpp/#``
  (:func:`vpp.platform_mqtt.access.acl_text`);
- ``mosquitto.conf``: a broker that uses both, without anonymous access
  (:func:`vpp.platform_mqtt.access.broker_config`).

A site's password (256 random bits, ``secrets.token_urlsafe(32)``) is shown once, when
it is created, like an API key's secret. The database keeps only the line Mosquitto's
password file holds, ``$7$<iterations>$<salt>$<hash>``: PBKDF2-HMAC-SHA512 of the
password with a random 12-byte salt, as ``mosquitto_passwd`` makes it. So the files can
be written again at any time without knowing a password, and a revoked user is left out
of the next write (:func:`revoke_site_user`). The platform user's password is the one
``vpp serve --mqtt`` connects with, read from a file or ``VPP_MQTT_PASSWORD``
(:func:`platform_password`), never from the command line.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.db_source import check_secret_mode
from vpp.platform.models import MqttUserRow, Park, Site
from vpp.platform.refusals import BadRequest, UnknownSite
from vpp.platform_mqtt.access import (
    MAX_PASSWORD_CHARS,
    BrokerFiles,
    MqttUser,
    SiteAccess,
    acl_text,
    broker_config,
    site_username,
)

__all__ = [
    "HASH_ITERATIONS",
    "PASSWORD_ENV",
    "PLATFORM_USER",
    "NewSiteUser",
    "create_site_user",
    "list_site_users",
    "mosquitto_hash",
    "platform_password",
    "revoke_site_user",
    "write_access",
]

#: The environment variable that holds the platform user's broker password.
PASSWORD_ENV = "VPP_MQTT_PASSWORD"
#: The platform's own broker user name (``readwrite vpp/#``).
PLATFORM_USER = "vpp-platform"
#: PBKDF2 iterations of a stored password hash [-]. The site passwords are random (256
#: bits), so the count adds nothing to them; the platform's password may be chosen by a
#: person, and 10,000 iterations cost the broker about 10 ms per connection.
HASH_ITERATIONS = 10_000
_SALT_BYTES = 12  # as mosquitto_passwd


@dataclass(frozen=True)
class NewSiteUser:
    """A site user just created: its password is in this object only (shown once)."""

    park: str
    site: str
    username: str
    password: str = field(repr=False)


def mosquitto_hash(
    password: str, *, iterations: int = HASH_ITERATIONS, salt: bytes | None = None
) -> str:
    """The password as Mosquitto 2's password file holds it (``$7$``, PBKDF2-SHA512).

    ``$7$<iterations>$<base64 salt>$<base64 of PBKDF2-HMAC-SHA512(password, salt,
    iterations), 64 bytes>``; the salt is 12 random bytes unless given (tests).
    """
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    encode = base64.b64encode
    return f"$7${iterations}${encode(salt).decode()}${encode(digest).decode()}"


def platform_password(file: str | Path | None, env: Mapping[str, str] | None = None) -> str:
    """The platform user's broker password: the first line of ``file`` if given, else the
    environment variable :data:`PASSWORD_ENV`. A group-readable file is used with a note
    on stderr (as ``--db-file``, :func:`vpp.platform.db_source.check_secret_mode`).

    Raises
    ------
    BadRequest
        Neither is set, the file does not read or others may read or write it (mode
        ``o+r`` or ``o+w``), or the password is empty, longer than
        :data:`~vpp.platform_mqtt.access.MAX_PASSWORD_CHARS` or holds ``:`` (Mosquitto's
        file cuts it there).
    """
    env = os.environ if env is None else env
    if file is not None:
        try:
            mode = os.stat(file).st_mode
            text = Path(file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeError) as exc:
            raise BadRequest(f"the MQTT password file {file} does not read: {exc}") from exc
        refusal, note = check_secret_mode(file, mode, "the MQTT password")
        if refusal is not None:
            raise BadRequest(f"--mqtt-password-file: {refusal}")
        if note is not None:
            print(f"vpp: note: --mqtt-password-file {file}: {note}", file=sys.stderr)
        password = text[0].strip() if text else ""
        where = f"the first line of {file}"
    else:
        password = env.get(PASSWORD_ENV, "")
        where = f"${PASSWORD_ENV}"
    if not password:
        raise BadRequest(
            f"no MQTT password for the platform user: set {PASSWORD_ENV} or give "
            "--mqtt-password-file (never a password on the command line)"
        )
    if len(password) > MAX_PASSWORD_CHARS or ":" in password:
        raise BadRequest(
            f"the MQTT password in {where} is not allowed: at most {MAX_PASSWORD_CHARS} "
            "characters, without ':'"
        )
    return password


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _site(session: Session, park: str, site: str) -> Site:
    row = session.execute(
        select(Site).join(Park).where(Park.name == park, Site.name == site)
    ).scalar_one_or_none()
    if row is None:
        raise UnknownSite(f"no site {site!r} in a registered park {park!r}")
    return row


def _revoke_active(session: Session, site_id: int) -> int:
    rows = session.scalars(
        select(MqttUserRow).where(MqttUserRow.site_id == site_id, MqttUserRow.revoked.is_(False))
    ).all()
    for row in rows:
        row.revoked = True
        row.revoked_at = _now()
    return len(rows)


def _new(session: Session, park: str, site: Site) -> NewSiteUser:
    password = secrets.token_urlsafe(32)
    username = site_username(park, site.name)
    session.add(
        MqttUserRow(
            site_id=site.id,
            username=username,
            password_hash=mosquitto_hash(password),
            created_at=_now(),
            revoked=False,
        )
    )
    return NewSiteUser(park, site.name, username, password)


def create_site_user(sessions: sessionmaker[Session], park: str, site: str) -> NewSiteUser:
    """A new password for a site's broker user; the previous one is revoked.

    Raises
    ------
    UnknownSite
        The park or site is not registered.
    """
    with sessions() as session, session.begin():
        row = _site(session, park, site)
        _revoke_active(session, row.id)
        return _new(session, park, row)


def revoke_site_user(sessions: sessionmaker[Session], park: str, site: str) -> int:
    """Revoke a site's broker user (left out of the next :func:`write_access`); the number
    of users revoked (0: it had none active).

    Raises
    ------
    UnknownSite
        The park or site is not registered.
    """
    with sessions() as session, session.begin():
        return _revoke_active(session, _site(session, park, site).id)


def list_site_users(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Every site user ever created: park, site, user name, created, revoked (no hash)."""
    with sessions() as session:
        rows = session.execute(
            select(MqttUserRow, Site.name, Park.name)
            .join(Site, MqttUserRow.site_id == Site.id)
            .join(Park, Site.park_id == Park.id)
            .order_by(MqttUserRow.id)
        ).all()
    return [
        {
            "park": park,
            "site": site,
            "username": row.username,
            "created_at": row.created_at.replace(tzinfo=dt.UTC).isoformat(),
            "revoked": row.revoked,
        }
        for row, site, park in rows
    ]


def _replace(target: Path, text: str, mode: int) -> None:
    """Write ``text`` to a temporary file beside ``target``, fsync, rename it over."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(name, mode)
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)


def write_access(
    sessions: sessionmaker[Session],
    folder: str | Path,
    platform: MqttUser,
    *,
    host: str = "127.0.0.1",
    port: int = 1883,
    run_as: str | None = None,
    create_missing: bool = True,
) -> tuple[BrokerFiles, list[NewSiteUser]]:
    """Write ``passwd``, ``acl`` and ``mosquitto.conf`` into ``folder`` for every
    registered site with an active broker user, and the platform's user.

    Parameters
    ----------
    folder : str or pathlib.Path
        Where the files go (created if missing); send the broker ``SIGHUP`` afterwards.
    platform : MqttUser
        The platform's user and password (hashed into ``passwd``).
    host, port : str, int
        The broker's listener in ``mosquitto.conf``.
    run_as : str, optional
        The system user Mosquitto runs as (it must read the 0600 files).
    create_missing : bool
        Create a user for each registered site that has none active (its password
        returned, to be shown once). A revoked site is not given a new one: it gets
        access again only by ``vpp mqtt-access create``.

    Returns
    -------
    (BrokerFiles, list of NewSiteUser)
        The files, and the users created by this call.

    Raises
    ------
    ValueError
        A park or site name that cannot be a topic level, or a bad platform user.
    """
    created: list[NewSiteUser] = []
    with sessions() as session, session.begin():
        sites = session.execute(
            select(Site, Park.name).join(Park).order_by(Park.name, Site.name)
        ).all()
        ever = set(session.scalars(select(MqttUserRow.site_id)))
        if create_missing:
            for site, park in sites:
                if site.id not in ever:
                    created.append(_new(session, park, site))
        session.flush()
        active = session.execute(
            select(MqttUserRow, Site.name, Park.name)
            .join(Site, MqttUserRow.site_id == Site.id)
            .join(Park, Site.park_id == Park.id)
            .where(MqttUserRow.revoked.is_(False))
            .order_by(Park.name, Site.name)
        ).all()
    access = [SiteAccess(park, site, row.username, row.password_hash) for row, site, park in active]
    if platform.username in {a.username for a in access}:
        raise ValueError(f"the platform user {platform.username!r} is also a site's user")
    acl = acl_text(platform, access)  # checks every park and site name
    if not platform.password or ":" in platform.password:
        raise ValueError("the platform user's password is empty or holds ':'")
    lines = [f"{platform.username}:{mosquitto_hash(platform.password)}"]
    lines += [f"{a.username}:{a.password}" for a in access]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = BrokerFiles(folder / "passwd", folder / "acl")
    _replace(files.password_file, "\n".join(lines) + "\n", 0o600)
    _replace(files.acl_file, acl, 0o600)
    config = broker_config(files, host=host, port=port, run_as=run_as)
    _replace(folder / "mosquitto.conf", config, 0o644)
    return files, created
