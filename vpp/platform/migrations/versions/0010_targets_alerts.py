"""Annual targets, alerts and their webhook deliveries (vpp.platform.alerts).

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "park_id", sa.Integer, sa.ForeignKey("parks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("limit_value", sa.Float(precision=53), nullable=False),
        sa.Column("value_added_cny", sa.Float(precision=53), nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("set_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_targets_park_year", "targets", ["park_id", "year"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "park_id", sa.Integer, sa.ForeignKey("parks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("numbers_json", sa.Text, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_alerts_open", "alerts", ["park_id", "kind", "closed_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "alert_id", sa.Integer, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("delivered_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_alert_deliveries_state", "alert_deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_state", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alerts_open", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_targets_park_year", table_name="targets")
    op.drop_table("targets")
