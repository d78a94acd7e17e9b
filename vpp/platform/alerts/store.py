"""Alerts in the database: open once, update, close when the condition clears; list.

:func:`reconcile` takes the findings of one evaluation over a scope (a park, some kinds,
optionally some sites) and the open alerts of that scope:

- a finding with no open alert of its identity (site, kind, key) opens one;
- a finding with one updates its severity, message and numbers (no new alert: an
  evaluation repeated any number of times leaves one alert);
- an open alert without a finding in its scope is closed.

Each opening, change of severity and closing queues a webhook message (event
``opened``, ``updated``, ``closed``; :mod:`.webhook`) in the same transaction when a
webhook is configured.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from vpp.platform.alerts.checks import Finding
from vpp.platform.alerts.tables import Alert, AlertDelivery
from vpp.platform.models import Park, Site

__all__ = ["alert_json", "list_alerts", "reconcile"]


def _stamp(value: dt.datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=dt.UTC).isoformat()


def alert_json(alert: Alert, park: str, site: str | None) -> dict[str, Any]:
    """An alert as the API and the webhook show it."""
    return {
        "id": alert.id,
        "park": park,
        "site": site,
        "kind": alert.kind,
        "key": alert.key,
        "severity": alert.severity,
        "message": alert.message,
        "numbers": json.loads(alert.numbers_json),
        "opened_at": _stamp(alert.opened_at),
        "updated_at": _stamp(alert.updated_at),
        "closed_at": _stamp(alert.closed_at),
        "state": "open" if alert.closed_at is None else "closed",
    }


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float as None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _numbers(numbers: dict[str, Any]) -> str:
    return json.dumps(_finite(numbers), sort_keys=True, default=str, allow_nan=False)


def reconcile(
    platform: Any,
    park_id: int,
    kinds: Iterable[str],
    site_ids: set[int] | None,
    findings: list[Finding],
    *,
    webhook: bool,
) -> dict[str, int]:
    """Open, update and close the alerts of a scope (module docstring).

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database and clock (``opened_at`` and ``closed_at`` are its present).
    park_id : int
        The park's row id.
    kinds : iterable of str
        The kinds evaluated.
    site_ids : set of int, optional
        Only these sites' alerts were evaluated (None: every site and the park's own).
    findings : list of Finding
        What holds now, within the scope.
    webhook : bool
        Queue a webhook message for each opening and closing.

    Returns
    -------
    dict
        ``opened``, ``updated``, ``closed`` counts.
    """
    now = platform.clock().astimezone(dt.UTC).replace(tzinfo=None)
    real_now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    counts = {"opened": 0, "updated": 0, "closed": 0}
    wanted = {f.identity: f for f in findings}
    with platform.sessions.begin() as session:
        park = session.get(Park, park_id)
        names = {
            i: n
            for i, n in session.execute(select(Site.id, Site.name).where(Site.park_id == park_id))
        }
        query = select(Alert).where(
            Alert.park_id == park_id, Alert.kind.in_(list(kinds)), Alert.closed_at.is_(None)
        )
        if site_ids is not None:
            query = query.where(Alert.site_id.in_(list(site_ids)))
        open_alerts = {(a.site_id, a.kind, a.key): a for a in session.scalars(query)}
        events: list[tuple[Alert, str]] = []
        for identity, finding in wanted.items():
            alert = open_alerts.get(identity)
            numbers = _numbers(finding.numbers)
            if alert is None:
                alert = Alert(
                    park_id=park_id,
                    site_id=finding.site_id,
                    kind=finding.kind,
                    key=finding.key[:200],
                    severity=finding.severity,
                    message=finding.message[:2000],
                    numbers_json=numbers,
                    opened_at=now,
                    updated_at=now,
                )
                session.add(alert)
                events.append((alert, "opened"))
                counts["opened"] += 1
            elif (alert.severity, alert.message, alert.numbers_json) != (
                finding.severity,
                finding.message[:2000],
                numbers,
            ):
                if alert.severity != finding.severity:  # warning <-> critical: told too
                    events.append((alert, "updated"))
                alert.severity = finding.severity
                alert.message = finding.message[:2000]
                alert.numbers_json = numbers
                alert.updated_at = now
                counts["updated"] += 1
        for identity, alert in open_alerts.items():
            if identity not in wanted:
                alert.closed_at = now
                alert.updated_at = now
                events.append((alert, "closed"))
                counts["closed"] += 1
        session.flush()
        if webhook:
            for alert, event in events:
                body = {
                    "event": event,
                    "alert": alert_json(alert, park.name, names.get(alert.site_id)),
                }
                session.add(
                    AlertDelivery(
                        alert_id=alert.id,
                        event=event,
                        payload_json=json.dumps(body, default=str),
                        state="pending",
                        attempts=0,
                        last_error="",
                        created_at=real_now,
                        next_attempt_at=real_now,
                    )
                )
    return counts


def list_alerts(
    platform: Any,
    *,
    park: str | None = None,
    site_ids: set[int] | None = None,
    state: str = "open",
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Alerts newest first, each with its webhook deliveries (event, state, attempts).

    ``site_ids`` keeps only those sites' alerts (a site key's); ``state`` is ``open``,
    ``closed`` or ``all``.
    """
    query = (
        select(Alert, Park.name, Site.name)
        .join(Park, Alert.park_id == Park.id)
        .outerjoin(Site, Alert.site_id == Site.id)
    )
    if park is not None:
        query = query.where(Park.name == park)
    if site_ids is not None:
        query = query.where(Alert.site_id.in_(list(site_ids)))
    if state == "open":
        query = query.where(Alert.closed_at.is_(None))
    elif state == "closed":
        query = query.where(Alert.closed_at.is_not(None))
    with platform.sessions() as session:
        rows = session.execute(query.order_by(Alert.id.desc()).limit(limit)).all()
        ids = [a.id for a, _, _ in rows]
        deliveries: dict[int, list[dict[str, Any]]] = {}
        if ids:
            for d in session.scalars(
                select(AlertDelivery)
                .where(AlertDelivery.alert_id.in_(ids))
                .order_by(AlertDelivery.id)
            ):
                deliveries.setdefault(d.alert_id, []).append(
                    {
                        "event": d.event,
                        "state": d.state,
                        "attempts": d.attempts,
                        "last_error": d.last_error,
                        "delivered_at": _stamp(d.delivered_at),
                    }
                )
        return [{**alert_json(a, p, s), "deliveries": deliveries.get(a.id, [])} for a, p, s in rows]
