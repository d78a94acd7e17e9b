"""Reading stored telemetry back (the API's GET, monitoring later)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vpp.platform.models import Reading
from vpp.platform.parks import SiteRef
from vpp.platform.refusals import TelemetryRefused

__all__ = ["MAX_READ_ROWS", "readings_between"]

#: Most readings one GET returns [-].
MAX_READ_ROWS = 100_000


def _utc(moment: dt.datetime, field: str) -> dt.datetime:
    if moment.tzinfo is None:
        raise TelemetryRefused(
            f"{field} has no UTC offset",
            [
                {
                    "field": field,
                    "value": moment.isoformat(),
                    "message": "no UTC offset",
                    "allowed": "ISO 8601 with its offset, e.g. 2026-07-15T00:00:00+08:00",
                }
            ],
        )
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def readings_between(
    sessions: sessionmaker[Session],
    ref: SiteRef,
    channel: str,
    start: dt.datetime,
    end: dt.datetime,
) -> dict[str, Any]:
    """A channel's readings in ``[start, end)``: ``timestamps`` (UTC, ISO 8601) and
    ``values`` [the channel's unit], oldest first."""
    if channel not in ref.channels:
        raise TelemetryRefused(
            "unknown telemetry channel for this site",
            [
                {
                    "field": "channel",
                    "value": channel[:200],
                    "message": "unknown channel",
                    "allowed": "one of " + ", ".join(sorted(ref.channels)),
                }
            ],
        )
    first, last = _utc(start, "start"), _utc(end, "end")
    with sessions() as session:
        rows = session.execute(
            select(Reading.timestamp_utc, Reading.value)
            .where(
                Reading.site_id == ref.site_id,
                Reading.channel == channel,
                Reading.timestamp_utc >= first,
                Reading.timestamp_utc < last,
            )
            .order_by(Reading.timestamp_utc)
            .limit(MAX_READ_ROWS)
        ).all()
    return {
        "park": ref.park,
        "site": ref.site,
        "channel": channel,
        "unit": ref.channels[channel].unit,
        "timestamps": [t.replace(tzinfo=dt.UTC).isoformat() for t, _ in rows],
        "values": [v for _, v in rows],
    }
