"""The carbon-asset ledger (vpp.platform.carbon_ledger).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carbon_entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("quantity", sa.Float(precision=53), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("contract", sa.String(200), nullable=True),
        sa.Column("batch", sa.String(200), nullable=True),
        sa.Column("vintage", sa.String(7), nullable=True),
        sa.Column("price_cny", sa.Float(precision=53), nullable=True),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column(
            "supersedes_id",
            sa.Integer,
            sa.ForeignKey("carbon_entries.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
        sa.Column("recorded_by", sa.String(32), nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_carbon_entries_site_kind", "carbon_entries", ["site_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_carbon_entries_site_kind", table_name="carbon_entries")
    op.drop_table("carbon_entries")
