"""The alerts' tables (revision ``0010``), on the platform's declarative base.

=====================  ==================================================================
table                  holds
=====================  ==================================================================
``targets``            an annual target of a site (or of the park: no site) for a metric
``alerts``             an alert: kind, site, key, severity, message, numbers, opened/closed
``alert_deliveries``   one webhook message (an alert opened, updated or closed) and its delivery
=====================  ==================================================================

Times are naive UTC, as in :mod:`vpp.platform.models`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vpp.platform.models import Base

__all__ = ["Alert", "AlertDelivery", "Target"]


class Target(Base):
    """An annual target: ``limit_value`` in the metric's unit for ``year``
    (:data:`vpp.platform.alerts.targets.METRICS`); ``site_id`` None is the park's."""

    __tablename__ = "targets"
    __table_args__ = (Index("ix_targets_park_year", "park_id", "year"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
    )
    year: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(64))
    limit_value: Mapped[float] = mapped_column(Float(precision=53))
    value_added_cny: Mapped[float | None] = mapped_column(Float(precision=53), nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    set_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Alert(Base):
    """An alert: open while ``closed_at`` is None; one open alert per (park, site, kind,
    key). ``numbers_json`` holds the numbers behind it (JSON object)."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_open", "park_id", "kind", "closed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    numbers_json: Mapped[str] = mapped_column(Text, default="{}")
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AlertDelivery(Base):
    """A webhook message about an alert (``event``: opened, updated or closed) and its delivery:
    ``state`` pending, delivered or failed; attempts, the last error, when next tried."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_state", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    payload_json: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
