"""The platform's tables (SQLAlchemy 2 declarative models).

Times are stored as naive UTC (``DateTime`` without a zone) in both SQLite and
PostgreSQL, so that the unique key of a reading compares the same instant the same way
in both; the API turns them back into zone-aware times.

===================  =============================================================
table                holds
===================  =============================================================
``parks``            a registered park file: its name, path and time zone
``sites``            a park's sites, each with its telemetry channels
``api_keys``         keys: id (public), salted SHA-256 of the secret, role, scope
``readings``         telemetry: one value per (site, channel, timestamp)
``runs``             a job run known to the platform (stored schedules, later triggers)
``schedules``        a site's published schedule for a date, from a run
``mqtt_users``       a site's broker user: its PBKDF2 hash as Mosquitto reads it
``monitoring_days``  a site's monitoring summary of one past local day
===================  =============================================================
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "ApiKey",
    "Base",
    "MonitoringDay",
    "MqttUserRow",
    "Park",
    "Reading",
    "Run",
    "Schedule",
    "Site",
]


class Base(DeclarativeBase):
    """The declarative base of every platform table."""


class Park(Base):
    """A registered park file (``vpp.portfolio.park.load_park`` read it)."""

    __tablename__ = "parks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    file: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Site(Base):
    """A site of a park; ``channels`` is its space-separated list of telemetry channels."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("park_id", "name", name="uq_sites_park_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    channels: Mapped[str] = mapped_column(Text)


class ApiKey(Base):
    """An API key: the secret is never stored, only ``sha256(salt + secret)``."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    salt_hex: Mapped[str] = mapped_column(String(64))
    hash_hex: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
    )
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Reading(Base):
    """One telemetry reading: ``value`` in the channel's unit at ``timestamp_utc`` (the
    label of the reading or of the step it averages)."""

    __tablename__ = "readings"
    __table_args__ = (
        UniqueConstraint("site_id", "channel", "timestamp_utc", name="uq_readings_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(128))
    timestamp_utc: Mapped[dt.datetime] = mapped_column(DateTime)
    value: Mapped[float] = mapped_column(Float(precision=53))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Run(Base):
    """A run of the daily job (or a later platform-triggered run) and where it wrote."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    out_dir: Mapped[str] = mapped_column(Text, default="")
    message: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Schedule(Base):
    """A site's schedule for a local date: ``table_json`` is the table as
    ``DataFrame.to_json(orient="split", date_format="iso")`` (columns with units)."""

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_site_date", "site_id", "date"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    table_json: Mapped[str] = mapped_column(Text)
    committed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class MqttUserRow(Base):
    """A site's MQTT broker user (:mod:`vpp.platform.mqtt_access`): the password is never
    stored, only the line Mosquitto's password file holds (``$7$``: PBKDF2-SHA512 with
    a random salt)."""

    __tablename__ = "mqtt_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class MonitoringDay(Base):
    """A site's monitoring summary of one local day (:mod:`vpp.platform.monitoring.days`):
    ``payload_json`` holds the day's account parts
    (:func:`vpp.platform.monitoring.compute.account_parts`); ``key`` is the hash of what
    they depend on (the site's tariff and factors, the step, the park's time zone), and
    ``through_reading_id`` the newest reading row id the computation had seen."""

    __tablename__ = "monitoring_days"
    __table_args__ = (UniqueConstraint("site_id", "day", name="uq_monitoring_days_site_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    key: Mapped[str] = mapped_column(String(64))
    through_reading_id: Mapped[int] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime)


#: Monitoring reads a site's readings by time (today's steps, a run of days): the
#: readings' unique key leads with the channel after the site, so it cannot bound the
#: time; this index can, and with the row id the stale-day check reads no table row on
#: PostgreSQL (added with ``monitoring_days``, migration 0011).
Index("ix_readings_site_time", Reading.site_id, Reading.timestamp_utc, Reading.id)
