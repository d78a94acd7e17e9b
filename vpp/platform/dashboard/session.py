"""Dashboard login: an API key in a form, then a signed, HttpOnly session cookie.

The cookie holds the key's public id and an expiry, signed with HMAC-SHA256 under a
secret the app draws at start (so a restart logs everyone out); never the key's
secret. Every request checks the signature and the expiry, then reads the key's row:
a revoked key's session ends at once, and the session has the key's role and site, so
the dashboard obeys the same rules as the API.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from vpp.platform.keys import Principal
from vpp.platform.models import ApiKey

__all__ = ["COOKIE", "SESSION_S", "Sessions"]

#: The session cookie's name.
COOKIE = "vpp_session"
#: How long a session lasts [s].
SESSION_S = 8 * 3600


@dataclass(frozen=True)
class Sessions:
    """Signs and reads session cookies with ``secret``."""

    secret: bytes

    @classmethod
    def new(cls) -> Sessions:
        """With a fresh random secret."""
        return cls(secrets.token_bytes(32))

    def _sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode("ascii"), hashlib.sha256).hexdigest()

    def cookie(self, key_id: str, now_s: float | None = None) -> str:
        """The cookie value for a key: ``<key id>.<expiry>.<signature>``."""
        expires = int((time.time() if now_s is None else now_s) + SESSION_S)
        payload = f"{key_id}.{expires}"
        return f"{payload}.{self._sign(payload)}"

    def principal(self, sessions: Any, value: str | None) -> Principal | None:
        """The principal of a cookie; None when absent, forged, expired or revoked."""
        if not value or len(value) > 200:
            return None
        payload, _, signature = value.rpartition(".")
        if not payload or not hmac.compare_digest(self._sign(payload), signature):
            return None
        key_id, _, expires = payload.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        with sessions() as session:
            row = session.execute(
                select(ApiKey).where(ApiKey.key_id == key_id)
            ).scalar_one_or_none()
        if row is None or row.revoked:
            return None
        return Principal(key_id=row.key_id, role=row.role, site_id=row.site_id)
