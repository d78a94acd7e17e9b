"""In-process caches of verified keys and registered sites, kept correct across processes.

Every API request looks up its key (``api_keys``) and the site it names (``sites`` with
its ``parks`` row). Both change rarely: a key's role and site never change and it is
never deleted, only revoked; a site is added or its channels updated when a park is
registered again, never removed. So each process keeps, per database
(:class:`Lookups`, one per ``sessionmaker``):

- the facts of each key it has seen (salt, hash, role, site), so a request only hashes
  its secret and compares (:func:`hmac.compare_digest` as before);
- the :class:`~vpp.platform.parks.SiteRef` of each site it has found.

**Correct at once in this process.** Revoking a key (:func:`forget_key`, called by
``revoke_key``) drops it from every cache of the process before the revoking call
returns, and registering a park (:func:`forget_sites`) drops every cached site, so the
next request reads the database.

**Correct within** :data:`CHANGE_POLL_S` **across processes** (``vpp keys revoke`` run
beside a server, or a second server on the same database). At most once per
:data:`CHANGE_POLL_S`, the next request reads a *change stamp* in one query: the count of
revoked keys (revocation is one-way and keys are never deleted, so it only grows), the
newest ``revoked_at`` and the newest ``parks.registered_at`` (every registration sets
it). If the stamp moved, both caches are emptied. So a key revoked by another process is
refused from at most :data:`CHANGE_POLL_S` after its commit on (the tests measure it),
and a park registered by another process is seen as quickly. A deployment that needs
revocation at once everywhere sets :data:`CHANGE_POLL_S` to 0: one small query per
request instead of the two lookups.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.models import ApiKey, Park

__all__ = ["CHANGE_POLL_S", "MAX_ENTRIES", "Lookups", "forget_key", "forget_sites", "lookups"]

#: Longest time another process's key revocation or park registration goes unseen by
#: this process's caches [s].
CHANGE_POLL_S = 1.0
#: Most keys, and most sites, kept per database; past it the cache starts afresh [-].
MAX_ENTRIES = 100_000

_ALL: weakref.WeakKeyDictionary[sessionmaker[Session], Lookups] = weakref.WeakKeyDictionary()
_ALL_LOCK = threading.Lock()


class Lookups:
    """The caches of one database in this process (module docstring)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], float]) -> None:
        self.sessions = sessions
        self.clock = clock
        self.keys: dict[str, tuple[Any, ...]] = {}
        self.sites: dict[tuple[str, str], Any] = {}
        self.stamp: tuple[Any, ...] | None = None
        self.checked_at = -float("inf")
        self.generation = 0  # bumped by every forget: a lookup begun before it keeps nothing
        self.lock = threading.Lock()

    def fresh(self) -> bool:
        """Whether the caches may be used without reading the change stamp now."""
        return self.clock() - self.checked_at < CHANGE_POLL_S

    def check(self) -> None:
        """Read the change stamp if it is due; empty the caches when it moved."""
        if self.fresh():
            return
        with self.lock:
            if self.fresh():
                return
            now = self.clock()
            revoked = select(func.count(), func.max(ApiKey.revoked_at)).where(ApiKey.revoked)
            with self.sessions() as session:
                count, newest = session.execute(revoked).one()
                registered = session.execute(select(func.max(Park.registered_at))).scalar()
            stamp = (count, newest, registered)
            if stamp != self.stamp:
                self.forget()
                self.stamp = stamp
            self.checked_at = now

    def forget(self, key_id: str | None = None, sites: bool = True) -> None:
        """Drop one key (or every key) and, with ``sites``, every site."""
        self.generation += 1
        if key_id is None:
            self.keys.clear()
        else:
            self.keys.pop(key_id, None)
        if sites:
            self.sites.clear()

    def keep_key(self, key_id: str, facts: tuple[Any, ...], generation: int) -> None:
        """Keep a key's facts read from the database when nothing was forgotten since
        ``generation`` (read before the database was)."""
        with self.lock:
            if generation != self.generation:
                return
            if len(self.keys) >= MAX_ENTRIES:
                self.keys.clear()
            self.keys[key_id] = facts

    def keep_site(self, park: str, site: str, ref: Any, generation: int) -> None:
        """Keep a site's reference, as :meth:`keep_key`."""
        with self.lock:
            if generation != self.generation:
                return
            if len(self.sites) >= MAX_ENTRIES:
                self.sites.clear()
            self.sites[(park, site)] = ref


def lookups(sessions: sessionmaker[Session]) -> Lookups:
    """The caches of ``sessions``' database in this process."""
    found = _ALL.get(sessions)
    if found is None:
        with _ALL_LOCK:
            found = _ALL.get(sessions)
            if found is None:
                found = _ALL[sessions] = Lookups(sessions, time.monotonic)
    return found


def forget_key(key_id: str) -> None:
    """Drop a key from every cache of this process (it was revoked)."""
    for cache in list(_ALL.values()):
        with cache.lock:
            cache.forget(key_id, sites=False)


def forget_sites() -> None:
    """Drop every cached site of this process (a park was registered)."""
    for cache in list(_ALL.values()):
        with cache.lock:
            cache.generation += 1
            cache.sites.clear()
