"""Monitoring's per-site, per-local-day summaries (vpp.platform.monitoring.days), and an
index of the readings by site and time (monitoring reads today's steps of every site).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_days",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("through_reading_id", sa.Integer, nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("site_id", "day", name="uq_monitoring_days_site_day"),
    )
    # a site's readings by time, with the row id: the stale-day check and the day reads
    # answer from the index alone on PostgreSQL (models.py: ix_readings_site_time)
    op.create_index("ix_readings_site_time", "readings", ["site_id", "timestamp_utc", "id"])


def downgrade() -> None:
    op.drop_index("ix_readings_site_time", table_name="readings")
    op.drop_table("monitoring_days")
