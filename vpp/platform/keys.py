"""API keys: created with a secret shown once, stored as a salted hash, with roles.

A key is the text ``vpp_<key id>_<secret>``: the key id (12 hex digits) is public and
finds the row; the secret (43 URL-safe characters, 256 random bits) is never stored.
The row holds ``sha256(salt + secret)`` with a random 16-byte salt per key, compared
in constant time (:func:`hmac.compare_digest`). A fast hash is enough here because the
secret is random, not a password: 256 bits cannot be guessed, hashed or not (a slow
hash such as scrypt would cost every request tens of milliseconds for nothing).

Roles (:data:`ROLES`):

============  ==================================================================
``site``      its own site only: read and write telemetry, read its schedule
``operator``  every park and site: read; trigger runs
``admin``     everything, and keys and parks
============  ==================================================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.lookups import forget_key, lookups
from vpp.platform.models import ApiKey, Park, Site
from vpp.platform.refusals import BadRequest, UnknownSite

__all__ = [
    "ROLES",
    "Principal",
    "authenticate",
    "cached_principal",
    "create_key",
    "list_keys",
    "revoke_key",
]

#: The roles a key may have.
ROLES = ("site", "operator", "admin")
_PREFIX = "vpp"


@dataclass(frozen=True)
class Principal:
    """Who a request is: the key id, its role and, for a site key, its site's row id."""

    key_id: str
    role: str
    site_id: int | None = None

    def can_read_site(self, site_id: int) -> bool:
        return self.role in ("operator", "admin") or self.site_id == site_id

    def can_write_telemetry(self, site_id: int) -> bool:
        return self.role == "admin" or (self.role == "site" and self.site_id == site_id)


def _digest(salt: bytes, secret: str) -> str:
    return hashlib.sha256(salt + secret.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def create_key(
    sessions: sessionmaker[Session],
    role: str,
    *,
    park: str | None = None,
    site: str | None = None,
    label: str = "",
) -> tuple[str, str]:
    """A new key; returns ``(key id, full key text)``: the text is shown once, never again.

    Raises
    ------
    BadRequest
        An unknown role, or a site key without its park and site (or another role with one).
    UnknownSite
        The park or site is not registered.
    """
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; allowed: {', '.join(ROLES)}")
    if (role == "site") != (site is not None and park is not None):
        raise BadRequest("a site key needs --park and --site; other roles take neither")
    salt = secrets.token_bytes(16)
    secret = secrets.token_urlsafe(32)
    key_id = secrets.token_hex(6)
    with sessions() as session, session.begin():
        site_id = None
        if role == "site":
            row = session.execute(
                select(Site.id).join(Park).where(Park.name == park, Site.name == site)
            ).first()
            if row is None:
                raise UnknownSite(f"no site {site!r} in a registered park {park!r}")
            site_id = row[0]
        session.add(
            ApiKey(
                key_id=key_id,
                salt_hex=salt.hex(),
                hash_hex=_digest(salt, secret),
                role=role,
                site_id=site_id,
                label=label[:200],
                created_at=_now(),
                revoked=False,
            )
        )
    return key_id, f"{_PREFIX}_{key_id}_{secret}"


def _parts(text: str | None) -> tuple[str, str] | None:
    """``(key id, secret)`` of a well-formed key text, else None."""
    if not text:
        return None
    prefix, _, rest = text.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != _PREFIX or len(key_id) != 12 or not secret or len(secret) > 100:
        return None
    return key_id, secret


def cached_principal(sessions: sessionmaker[Session], text: str | None) -> Principal | None:
    """The principal of a key text from this process's cache alone, without touching the
    database: None when the key is not cached, the cache is due for its change check
    (:mod:`vpp.platform.lookups`) or the secret is wrong; then ask :func:`authenticate`."""
    parts = _parts(text)
    cache = lookups(sessions)
    if parts is None or not cache.fresh():
        return None
    facts = cache.keys.get(parts[0])
    if facts is None or not hmac.compare_digest(_digest(facts[0], parts[1]), facts[1]):
        return None
    return facts[2]


def authenticate(sessions: sessionmaker[Session], text: str | None) -> Principal | None:
    """The principal of a key text; None when absent, malformed, unknown or revoked.

    A key once read is kept in this process's cache (:mod:`vpp.platform.lookups`): a
    revocation in this process is seen at once, one in another process within
    :data:`~vpp.platform.lookups.CHANGE_POLL_S`. The secret is hashed and compared on
    every call, cached or not; only active keys are kept.
    """
    parts = _parts(text)
    if parts is None:
        return None
    key_id, secret = parts
    cache = lookups(sessions)
    cache.check()
    facts = cache.keys.get(key_id)
    if facts is None:
        generation = cache.generation
        with sessions() as session:
            columns = (ApiKey.salt_hex, ApiKey.hash_hex, ApiKey.revoked, ApiKey.role)
            row = session.execute(
                select(*columns, ApiKey.site_id).where(ApiKey.key_id == key_id)
            ).first()
        if row is None:
            _digest(b"\0" * 16, secret)  # the same work as for a known key
            return None
        salt_hex, hash_hex, revoked, role, site_id = row
        if revoked:
            _digest(bytes.fromhex(salt_hex), secret)
            return None
        facts = (bytes.fromhex(salt_hex), hash_hex, Principal(key_id, role, site_id))
        cache.keep_key(key_id, facts, generation)
    salt, hash_hex, principal = facts
    if not hmac.compare_digest(_digest(salt, secret), hash_hex):
        return None
    return principal


def list_keys(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Every key without its secret: id, role, park and site, label, created, revoked."""
    with sessions() as session:
        rows = session.execute(
            select(ApiKey, Site.name, Park.name)
            .outerjoin(Site, ApiKey.site_id == Site.id)
            .outerjoin(Park, Site.park_id == Park.id)
            .order_by(ApiKey.id)
        ).all()
    return [
        {
            "key_id": k.key_id,
            "role": k.role,
            "park": park,
            "site": site,
            "label": k.label,
            "created_at": k.created_at.replace(tzinfo=dt.UTC).isoformat(),
            "revoked": k.revoked,
        }
        for k, site, park in rows
    ]


def revoke_key(sessions: sessionmaker[Session], key_id: str) -> bool:
    """Revoke a key at once (False: no such key)."""
    with sessions() as session, session.begin():
        row = session.execute(select(ApiKey).where(ApiKey.key_id == key_id)).scalar_one_or_none()
        if row is None:
            return False
        row.revoked = True
        row.revoked_at = _now()
    forget_key(key_id)  # after the commit: a lookup that read the row before keeps nothing
    return True
