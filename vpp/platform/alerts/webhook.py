"""Alerts sent to a webhook: a JSON POST per alert opened, changed in severity or closed,
retried with backoff.

Messages are queued in ``alert_deliveries`` by :func:`~.store.reconcile` in the
transaction that opens or closes the alert, so none is lost by a restart. A
:class:`Deliverer` thread sends the due ones, outside any request: a message is
``delivered`` on a 2xx answer; otherwise it is tried again after
:math:`b\\,2^{k-1}` seconds (attempt :math:`k`, ``backoff_s`` :math:`b`) and ``failed``
after ``max_attempts``. Each attempt's error is kept in ``last_error``. The body is
``{"event": "opened" | "updated" | "closed", "alert": {id, park, site, kind, key, severity,
message, numbers, opened_at, updated_at, closed_at, state}}``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import select

from vpp.platform.alerts.settings import Webhook
from vpp.platform.alerts.tables import AlertDelivery

__all__ = ["Deliverer", "post_json"]

LOG = logging.getLogger("vpp.platform.alerts")
_BATCH = 50
_ERROR_CHARS = 500


def post_json(url: str, body: bytes, timeout_s: float) -> None:
    """POST ``body`` (JSON) to ``url``; raises on a non-2xx answer or no answer."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"content-type": "application/json", "user-agent": "vpp-platform-alerts"},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as answer:  # http(s) only: Webhook
        if not 200 <= answer.status < 300:
            raise urllib.error.HTTPError(url, answer.status, "not 2xx", answer.headers, None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Deliverer:
    """Sends the due webhook messages of a platform's database (module docstring).

    Parameters
    ----------
    platform : vpp.platform.Platform
        The database.
    webhook : Webhook
        The receiver and the retry policy; without a URL nothing is sent.
    """

    def __init__(self, platform: Any, webhook: Webhook) -> None:
        self.platform = platform
        self.webhook = webhook
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def deliver_due(self) -> int:
        """Try every message that is due now, once; the number delivered."""
        if not self.webhook.url:
            return 0
        delivered = 0
        with self.platform.sessions() as session:
            due = session.scalars(
                select(AlertDelivery)
                .where(AlertDelivery.state == "pending", AlertDelivery.next_attempt_at <= _now())
                .order_by(AlertDelivery.id)
                .limit(_BATCH)
            ).all()
        for message in due:
            error = ""
            try:
                post_json(
                    self.webhook.url, message.payload_json.encode("utf-8"), self.webhook.timeout_s
                )
            except (OSError, ValueError) as exc:  # URLError, HTTPError, timeouts are OSError
                error = f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]
            with self.platform.sessions.begin() as session:
                row = session.get(AlertDelivery, message.id)
                if row is None:
                    continue
                row.attempts += 1
                row.last_error = error or row.last_error  # a failure before success is kept
                if not error:
                    row.state, row.delivered_at = "delivered", _now()
                    delivered += 1
                elif row.attempts >= self.webhook.max_attempts:
                    row.state = "failed"
                    LOG.warning("alert webhook gave up after %d attempts: %s", row.attempts, error)
                else:
                    wait = self.webhook.backoff_s * 2 ** (row.attempts - 1)
                    row.next_attempt_at = _now() + dt.timedelta(seconds=wait)
        return delivered

    def _next_due_s(self) -> float:
        with self.platform.sessions() as session:
            soonest = session.scalar(
                select(AlertDelivery.next_attempt_at)
                .where(AlertDelivery.state == "pending")
                .order_by(AlertDelivery.next_attempt_at)
                .limit(1)
            )
        if soonest is None:
            return 60.0
        return max(0.05, min(60.0, (soonest - _now()).total_seconds()))

    def wake(self) -> None:
        """Look for due messages now (new ones were queued)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
                wait = self._next_due_s()
            except Exception:  # the database away for a moment: try again later
                LOG.exception("alert webhook delivery failed")
                wait = 5.0
            self._wake.wait(wait)
            self._wake.clear()

    def start(self) -> None:
        """Start the sending thread (a daemon); nothing without a URL."""
        if self.webhook.url and self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="vpp-alert-webhook", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread (a message being sent finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.webhook.timeout_s + 5)
            self._thread = None
