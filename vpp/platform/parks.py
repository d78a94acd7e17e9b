"""Parks registered on the platform: a park file read by :func:`vpp.portfolio.park.load_park`
(the format of ``scenarios/park/``), its sites and their telemetry channels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vpp.errors import VppError
from vpp.platform.channels import Channel, channels_text, parse_channels, site_channels
from vpp.platform.lookups import forget_sites, lookups
from vpp.platform.models import Park, Site
from vpp.platform.refusals import BadRequest, UnknownSite

__all__ = ["SiteRef", "find_site", "list_parks", "list_sites", "register_park"]


@dataclass(frozen=True)
class SiteRef:
    """A registered site: row ids, names, the park's time zone and the site's channels."""

    site_id: int
    park_id: int
    park: str
    site: str
    timezone: str
    channels: dict[str, Channel]


def register_park(
    sessions: sessionmaker[Session], path: str | Path, *, allow_outside: bool = False
) -> dict[str, Any]:
    """Load a park file and store the park and its sites (a park registered again keeps
    its sites' data: sites are added or their channels updated, never removed).

    Raises
    ------
    BadRequest
        The file does not load as a park (every problem of ``load_park`` in the details).
    """
    from vpp.portfolio.park import load_park

    file = Path(path)
    if not file.is_file():
        raise BadRequest(f"no park file at {str(path)[:300]!r}")
    try:
        park = load_park(file, allow_outside=allow_outside)
    except VppError as exc:
        raise BadRequest(
            f"the park file does not load: {str(exc)[:2000]}",
            [{"field": p.key or "file", "message": p.message} for p in exc.problems][:50],
        ) from exc
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with sessions() as session, session.begin():
        row = session.execute(select(Park).where(Park.name == park.name)).scalar_one_or_none()
        if row is None:
            row = Park(name=park.name, file=str(file.resolve()), timezone="", registered_at=now)
            session.add(row)
        row.file = str(file.resolve())
        row.timezone = str(park.spec.timezone)
        row.registered_at = now
        session.flush()
        known = {s.name: s for s in session.scalars(select(Site).where(Site.park_id == row.id))}
        for name, scenario in park.sites.items():
            text = channels_text(site_channels(scenario.site))
            if name in known:
                known[name].channels = text
            else:
                session.add(Site(park_id=row.id, name=name, channels=text))
    forget_sites()  # after the commit: the next lookup reads the new channels
    return {"park": park.name, "timezone": str(park.spec.timezone), "sites": list(park.sites)}


def list_parks(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Every park: name, time zone, file."""
    with sessions() as session:
        rows = session.scalars(select(Park).order_by(Park.name)).all()
    return [{"park": p.name, "timezone": p.timezone, "file": p.file} for p in rows]


def list_sites(sessions: sessionmaker[Session], park: str | None = None) -> list[SiteRef]:
    """Every site (of ``park`` when given), by park and name."""
    query = select(Site, Park).join(Park).order_by(Park.name, Site.name)
    if park is not None:
        query = query.where(Park.name == park)
    with sessions() as session:
        rows = session.execute(query).all()
    return [_ref(s, p) for s, p in rows]


def find_site(sessions: sessionmaker[Session], park: str, site: str) -> SiteRef:
    """A registered site by park and site name.

    Raises
    ------
    UnknownSite
        No such park or site.

    Notes
    -----
    A site once found is kept in this process's cache (:mod:`vpp.platform.lookups`):
    a park registered in this process is seen at once, in another process within
    :data:`~vpp.platform.lookups.CHANGE_POLL_S`.
    """
    cache = lookups(sessions)
    cache.check()
    ref = cache.sites.get((park, site))
    if ref is not None:
        return ref
    generation = cache.generation
    with sessions() as session:
        row = session.execute(
            select(Site, Park).join(Park).where(Park.name == park, Site.name == site)
        ).first()
    if row is None:
        raise UnknownSite(f"no site {site[:200]!r} in a registered park {park[:200]!r}")
    ref = _ref(*row)
    cache.keep_site(park, site, ref, generation)
    return ref


def _ref(site: Site, park: Park) -> SiteRef:
    return SiteRef(
        site_id=site.id,
        park_id=park.id,
        park=park.name,
        site=site.name,
        timezone=park.timezone,
        channels=parse_channels(site.channels),
    )
